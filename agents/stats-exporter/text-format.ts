/**
 * Prometheus text format 0.0.4, written directly: the container families of one scrape are a few
 * thousand samples, and building prom-client metric objects for them each scrape cost more memory
 * (and garbage) than the text itself.
 */

/** `# HELP` and `# TYPE` lines of a family; HELP escapes `\` and newlines. */
export function familyHeader(name: string, help: string, type: 'counter' | 'gauge'): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** A label value with `\`, `"` and newlines escaped. */
export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** `a="x",b="y"` from names and raw values. */
export function labelPairs(labels: ReadonlyArray<readonly [name: string, value: string]>): string {
  return labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',');
}

/** A sample value: integers and floats as JavaScript prints them, `NaN`, `+Inf`, `-Inf`. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

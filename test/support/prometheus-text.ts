/**
 * A strict reader of Prometheus text format 0.0.4, for tests: what `promtool check metrics` (2.x)
 * lets through but Prometheus' scrape or a federation/remote-write pipeline does not forgive.
 * Returns the problems found (empty when the text is valid).
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses one sample line; throws with the reason when it is malformed. */
export function parseSampleLine(line: string): ExpositionSample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd < 0) throw new Error('no value');
  const name = line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
  let i = nameEnd;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0) throw new Error('label without =');
      const labelName = line.slice(i, eq);
      if (!LABEL_NAME.test(labelName)) throw new Error(`bad label name ${JSON.stringify(labelName)}`);
      if (labelName in labels) throw new Error(`label ${labelName} twice`);
      if (line[eq + 1] !== '"') throw new Error(`label ${labelName}: value not quoted`);
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\') {
          const next = line[++j];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new Error(`label ${labelName}: bad escape \\${next ?? ''}`);
        } else value += line[j];
      }
      if (j >= line.length) throw new Error(`label ${labelName}: unterminated value`);
      labels[labelName] = value;
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`after label ${labelName}: ${JSON.stringify(line[i])}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error('no space before the value');
  const rest = line.slice(i + 1).split(' ');
  if (rest.length > 1) throw new Error('a timestamp (quayside writes none) or trailing text');
  if (!VALUE.test(rest[0]!)) throw new Error(`bad value ${JSON.stringify(rest[0])}`);
  return { name, labels, value: Number(rest[0]) };
}

/** Problems of a whole exposition: syntax, HELP/TYPE once per family before its samples, families in one piece, each series once. */
export function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  const helped = new Set<string>();
  const typed = new Map<string, string>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, n: number): void => {
    if (family === current) return;
    if (finished.has(family)) problems.push(`line ${n}: family ${family} split (it appeared before another family)`);
    if (current) finished.add(current);
    current = family;
  };
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the text does not end with a newline');
  text.split('\n').forEach((line, index) => {
    const n = index + 1;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, kind, family, rest] = meta as unknown as [string, string, string, string | undefined];
      enter(family, n);
      const seen = kind === 'HELP' ? helped : typed;
      if (seen.has(family)) problems.push(`line ${n}: second ${kind} for ${family}`);
      if (kind === 'HELP') helped.add(family);
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest ?? ''))
          problems.push(`line ${n}: bad TYPE ${rest}`);
        typed.set(family, rest ?? '');
      }
      return;
    }
    if (line.startsWith('#')) return;
    let sample: ExpositionSample;
    try {
      sample = parseSampleLine(line);
    } catch (error) {
      problems.push(`line ${n}: ${(error as Error).message}: ${line}`);
      return;
    }
    const family = familyOf(sample.name, typed);
    enter(family, n);
    const key = `${sample.name}{${Object.entries(sample.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (series.has(key)) problems.push(`line ${n}: duplicate series ${key}`);
    series.add(key);
  });
  return problems;
}

/** The family a sample belongs to: histogram and summary samples carry suffixes. */
function familyOf(name: string, typed: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base && ['histogram', 'summary'].includes(typed.get(base) ?? '')) return base;
  }
  return name;
}

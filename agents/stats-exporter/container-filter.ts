/**
 * Which containers are exported: `--stats-include` and `--stats-exclude` take filters in the
 * docker CLI's vocabulary, `name=<glob>`, `label=<key>` or `label=<key>=<value>`. A container is
 * exported when it matches any include filter (or there is none) and no exclude filter.
 * Filters are applied at scrape time, so a rename takes effect at the next scrape.
 */
import { containerName } from '../../shared/docker/container-name';
import { compileGlob, type Glob } from '../../shared/glob';

export type ContainerFilter =
  { kind: 'name'; text: string; pattern: Glob } | { kind: 'label'; text: string; key: string; value?: string };

export function parseContainerFilter(text: string): ContainerFilter {
  const match = /^(name|label)=(.+)$/.exec(text.trim());
  if (!match)
    throw new Error(`filter ${JSON.stringify(text)}: expected name=<glob>, label=<key> or label=<key>=<value>`);
  const [, kind, rest] = match as unknown as [string, 'name' | 'label', string];
  if (kind === 'name') return { kind, text, pattern: compileGlob(containerName(rest)) };
  const equals = rest.indexOf('=');
  return equals < 0
    ? { kind, text, key: rest }
    : { kind, text, key: rest.slice(0, equals), value: rest.slice(equals + 1) };
}

export interface FilterSubject {
  name: string;
  labels: Readonly<Record<string, string>>;
}

function matchesFilter(filter: ContainerFilter, subject: FilterSubject): boolean {
  if (filter.kind === 'name') return filter.pattern.test(subject.name);
  const value = subject.labels[filter.key];
  return value !== undefined && (filter.value === undefined || filter.value === value);
}

export function isSelected(
  subject: FilterSubject,
  include: readonly ContainerFilter[],
  exclude: readonly ContainerFilter[],
): boolean {
  if (include.length > 0 && !include.some((f) => matchesFilter(f, subject))) return false;
  return !exclude.some((f) => matchesFilter(f, subject));
}

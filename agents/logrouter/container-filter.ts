/**
 * Which containers a route takes, and which containers are never read at all (logspout's
 * opt-outs: env `LOGSPOUT=ignore`, `EXCLUDE_LABEL(S)`, plus our `quayside.logs=ignore` label).
 */
import { compileGlob } from '../../shared/glob';
import type { ContainerMeta } from './message';
import type { RouteFilters } from './route';

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const IGNORE_LABEL = 'quayside.logs';

export function routeMatcher(filters: RouteFilters): (container: ContainerMeta) => boolean {
  const name = filters.name ? compileGlob(filters.name) : undefined;
  const image = filters.image ? compileGlob(filters.image) : undefined;
  const labels = (filters.labels ?? []).map(({ key, value }) => ({
    key,
    value: value === undefined ? undefined : compileGlob(value),
  }));
  return (container) => {
    if (filters.id && !container.id.startsWith(filters.id)) return false;
    if (name && !name.test(container.name)) return false;
    if (image && !image.test(container.image)) return false;
    if (filters.composeProject && container.labels[COMPOSE_PROJECT] !== filters.composeProject) return false;
    if (filters.composeService && container.labels[COMPOSE_SERVICE] !== filters.composeService) return false;
    for (const { key, value } of labels) {
      const actual = container.labels[key];
      if (actual === undefined || (value && !value.test(actual))) return false;
    }
    return true;
  };
}

export interface ExcludedLabel {
  key: string;
  /** Absent: the label's presence excludes (logspout treats a bare key as value `true`). */
  value?: string;
}

/** `EXCLUDE_LABELS=k1:v1;k2:v2;k3` (logspout) — also accepts commas. */
export function parseExcludeLabels(text: string): ExcludedLabel[] {
  return text
    .split(/[;,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const colon = item.indexOf(':');
      return colon < 0 ? { key: item } : { key: item.slice(0, colon), value: item.slice(colon + 1) };
    });
}

/** Why a container is not read at all, or undefined when it is. */
export function optOutReason(
  container: ContainerMeta,
  env: readonly string[],
  excluded: readonly ExcludedLabel[],
  selfId: string | undefined,
): string | undefined {
  if (selfId && selfId.length >= 12 && container.id.startsWith(selfId)) return 'it is this agent';
  if (env.some((entry) => /^LOGSPOUT=ignore$/i.test(entry))) return 'env LOGSPOUT=ignore';
  if ((container.labels[IGNORE_LABEL] ?? '').toLowerCase() === 'ignore') return `label ${IGNORE_LABEL}=ignore`;
  for (const { key, value } of excluded) {
    const actual = container.labels[key];
    if (actual === undefined) continue;
    // logspout compares values case-insensitively; a bare key matches a label present with any value.
    if (value === undefined || actual.toLowerCase() === value.toLowerCase()) return `excluded label ${key}`;
  }
  return undefined;
}

/**
 * Which Docker labels become `container_label_<key>` series labels. cAdvisor exports every label
 * by default; we export, by default, the orchestration keys that public dashboards and alerts group
 * and filter by (Compose, Swarm, stacks, label-schema's group, Kubernetes on Docker), so they work
 * unchanged, while free-form labels (which can carry secrets and multiply cardinality) stay out.
 * `*` exports every label as cAdvisor does; an empty list exports none.
 */

/** The keys exported by default: what dockprom, swarmprom, docker-mixin and their kin select on. */
export const ORCHESTRATION_LABEL_KEYS = [
  'com.docker.compose.project',
  'com.docker.compose.service',
  'com.docker.compose.container-number',
  'com.docker.compose.oneoff',
  'com.docker.stack.namespace',
  'com.docker.swarm.node.id',
  'com.docker.swarm.service.id',
  'com.docker.swarm.service.name',
  'com.docker.swarm.task.id',
  'com.docker.swarm.task.name',
  'org.label-schema.group',
  'io.kubernetes.container.name',
  'io.kubernetes.pod.name',
  'io.kubernetes.pod.namespace',
] as const;

/** In --stats-labels: every label, as cAdvisor's --store_container_labels=true. */
export const ALL_LABELS = '*';

/** `com.docker.compose.service` → `container_label_com_docker_compose_service`. */
export function containerLabelName(key: string): string {
  return `container_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** Two Docker keys whose Prometheus label names coincide (`a.b` and `a-b`), or undefined. */
export function labelNameClash(keys: readonly string[]): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const key of keys) {
    if (key === ALL_LABELS) continue;
    const name = containerLabelName(key);
    const other = seen.get(name);
    if (other !== undefined && other !== key) return [other, key];
    seen.set(name, key);
  }
  return undefined;
}

export type LabelPairs = Array<readonly [name: string, value: string]>;

/**
 * The `container_label_*` pairs of one container. Labels it lacks (or has empty) are left out:
 * Prometheus treats a missing label as "", so `container_label_x=""` selects them just the same,
 * and a scrape of many containers does not carry every key on every series.
 */
export function selectLabels(labels: Readonly<Record<string, string>>, keys: readonly string[]): LabelPairs {
  const pairs: LabelPairs = [];
  const taken = new Set<string>();
  const wanted = keys.includes(ALL_LABELS) ? Object.keys(labels).sort() : keys;
  for (const key of wanted) {
    const value = labels[key];
    if (value === undefined || value === '') continue;
    const name = containerLabelName(key);
    // With every label, `a.b` and `a-b` on one container would collide: the first in key order wins.
    if (taken.has(name)) continue;
    taken.add(name);
    pairs.push([name, value]);
  }
  return pairs;
}

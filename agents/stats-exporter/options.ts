/**
 * The stats-exporter's options. Keys are prefixed `stats` so they never collide with another
 * agent's under `quayside all`.
 */
import { choiceOption, durationOption, listOption, stringOption } from '../../shared/config/options';
import { COLLECTOR_CHOICES } from './collectors';
import { DEFAULT_IGNORED_INTERFACE_PREFIXES } from './collectors/proc-net-dev';
import { parseContainerFilter, type ContainerFilter } from './container-filter';
import { FAMILIES, isMetricGroup, MACHINE, METRIC_GROUPS } from './families';
import { ALL_LABELS, ORCHESTRATION_LABEL_KEYS } from './labels';

/**
 * Marked FREE in the Prometheus default port allocations list and used by no common exporter;
 * not cAdvisor's 8080/9338 so both can run side by side while dashboards move over, and not
 * quayside's shared 9477 so `quayside all` and a lone exporter can share a host.
 */
export const STATS_EXPORTER_PORT = 9612;

const LABEL_KEY = /^[^\s,=]+$/;

export const statsExporterOptions = {
  statsCollector: choiceOption({
    help: 'Where stats come from: cgroup files (fast), the Docker stats API (works without host mounts, about 1 s per scrape), or auto (cgroup files where the cgroup is found, the API elsewhere)',
    env: 'QUAYSIDE_STATS_COLLECTOR',
    default: 'auto',
    choices: COLLECTOR_CHOICES,
  }),
  statsLabels: listOption<string>({
    help: `Docker label keys to export as container_label_<key> (dots and dashes become _), comma-separated; \`${ALL_LABELS}\` for every label (cAdvisor's default), an empty value for none. By default the Compose, Swarm, stack, label-schema group and Kubernetes keys dashboards use, and no free-form label`,
    env: 'QUAYSIDE_STATS_LABELS',
    placeholder: '<keys>',
    default: [...ORCHESTRATION_LABEL_KEYS],
    parseItem(key) {
      if (key !== ALL_LABELS && !LABEL_KEY.test(key))
        throw new Error(
          `label key ${JSON.stringify(key)}: expected a Docker label key such as com.docker.compose.service, or ${ALL_LABELS}`,
        );
      return key;
    },
  }),
  statsDisable: listOption<string>({
    help: `Metric groups (${METRIC_GROUPS.join(', ')}), ${MACHINE} (the root cgroup id="/" and machine_*), or single metric names not to export, comma-separated`,
    env: 'QUAYSIDE_STATS_DISABLE',
    placeholder: '<names>',
    default: [],
    parseItem(name) {
      if (!isMetricGroup(name) && name !== MACHINE && !FAMILIES.some((f) => f.name === name)) {
        throw new Error(
          `${JSON.stringify(name)} is neither a metric group (${METRIC_GROUPS.join(', ')}), ${MACHINE}, nor an exported metric`,
        );
      }
      return name;
    },
  }),
  statsInclude: listOption<ContainerFilter>({
    help: 'Export only containers matching one of these filters: name=<glob>, label=<key> or label=<key>=<value>, comma-separated',
    env: 'QUAYSIDE_STATS_INCLUDE',
    placeholder: '<filters>',
    default: [],
    parseItem: parseContainerFilter,
  }),
  statsExclude: listOption<ContainerFilter>({
    help: 'Do not export containers matching any of these filters (same forms as --stats-include)',
    env: 'QUAYSIDE_STATS_EXCLUDE',
    placeholder: '<filters>',
    default: [],
    parseItem: parseContainerFilter,
  }),
  statsNetworkIgnore: listOption<string>({
    help: "Network interface name prefixes to leave out, comma-separated (cAdvisor's list; traffic a container sends to itself is on lo)",
    env: 'QUAYSIDE_STATS_NETWORK_IGNORE',
    placeholder: '<prefixes>',
    default: [...DEFAULT_IGNORED_INTERFACE_PREFIXES],
    parseItem: (prefix) => prefix,
  }),
  statsCgroupRoot: stringOption({
    help: "Where the host's cgroup filesystem is mounted (in a container: mount the host's /sys/fs/cgroup read-only and point here)",
    env: 'QUAYSIDE_STATS_CGROUP_ROOT',
    default: '/sys/fs/cgroup',
  }),
  statsProcRoot: stringOption({
    help: "Where the host's /proc is visible, for container network counters and cgroup paths (in a container: --pid host, or mount the host's /proc)",
    env: 'QUAYSIDE_STATS_PROC_ROOT',
    default: '/proc',
  }),
  statsLastSeenWindow: durationOption({
    help: "How long a stopped container's container_last_seen stays exported (holding the time it stopped), so `time() - container_last_seen > 60` alerts fire as with cAdvisor; 0 drops it at once",
    env: 'QUAYSIDE_STATS_LAST_SEEN_WINDOW',
    default: 5 * 60_000,
    minMs: 0,
  }),
  statsFsInterval: durationOption({
    help: "How often each running container's writable layer is measured (container_fs_usage_bytes, in the background, one container at a time); 0 turns the filesystem usage families off",
    env: 'QUAYSIDE_STATS_FS_INTERVAL',
    default: 60_000,
    minMs: 0,
  }),
  statsApiCache: durationOption({
    help: "How long the docker-api collector reuses a container's stats; scrapes within this reuse them instead of waiting for the engine again",
    env: 'QUAYSIDE_STATS_API_CACHE',
    default: 5_000,
    minMs: 0,
  }),
  statsApiTimeout: durationOption({
    help: "How long the docker-api collector waits for one container's stats before counting an error",
    env: 'QUAYSIDE_STATS_API_TIMEOUT',
    default: 5_000,
    minMs: 100,
  }),
};

/**
 * The exported metric families: cAdvisor's names, types, units and labels, so existing Grafana
 * dashboards and alerts work unchanged, plus lifecycle families cAdvisor cannot offer because it
 * does not follow Docker events. Each family says where its value comes from; the README table
 * is written from these definitions.
 */
import type { ContainerState, TrackedContainer } from './container';
import { CONTAINER_STATES } from './container';
import type { ContainerStats } from './collectors/stats';

/** Groups to turn off together with --stats-disable (cAdvisor calls them metric kinds). */
export const METRIC_GROUPS = ['cpu', 'memory', 'network', 'diskIO', 'process', 'spec', 'lifecycle'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];

/**
 * Receives one sample: its value and at most one label beyond the container's (`cpu`,
 * `interface`, `device`, `state`). A callback rather than returned arrays: no garbage per sample.
 */
export type SampleSink = (value: number, labelName?: string, labelValue?: string) => void;

export interface Observation {
  container: TrackedContainer;
  /** Absent for containers that are not running, or whose stats could not be read. */
  stats?: ContainerStats;
  /** Unix seconds of this scrape. */
  now: number;
}

export interface FamilyDefinition {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  unit: string;
  group: MetricGroup;
  /** Where the value comes from: cgroup v1 / cgroup v2 / Docker. */
  source: string;
  samples(observation: Observation, emit: SampleSink): void;
}

/** A family with one sample per container, read from the stats. */
function stat(
  name: string,
  type: FamilyDefinition['type'],
  unit: string,
  group: MetricGroup,
  source: string,
  help: string,
  read: (stats: ContainerStats) => number | undefined,
): FamilyDefinition {
  return {
    name,
    help,
    type,
    unit,
    group,
    source,
    samples: ({ stats }, emit) => {
      const value = stats && read(stats);
      if (value !== undefined) emit(value);
    },
  };
}

type InterfaceField = Exclude<keyof NonNullable<ContainerStats['network']>[number], 'interface'>;

function network(name: string, unit: string, column: string, help: string, field: InterfaceField): FamilyDefinition {
  return {
    name,
    help,
    type: 'counter',
    unit,
    group: 'network',
    source: `/proc/<pid>/net/dev ${column}`,
    samples: ({ container, stats }, emit) => {
      if (container.sharesNetworkOf !== undefined) return; // the other container's interfaces
      for (const n of stats?.network ?? []) emit(n[field], 'interface', n.interface);
    },
  };
}

type DeviceField = Exclude<keyof NonNullable<ContainerStats['blockIo']>[number], 'device'>;

function disk(name: string, unit: string, source: string, help: string, field: DeviceField): FamilyDefinition {
  return {
    name,
    help,
    type: 'counter',
    unit,
    group: 'diskIO',
    source,
    samples: ({ stats }, emit) => {
      for (const d of stats?.blockIo ?? []) emit(d[field], 'device', d.device);
    },
  };
}

/** A family of every tracked container, running or not, from what the event stream told us. */
function lifecycle(name: string, type: FamilyDefinition['type'], unit: string, source: string, help: string, samples: (c: TrackedContainer, now: number, emit: SampleSink) => void): FamilyDefinition {
  return { name, help, type, unit, group: 'lifecycle', source, samples: ({ container, now }, emit) => samples(container, now, emit) };
}

const isLive = (state: ContainerState): boolean => state === 'running' || state === 'paused';

/** cAdvisor's encoding (v0.60): 1 healthy, 0 starting or unhealthy, -1 no health check. */
const HEALTH_VALUE = { healthy: 1, starting: 0, unhealthy: 0 } as const;

export const FAMILIES: readonly FamilyDefinition[] = [
  // ---- cpu
  {
    name: 'container_cpu_usage_seconds_total',
    help: 'Cumulative cpu time consumed in seconds.',
    type: 'counter',
    unit: 'seconds',
    group: 'cpu',
    source: 'v1 cpuacct.usage / v2 cpu.stat usage_usec',
    // One `cpu="total"` series, as cAdvisor on cgroup v2: per-CPU series multiply cardinality by the core count.
    samples: ({ stats }, emit) => {
      if (stats?.cpu) emit(stats.cpu.usageSeconds, 'cpu', 'total');
    },
  },
  stat('container_cpu_user_seconds_total', 'counter', 'seconds', 'cpu', 'v1 cpuacct.stat user / v2 cpu.stat user_usec', 'Cumulative user cpu time consumed in seconds.', (s) => s.cpu?.userSeconds),
  stat('container_cpu_system_seconds_total', 'counter', 'seconds', 'cpu', 'v1 cpuacct.stat system / v2 cpu.stat system_usec', 'Cumulative system cpu time consumed in seconds.', (s) => s.cpu?.systemSeconds),
  stat('container_cpu_cfs_periods_total', 'counter', 'periods', 'cpu', 'cpu.stat nr_periods (with a CPU quota only)', 'Number of elapsed enforcement period intervals.', (s) => s.cpu?.cfs?.periods),
  stat('container_cpu_cfs_throttled_periods_total', 'counter', 'periods', 'cpu', 'cpu.stat nr_throttled (with a CPU quota only)', 'Number of throttled period intervals.', (s) => s.cpu?.cfs?.throttledPeriods),
  stat('container_cpu_cfs_throttled_seconds_total', 'counter', 'seconds', 'cpu', 'v1 cpu.stat throttled_time / v2 throttled_usec (with a CPU quota only)', 'Total time duration the container has been throttled.', (s) => s.cpu?.cfs?.throttledSeconds),
  // ---- memory
  stat('container_memory_usage_bytes', 'gauge', 'bytes', 'memory', 'v1 memory.usage_in_bytes / v2 memory.current', 'Current memory usage in bytes, including all memory regardless of when it was accessed.', (s) => s.memory?.usageBytes),
  stat('container_memory_working_set_bytes', 'gauge', 'bytes', 'memory', 'usage minus v1 total_inactive_file / v2 inactive_file (memory.stat)', 'Current working set in bytes.', (s) => s.memory?.workingSetBytes),
  stat('container_memory_rss', 'gauge', 'bytes', 'memory', 'memory.stat v1 total_rss / v2 anon', 'Size of RSS in bytes.', (s) => s.memory?.rssBytes),
  stat('container_memory_cache', 'gauge', 'bytes', 'memory', 'memory.stat v1 total_cache / v2 file', 'Number of bytes of page cache memory.', (s) => s.memory?.cacheBytes),
  stat('container_memory_swap', 'gauge', 'bytes', 'memory', 'v1 memory.stat total_swap / v2 memory.swap.current', 'Container swap usage in bytes.', (s) => s.memory?.swapBytes),
  stat('container_memory_mapped_file', 'gauge', 'bytes', 'memory', 'memory.stat v1 total_mapped_file / v2 file_mapped', 'Size of memory mapped files in bytes.', (s) => s.memory?.mappedFileBytes),
  stat('container_memory_max_usage_bytes', 'gauge', 'bytes', 'memory', 'v1 memory.max_usage_in_bytes / v2 memory.peak', 'Maximum memory usage recorded in bytes.', (s) => s.memory?.maxUsageBytes),
  stat('container_memory_failcnt', 'counter', 'hits', 'memory', 'v1 memory.failcnt (none on v2)', 'Number of memory usage hits limits.', (s) => s.memory?.failcnt),
  // ---- network
  network('container_network_receive_bytes_total', 'bytes', 'receive bytes', 'Cumulative count of bytes received.', 'receiveBytes'),
  network('container_network_receive_packets_total', 'packets', 'receive packets', 'Cumulative count of packets received.', 'receivePackets'),
  network('container_network_receive_errors_total', 'errors', 'receive errs', 'Cumulative count of errors encountered while receiving.', 'receiveErrors'),
  network('container_network_receive_packets_dropped_total', 'packets', 'receive drop', 'Cumulative count of packets dropped while receiving.', 'receiveDropped'),
  network('container_network_transmit_bytes_total', 'bytes', 'transmit bytes', 'Cumulative count of bytes transmitted.', 'transmitBytes'),
  network('container_network_transmit_packets_total', 'packets', 'transmit packets', 'Cumulative count of packets transmitted.', 'transmitPackets'),
  network('container_network_transmit_errors_total', 'errors', 'transmit errs', 'Cumulative count of errors encountered while transmitting.', 'transmitErrors'),
  network('container_network_transmit_packets_dropped_total', 'packets', 'transmit drop', 'Cumulative count of packets dropped while transmitting.', 'transmitDropped'),
  // ---- block I/O
  disk('container_fs_reads_bytes_total', 'bytes', 'v1 blkio *io_service_bytes_recursive Read / v2 io.stat rbytes', 'Cumulative count of bytes read.', 'readBytes'),
  disk('container_fs_writes_bytes_total', 'bytes', 'v1 blkio *io_service_bytes_recursive Write / v2 io.stat wbytes', 'Cumulative count of bytes written.', 'writeBytes'),
  disk('container_fs_reads_total', 'operations', 'v1 blkio *io_serviced_recursive Read / v2 io.stat rios', 'Cumulative count of reads completed.', 'reads'),
  disk('container_fs_writes_total', 'operations', 'v1 blkio *io_serviced_recursive Write / v2 io.stat wios', 'Cumulative count of writes completed.', 'writes'),
  // ---- processes
  stat('container_processes', 'gauge', 'processes', 'process', 'cgroup.procs of the cgroup and its sub-cgroups', 'Number of processes running inside the container.', (s) => s.processes?.processes),
  stat('container_threads', 'gauge', 'threads', 'process', 'pids.current', 'Number of threads running inside the container.', (s) => s.processes?.threads),
  stat('container_threads_max', 'gauge', 'threads', 'process', 'pids.max (0 = unlimited)', 'Maximum number of threads allowed inside the container, infinity if value is zero.', (s) => s.processes?.threadsMax),
  // ---- spec
  stat('container_spec_memory_limit_bytes', 'gauge', 'bytes', 'spec', 'v1 memory.limit_in_bytes / v2 memory.max (0 = unlimited)', 'Memory limit for the container.', (s) => s.spec?.memoryLimitBytes),
  stat('container_spec_memory_swap_limit_bytes', 'gauge', 'bytes', 'spec', 'v1 memory.memsw.limit_in_bytes / v2 memory.swap.max (0 = unlimited)', 'Memory swap limit for the container.', (s) => s.spec?.memorySwapLimitBytes),
  stat('container_spec_memory_reservation_limit_bytes', 'gauge', 'bytes', 'spec', 'v1 memory.soft_limit_in_bytes / v2 memory.min, as cAdvisor (0 = none)', 'Memory reservation limit for the container.', (s) => s.spec?.memoryReservationBytes),
  stat('container_spec_cpu_quota', 'gauge', 'microseconds', 'spec', 'v1 cpu.cfs_quota_us / v2 cpu.max (only when set)', 'CPU quota of the container.', (s) => s.spec?.cpuQuotaMicros),
  stat('container_spec_cpu_period', 'gauge', 'microseconds', 'spec', 'v1 cpu.cfs_period_us / v2 cpu.max', 'CPU period of the container.', (s) => s.spec?.cpuPeriodMicros),
  stat('container_spec_cpu_shares', 'gauge', 'shares', 'spec', 'v1 cpu.shares / v2 cpu.weight converted to shares', 'CPU share of the container.', (s) => s.spec?.cpuShares),
  // ---- lifecycle: from inspect and the event stream
  lifecycle('container_start_time_seconds', 'gauge', 'unix seconds', 'inspect State.StartedAt (else Created)', 'Start time of the container since unix epoch in seconds.', (c, _now, emit) => emit(c.startedAt ?? c.createdAt)),
  lifecycle('container_creation_time_seconds', 'gauge', 'unix seconds', 'inspect Created', 'Creation time of the container since unix epoch in seconds.', (c, _now, emit) => emit(c.createdAt)),
  lifecycle('container_last_seen', 'gauge', 'unix seconds', 'time of the scrape (running containers)', 'Last time a container was seen by the exporter.', (c, now, emit) => {
    if (isLive(c.state)) emit(now);
  }),
  lifecycle('container_oom_events_total', 'counter', 'events', 'Docker `oom` events', 'Count of out of memory events observed for the container.', (c, _now, emit) => emit(c.oomEvents)),
  lifecycle('container_restarts_total', 'counter', 'restarts', 'Docker `start` events and inspect StartedAt/RestartCount', 'Restarts of the container seen by the exporter, including restart-policy restarts before it started watching.', (c, _now, emit) => emit(c.restarts)),
  lifecycle('container_health_state', 'gauge', '1/0/-1', 'Docker `health_status` events and inspect State.Health', 'Health of the container: 1 healthy, 0 starting or unhealthy, -1 no health check.', (c, _now, emit) => emit(c.health ? HEALTH_VALUE[c.health] : -1)),
  lifecycle('container_last_exit_code', 'gauge', 'exit code', 'Docker `die` events (exitCode) and inspect State.ExitCode', 'Exit code of the latest exit of the container; absent until it first exits.', (c, _now, emit) => {
    if (c.lastExitCode !== undefined) emit(c.lastExitCode);
  }),
  lifecycle('container_state', 'gauge', '1/0', 'inspect State.Status, refreshed on every container event', 'Docker state of the container: 1 for the current state, 0 for the others.', (c, _now, emit) => {
    for (const state of CONTAINER_STATES) emit(c.state === state ? 1 : 0, 'state', state);
  }),
];

/** Whether a name is a group (turns off all its families) or one family. */
export function isMetricGroup(name: string): name is MetricGroup {
  return (METRIC_GROUPS as readonly string[]).includes(name);
}

/** The families left after turning off groups and single families. */
export function enabledFamilies(disabled: readonly string[], families: readonly FamilyDefinition[] = FAMILIES): FamilyDefinition[] {
  const off = new Set(disabled);
  return families.filter((f) => !off.has(f.group) && !off.has(f.name));
}

/**
 * The exported metric families: cAdvisor's names, types, units and labels, so existing Grafana
 * dashboards and alerts work unchanged, plus lifecycle families cAdvisor cannot offer because it
 * does not follow Docker events. Each family says where its value comes from; the README table
 * is written from these definitions.
 */
import type { ContainerState, TrackedContainer } from './container';
import { CONTAINER_STATES } from './container';
import type { ContainerStats, DiskCounters, FaultCounts, PressureStats } from './collectors/stats';
import type { FilesystemUsage } from './fs-usage';

/** Groups to turn off together with --stats-disable, named as cAdvisor's metric kinds where one matches. */
export const METRIC_GROUPS = [
  'cpu',
  'cpuLoad',
  'memory',
  'network',
  'diskIO',
  'disk',
  'pressure',
  'process',
  'spec',
  'lifecycle',
] as const;

/** In --stats-disable: the machine, i.e. the root cgroup (id="/") and the machine_* families. */
export const MACHINE = 'machine';
export type MetricGroup = (typeof METRIC_GROUPS)[number];

/**
 * Receives one sample: its value and the labels beyond the container's (`cpu`, `interface`,
 * `device`, `state`…) as name, value, name, value. A callback rather than returned arrays.
 */
export type SampleSink = (value: number, ...labels: string[]) => void;

export interface Observation {
  container: TrackedContainer;
  /** Absent for containers that are not running, or whose stats could not be read. */
  stats?: ContainerStats;
  /** The writable layer's usage, measured in the background; absent until measured. */
  fs?: FilesystemUsage;
  /** Unix seconds of this scrape. */
  now: number;
  /** How long a stopped container's container_last_seen stays, in seconds. */
  lastSeenWindow: number;
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
      for (const n of stats?.network ?? []) {
        const value = n[field];
        if (value !== undefined) emit(value, 'interface', n.interface);
      }
    },
  };
}

function disk(
  name: string,
  unit: string,
  source: string,
  help: string,
  field: 'readBytes' | 'writeBytes' | 'reads' | 'writes',
): FamilyDefinition {
  return {
    name,
    help,
    type: 'counter',
    unit,
    group: 'diskIO',
    source,
    samples: ({ stats, fs }, emit) => {
      if (!stats) return;
      const io = stats.blockIo ?? [];
      for (const d of io) emit(d[field], 'device', d.device);
      // The kernel lists only devices a cgroup did I/O on: the device of its writable layer, with no
      // I/O charged yet, is at 0, as cAdvisor reports it.
      if (fs && stats.blockIo && !io.some((d) => d.device === fs.device)) emit(0, 'device', fs.device);
    },
  };
}

type DiskField = keyof DiskCounters;

/** A /proc/diskstats counter: the machine (id="/") only; per-cgroup files have no such counters. */
function diskstat(
  name: string,
  type: FamilyDefinition['type'],
  unit: string,
  help: string,
  field: DiskField,
  column: string,
): FamilyDefinition {
  return {
    name,
    help,
    type,
    unit,
    group: 'diskIO',
    source: `/proc/diskstats ${column} (id="/" only)`,
    samples: ({ stats }, emit) => {
      for (const d of stats?.blockIo ?? []) if (d.disk) emit(d.disk[field], 'device', d.device);
    },
  };
}

type CostField = keyof NonNullable<NonNullable<ContainerStats['blockIo']>[number]['cost']>;

function ioCost(name: string, field: CostField, help: string): FamilyDefinition {
  return {
    name,
    help,
    type: 'counter',
    unit: 'seconds',
    group: 'diskIO',
    source: `v2 io.stat cost.${field} (iocost controller only)`,
    samples: ({ stats }, emit) => {
      for (const d of stats?.blockIo ?? []) if (d.cost) emit(d.cost[field], 'device', d.device);
    },
  };
}

function pressure(name: string, resource: keyof PressureStats, line: 'some' | 'full', help: string): FamilyDefinition {
  return {
    name,
    help,
    type: 'counter',
    unit: 'seconds',
    group: 'pressure',
    source: `${resource}.pressure ${line} total (v2, or a v1 host's cgroup2 mount)`,
    samples: ({ stats }, emit) => {
      const value = stats?.pressure?.[resource]?.[line];
      if (value !== undefined) emit(value);
    },
  };
}

type FilesystemField = Exclude<keyof FilesystemUsage, 'device'>;

function filesystem(
  name: string,
  unit: string,
  source: string,
  help: string,
  field: FilesystemField,
): FamilyDefinition {
  return {
    name,
    help,
    type: 'gauge',
    unit,
    group: 'disk',
    source,
    samples: ({ fs }, emit) => {
      if (fs) emit(fs[field], 'device', fs.device);
    },
  };
}

/**
 * A family from inspect and the event stream. `running` families are cAdvisor's, which it has only
 * for running containers (it sees cgroups, not Docker's stopped containers): so are ours, and a
 * count() panel counts what it counted. quayside's own lifecycle families cover every container.
 */
function lifecycle(
  name: string,
  type: FamilyDefinition['type'],
  unit: string,
  source: string,
  help: string,
  which: 'running' | 'all',
  samples: (c: TrackedContainer, now: number, emit: SampleSink) => void,
): FamilyDefinition {
  return {
    name,
    help,
    type,
    unit,
    group: 'lifecycle',
    source,
    samples: ({ container, now }, emit) => {
      if (container.root || (which === 'running' && !isLive(container.state))) return;
      samples(container, now, emit);
    },
  };
}

/** cAdvisor's `container_memory_failures_total` series: pgfault/pgmajfault × container/hierarchy. */
function emitFaults(emit: SampleSink, type: string, counts: FaultCounts | undefined): void {
  if (!counts) return;
  emit(counts.container, 'failure_type', type, 'scope', 'container');
  emit(counts.hierarchy, 'failure_type', type, 'scope', 'hierarchy');
}

export const isLive = (state: ContainerState): boolean => state === 'running' || state === 'paused';

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
  stat(
    'container_cpu_user_seconds_total',
    'counter',
    'seconds',
    'cpu',
    'v1 cpuacct.stat user / v2 cpu.stat user_usec',
    'Cumulative user cpu time consumed in seconds.',
    (s) => s.cpu?.userSeconds,
  ),
  stat(
    'container_cpu_system_seconds_total',
    'counter',
    'seconds',
    'cpu',
    'v1 cpuacct.stat system / v2 cpu.stat system_usec',
    'Cumulative system cpu time consumed in seconds.',
    (s) => s.cpu?.systemSeconds,
  ),
  stat(
    'container_cpu_cfs_periods_total',
    'counter',
    'periods',
    'cpu',
    'cpu.stat nr_periods (with a CPU quota only)',
    'Number of elapsed enforcement period intervals.',
    (s) => s.cpu?.cfs?.periods,
  ),
  stat(
    'container_cpu_cfs_throttled_periods_total',
    'counter',
    'periods',
    'cpu',
    'cpu.stat nr_throttled (with a CPU quota only)',
    'Number of throttled period intervals.',
    (s) => s.cpu?.cfs?.throttledPeriods,
  ),
  stat(
    'container_cpu_cfs_throttled_seconds_total',
    'counter',
    'seconds',
    'cpu',
    'v1 cpu.stat throttled_time / v2 throttled_usec (with a CPU quota only)',
    'Total time duration the container has been throttled.',
    (s) => s.cpu?.cfs?.throttledSeconds,
  ),
  stat(
    'container_cpu_cfs_burst_periods_total',
    'counter',
    'periods',
    'cpu',
    'cpu.stat nr_bursts (with a CPU quota only; kernel 5.14+)',
    'Number of periods when burst occurs.',
    (s) => s.cpu?.cfs?.burstPeriods,
  ),
  stat(
    'container_cpu_cfs_burst_seconds_total',
    'counter',
    'seconds',
    'cpu',
    'v1 cpu.stat burst_time / v2 burst_usec (with a CPU quota only; kernel 5.14+)',
    'Total time duration the container has been bursted.',
    (s) => s.cpu?.cfs?.burstSeconds,
  ),
  // ---- cpuLoad: task states from /proc/<tid>/stat of the cgroup's tasks
  stat(
    'container_cpu_load_average_10s',
    'gauge',
    'tasks',
    'cpuLoad',
    'running tasks (v1 tasks / v2 cgroup.threads, /proc/<tid>/stat), decayed over 10 s between scrapes',
    'Value of container cpu load average over the last 10 seconds.',
    (s) => s.load?.running,
  ),
  stat(
    'container_cpu_load_d_average_10s',
    'gauge',
    'tasks',
    'cpuLoad',
    'uninterruptible tasks, decayed over 10 s between scrapes',
    'Value of container cpu load.d average over the last 10 seconds.',
    (s) => s.load?.uninterruptible,
  ),
  {
    name: 'container_tasks_state',
    help: 'Number of tasks in given state',
    type: 'gauge',
    unit: 'tasks',
    group: 'cpuLoad',
    source: 'state of /proc/<tid>/stat for each task in v1 tasks / v2 cgroup.threads',
    samples: ({ stats }, emit) => {
      const tasks = stats?.tasks;
      if (!tasks) return;
      emit(tasks.sleeping, 'state', 'sleeping');
      emit(tasks.running, 'state', 'running');
      emit(tasks.stopped, 'state', 'stopped');
      emit(tasks.uninterruptible, 'state', 'uninterruptible');
    },
  },
  // ---- memory
  stat(
    'container_memory_usage_bytes',
    'gauge',
    'bytes',
    'memory',
    'v1 memory.usage_in_bytes / v2 memory.current',
    'Current memory usage in bytes, including all memory regardless of when it was accessed.',
    (s) => s.memory?.usageBytes,
  ),
  stat(
    'container_memory_working_set_bytes',
    'gauge',
    'bytes',
    'memory',
    'usage minus v1 total_inactive_file / v2 inactive_file (memory.stat)',
    'Current working set in bytes.',
    (s) => s.memory?.workingSetBytes,
  ),
  stat(
    'container_memory_rss',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_rss / v2 anon',
    'Size of RSS in bytes.',
    (s) => s.memory?.rssBytes,
  ),
  stat(
    'container_memory_cache',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_cache / v2 file',
    'Number of bytes of page cache memory.',
    (s) => s.memory?.cacheBytes,
  ),
  stat(
    'container_memory_swap',
    'gauge',
    'bytes',
    'memory',
    'v1 memory.stat total_swap / v2 memory.swap.current',
    'Container swap usage in bytes.',
    (s) => s.memory?.swapBytes,
  ),
  stat(
    'container_memory_mapped_file',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_mapped_file / v2 file_mapped',
    'Size of memory mapped files in bytes.',
    (s) => s.memory?.mappedFileBytes,
  ),
  stat(
    'container_memory_max_usage_bytes',
    'gauge',
    'bytes',
    'memory',
    'v1 memory.max_usage_in_bytes / v2 memory.peak',
    'Maximum memory usage recorded in bytes.',
    (s) => s.memory?.maxUsageBytes,
  ),
  stat(
    'container_memory_failcnt',
    'counter',
    'hits',
    'memory',
    'v1 memory.failcnt (none on v2)',
    'Number of memory usage hits limits.',
    (s) => s.memory?.failcnt,
  ),
  stat(
    'container_memory_kernel_usage',
    'gauge',
    'bytes',
    'memory',
    'v1 memory.kmem.usage_in_bytes / v2 memory.stat kernel',
    'Size of kernel memory allocated in bytes.',
    (s) => s.memory?.kernelBytes,
  ),
  stat(
    'container_memory_total_active_file_bytes',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_active_file / v2 active_file',
    'Current total active file in bytes.',
    (s) => s.memory?.activeFileBytes,
  ),
  stat(
    'container_memory_total_inactive_file_bytes',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_inactive_file / v2 inactive_file',
    'Current total inactive file in bytes.',
    (s) => s.memory?.inactiveFileBytes,
  ),
  stat(
    'container_memory_file_dirty_bytes',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_dirty / v2 file_dirty',
    'Size of file-backed memory waiting to be written back to disk in bytes.',
    (s) => s.memory?.dirtyBytes,
  ),
  stat(
    'container_memory_file_writeback_bytes',
    'gauge',
    'bytes',
    'memory',
    'memory.stat v1 total_writeback / v2 file_writeback',
    'Size of file-backed memory being written back to disk in bytes.',
    (s) => s.memory?.writebackBytes,
  ),
  {
    name: 'container_memory_failures_total',
    help: 'Cumulative count of memory allocation failures.',
    type: 'counter',
    unit: 'faults',
    group: 'memory',
    source:
      'memory.stat pgfault/pgmajfault (v1: plain keys for scope=container, total_* for hierarchy; v2: one count for both)',
    samples: ({ stats }, emit) => {
      emitFaults(emit, 'pgfault', stats?.memory?.pgfault);
      emitFaults(emit, 'pgmajfault', stats?.memory?.pgmajfault);
    },
  },
  stat(
    'container_memory_pgscan_total',
    'counter',
    'pages',
    'memory',
    'v2 memory.stat pgscan (not on v1)',
    'Cumulative count of pages scanned for reclaim.',
    (s) => s.memory?.pgscan,
  ),
  stat(
    'container_memory_pgsteal_total',
    'counter',
    'pages',
    'memory',
    'v2 memory.stat pgsteal (not on v1)',
    'Cumulative count of pages reclaimed.',
    (s) => s.memory?.pgsteal,
  ),
  stat(
    'container_memory_workingset_refault_file_total',
    'counter',
    'pages',
    'memory',
    'memory.stat v1 total_workingset_refault_file / v2 workingset_refault_file',
    'Cumulative count of refaulted file pages.',
    (s) => s.memory?.refaultFile,
  ),
  stat(
    'container_memory_workingset_refault_anon_total',
    'counter',
    'pages',
    'memory',
    'memory.stat v1 total_workingset_refault_anon / v2 workingset_refault_anon',
    'Cumulative count of refaulted anonymous pages.',
    (s) => s.memory?.refaultAnon,
  ),
  stat(
    'container_memory_events_high_total',
    'counter',
    'events',
    'memory',
    'v2 memory.events high (not on v1)',
    'Number of times the memory usage went over memory.high.',
    (s) => s.memory?.eventsHigh,
  ),
  stat(
    'container_memory_events_max_total',
    'counter',
    'events',
    'memory',
    'v2 memory.events max (not on v1)',
    'Number of times the memory usage was about to go over memory.max.',
    (s) => s.memory?.eventsMax,
  ),
  // ---- network
  network(
    'container_network_receive_bytes_total',
    'bytes',
    'receive bytes',
    'Cumulative count of bytes received.',
    'receiveBytes',
  ),
  network(
    'container_network_receive_packets_total',
    'packets',
    'receive packets',
    'Cumulative count of packets received.',
    'receivePackets',
  ),
  network(
    'container_network_receive_errors_total',
    'errors',
    'receive errs',
    'Cumulative count of errors encountered while receiving.',
    'receiveErrors',
  ),
  network(
    'container_network_receive_packets_dropped_total',
    'packets',
    'receive drop',
    'Cumulative count of packets dropped while receiving.',
    'receiveDropped',
  ),
  network(
    'container_network_transmit_bytes_total',
    'bytes',
    'transmit bytes',
    'Cumulative count of bytes transmitted.',
    'transmitBytes',
  ),
  network(
    'container_network_transmit_packets_total',
    'packets',
    'transmit packets',
    'Cumulative count of packets transmitted.',
    'transmitPackets',
  ),
  network(
    'container_network_transmit_errors_total',
    'errors',
    'transmit errs',
    'Cumulative count of errors encountered while transmitting.',
    'transmitErrors',
  ),
  network(
    'container_network_transmit_packets_dropped_total',
    'packets',
    'transmit drop',
    'Cumulative count of packets dropped while transmitting.',
    'transmitDropped',
  ),
  // ---- block I/O
  disk(
    'container_fs_reads_bytes_total',
    'bytes',
    'v1 blkio *io_service_bytes_recursive Read / v2 io.stat rbytes; id="/": /proc/diskstats sectors read',
    'Cumulative count of bytes read.',
    'readBytes',
  ),
  disk(
    'container_fs_writes_bytes_total',
    'bytes',
    'v1 blkio *io_service_bytes_recursive Write / v2 io.stat wbytes; id="/": /proc/diskstats sectors written',
    'Cumulative count of bytes written.',
    'writeBytes',
  ),
  disk(
    'container_fs_reads_total',
    'operations',
    'v1 blkio *io_serviced_recursive Read / v2 io.stat rios; id="/": /proc/diskstats reads',
    'Cumulative count of reads completed.',
    'reads',
  ),
  disk(
    'container_fs_writes_total',
    'operations',
    'v1 blkio *io_serviced_recursive Write / v2 io.stat wios; id="/": /proc/diskstats writes',
    'Cumulative count of writes completed.',
    'writes',
  ),
  {
    name: 'container_blkio_device_usage_total',
    help: 'Blkio Device bytes usage',
    type: 'counter',
    unit: 'bytes',
    group: 'diskIO',
    source: 'v1 blkio *io_service_bytes_recursive (every operation) / v2 io.stat rbytes, wbytes, dbytes',
    samples: ({ stats }, emit) => {
      for (const d of stats?.blockIo ?? []) {
        const [major = '', minor = ''] = (d.majorMinor ?? '').split(':');
        for (const [operation, bytes] of d.bytesByOperation ?? [])
          emit(bytes, 'device', d.device, 'major', major, 'minor', minor, 'operation', operation);
      }
    },
  },
  diskstat(
    'container_fs_reads_merged_total',
    'counter',
    'operations',
    'Cumulative count of reads merged.',
    'readsMerged',
    'reads merged',
  ),
  diskstat(
    'container_fs_sector_reads_total',
    'counter',
    'sectors',
    'Cumulative count of sector reads completed.',
    'sectorsRead',
    'sectors read',
  ),
  diskstat(
    'container_fs_read_seconds_total',
    'counter',
    'seconds',
    'Cumulative count of seconds spent reading.',
    'readSeconds',
    'time reading',
  ),
  diskstat(
    'container_fs_writes_merged_total',
    'counter',
    'operations',
    'Cumulative count of writes merged.',
    'writesMerged',
    'writes merged',
  ),
  diskstat(
    'container_fs_sector_writes_total',
    'counter',
    'sectors',
    'Cumulative count of sector writes completed.',
    'sectorsWritten',
    'sectors written',
  ),
  diskstat(
    'container_fs_write_seconds_total',
    'counter',
    'seconds',
    'Cumulative count of seconds spent writing.',
    'writeSeconds',
    'time writing',
  ),
  diskstat(
    'container_fs_io_current',
    'gauge',
    'operations',
    'Number of I/Os currently in progress.',
    'ioInProgress',
    'I/Os in progress',
  ),
  diskstat(
    'container_fs_io_time_seconds_total',
    'counter',
    'seconds',
    'Cumulative count of seconds spent doing I/Os.',
    'ioSeconds',
    'time doing I/Os',
  ),
  diskstat(
    'container_fs_io_time_weighted_seconds_total',
    'counter',
    'seconds',
    'Cumulative weighted I/O time in seconds.',
    'weightedIoSeconds',
    'weighted time doing I/Os',
  ),
  ioCost('container_fs_io_cost_usage_seconds_total', 'usage', 'Cumulative IOCost usage in seconds'),
  ioCost('container_fs_io_cost_wait_seconds_total', 'wait', 'Cumulative IOCost wait in seconds'),
  ioCost('container_fs_io_cost_indebt_seconds_total', 'indebt', 'Cumulative IOCost debt in seconds'),
  ioCost('container_fs_io_cost_indelay_seconds_total', 'indelay', 'Cumulative IOCost delay in seconds'),
  // ---- disk: the writable layer, measured in the background
  filesystem(
    'container_fs_usage_bytes',
    'bytes',
    'du of the writable layer (GraphDriver UpperDir), in the background',
    'Number of bytes that are consumed by the container on this filesystem.',
    'usageBytes',
  ),
  filesystem(
    'container_fs_limit_bytes',
    'bytes',
    'statfs of the filesystem holding the writable layer',
    'Number of bytes that can be consumed by the container on this filesystem.',
    'limitBytes',
  ),
  filesystem(
    'container_fs_inodes_free',
    'inodes',
    'statfs of the filesystem holding the writable layer',
    'Number of available Inodes',
    'inodesFree',
  ),
  filesystem(
    'container_fs_inodes_total',
    'inodes',
    'statfs of the filesystem holding the writable layer',
    'Number of Inodes',
    'inodesTotal',
  ),
  // ---- pressure (PSI)
  pressure(
    'container_pressure_cpu_stalled_seconds_total',
    'cpu',
    'full',
    'Total time duration no tasks in the container could make progress due to CPU congestion.',
  ),
  pressure(
    'container_pressure_cpu_waiting_seconds_total',
    'cpu',
    'some',
    'Total time duration tasks in the container have waited due to CPU congestion.',
  ),
  pressure(
    'container_pressure_memory_stalled_seconds_total',
    'memory',
    'full',
    'Total time duration no tasks in the container could make progress due to memory congestion.',
  ),
  pressure(
    'container_pressure_memory_waiting_seconds_total',
    'memory',
    'some',
    'Total time duration tasks in the container have waited due to memory congestion.',
  ),
  pressure(
    'container_pressure_io_stalled_seconds_total',
    'io',
    'full',
    'Total time duration no tasks in the container could make progress due to IO congestion.',
  ),
  pressure(
    'container_pressure_io_waiting_seconds_total',
    'io',
    'some',
    'Total time duration tasks in the container have waited due to IO congestion.',
  ),
  // ---- processes
  stat(
    'container_processes',
    'gauge',
    'processes',
    'process',
    'cgroup.procs of the cgroup and its sub-cgroups',
    'Number of processes running inside the container.',
    (s) => s.processes?.processes,
  ),
  stat(
    'container_threads',
    'gauge',
    'threads',
    'process',
    'pids.current',
    'Number of threads running inside the container.',
    (s) => s.processes?.threads,
  ),
  stat(
    'container_threads_max',
    'gauge',
    'threads',
    'process',
    'pids.max (0 = unlimited)',
    'Maximum number of threads allowed inside the container, infinity if value is zero.',
    (s) => s.processes?.threadsMax,
  ),
  // ---- spec
  stat(
    'container_spec_memory_limit_bytes',
    'gauge',
    'bytes',
    'spec',
    'v1 memory.limit_in_bytes / v2 memory.max (0 = unlimited)',
    'Memory limit for the container.',
    (s) => s.spec?.memoryLimitBytes,
  ),
  stat(
    'container_spec_memory_swap_limit_bytes',
    'gauge',
    'bytes',
    'spec',
    'v1 memory.memsw.limit_in_bytes / v2 memory.swap.max (0 = unlimited)',
    'Memory swap limit for the container.',
    (s) => s.spec?.memorySwapLimitBytes,
  ),
  stat(
    'container_spec_memory_reservation_limit_bytes',
    'gauge',
    'bytes',
    'spec',
    'v1 memory.soft_limit_in_bytes / v2 memory.min, as cAdvisor (0 = none)',
    'Memory reservation limit for the container.',
    (s) => s.spec?.memoryReservationBytes,
  ),
  stat(
    'container_spec_cpu_quota',
    'gauge',
    'microseconds',
    'spec',
    'v1 cpu.cfs_quota_us / v2 cpu.max (only when set)',
    'CPU quota of the container.',
    (s) => s.spec?.cpuQuotaMicros,
  ),
  stat(
    'container_spec_cpu_period',
    'gauge',
    'microseconds',
    'spec',
    'v1 cpu.cfs_period_us / v2 cpu.max',
    'CPU period of the container.',
    (s) => s.spec?.cpuPeriodMicros,
  ),
  stat(
    'container_spec_cpu_shares',
    'gauge',
    'shares',
    'spec',
    'v1 cpu.shares / v2 cpu.weight converted to shares',
    'CPU share of the container.',
    (s) => s.spec?.cpuShares,
  ),
  // ---- lifecycle: from inspect and the event stream
  lifecycle(
    'container_start_time_seconds',
    'gauge',
    'unix seconds',
    'inspect State.StartedAt (else Created); running containers',
    'Start time of the container since unix epoch in seconds.',
    'running',
    (c, _now, emit) => emit(c.startedAt ?? c.createdAt),
  ),
  lifecycle(
    'container_creation_time_seconds',
    'gauge',
    'unix seconds',
    'inspect Created; running containers',
    'Creation time of the container since unix epoch in seconds.',
    'running',
    (c, _now, emit) => emit(c.createdAt),
  ),
  {
    name: 'container_last_seen',
    help: 'Last time a container was seen by the exporter.',
    type: 'gauge',
    unit: 'unix seconds',
    group: 'lifecycle',
    source: 'time of the scrape (running); inspect State.FinishedAt for --stats-last-seen-window after a stop',
    // A stopped container keeps the time it was last running for a while, as cAdvisor's last sample
    // lingers in Prometheus: `time() - container_last_seen > 60` then fires for it.
    samples: ({ container, now, lastSeenWindow }, emit) => {
      if (container.root || isLive(container.state)) emit(now);
      else if (container.finishedAt !== undefined && now - container.finishedAt < lastSeenWindow)
        emit(container.finishedAt);
    },
  },
  lifecycle(
    'container_oom_events_total',
    'counter',
    'events',
    'Docker `oom` events; running containers',
    'Count of out of memory events observed for the container.',
    'running',
    (c, _now, emit) => emit(c.oomEvents),
  ),
  lifecycle(
    'container_health_state',
    'gauge',
    '1/0/-1',
    'Docker `health_status` events and inspect State.Health; running containers',
    'Health of the container: 1 healthy, 0 starting or unhealthy, -1 no health check.',
    'running',
    (c, _now, emit) => emit(c.health ? HEALTH_VALUE[c.health] : -1),
  ),
  lifecycle(
    'container_restarts_total',
    'counter',
    'restarts',
    'Docker `start` events and inspect StartedAt/RestartCount; every container',
    'Restarts of the container seen by the exporter, including restart-policy restarts before it started watching.',
    'all',
    (c, _now, emit) => emit(c.restarts),
  ),
  lifecycle(
    'container_last_exit_code',
    'gauge',
    'exit code',
    'Docker `die` events (exitCode) and inspect State.ExitCode; every container',
    'Exit code of the latest exit of the container; absent until it first exits.',
    'all',
    (c, _now, emit) => {
      if (c.lastExitCode !== undefined) emit(c.lastExitCode);
    },
  ),
  lifecycle(
    'container_state',
    'gauge',
    '1/0',
    'inspect State.Status, refreshed on every container event; every container',
    'Docker state of the container: 1 for the current state, 0 for the others.',
    'all',
    (c, _now, emit) => {
      for (const state of CONTAINER_STATES) emit(c.state === state ? 1 : 0, 'state', state);
    },
  ),
];

/** Whether a name is a group (turns off all its families) or one family. */
export function isMetricGroup(name: string): name is MetricGroup {
  return (METRIC_GROUPS as readonly string[]).includes(name);
}

/** The families left after turning off groups and single families. */
export function enabledFamilies(
  disabled: readonly string[],
  families: readonly FamilyDefinition[] = FAMILIES,
): FamilyDefinition[] {
  const off = new Set(disabled);
  return families.filter((f) => !off.has(f.group) && !off.has(f.name));
}

/**
 * What every collector produces for one container, in base units (seconds, bytes), whatever it
 * read: cgroup v1 files, cgroup v2 files or the Docker stats API. A missing group or field means
 * "not available from this source", never zero.
 */

export interface CpuStats {
  usageSeconds: number;
  userSeconds?: number;
  systemSeconds?: number;
  /** CFS bandwidth counters; present only when the container has a CPU quota. */
  cfs?: {
    periods: number;
    throttledPeriods: number;
    throttledSeconds: number;
    /** Periods that used burst capacity (cpu.cfs_burst_us / cpu.max.burst); kernels since 5.14. */
    burstPeriods?: number;
    burstSeconds?: number;
  };
}

/** Page faults by kind, of the cgroup alone and of its whole subtree (cAdvisor's `scope`). */
export interface FaultCounts {
  container: number;
  hierarchy: number;
}

export interface MemoryStats {
  usageBytes: number;
  /** usage minus inactive file pages, floored at 0: what the kernel cannot reclaim easily. */
  workingSetBytes: number;
  rssBytes?: number;
  cacheBytes?: number;
  swapBytes?: number;
  mappedFileBytes?: number;
  failcnt?: number;
  maxUsageBytes?: number;
  /** v1 memory.kmem.usage_in_bytes / v2 memory.stat `kernel`. */
  kernelBytes?: number;
  activeFileBytes?: number;
  inactiveFileBytes?: number;
  dirtyBytes?: number;
  writebackBytes?: number;
  pgfault?: FaultCounts;
  pgmajfault?: FaultCounts;
  /** cgroup v2 only (memory.stat). */
  pgscan?: number;
  pgsteal?: number;
  refaultFile?: number;
  refaultAnon?: number;
  /** cgroup v2 memory.events: times usage went over memory.high / hit memory.max. */
  eventsHigh?: number;
  eventsMax?: number;
}

/** An interface's counters; those the source does not count (Podman's stats API: only bytes) are undefined, never 0. */
export interface InterfaceStats {
  interface: string;
  receiveBytes: number;
  receivePackets?: number;
  receiveErrors?: number;
  receiveDropped?: number;
  transmitBytes: number;
  transmitPackets?: number;
  transmitErrors?: number;
  transmitDropped?: number;
}

export interface DeviceIoStats {
  /** /dev/<name> when the device is known, else `major:minor`. */
  device: string;
  /** `major:minor`. */
  majorMinor?: string;
  readBytes: number;
  writeBytes: number;
  reads: number;
  writes: number;
  /** Bytes by the kernel's operation names (Read, Write, Sync, Async, Discard, Total), for container_blkio_device_usage_total. */
  bytesByOperation?: Array<readonly [operation: string, bytes: number]>;
  /** /proc/diskstats counters, which only the machine (id="/") has. */
  disk?: DiskCounters;
  /** cgroup v2 io.stat `cost.*` (the iocost controller), in seconds. */
  cost?: { usage: number; wait: number; indebt: number; indelay: number };
}

export interface DiskCounters {
  readsMerged: number;
  sectorsRead: number;
  readSeconds: number;
  writesMerged: number;
  sectorsWritten: number;
  writeSeconds: number;
  /** I/Os in flight now (a gauge). */
  ioInProgress: number;
  ioSeconds: number;
  weightedIoSeconds: number;
}

/** Seconds some / all non-idle tasks were stalled (PSI `total=`, cgroup v2 or the v1 host's cgroup2 mount). */
export interface PressureTotals {
  some: number;
  full?: number;
}

export interface PressureStats {
  cpu?: PressureTotals;
  memory?: PressureTotals;
  io?: PressureTotals;
}

/** Tasks (threads) of the cgroup by state, from /proc/<tid>/stat. */
export interface TaskStates {
  running: number;
  sleeping: number;
  stopped: number;
  uninterruptible: number;
}

/** cAdvisor's 10-second load averages: exponentially decayed running (and uninterruptible) task counts. */
export interface LoadAverages {
  running: number;
  uninterruptible: number;
}

export interface ProcessStats {
  /** Tasks (threads) in the cgroup: pids.current. */
  threads: number;
  /** pids.max; 0 when unlimited. */
  threadsMax?: number;
  /** Processes (thread-group leaders) in the cgroup: lines of cgroup.procs. */
  processes?: number;
}

/** Limits as the kernel enforces them now (cgroup) or as Docker configured them (API). */
export interface SpecStats {
  /** 0 when unlimited, as cAdvisor exports it. */
  memoryLimitBytes?: number;
  memorySwapLimitBytes?: number;
  memoryReservationBytes?: number;
  /** Microseconds per period; absent when no quota is set. */
  cpuQuotaMicros?: number;
  cpuPeriodMicros?: number;
  cpuShares?: number;
}

export interface ContainerStats {
  cpu?: CpuStats;
  memory?: MemoryStats;
  network?: InterfaceStats[];
  blockIo?: DeviceIoStats[];
  processes?: ProcessStats;
  pressure?: PressureStats;
  tasks?: TaskStates;
  load?: LoadAverages;
  spec?: SpecStats;
}

/** Values above this are the kernel's "no limit" (2^62 and up, page-aligned LONG_MAX). */
const UNLIMITED_THRESHOLD = 2 ** 62;

/** cAdvisor exports an unlimited limit as 0. */
export function limitOrZero(value: number): number {
  return value >= UNLIMITED_THRESHOLD ? 0 : value;
}

export function workingSet(usageBytes: number, inactiveFileBytes: number | undefined): number {
  return Math.max(0, usageBytes - (inactiveFileBytes ?? 0));
}

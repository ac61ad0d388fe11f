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
  cfs?: { periods: number; throttledPeriods: number; throttledSeconds: number };
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
}

export interface InterfaceStats {
  interface: string;
  receiveBytes: number;
  receivePackets: number;
  receiveErrors: number;
  receiveDropped: number;
  transmitBytes: number;
  transmitPackets: number;
  transmitErrors: number;
  transmitDropped: number;
}

export interface DeviceIoStats {
  /** /dev/<name> when the device is known, else `major:minor`. */
  device: string;
  readBytes: number;
  writeBytes: number;
  reads: number;
  writes: number;
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

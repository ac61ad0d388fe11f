/**
 * Reads one container's stats from cgroup v1 controller directories, the way cAdvisor and runc do
 * (opencontainers/cgroups `fs/`). Each group is read on its own, so an unreadable memory
 * controller costs the memory metrics, not the CPU ones.
 */
import type { BlockDeviceNames } from './block-devices';
import {
  countProcessesRecursive,
  fileIn,
  flatKeyedValue,
  parseFlatKeyed,
  parseLimit,
  readInteger,
  readOptionalInteger,
  readOptionalText,
  readText,
} from './files';
import type { CgroupLocation } from './cgroup-location';
import { readPressure } from './pressure';
import type { ContainerStats, CpuStats, DeviceIoStats, MemoryStats, ProcessStats, SpecStats } from './stats';
import { limitOrZero, workingSet } from './stats';

type V1Location = Extract<CgroupLocation, { version: 1 }>;

/** cpuacct.stat counts in USER_HZ, which is 100 on every Linux architecture Docker runs on. */
const USER_HZ = 100;
const NS_PER_S = 1e9;

/** Runs one group's reader; a failure is reported and leaves the group out. */
export type GroupReader = <T>(group: string, dir: string | undefined, read: (dir: string) => T) => T | undefined;

/** Everything but the limits, which change only on `docker update` and are read by `readSpec`. */
export function readCgroupV1(
  location: V1Location,
  devices: BlockDeviceNames,
  attempt: GroupReader,
  spec: SpecStats,
): ContainerStats {
  const { dirs } = location;
  return {
    cpu: attempt('cpu', dirs.cpuacct, (dir) => readCpu(dir, dirs.cpu, spec.cpuQuotaMicros !== undefined)),
    memory: attempt('memory', dirs.memory, readMemory),
    blockIo: attempt('blkio', dirs.blkio, (dir) => readBlockIo(dir, devices)),
    processes: attempt('pids', dirs.pids, readProcesses),
    // cgroup v1 has no pressure files; a hybrid host's cgroup2 mount (no controllers) still keeps PSI per cgroup.
    pressure: attempt('pressure', location.unifiedDir, readPressure),
    spec,
  };
}

export function readSpecV1(location: V1Location, attempt: GroupReader): SpecStats | undefined {
  return attempt('spec', location.dirs.memory ?? location.dirs.cpu, () =>
    readSpec(location.dirs.memory, location.dirs.cpu),
  );
}

function readCpu(cpuacctDir: string, cpuDir: string | undefined, quotaSet: boolean): CpuStats {
  const stats: CpuStats = { usageSeconds: readInteger(fileIn(cpuacctDir, 'cpuacct.usage')) / NS_PER_S };
  const ticks = readOptionalText(fileIn(cpuacctDir, 'cpuacct.stat'));
  if (ticks !== undefined) {
    const values = parseFlatKeyed(ticks, 'cpuacct.stat');
    stats.userSeconds = (values.get('user') ?? 0) / USER_HZ;
    stats.systemSeconds = (values.get('system') ?? 0) / USER_HZ;
  }
  // Periods are only counted against a quota; without one cAdvisor leaves the CFS metrics out.
  if (cpuDir !== undefined && quotaSet) {
    const values = parseFlatKeyed(readText(fileIn(cpuDir, 'cpu.stat')), 'cpu.stat');
    const burstTime = values.get('burst_time');
    stats.cfs = {
      periods: values.get('nr_periods') ?? 0,
      throttledPeriods: values.get('nr_throttled') ?? 0,
      throttledSeconds: (values.get('throttled_time') ?? 0) / NS_PER_S,
      burstPeriods: values.get('nr_bursts'),
      burstSeconds: burstTime === undefined ? undefined : burstTime / NS_PER_S,
    };
  }
  return stats;
}

function readMemory(dir: string): MemoryStats {
  const usageBytes = readInteger(fileIn(dir, 'memory.usage_in_bytes'));
  const stat = readText(fileIn(dir, 'memory.stat'));
  // total_* include descendants (use_hierarchy=1, Docker's default); the plain keys are the fallback.
  const pick = (key: string): number | undefined =>
    flatKeyedValue(stat, `total_${key}`, 'memory.stat') ?? flatKeyedValue(stat, key, 'memory.stat');
  return {
    usageBytes,
    workingSetBytes: workingSet(usageBytes, pick('inactive_file')),
    rssBytes: pick('rss'),
    cacheBytes: pick('cache'),
    swapBytes: pick('swap'),
    mappedFileBytes: pick('mapped_file'),
    failcnt: readOptionalInteger(fileIn(dir, 'memory.failcnt')),
    maxUsageBytes: readOptionalInteger(fileIn(dir, 'memory.max_usage_in_bytes')),
    kernelBytes: readOptionalInteger(fileIn(dir, 'memory.kmem.usage_in_bytes')),
    activeFileBytes: pick('active_file'),
    inactiveFileBytes: pick('inactive_file'),
    dirtyBytes: pick('dirty'),
    writebackBytes: pick('writeback'),
    // The plain keys count this cgroup alone, the total_ ones its subtree (cAdvisor's two scopes).
    pgfault: faults(stat, 'pgfault'),
    pgmajfault: faults(stat, 'pgmajfault'),
    refaultFile: pick('workingset_refault_file'),
    refaultAnon: pick('workingset_refault_anon'),
  };
}

function faults(stat: string, key: string): MemoryStats['pgfault'] {
  const own = flatKeyedValue(stat, key, 'memory.stat');
  return own === undefined
    ? undefined
    : { container: own, hierarchy: flatKeyedValue(stat, `total_${key}`, 'memory.stat') ?? own };
}

/**
 * The first policy whose recursive files list devices: BFQ, CFQ, then the throttle layer, which
 * sees every bio whatever the scheduler (the order of opencontainers/cgroups and Docker).
 */
const BLKIO_SOURCES = [
  ['blkio.bfq.io_service_bytes_recursive', 'blkio.bfq.io_serviced_recursive'],
  ['blkio.io_service_bytes_recursive', 'blkio.io_serviced_recursive'],
  ['blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_serviced_recursive'],
] as const;

function readBlockIo(dir: string, devices: BlockDeviceNames): DeviceIoStats[] {
  for (const [bytesFile, opsFile] of BLKIO_SOURCES) {
    const bytesText = readOptionalText(fileIn(dir, bytesFile));
    if (bytesText === undefined) continue;
    const bytes = parseBlkioOps(bytesText);
    if (bytes.size === 0) continue;
    const ops = parseBlkioOps(readOptionalText(fileIn(dir, opsFile)) ?? '');
    return [...bytes].map(([majorMinor, byOp]) => {
      const counts = ops.get(majorMinor);
      return {
        device: devices.nameOf(majorMinor),
        majorMinor,
        bytesByOperation: [...byOp],
        readBytes: byOp.get('Read') ?? 0,
        writeBytes: byOp.get('Write') ?? 0,
        reads: counts?.get('Read') ?? 0,
        writes: counts?.get('Write') ?? 0,
      };
    });
  }
  return [];
}

/** `8:0 Read 4096` lines (plus a trailing `Total N`) into device → operation → value. */
export function parseBlkioOps(text: string): Map<string, Map<string, number>> {
  const devices = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (!device || !op || value === undefined || !/^\d+:\d+$/.test(device)) continue;
    let ops = devices.get(device);
    if (!ops) devices.set(device, (ops = new Map()));
    ops.set(op, Number(value));
  }
  return devices;
}

function readProcesses(dir: string): ProcessStats {
  const max = parseLimit(readText(fileIn(dir, 'pids.max')), 'pids.max');
  return {
    threads: readInteger(fileIn(dir, 'pids.current')),
    threadsMax: max ?? 0,
    processes: countProcessesRecursive(dir),
  };
}

function readSpec(memoryDir: string | undefined, cpuDir: string | undefined): SpecStats {
  const spec: SpecStats = {};
  if (memoryDir !== undefined) {
    spec.memoryLimitBytes = limitOrZero(readInteger(fileIn(memoryDir, 'memory.limit_in_bytes')));
    const swap = readOptionalInteger(fileIn(memoryDir, 'memory.memsw.limit_in_bytes'));
    if (swap !== undefined) spec.memorySwapLimitBytes = limitOrZero(swap);
    const soft = readOptionalInteger(fileIn(memoryDir, 'memory.soft_limit_in_bytes'));
    if (soft !== undefined) spec.memoryReservationBytes = limitOrZero(soft);
  }
  if (cpuDir !== undefined) {
    const quota = readOptionalInteger(fileIn(cpuDir, 'cpu.cfs_quota_us'));
    if (hasQuota(quota)) spec.cpuQuotaMicros = quota;
    spec.cpuPeriodMicros = readOptionalInteger(fileIn(cpuDir, 'cpu.cfs_period_us'));
    spec.cpuShares = readOptionalInteger(fileIn(cpuDir, 'cpu.shares'));
  }
  return spec;
}

function hasQuota(quota: number | undefined): quota is number {
  return quota !== undefined && quota > 0;
}

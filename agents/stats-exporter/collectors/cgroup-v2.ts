/**
 * Reads one container's stats from its cgroup v2 (unified) directory, with the keys cAdvisor and
 * runc use (opencontainers/cgroups `fs2/`). cgroup v2 has no failcnt and no per-CPU usage; those
 * metrics are left out rather than exported as 0.
 */
import type { BlockDeviceNames } from './block-devices';
import type { CgroupLocation } from './cgroup-location';
import type { GroupReader } from './cgroup-v1';
import { readPressure } from './pressure';
import {
  countProcessesRecursive,
  fileIn,
  flatKeyedValue,
  parseFlatKeyed,
  parseInteger,
  parseLimit,
  readInteger,
  readOptionalInteger,
  readOptionalText,
  readText,
} from './files';
import type { ContainerStats, CpuStats, DeviceIoStats, MemoryStats, ProcessStats, SpecStats } from './stats';
import { limitOrZero, workingSet } from './stats';

type V2Location = Extract<CgroupLocation, { version: 2 }>;

const US_PER_S = 1e6;

/** Everything but the limits, which change only on `docker update` and are read by `readSpecV2`. */
export function readCgroupV2(
  location: V2Location,
  devices: BlockDeviceNames,
  attempt: GroupReader,
  spec: SpecStats,
  procRoot = '/proc',
): ContainerStats {
  const { dir } = location;
  // The root cgroup has neither memory.current nor pids.current: the machine's memory is in meminfo.
  const root = location.path === '/';
  return {
    cpu: attempt('cpu', dir, (d) => readCpu(d, spec.cpuQuotaMicros !== undefined)),
    memory: attempt('memory', dir, root ? (d) => readRootMemory(d, readText(fileIn(procRoot, 'meminfo'))) : readMemory),
    blockIo: attempt('io', dir, (d) => readIo(d, devices)),
    processes: root ? undefined : attempt('pids', dir, readProcesses),
    pressure: attempt('pressure', dir, readPressure),
    spec,
  };
}

export function readSpecV2(location: V2Location, attempt: GroupReader): SpecStats | undefined {
  return attempt('spec', location.dir, readSpec);
}

function readCpu(dir: string, quotaSet: boolean): CpuStats {
  const stat = parseFlatKeyed(readText(fileIn(dir, 'cpu.stat')), 'cpu.stat');
  const usage = stat.get('usage_usec');
  if (usage === undefined) throw new Error('cpu.stat has no usage_usec');
  const stats: CpuStats = {
    usageSeconds: usage / US_PER_S,
    userSeconds: (stat.get('user_usec') ?? 0) / US_PER_S,
    systemSeconds: (stat.get('system_usec') ?? 0) / US_PER_S,
  };
  // nr_periods only counts against a quota; without one cAdvisor leaves the CFS metrics out.
  if (quotaSet && stat.has('nr_periods')) {
    const burst = stat.get('burst_usec');
    stats.cfs = {
      periods: stat.get('nr_periods') ?? 0,
      throttledPeriods: stat.get('nr_throttled') ?? 0,
      throttledSeconds: (stat.get('throttled_usec') ?? 0) / US_PER_S,
      burstPeriods: stat.get('nr_bursts'),
      burstSeconds: burst === undefined ? undefined : burst / US_PER_S,
    };
  }
  return stats;
}

function readMemory(dir: string): MemoryStats {
  const usageBytes = readInteger(fileIn(dir, 'memory.current'));
  const text = readText(fileIn(dir, 'memory.stat'));
  const stat = (key: string): number | undefined => flatKeyedValue(text, key, 'memory.stat');
  return {
    usageBytes,
    workingSetBytes: workingSet(usageBytes, stat('inactive_file')),
    rssBytes: stat('anon'),
    cacheBytes: stat('file'),
    swapBytes: readOptionalInteger(fileIn(dir, 'memory.swap.current')),
    mappedFileBytes: stat('file_mapped'),
    maxUsageBytes: readOptionalInteger(fileIn(dir, 'memory.peak')),
    ...memoryStatDetails(stat),
    ...memoryEvents(readOptionalText(fileIn(dir, 'memory.events'))),
  };
}

/** The memory.stat keys beyond usage, shared by a container's cgroup and the root's meminfo fallback. */
function memoryStatDetails(stat: (key: string) => number | undefined): Partial<MemoryStats> {
  const pgfault = stat('pgfault');
  const pgmajfault = stat('pgmajfault');
  return {
    kernelBytes: stat('kernel'),
    activeFileBytes: stat('active_file'),
    inactiveFileBytes: stat('inactive_file'),
    dirtyBytes: stat('file_dirty'),
    writebackBytes: stat('file_writeback'),
    // memory.stat is hierarchical on v2: one count serves both of cAdvisor's scopes.
    pgfault: pgfault === undefined ? undefined : { container: pgfault, hierarchy: pgfault },
    pgmajfault: pgmajfault === undefined ? undefined : { container: pgmajfault, hierarchy: pgmajfault },
    pgscan: stat('pgscan'),
    pgsteal: stat('pgsteal'),
    refaultFile: stat('workingset_refault_file'),
    refaultAnon: stat('workingset_refault_anon'),
  };
}

function memoryEvents(text: string | undefined): Partial<MemoryStats> {
  if (text === undefined) return {};
  const events = parseFlatKeyed(text, 'memory.events');
  return { eventsHigh: events.get('high'), eventsMax: events.get('max') };
}

/**
 * The root cgroup of a v2 host has no memory.current: the machine's memory comes from
 * /proc/meminfo, as runc's cgroup library does for it (usage = MemTotal − MemFree).
 */
function readRootMemory(dir: string, meminfoText: string): MemoryStats {
  const info = parseMeminfo(meminfoText);
  const usageBytes = (info.get('MemTotal') ?? 0) - (info.get('MemFree') ?? 0);
  const stat = readOptionalText(fileIn(dir, 'memory.stat'));
  const details = stat === undefined ? {} : memoryStatDetails((key) => flatKeyedValue(stat, key, 'memory.stat'));
  return {
    ...details,
    usageBytes,
    workingSetBytes: workingSet(usageBytes, info.get('Inactive(file)')),
    rssBytes: info.get('AnonPages'),
    cacheBytes: info.get('Cached'),
    mappedFileBytes: info.get('Mapped'),
    swapBytes: (info.get('SwapTotal') ?? 0) - (info.get('SwapFree') ?? 0),
    activeFileBytes: info.get('Active(file)'),
    inactiveFileBytes: info.get('Inactive(file)'),
  };
}

/** `/proc/meminfo` (`MemTotal:  2048000 kB`) in bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([^:]+):\s+(\d+)(?: kB)?$/.exec(line.trim());
    if (match) values.set(match[1]!, Number(match[2]) * (line.trim().endsWith('kB') ? 1024 : 1));
  }
  return values;
}

/** `io.stat`: `8:0 rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…` per device. */
function readIo(dir: string, devices: BlockDeviceNames): DeviceIoStats[] {
  const text = readOptionalText(fileIn(dir, 'io.stat')) ?? '';
  const stats: DeviceIoStats[] = [];
  for (const line of text.split('\n')) {
    const [majorMinor, ...pairs] = line.trim().split(/\s+/);
    if (!majorMinor || !/^\d+:\d+$/.test(majorMinor)) continue;
    const values = new Map(pairs.map((pair) => pair.split('=') as [string, string]).map(([k, v]) => [k, Number(v)]));
    const readBytes = values.get('rbytes') ?? 0;
    const writeBytes = values.get('wbytes') ?? 0;
    const discardBytes = values.get('dbytes');
    const costUsage = values.get('cost.usage');
    stats.push({
      device: devices.nameOf(majorMinor),
      majorMinor,
      readBytes,
      writeBytes,
      reads: values.get('rios') ?? 0,
      writes: values.get('wios') ?? 0,
      // The operation names of the v1 files, so one PromQL serves both versions.
      bytesByOperation:
        discardBytes === undefined
          ? [
              ['Read', readBytes],
              ['Write', writeBytes],
            ]
          : [
              ['Read', readBytes],
              ['Write', writeBytes],
              ['Discard', discardBytes],
            ],
      // Only with the iocost controller enabled (io.cost.qos).
      cost:
        costUsage === undefined
          ? undefined
          : {
              usage: costUsage / US_PER_S,
              wait: (values.get('cost.wait') ?? 0) / US_PER_S,
              indebt: (values.get('cost.indebt') ?? 0) / US_PER_S,
              indelay: (values.get('cost.indelay') ?? 0) / US_PER_S,
            },
    });
  }
  return stats;
}

export function readProcesses(dir: string): ProcessStats {
  return {
    threads: readInteger(fileIn(dir, 'pids.current')),
    threadsMax: parseLimit(readText(fileIn(dir, 'pids.max')), 'pids.max') ?? 0,
    processes: countProcessesRecursive(dir),
  };
}

function readSpec(dir: string): SpecStats {
  const spec: SpecStats = {};
  const memoryMax = readOptionalText(fileIn(dir, 'memory.max'));
  if (memoryMax !== undefined) spec.memoryLimitBytes = limitOrZero(parseLimit(memoryMax, 'memory.max') ?? Infinity);
  const swapMax = readOptionalText(fileIn(dir, 'memory.swap.max'));
  if (swapMax !== undefined)
    spec.memorySwapLimitBytes = limitOrZero(parseLimit(swapMax, 'memory.swap.max') ?? Infinity);
  // cAdvisor reads memory.min (hard protection) here, so dashboards compare like with like; runc
  // writes Docker's --memory-reservation to memory.low, which this metric therefore does not show.
  const min = readOptionalText(fileIn(dir, 'memory.min'));
  if (min !== undefined) spec.memoryReservationBytes = limitOrZero(parseLimit(min, 'memory.min') ?? Infinity);
  const { quota, period } = parseCpuMax(readOptionalText(fileIn(dir, 'cpu.max')));
  if (quota !== undefined) spec.cpuQuotaMicros = quota;
  if (period !== undefined) spec.cpuPeriodMicros = period;
  const weight = readOptionalInteger(fileIn(dir, 'cpu.weight'));
  if (weight !== undefined) spec.cpuShares = sharesFromWeight(weight);
  return spec;
}

/** `cpu.max`: `<quota|max> <period>` in microseconds. */
export function parseCpuMax(text: string | undefined): { quota?: number; period?: number } {
  if (text === undefined) return {};
  const [quota, period] = text.trim().split(/\s+/);
  return {
    quota: quota === undefined || quota === 'max' ? undefined : parseInteger(quota, 'cpu.max'),
    period: period === undefined ? undefined : parseInteger(period, 'cpu.max'),
  };
}

/** Inverse of runc's shares→weight mapping (1 + (shares − 2) × 9999 / 262142), as cAdvisor does. */
export function sharesFromWeight(weight: number): number {
  return Math.round(2 + ((weight - 1) * 262142) / 9999);
}

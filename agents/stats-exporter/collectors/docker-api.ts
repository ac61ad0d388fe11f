/**
 * The fallback when cgroups are not readable (the agent in a container without the host's
 * /sys/fs/cgroup): the Docker stats API, one-shot, every container in parallel, cached.
 *
 * Engines before 24.0.7 answer a one-shot request only at their next 1-second collection tick, so
 * a scrape through this collector takes about a second however few containers there are. The
 * cache keeps several Prometheus servers (or a short scrape interval) from multiplying that load;
 * concurrent requests for one container share one API call.
 */
import { readFile } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import type { BlockDeviceNames } from './block-devices';
import { defineCollector, type CollectTarget, type StatsCollector } from './collector';
import type { ErrorSink } from './errors';
import { parseNetDev } from './proc-net-dev';
import type { ContainerStats, DeviceIoStats, InterfaceStats } from './stats';
import { workingSet } from './stats';

export interface DockerApiCollectorOptions {
  docker: Dockerode;
  errors: ErrorSink;
  devices: BlockDeviceNames;
  ignoredInterfacePrefixes: readonly string[];
  /** Serve a container's stats from cache when younger than this. */
  cacheTtlMs: number;
  /** Give up on one container's stats after this long. */
  timeoutMs: number;
  /**
   * The host's /proc as this process sees it: where an answer lacks the packet, error and drop
   * counts (Podman's), they are read from the container's /proc/<pid>/net/dev, as the cgroup
   * collector reads them. Without it they are left out.
   */
  procRoot?: string;
  clock?: () => number;
}

interface Cached {
  at: number;
  stats: ContainerStats;
}

export const dockerApiCollector = defineCollector({
  name: 'docker-api',
  errorKinds: [
    /** The Docker stats API failed, timed out, or answered without stats. */
    'docker_api',
  ],
  create: (deps) => new DockerApiCollector({ ...deps, cacheTtlMs: deps.apiCacheTtlMs, timeoutMs: deps.apiTimeoutMs }),
});

export class DockerApiCollector implements StatsCollector {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<ContainerStats | undefined>>();
  private readonly clock: () => number;

  constructor(private readonly options: DockerApiCollectorOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async collect(targets: readonly CollectTarget[]): Promise<Map<string, ContainerStats>> {
    const wanted = new Set(targets.map((t) => t.id));
    for (const id of this.cache.keys()) if (!wanted.has(id)) this.cache.delete(id);
    const stats = await Promise.all(targets.map((target) => this.statsOf(target)));
    const results = new Map<string, ContainerStats>();
    targets.forEach((target, i) => {
      const s = stats[i];
      if (s) results.set(target.id, s);
    });
    return results;
  }

  private statsOf(target: CollectTarget): Promise<ContainerStats | undefined> {
    const cached = this.cache.get(target.id);
    if (cached && this.clock() - cached.at < this.options.cacheTtlMs) return Promise.resolve(cached.stats);
    let request = this.inFlight.get(target.id);
    if (!request) {
      request = this.fetch(target).finally(() => this.inFlight.delete(target.id));
      this.inFlight.set(target.id, request);
    }
    return request;
  }

  private async fetch(target: CollectTarget): Promise<ContainerStats | undefined> {
    const abort = new AbortController();
    // Abort the request, and stop waiting even if the client does not honour the abort.
    const timedOut = new Promise<never>((_, reject) =>
      abort.signal.addEventListener('abort', () => reject(new Error(`no stats within ${this.options.timeoutMs} ms`))),
    );
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    try {
      const request = this.options.docker.getContainer(target.id).stats({
        stream: false,
        'one-shot': true,
        abortSignal: abort.signal,
      } as { stream: false; 'one-shot': true }) as unknown as Promise<StatsResponse>;
      request.catch(() => undefined); // a late failure after the timeout is already counted
      const response = await Promise.race([request, timedOut]);
      const stats = statsFromApi(response, target, this.options);
      if (!stats) throw new Error('the engine answered without stats (container not running)');
      if (stats.network?.some((n) => n.receivePackets === undefined))
        stats.network = (await this.kernelNetwork(target)) ?? stats.network;
      this.cache.set(target.id, { at: this.clock(), stats });
      return stats;
    } catch (error) {
      this.options.errors.count(dockerApiCollector, 'docker_api', target.id, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every counter of the container's interfaces from /proc/<pid>/net/dev; undefined where that is not the container's. */
  private async kernelNetwork(target: CollectTarget): Promise<InterfaceStats[] | undefined> {
    const { procRoot, ignoredInterfacePrefixes } = this.options;
    if (procRoot === undefined || target.pid <= 0) return undefined;
    const proc = `${procRoot}/${target.pid}`;
    try {
      // A pid of the host is another process (or none) in a private pid namespace: only a process in the container's cgroup will do.
      if (!(await readFile(`${proc}/cgroup`, 'utf8')).includes(target.id)) return undefined;
      return parseNetDev(await readFile(`${proc}/net/dev`, 'utf8'), ignoredInterfacePrefixes, `${proc}/net/dev`);
    } catch {
      return undefined; // not visible here, or the container stopped: bytes from the API only
    }
  }
}

/** The parts of GET /containers/{id}/stats we read; every field may be missing (cgroup v1 vs v2, not running). */
export interface StatsResponse {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; usage_in_kernelmode?: number; usage_in_usermode?: number };
    throttling_data?: { periods?: number; throttled_periods?: number; throttled_time?: number };
  };
  memory_stats?: { usage?: number; max_usage?: number; failcnt?: number; stats?: Record<string, number> };
  networks?: Record<
    string,
    {
      rx_bytes?: number;
      rx_packets?: number;
      rx_errors?: number;
      rx_dropped?: number;
      tx_bytes?: number;
      tx_packets?: number;
      tx_errors?: number;
      tx_dropped?: number;
    }
  >;
  blkio_stats?: {
    io_service_bytes_recursive?: BlkioEntry[] | null;
    io_serviced_recursive?: BlkioEntry[] | null;
  };
  pids_stats?: { current?: number; limit?: number };
}

interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

const NS_PER_S = 1e9;

/**
 * Podman's Docker-compatible stats (4.x, checked against 4.3) are made from the numbers of its own
 * CLI, not the cgroup's: the one network entry (named `network`, or after the endpoint) holds
 * eth0's transmitted bytes as rx_bytes and its received bytes as tx_bytes, with no packet counts;
 * memory_stats has no `stats`, max_usage or failcnt; pids_stats has no limit even under
 * --pids-limit; throttling_data is zeros however throttled the container is. Docker sends
 * memory_stats.stats for every running container, so an answer without it is read as Podman's:
 * what it lacks is left out (not available), never taken for zero.
 */
function isPodmanAnswer(response: StatsResponse): boolean {
  return response.memory_stats?.usage !== undefined && response.memory_stats.stats == null;
}

/** Maps a stats response to our model; undefined when it holds no stats at all. */
export function statsFromApi(
  response: StatsResponse,
  target: Pick<CollectTarget, 'configuredSpec'>,
  options: Pick<DockerApiCollectorOptions, 'devices' | 'ignoredInterfacePrefixes'>,
): ContainerStats | undefined {
  const usage = response.cpu_stats?.cpu_usage;
  const memory = response.memory_stats;
  if (usage?.total_usage === undefined && memory?.usage === undefined) return undefined;
  const podman = isPodmanAnswer(response);
  const stats: ContainerStats = { spec: target.configuredSpec };
  if (usage?.total_usage !== undefined) {
    const throttling = podman ? undefined : response.cpu_stats?.throttling_data;
    stats.cpu = {
      usageSeconds: usage.total_usage / NS_PER_S,
      userSeconds: (usage.usage_in_usermode ?? 0) / NS_PER_S,
      systemSeconds: (usage.usage_in_kernelmode ?? 0) / NS_PER_S,
      cfs:
        target.configuredSpec.cpuQuotaMicros !== undefined && throttling
          ? {
              periods: throttling.periods ?? 0,
              throttledPeriods: throttling.throttled_periods ?? 0,
              throttledSeconds: (throttling.throttled_time ?? 0) / NS_PER_S,
            }
          : undefined,
    };
  }
  if (memory?.usage !== undefined) {
    const s = memory.stats ?? {};
    // cgroup v1 engines send total_*/rss/cache; cgroup v2 engines send anon/file/inactive_file.
    const v1 = 'total_inactive_file' in s || 'rss' in s;
    stats.memory = {
      usageBytes: memory.usage,
      workingSetBytes: workingSet(memory.usage, v1 ? s.total_inactive_file : s.inactive_file),
      rssBytes: v1 ? (s.total_rss ?? s.rss) : s.anon,
      cacheBytes: v1 ? (s.total_cache ?? s.cache) : s.file,
      swapBytes: v1 ? s.total_swap : undefined,
      mappedFileBytes: v1 ? (s.total_mapped_file ?? s.mapped_file) : s.file_mapped,
      failcnt: v1 ? memory.failcnt : undefined,
      maxUsageBytes: memory.max_usage,
    };
  }
  if (response.networks)
    stats.network = networkFromApi(
      podman ? podmanNetworks(response.networks) : response.networks,
      options.ignoredInterfacePrefixes,
    );
  if (response.blkio_stats) stats.blockIo = blockIoFromApi(response.blkio_stats, options.devices);
  if (response.pids_stats?.current !== undefined) {
    // Docker leaves the limit out when there is none.
    stats.processes = {
      threads: response.pids_stats.current,
      threadsMax: podman ? undefined : (response.pids_stats.limit ?? 0),
    };
  }
  return stats;
}

type ApiNetworks = NonNullable<StatsResponse['networks']>;

/** Podman's single entry back as eth0 seen from inside the container (see isPodmanAnswer). */
function podmanNetworks(networks: ApiNetworks): ApiNetworks {
  const entries = Object.values(networks);
  const counted = entries.some((n) => n.rx_packets || n.tx_packets);
  if (entries.length !== 1 || counted) return networks; // per-interface counters: already Docker's
  const [n] = entries as [ApiNetworks[string]];
  return { eth0: { rx_bytes: n.tx_bytes, tx_bytes: n.rx_bytes } };
}

function networkFromApi(networks: ApiNetworks, ignored: readonly string[]): InterfaceStats[] {
  return Object.entries(networks)
    .filter(([name]) => !ignored.some((prefix) => name.startsWith(prefix)))
    .map(([name, n]) => ({
      interface: name,
      receiveBytes: n.rx_bytes ?? 0,
      receivePackets: n.rx_packets,
      receiveErrors: n.rx_errors,
      receiveDropped: n.rx_dropped,
      transmitBytes: n.tx_bytes ?? 0,
      transmitPackets: n.tx_packets,
      transmitErrors: n.tx_errors,
      transmitDropped: n.tx_dropped,
    }));
}

function blockIoFromApi(blkio: NonNullable<StatsResponse['blkio_stats']>, devices: BlockDeviceNames): DeviceIoStats[] {
  const byDevice = new Map<string, DeviceIoStats & { bytesByOperation: Array<readonly [string, number]> }>();
  const entry = (e: BlkioEntry) => {
    const key = `${e.major}:${e.minor}`;
    let stats = byDevice.get(key);
    if (!stats)
      byDevice.set(
        key,
        (stats = {
          device: devices.nameOf(key),
          majorMinor: key,
          readBytes: 0,
          writeBytes: 0,
          reads: 0,
          writes: 0,
          bytesByOperation: [],
        }),
      );
    return stats;
  };
  // Ops are Read/Write/Sync/Async/Discard/Total on cgroup v1 engines and read/write on cgroup v2 ones.
  for (const e of blkio.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    const stats = entry(e);
    if (op === 'read') stats.readBytes += e.value;
    if (op === 'write') stats.writeBytes += e.value;
    stats.bytesByOperation.push([op.charAt(0).toUpperCase() + op.slice(1), e.value]);
  }
  for (const e of blkio.io_serviced_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') entry(e).reads += e.value;
    if (op === 'write') entry(e).writes += e.value;
  }
  return [...byDevice.values()];
}

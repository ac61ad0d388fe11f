/**
 * A container as the exporter keeps it between scrapes: identity and labels for the series,
 * lifecycle facts for the state metrics, and where to read its stats. Built from one inspect.
 */
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import type { CgroupLocation } from './collectors/cgroup-location';
import type { CollectTarget } from './collectors/collector';
import type { SpecStats } from './collectors/stats';

/** Docker's container states (State.Status). */
export const CONTAINER_STATES = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface TrackedContainer extends CollectTarget {
  /** Without the leading `/`. */
  name: string;
  /** Config.Image as given at create time (cAdvisor's `image` label). */
  image: string;
  labels: Readonly<Record<string, string>>;
  state: ContainerState;
  /** The cgroup path, cAdvisor's `id` label; kept across restarts so series keep their identity. */
  cgroupPath: string;
  /** The path is a guess made before the engine told its cgroup driver: name it again later. */
  cgroupPathProvisional: boolean;
  cgroupParent: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds of the latest start; undefined if never started. */
  startedAt?: number;
  /** Undefined when the container has no health check. */
  health?: HealthStatus;
  /** Docker's RestartCount (restart-policy restarts), as last inspected. */
  restartCount: number;
  /** Restarts seen by this exporter, including the restart-policy ones before it started. */
  restarts: number;
  /** Exit code of the latest exit; undefined until the container first exits. */
  lastExitCode?: number;
  /** OOM events the engine reported while this exporter watched. */
  oomEvents: number;
  /**
   * The container whose network namespace this one joined (`--network container:<x>`, the app
   * containers of a Kubernetes pod): its interfaces are that container's, so it gets no network
   * series of its own, as in cAdvisor, and sums over containers do not count the traffic twice.
   */
  sharesNetworkOf?: string;
  /** Unix seconds of the latest stop (State.FinishedAt); undefined while it never stopped. */
  finishedAt?: number;
  /** The writable layer on the host (overlay2's UpperDir), measured for container_fs_usage_bytes. */
  writableLayer?: string;
  /** The root cgroup (id="/"), which stands for the whole machine, not a Docker container. */
  root?: boolean;
}

/** What locating a cgroup needs besides the inspect data. */
export type CgroupLocator = (hints: { id: string; pid: number; cgroupParent: string }) => {
  location?: CgroupLocation;
  path: string;
  provisional?: boolean;
};

/** A fresh record from an inspect, carrying over what only this exporter knows from `previous`. */
export function containerFromInspect(
  info: Dockerode.ContainerInspectInfo,
  locate: CgroupLocator,
  previous?: TrackedContainer,
): TrackedContainer {
  const state = asState(info.State.Status);
  const pid = state === 'running' || state === 'paused' ? info.State.Pid : 0;
  const cgroupParent = info.HostConfig.CgroupParent ?? '';
  const located = pid > 0 ? locate({ id: info.Id, pid, cgroupParent }) : undefined;
  // A stopped container keeps the path it ran under, unless that was only a guess.
  const kept = previous && !previous.cgroupPathProvisional ? { path: previous.cgroupPath } : undefined;
  const naming = located ?? kept ?? locate({ id: info.Id, pid: 0, cgroupParent });
  const startedAt = unixSeconds(info.State.StartedAt);
  const restartCount = info.RestartCount ?? 0;
  const exited = state === 'exited' || state === 'dead' || state === 'restarting';
  const health = info.State.Health?.Status;
  return {
    id: info.Id,
    pid,
    cgroup: located?.location,
    configuredSpec: specFromHostConfig(info.HostConfig),
    name: containerName(info.Name),
    image: info.Config.Image,
    labels: info.Config.Labels ?? {},
    state,
    cgroupPath: naming.path,
    cgroupPathProvisional: 'provisional' in naming && naming.provisional === true,
    cgroupParent,
    createdAt: unixSeconds(info.Created) ?? 0,
    startedAt,
    health: health === 'starting' || health === 'healthy' || health === 'unhealthy' ? health : undefined,
    restartCount,
    restarts: (previous?.restarts ?? restartCount) + restartsSince(previous, startedAt, restartCount),
    lastExitCode:
      exited && unixSeconds(info.State.FinishedAt) !== undefined ? info.State.ExitCode : previous?.lastExitCode,
    oomEvents: previous?.oomEvents ?? 0,
    sharesNetworkOf: /^container:(.+)$/.exec(info.HostConfig.NetworkMode ?? '')?.[1],
    finishedAt: unixSeconds(info.State.FinishedAt),
    // overlay2 (Docker's default driver); other drivers name their layer differently and get no fs usage.
    writableLayer: (info.GraphDriver?.Data as Record<string, string | undefined> | undefined)?.UpperDir,
  };
}

/** The machine as cAdvisor's root container: id="/", no name, no image, no Docker lifecycle. */
export function machineContainer(cgroup: CgroupLocation | undefined): TrackedContainer {
  return {
    id: '/',
    // Init's network namespace is the host's: its interfaces are the machine's.
    pid: 1,
    cgroup,
    configuredSpec: {},
    name: '',
    image: '',
    labels: {},
    state: 'running',
    cgroupPath: '/',
    cgroupPathProvisional: false,
    cgroupParent: '',
    createdAt: 0,
    restartCount: 0,
    restarts: 0,
    oomEvents: 0,
    root: true,
  };
}

/**
 * Level-triggered: a later StartedAt than we recorded is a restart even if we missed its events
 * (a reconnect); Docker's RestartCount tells how many policy restarts happened in between.
 */
function restartsSince(
  previous: TrackedContainer | undefined,
  startedAt: number | undefined,
  restartCount: number,
): number {
  if (previous?.startedAt === undefined || startedAt === undefined || startedAt <= previous.startedAt) return 0;
  return Math.max(1, restartCount - previous.restartCount);
}

/** Limits as configured, in the kernel's units, for collectors that cannot read the cgroup. */
function specFromHostConfig(host: Dockerode.HostConfig): SpecStats {
  const fields = host as Record<string, unknown>;
  const num = (key: string): number => (typeof fields[key] === 'number' ? (fields[key] as number) : 0);
  const period = num('CpuPeriod') || 100_000;
  const quota = num('NanoCpus') > 0 ? Math.round((num('NanoCpus') / 1e9) * period) : num('CpuQuota');
  const memory = num('Memory');
  const swap = num('MemorySwap');
  return {
    memoryLimitBytes: memory,
    // Docker's MemorySwap is memory plus swap, like memory.memsw.limit_in_bytes; -1 is unlimited.
    memorySwapLimitBytes: swap > 0 ? swap : memory > 0 && swap === 0 ? memory * 2 : 0,
    memoryReservationBytes: num('MemoryReservation'),
    cpuQuotaMicros: quota > 0 ? quota : undefined,
    cpuPeriodMicros: period,
    cpuShares: num('CpuShares') || 1024,
  };
}

function asState(status: string): ContainerState {
  return (CONTAINER_STATES as readonly string[]).includes(status) ? (status as ContainerState) : 'dead';
}

function unixSeconds(time: string | undefined): number | undefined {
  // Docker writes Go's zero time, 0001-01-01T00:00:00Z, for "never".
  if (!time || time.startsWith('0001-')) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

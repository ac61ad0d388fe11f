/** The contract of a stats collector: stats for the containers asked for, never a failed scrape. */
import type Dockerode from 'dockerode';
import type { BlockDeviceNames } from './block-devices';
import type { CgroupLocation } from './cgroup-location';
import type { ErrorReporter, ErrorSink } from './errors';
import type { ContainerStats, SpecStats } from './stats';

/** What a collector needs to know about a running container. */
export interface CollectTarget {
  id: string;
  /** Init process on the host; 0 when unknown. */
  pid: number;
  /** Where its cgroup is, when it could be found. */
  cgroup?: CgroupLocation;
  /** Limits as configured in Docker (inspect), for collectors that cannot read the kernel's. */
  configuredSpec: SpecStats;
}

export interface StatsCollector {
  /**
   * Stats by container id. A container whose stats could not be read is missing from the map
   * (or has only the groups that could be read); the reason is counted, not thrown.
   */
  collect(targets: readonly CollectTarget[]): Promise<Map<string, ContainerStats>>;
}

/** What the exporter gives every collector it creates. */
export interface CollectorDependencies {
  docker: Dockerode;
  errors: ErrorSink;
  procRoot: string;
  ignoredInterfacePrefixes: readonly string[];
  apiCacheTtlMs: number;
  apiTimeoutMs: number;
  devices: BlockDeviceNames;
}

/**
 * A collector as the exporter knows it: its name (a `--stats-collector` choice and the `collector`
 * label of the error metric), the error kinds it counts, and how to make one.
 */
export interface CollectorDefinition<N extends string = string, K extends string = string> extends ErrorReporter<K> {
  readonly name: N;
  create(deps: CollectorDependencies): StatsCollector;
}

/** Declares a collector in its own file; the literal name and kinds are kept for the types. */
export function defineCollector<const N extends string, const K extends string>(
  definition: CollectorDefinition<N, K>,
): CollectorDefinition<N, K> {
  return definition;
}

/** The contract of a stats collector: stats for the containers asked for, never a failed scrape. */
import type { CgroupLocation } from './cgroup-location';
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
  readonly name: string;
  /**
   * Stats by container id. A container whose stats could not be read is missing from the map
   * (or has only the groups that could be read); the reason is counted, not thrown.
   */
  collect(targets: readonly CollectTarget[]): Promise<Map<string, ContainerStats>>;
}

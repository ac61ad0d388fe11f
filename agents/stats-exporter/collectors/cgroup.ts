/**
 * The fast path: reads each container's cgroup files (v1 or v2, whichever its location says) and
 * `/proc/<pid>/net/dev` at scrape time, synchronously. About 0.1 ms per container.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockDeviceNames } from './block-devices';
import type { CgroupLocation } from './cgroup-location';
import { readCgroupV1, readSpecV1, type GroupReader } from './cgroup-v1';
import { readCgroupV2, readSpecV2 } from './cgroup-v2';
import { defineCollector, type CollectTarget, type StatsCollector } from './collector';
import { readDiskstats } from './diskstats';
import { isMissingFile, ParseError, type ErrorSink } from './errors';
import { closeUnreadFiles, readText } from './files';
import { parseNetDev } from './proc-net-dev';
import type { ContainerStats, SpecStats } from './stats';
import { LoadAverager, readTaskStates } from './tasks';

export interface CgroupCollectorOptions {
  procRoot: string;
  ignoredInterfacePrefixes: readonly string[];
  devices: BlockDeviceNames;
  errors: ErrorSink;
  clock?: () => number;
}

export const cgroupCollector = defineCollector({
  name: 'cgroup',
  errorKinds: [
    /** The container's cgroup is gone: it stopped between the inventory and the scrape. */
    'container_gone',
    /** A cgroup file that should be there could not be read. */
    'cgroup_read',
    /** A cgroup or proc file had content we could not parse. */
    'parse',
    /** /proc/<pid>/net/dev could not be read (no host pid namespace, or the process ended). */
    'network',
  ],
  create: (deps) => new CgroupCollector(deps),
});

export class CgroupCollector implements StatsCollector {
  /**
   * Limits change only with `docker update`, whose event makes the inventory re-inspect and
   * locate the container again: a new location object, so a new cache entry. Saves six reads
   * per container per scrape.
   */
  private readonly specs = new WeakMap<CgroupLocation, SpecStats>();
  private readonly load = new LoadAverager();
  private readonly clock: () => number;

  constructor(private readonly options: CgroupCollectorOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async collect(targets: readonly CollectTarget[]): Promise<Map<string, ContainerStats>> {
    const results = new Map<string, ContainerStats>();
    for (const target of targets) {
      const stats = this.collectOne(target);
      if (stats) results.set(target.id, stats);
    }
    this.load.retain(new Set(targets.map((t) => t.id)));
    closeUnreadFiles();
    return results;
  }

  /** Undefined when the container is gone or its cgroup was never found. */
  collectOne(target: CollectTarget): ContainerStats | undefined {
    const { errors, devices } = this.options;
    const location = target.cgroup;
    if (!location) {
      errors.count(cgroupCollector, 'cgroup_read', target.id, new Error('cgroup of the container not found'));
      return undefined;
    }
    let gone = false;
    const attempt: GroupReader = (_group, dir, read) => {
      if (dir === undefined || gone) return undefined;
      try {
        return read(dir);
      } catch (error) {
        // The whole directory vanishing means the container stopped since the inventory saw it.
        if (isMissingFile(error) && !existsSync(dir)) {
          gone = true;
          errors.count(cgroupCollector, 'container_gone', target.id, error);
        } else {
          errors.count(cgroupCollector, error instanceof ParseError ? 'parse' : 'cgroup_read', target.id, error);
        }
        return undefined;
      }
    };
    let spec = this.specs.get(location);
    if (!spec) {
      spec = location.version === 1 ? readSpecV1(location, attempt) : readSpecV2(location, attempt);
      if (spec) this.specs.set(location, spec);
    }
    const stats =
      location.version === 1
        ? readCgroupV1(location, devices, attempt, spec ?? {})
        : readCgroupV2(location, devices, attempt, spec ?? {}, this.options.procRoot);
    const root = location.path === '/';
    // The root cgroup's blkio files count only I/O charged to it; the machine's disks are in diskstats.
    if (root) stats.blockIo = attempt('diskstats', this.options.procRoot, (dir) => readDiskstats(dir, devices));
    // Per-task states of the root would be every task of the host: cAdvisor's root has none either.
    if (!root) {
      const [tasksDir, tasksFile] =
        location.version === 1
          ? [location.dirs.cpu ?? location.dirs.cpuacct, 'tasks']
          : [location.dir, 'cgroup.threads'];
      stats.tasks = attempt('tasks', tasksDir, (dir) => readTaskStates(join(dir, tasksFile), this.options.procRoot));
      if (stats.tasks) stats.load = this.load.update(target.id, stats.tasks, this.clock() / 1000);
    }
    if (gone) return undefined;
    stats.network = this.readNetwork(target);
    return stats;
  }

  private readNetwork(target: CollectTarget): ContainerStats['network'] {
    if (target.pid <= 0) return undefined;
    const file = join(this.options.procRoot, String(target.pid), 'net', 'dev');
    try {
      return parseNetDev(readText(file), this.options.ignoredInterfacePrefixes, file);
    } catch (error) {
      this.options.errors.count(cgroupCollector, error instanceof ParseError ? 'parse' : 'network', target.id, error);
      return undefined;
    }
  }
}

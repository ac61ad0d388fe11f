/**
 * The stats collectors by name. Adding one is a file implementing StatsCollector and a line here.
 * `auto` reads cgroups for every container whose cgroup was found and asks the Docker API for
 * the others.
 */
import type Dockerode from 'dockerode';
import { BlockDeviceNames } from './block-devices';
import { CgroupCollector } from './cgroup';
import type { CollectTarget, StatsCollector } from './collector';
import { DockerApiCollector } from './docker-api';
import type { ErrorSink } from './errors';
import type { ContainerStats } from './stats';

export const COLLECTOR_CHOICES = ['auto', 'cgroup', 'docker-api'] as const;
export type CollectorChoice = (typeof COLLECTOR_CHOICES)[number];

export interface CollectorDependencies {
  docker: Dockerode;
  errors: ErrorSink;
  procRoot: string;
  ignoredInterfacePrefixes: readonly string[];
  apiCacheTtlMs: number;
  apiTimeoutMs: number;
  devices?: BlockDeviceNames;
}

const COLLECTORS: Record<Exclude<CollectorChoice, 'auto'>, (deps: CollectorDependencies & { devices: BlockDeviceNames }) => StatsCollector> = {
  cgroup: (deps) => new CgroupCollector(deps),
  'docker-api': (deps) =>
    new DockerApiCollector({ ...deps, cacheTtlMs: deps.apiCacheTtlMs, timeoutMs: deps.apiTimeoutMs }),
};

export function createCollector(choice: CollectorChoice, deps: CollectorDependencies): StatsCollector {
  const full = { ...deps, devices: deps.devices ?? new BlockDeviceNames() };
  if (choice !== 'auto') return COLLECTORS[choice](full);
  return new AutoCollector(COLLECTORS.cgroup(full), COLLECTORS['docker-api'](full));
}

/** cgroup files where the cgroup was found, the Docker API elsewhere. */
export class AutoCollector implements StatsCollector {
  readonly name = 'auto';

  constructor(private readonly cgroup: StatsCollector, private readonly fallback: StatsCollector) {}

  async collect(targets: readonly CollectTarget[]): Promise<Map<string, ContainerStats>> {
    const direct = targets.filter((t) => t.cgroup !== undefined);
    const viaApi = targets.filter((t) => t.cgroup === undefined);
    const [fromCgroups, fromApi] = await Promise.all([
      this.cgroup.collect(direct),
      viaApi.length > 0 ? this.fallback.collect(viaApi) : Promise.resolve(new Map<string, ContainerStats>()),
    ]);
    for (const [id, stats] of fromApi) fromCgroups.set(id, stats);
    return fromCgroups;
  }
}

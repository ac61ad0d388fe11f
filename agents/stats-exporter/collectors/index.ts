/**
 * The stats collectors by name. Adding one is a file that exports a `defineCollector({ name,
 * errorKinds, create })` and a line in COLLECTORS: the name becomes a `--stats-collector` choice,
 * its error kinds start at 0 in `quayside_stats_collector_errors_total`.
 * `auto` reads cgroups for every container whose cgroup was found and asks the Docker API for
 * the others.
 */
import { cgroupCollector } from './cgroup';
import type { CollectorDefinition, CollectorDependencies, CollectTarget, StatsCollector } from './collector';
import { dockerApiCollector } from './docker-api';
import type { ContainerStats } from './stats';

export const COLLECTORS = [cgroupCollector, dockerApiCollector] as const satisfies readonly CollectorDefinition[];
export type CollectorName = (typeof COLLECTORS)[number]['name'];

export const COLLECTOR_CHOICES: readonly ('auto' | CollectorName)[] = ['auto', ...COLLECTORS.map((c) => c.name)];
export type CollectorChoice = (typeof COLLECTOR_CHOICES)[number];

/** The collectors a choice runs: `auto` is the cgroup collector with the API as its fallback. */
export function collectorsOf(choice: CollectorChoice): readonly CollectorDefinition[] {
  if (choice === 'auto') return [cgroupCollector, dockerApiCollector];
  const definition = COLLECTORS.find((c) => c.name === choice);
  if (!definition) throw new Error(`no stats collector ${choice}`);
  return [definition];
}

export function createCollector(choice: CollectorChoice, deps: CollectorDependencies): StatsCollector {
  if (choice !== 'auto') return collectorsOf(choice)[0]!.create(deps);
  return new AutoCollector(cgroupCollector.create(deps), dockerApiCollector.create(deps));
}

/** cgroup files where the cgroup was found, the Docker API elsewhere. */
export class AutoCollector implements StatsCollector {
  constructor(
    private readonly cgroup: StatsCollector,
    private readonly fallback: StatsCollector,
  ) {}

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

/**
 * Builds the container metric families at scrape time, from scratch each time: a removed
 * container's series are simply not there at the next scrape (Prometheus marks them stale at
 * once), and samples carry no timestamps (cAdvisor's timestamps keep dead series for 5 minutes).
 *
 * Each family is registered in the process's registry as a metric whose `get()` joins the one
 * collection of the current scrape, so /metrics reads every container's files once per scrape.
 */
import { performance } from 'node:perf_hooks';
import type { MetricValue, Registry } from 'prom-client';
import type { TrackedContainer } from './container';
import { isSelected, type ContainerFilter } from './container-filter';
import type { StatsCollector } from './collectors/collector';
import type { FamilyDefinition } from './families';
import type { ScrapeSummary } from './self-metrics';

type Labels = Record<string, string>;
type Samples = Map<string, Array<MetricValue<string>>>;

export interface Scrape extends ScrapeSummary {
  samples: Samples;
}

export interface ExpositionOptions {
  families: readonly FamilyDefinition[];
  containers: () => Iterable<TrackedContainer>;
  collector: StatsCollector;
  include: readonly ContainerFilter[];
  exclude: readonly ContainerFilter[];
  /** Docker label keys exported as `container_label_<key>`. */
  labels: readonly string[];
  clock?: () => number;
}

export class ContainerExposition {
  private current: Promise<Scrape> | undefined;
  private readonly labelNames: ReadonlyArray<readonly [key: string, labelName: string]>;
  private readonly clock: () => number;

  constructor(private readonly options: ExpositionOptions) {
    this.labelNames = options.labels.map((key) => [key, containerLabelName(key)] as const);
    this.clock = options.clock ?? Date.now;
  }

  register(registry: Registry): void {
    for (const family of this.options.families) {
      const metric = {
        name: family.name,
        help: family.help,
        type: family.type,
        aggregator: 'sum' as const,
        get: async () => ({ name: family.name, help: family.help, type: family.type, aggregator: 'sum' as const, values: (await this.scrape()).samples.get(family.name) ?? [] }),
        reset: () => undefined,
      };
      registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    }
  }

  /** The scrape in progress, or a new one: every family of one /metrics request shares one collection. */
  scrape(): Promise<Scrape> {
    if (!this.current) {
      this.current = this.collect().finally(() => {
        this.current = undefined;
      });
    }
    return this.current;
  }

  private async collect(): Promise<Scrape> {
    const started = performance.now();
    const { include, exclude, families } = this.options;
    const selected = [...this.options.containers()].filter((c) => isSelected(c, include, exclude));
    const live = selected.filter((c) => c.state === 'running' || c.state === 'paused');
    const stats = await this.options.collector.collect(live);
    const now = this.clock() / 1000;

    const samples: Samples = new Map(families.map((f) => [f.name, []]));
    for (const container of selected) {
      const base = this.baseLabels(container);
      const observation = { container, stats: stats.get(container.id), now };
      for (const family of families) {
        const values = samples.get(family.name)!;
        for (const [extra, value] of family.samples(observation)) {
          values.push({ labels: extra ? { ...base, ...extra } : base, value });
        }
      }
    }
    return { samples, durationSeconds: (performance.now() - started) / 1000, observed: stats.size };
  }

  /** cAdvisor's label scheme: id (cgroup path), name, image, then the allow-listed Docker labels. */
  private baseLabels(container: TrackedContainer): Labels {
    const labels: Labels = { id: container.cgroupPath, name: container.name, image: container.image };
    // Every series carries every allow-listed label ("" when absent), as cAdvisor does.
    for (const [key, labelName] of this.labelNames) labels[labelName] = container.labels[key] ?? '';
    return labels;
  }
}

/** `com.docker.compose.service` → `container_label_com_docker_compose_service`. */
export function containerLabelName(key: string): string {
  return `container_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** Two Docker keys whose Prometheus label names coincide (`a.b` and `a-b`), or undefined. */
export function labelNameClash(keys: readonly string[]): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const key of keys) {
    const name = containerLabelName(key);
    const other = seen.get(name);
    if (other !== undefined && other !== key) return [other, key];
    seen.set(name, key);
  }
  return undefined;
}

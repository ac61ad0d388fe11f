/**
 * Builds the container metric families at scrape time, from scratch each time: a removed
 * container's series are simply not there at the next scrape (Prometheus marks them stale at
 * once), and samples carry no timestamps (cAdvisor's timestamps keep dead series for 5 minutes).
 *
 * The families are written as exposition text in one pass (family by family, container by
 * container) and appended to the registry's /metrics output; the self-metrics, which stay in the
 * registry, join the same collection, so /metrics reads every container's files once per scrape.
 */
import { performance } from 'node:perf_hooks';
import type { TrackedContainer } from './container';
import { isSelected, type ContainerFilter } from './container-filter';
import type { StatsCollector } from './collectors/collector';
import { isLive, type FamilyDefinition, type Observation, type SampleSink } from './families';
import type { WritableLayerUsage } from './fs-usage';
import { selectLabels, type LabelPairs } from './labels';
import type { ScrapeSummary } from './self-metrics';
import { escapeLabelValue, ExpositionWriter, familyHeader, formatValue, labelPairs } from './text-format';

export interface Scrape extends ScrapeSummary {
  /** The container families in text format 0.0.4, as UTF-8. */
  text: Buffer;
}

export interface ExpositionOptions {
  families: readonly FamilyDefinition[];
  containers: () => Iterable<TrackedContainer>;
  collector: StatsCollector;
  include: readonly ContainerFilter[];
  exclude: readonly ContainerFilter[];
  /** Docker label keys exported as `container_label_<key>` (`*` for all). */
  labels: readonly string[];
  /** The root cgroup (id="/"), exported first when given. */
  machine?: TrackedContainer;
  /** The machine_* families: constant, written after the container families. */
  machineText?: string;
  /** Writable-layer usage measured in the background (container_fs_usage_bytes and kin). */
  fsUsage?: WritableLayerUsage;
  /** How long a stopped container keeps its container_last_seen. */
  lastSeenWindowMs: number;
  clock?: () => number;
}

const NOTHING: Buffer = Buffer.alloc(0);

export class ContainerExposition {
  private current: Promise<Scrape> | undefined;
  private readonly headers: readonly string[];
  private readonly clock: () => number;
  /** `name{` of each family, as UTF-8. */
  private readonly sampleStarts: readonly Buffer[];
  /**
   * The escaped label text of each container record, as UTF-8. A rename or update replaces the
   * record (a new inspect), so the text never goes stale, and records of removed containers are collected.
   */
  private readonly labelText = new WeakMap<TrackedContainer, Buffer>();
  /** One at a time: scrapes that overlap share the collection in progress. */
  private readonly out = new ExpositionWriter();
  /** How many responses still send each text render() handed out; at 0 its buffer is reused. */
  private readonly readers = new WeakMap<Buffer, number>();

  constructor(private readonly options: ExpositionOptions) {
    this.headers = options.families.map((f) => familyHeader(f.name, f.help, f.type));
    this.sampleStarts = options.families.map((f) => Buffer.from(`${f.name}{`));
    this.clock = options.clock ?? Date.now;
  }

  /**
   * The container families of the scrape in progress (or a new one), as exposition text. Give it
   * back with release() once sent: until every request that got it has, no scrape writes into it.
   */
  async render(): Promise<Buffer> {
    const { text } = await this.scrape();
    this.readers.set(text, (this.readers.get(text) ?? 0) + 1);
    return text;
  }

  /** A text render() returned is no longer read (its response has closed). */
  release(text: Buffer): void {
    const readers = this.readers.get(text);
    if (readers === undefined) return;
    if (readers > 1) return void this.readers.set(text, readers - 1);
    this.readers.delete(text);
    this.out.recycle(text);
  }

  /** The scrape in progress, or a new one: the text and the self-metrics of one /metrics request share one collection. */
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
    const { include, exclude, families, machine, fsUsage } = this.options;
    const selected: TrackedContainer[] = machine ? [machine] : [];
    const live: TrackedContainer[] = machine ? [machine] : [];
    for (const container of this.options.containers()) {
      if (!isSelected(container, include, exclude)) continue;
      selected.push(container);
      if (isLive(container.state)) live.push(container);
    }
    fsUsage?.track(live);
    const stats = await this.options.collector.collect(live);
    const now = this.clock() / 1000;
    const lastSeenWindow = this.options.lastSeenWindowMs / 1000;
    const observations: Observation[] = selected.map((container) => ({
      container,
      stats: stats.get(container.id),
      fs: fsUsage?.get(container.id),
      now,
      lastSeenWindow,
    }));
    const labels = selected.map((container) => this.containerLabels(container));

    const out = this.out;
    let start = NOTHING;
    let base = NOTHING;
    // One closure for the whole scrape; `start` and `base` say which family and container it writes.
    const emit: SampleSink = (value, ...extra) => {
      out.writeBytes(start);
      out.writeBytes(base);
      for (let i = 0; i + 1 < extra.length; i += 2) {
        out.writeShort(',');
        out.writeShort(extra[i]!);
        out.writeShort('="');
        out.writeShort(escapeLabelValue(extra[i + 1]!));
        out.writeShort('"');
      }
      out.writeShort('} ');
      out.writeShort(formatValue(value));
      out.writeShort('\n');
    };
    for (let f = 0; f < families.length; f++) {
      start = this.sampleStarts[f]!;
      out.write(this.headers[f]!);
      for (let c = 0; c < observations.length; c++) {
        base = labels[c]!;
        families[f]!.samples(observations[c]!, emit);
      }
    }
    if (this.options.machineText) out.write(this.options.machineText);
    const text = out.take();
    return { text, durationSeconds: (performance.now() - started) / 1000, observed: stats.size };
  }

  /**
   * cAdvisor's label scheme: id (cgroup path), name, image, then the chosen Docker labels. Empty
   * values are left out (the root cgroup has no name or image): Prometheus reads them as "".
   */
  private containerLabels(container: TrackedContainer): Buffer {
    let text = this.labelText.get(container);
    if (text === undefined) {
      const pairs: LabelPairs = [
        ['id', container.cgroupPath],
        ['name', container.name],
        ['image', container.image],
      ];
      pairs.push(...selectLabels(container.labels, this.options.labels));
      text = Buffer.from(labelPairs(pairs.filter(([, value]) => value !== '')));
      this.labelText.set(container, text);
    }
    return text;
  }
}

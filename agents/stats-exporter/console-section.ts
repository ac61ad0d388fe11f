/**
 * The console's containers section: every container the exporter tracks, with CPU and memory
 * over the last 15 minutes, from the exporter's own collector (sampled every 5 s whether or not
 * a page is open, so a page opened after an incident still shows it). Bounded: 180 samples per
 * running container, dropped when the container goes.
 */
import type { ConsoleSection } from '../../shared/ops/console/section';
import { Ring } from '../../shared/ops/console/ring';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import type { StatsCollector } from './collectors/collector';
import type { TrackedContainer } from './container';

const SAMPLE_INTERVAL_MS = 5_000;
/** 15 minutes of samples. */
export const KEPT_SAMPLES = (15 * 60_000) / SAMPLE_INTERVAL_MS;

interface Series {
  /** Cumulative CPU seconds at the previous sample, to turn the counter into a rate. */
  lastUsageSeconds?: number;
  lastAt?: number;
  /** Percent of one CPU, per sample. */
  cpu: Ring<number>;
  /** Working set bytes (what the kernel cannot reclaim easily), per sample. */
  memory: Ring<number>;
}

export interface ContainersSectionOptions {
  containers: () => Iterable<TrackedContainer>;
  collector: StatsCollector;
  logger: Logger;
  now?: () => number;
}

export class ContainersSection implements ConsoleSection {
  readonly name = 'containers';
  private readonly series = new Map<string, Series>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private readonly now: () => number;

  constructor(private readonly options: ContainersSectionOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads CPU and memory of every running container once; a sample still running is not doubled. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const running = [...this.options.containers()].filter((c) => !c.root && c.state === 'running');
      const stats = await this.options.collector.collect(running);
      const at = this.now();
      const live = new Set(running.map((c) => c.id));
      for (const id of this.series.keys()) if (!live.has(id)) this.series.delete(id);
      for (const container of running) {
        const reading = stats.get(container.id);
        if (!reading) continue;
        let series = this.series.get(container.id);
        if (!series) {
          series = { cpu: new Ring(KEPT_SAMPLES), memory: new Ring(KEPT_SAMPLES) };
          this.series.set(container.id, series);
        }
        const usage = reading.cpu?.usageSeconds;
        if (usage !== undefined) {
          if (
            series.lastUsageSeconds !== undefined &&
            series.lastAt !== undefined &&
            at > series.lastAt &&
            usage >= series.lastUsageSeconds
          ) {
            series.cpu.push(round((100 * (usage - series.lastUsageSeconds)) / ((at - series.lastAt) / 1000), 1));
          }
          series.lastUsageSeconds = usage;
          series.lastAt = at;
        }
        if (reading.memory) series.memory.push(reading.memory.workingSetBytes);
      }
    } catch (error) {
      this.options.logger.debug('console sample failed', { error: errorMessage(error) });
    } finally {
      this.sampling = false;
    }
  }

  snapshot(): { sampleIntervalMs: number; containers: unknown[] } {
    const containers = [...this.options.containers()]
      .filter((c) => !c.root)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => {
        const series = this.series.get(c.id);
        return {
          id: c.id,
          name: c.name,
          image: c.image,
          state: c.state,
          health: c.health ?? null,
          createdAt: c.createdAt,
          startedAt: c.state === 'running' || c.state === 'paused' ? (c.startedAt ?? null) : null,
          restarts: c.restarts,
          cpuPercent: series?.cpu.toArray() ?? [],
          memoryBytes: series?.memory.toArray() ?? [],
        };
      });
    return { sampleIntervalMs: SAMPLE_INTERVAL_MS, containers };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

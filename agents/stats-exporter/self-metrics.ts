/** The exporter's own metrics, `quayside_stats_*`, and the error sink the collectors count into. */
import { Counter, Gauge, type Registry } from 'prom-client';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import type { ErrorReporter, ErrorSink } from './collectors/errors';

/** `quayside_stats_collector_errors_total{collector,kind}`: one broken container never fails a scrape, it is counted here. */
export function collectorErrorSink(registry: Registry, reporters: readonly ErrorReporter[], logger: Logger): ErrorSink {
  const errors = new Counter({
    name: 'quayside_stats_collector_errors_total',
    help: 'Containers whose stats (or part of them) could not be read, by collector and kind; the scrape goes on without them.',
    labelNames: ['collector', 'kind'],
    registers: [registry],
  });
  // Present from the start, so rate() and alerts see a 0 before the first error.
  for (const reporter of reporters)
    for (const kind of reporter.errorKinds) errors.inc({ collector: reporter.name, kind }, 0);
  return {
    count(reporter, kind, containerId, error) {
      errors.inc({ collector: reporter.name, kind });
      logger.debug('container stats error', {
        collector: reporter.name,
        kind,
        container: containerId.slice(0, 12),
        error: errorMessage(error),
      });
    },
  };
}

export interface ScrapeSummary {
  durationSeconds: number;
  observed: number;
}

export interface ScrapeSources {
  up: () => boolean;
  tracked: () => number;
  /** The collection of the scrape in progress; the gauges wait for it so they describe this scrape. */
  currentScrape: () => Promise<ScrapeSummary>;
}

/** Scrape duration, containers observed and tracked, and `quayside_stats_up`. */
export function registerScrapeMetrics(registry: Registry, sources: ScrapeSources): void {
  new Gauge({
    name: 'quayside_stats_scrape_duration_seconds',
    help: 'How long collecting the container metrics of this scrape took.',
    registers: [registry],
    async collect() {
      this.set((await sources.currentScrape()).durationSeconds);
    },
  });
  new Gauge({
    name: 'quayside_stats_containers_observed',
    help: 'Containers whose resource stats were read in this scrape.',
    registers: [registry],
    async collect() {
      this.set((await sources.currentScrape()).observed);
    },
  });
  new Gauge({
    name: 'quayside_stats_containers_tracked',
    help: 'Containers known from the Docker event stream, running or not, before filters.',
    registers: [registry],
    collect() {
      this.set(sources.tracked());
    },
  });
  new Gauge({
    name: 'quayside_stats_up',
    help: '1 when the container inventory is in step with Docker (event stream connected and synced), else 0.',
    registers: [registry],
    collect() {
      this.set(sources.up() ? 1 : 0);
    },
  });
}

/**
 * The process's Prometheus registry: process metrics plus our own `quayside_*` metrics, served in
 * text format 0.0.4 only (prom-client's OpenMetrics rendering renames counters; never mix them).
 */
import { readdirSync, statSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

const OPEN_FDS = 'process_open_fds';

export function createMetricsRegistry(version: string): Registry {
  const registry = new Registry();
  registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  collectDefaultMetrics({ register: registry });
  // prom-client's gauges named like counters (promtool flags them); the per-type gauges of the same
  // names without `_total` (nodejs_active_handles{type}…) carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  // prom-client lists /proc/self/fd at every scrape: 2–11 ms with the ~1,800 fds a busy stats-exporter holds.
  if (registry.getSingleMetric(OPEN_FDS)) {
    registry.removeSingleMetric(OPEN_FDS);
    new Gauge({
      name: OPEN_FDS,
      help: 'Number of open file descriptors.',
      registers: [registry],
      collect() {
        const count = countOpenFds();
        if (count !== undefined) this.set(count);
      },
    });
  }
  new Gauge({
    name: 'quayside_build_info',
    help: 'Always 1; the labels tell the quayside and Node.js versions.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version, nodejs: process.versions.node }, 1);
  return registry;
}

/**
 * The number of entries of a /proc fd directory. Since Linux 6.2 the size of /proc/<pid>/fd is that
 * number (a stat, not a listing); older kernels say 0, and then the listing counts them, less the
 * one it held open itself. Undefined when /proc cannot be read.
 */
export function countOpenFds(directory = '/proc/self/fd'): number | undefined {
  try {
    const { size } = statSync(directory);
    return size > 0 ? size : readdirSync(directory).length - 1;
  } catch {
    return undefined;
  }
}

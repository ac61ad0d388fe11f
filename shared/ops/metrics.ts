/**
 * The process's Prometheus registry: process metrics plus our own `quayside_*` metrics, served in
 * text format 0.0.4 only (prom-client's OpenMetrics rendering renames counters; never mix them).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createMetricsRegistry(version: string): Registry {
  const registry = new Registry();
  registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  collectDefaultMetrics({ register: registry });
  // prom-client's gauges named like counters (promtool flags them); the per-type gauges of the same
  // names without `_total` (nodejs_active_handles{type}…) carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  new Gauge({
    name: 'quayside_build_info',
    help: 'Always 1; the labels tell the quayside and Node.js versions.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version, nodejs: process.versions.node }, 1);
  return registry;
}

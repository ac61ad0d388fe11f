/**
 * The process's Prometheus registry: process metrics plus our own `quayside_*` metrics, served in
 * text format 0.0.4 only (prom-client's OpenMetrics rendering renames counters; never mix them).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createMetricsRegistry(version: string): Registry {
  const registry = new Registry();
  registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'quayside_build_info',
    help: 'Always 1; the labels tell the quayside and Node.js versions.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version, nodejs: process.versions.node }, 1);
  return registry;
}

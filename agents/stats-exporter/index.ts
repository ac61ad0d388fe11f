import { defineAgent } from '../../shared/agent';

export const statsExporterAgent = defineAgent({
  name: 'stats-exporter',
  summary: "Exposes per-container CPU, memory, network and I/O metrics to Prometheus",
  options: {},
  plannedIn: 'issue #5',
});

/**
 * The logrouter's metrics. Hot-path counts are plain numbers per route and container, turned into
 * Prometheus series at scrape time: a labelled prom-client `inc()` per line would cost more than
 * formatting the line.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class RouteStats {
  linesIn = 0;
  bytesIn = 0;
  linesOut = 0;
  bytesOut = 0;
  dropped = { queue_full: 0, rejected: 0 };
  retries = 0;
  skipped = { older: 0, delivered: 0 };
  gaps = 0;
  malformed = 0;
}

export interface RouteView {
  id: string;
  stats: RouteStats;
  depth: number;
  reconnects: number;
  /** Lines written again after a lost connection (TCP/TLS replay window): possible duplicates. */
  replayed: number;
  connected: boolean;
  /** Why the latest delivery failed, until one succeeds. */
  lastError?: string;
}

export interface StatsSource {
  routes(): RouteView[];
  /** Seconds between a line's Docker timestamp and its delivery, last seen, per container name. */
  lag(): Map<string, number>;
  checkpointAgeSeconds(): number | undefined;
  containers(): number;
}

export function registerLogrouterMetrics(registry: Registry, source: StatsSource): void {
  const counter = (name: string, help: string, value: (s: RouteStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['route'],
      registers: [registry],
      collect() {
        this.reset();
        for (const route of source.routes()) this.inc({ route: route.id }, value(route.stats));
      },
    });
  counter(
    'quayside_logrouter_lines_in_total',
    'Log lines read from Docker for a route (including the ones skipped as already delivered).',
    (s) => s.linesIn,
  );
  counter('quayside_logrouter_bytes_in_total', 'Bytes of log lines read from Docker for a route.', (s) => s.bytesIn);
  counter('quayside_logrouter_lines_out_total', 'Log lines the route destination accepted.', (s) => s.linesOut);
  counter(
    'quayside_logrouter_bytes_out_total',
    'Bytes of log lines (message bodies) the route destination accepted.',
    (s) => s.bytesOut,
  );
  counter('quayside_logrouter_retries_total', 'Failed deliveries that were retried.', (s) => s.retries);
  counter(
    'quayside_logrouter_gaps_total',
    'Times the line at the checkpoint was gone on re-attach: Docker rotated lines away before they were read.',
    (s) => s.gaps,
  );
  counter(
    'quayside_logrouter_malformed_total',
    'Log stream pieces without a Docker timestamp or with an unknown stream type.',
    (s) => s.malformed,
  );
  const byReason = (name: string, help: string, value: (s: RouteStats) => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['route', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const route of source.routes())
          for (const [reason, n] of Object.entries(value(route.stats))) this.inc({ route: route.id, reason }, n);
      },
    });
  byReason(
    'quayside_logrouter_dropped_total',
    'Log lines dropped: queue_full (policy drop) or rejected (the destination refused them for good, e.g. HTTP 400).',
    (s) => s.dropped,
  );
  byReason(
    'quayside_logrouter_skipped_total',
    'Lines read again and skipped: delivered (at or before the checkpoint) or older (json-file rotation duplicates).',
    (s) => s.skipped,
  );
  new Counter({
    name: 'quayside_logrouter_reconnects_total',
    help: 'Reconnections of the route to its destination.',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      this.reset();
      for (const route of source.routes()) this.inc({ route: route.id }, route.reconnects);
    },
  });
  new Counter({
    name: 'quayside_logrouter_replayed_total',
    help: 'Lines a TCP/TLS route wrote again after its connection was lost (the replay window): the receiver may have them twice.',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      this.reset();
      for (const route of source.routes()) this.inc({ route: route.id }, route.replayed);
    },
  });
  new Gauge({
    name: 'quayside_logrouter_queue_depth',
    help: 'Messages waiting in the route queue.',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      this.reset();
      for (const route of source.routes()) this.set({ route: route.id }, route.depth);
    },
  });
  new Gauge({
    name: 'quayside_logrouter_route_up',
    help: '1 when the route destination is reachable as far as the agent knows.',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      this.reset();
      for (const route of source.routes()) this.set({ route: route.id }, route.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'quayside_logrouter_lag_seconds',
    help: "Seconds between a container's last delivered line's Docker timestamp and its delivery.",
    labelNames: ['container'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [container, seconds] of source.lag()) this.set({ container }, seconds);
    },
  });
  new Gauge({
    name: 'quayside_logrouter_checkpoint_age_seconds',
    help: 'Seconds since the checkpoint file was last written.',
    registers: [registry],
    collect() {
      const age = source.checkpointAgeSeconds();
      if (age !== undefined) this.set(age);
    },
  });
  new Gauge({
    name: 'quayside_logrouter_containers',
    help: 'Container log streams being read (one per container and route).',
    registers: [registry],
    collect() {
      this.set(source.containers());
    },
  });
}

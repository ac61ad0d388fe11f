/** Prometheus metrics of the event stream: `quayside_docker_*`. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventStream, EventStreamObserver } from './event-stream';
import { timeNanoToDate } from './time';

/** Registers the metrics and returns the observer that feeds them. */
export function eventStreamMetrics(
  registry: Registry,
  clock: () => number = Date.now,
): {
  observer: EventStreamObserver;
  watch(stream: EventStream): void;
} {
  const events = new Counter({
    name: 'quayside_docker_events_total',
    help: 'Docker events received, by type and action.',
    labelNames: ['type', 'action'],
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'quayside_docker_reconnects_total',
    help: 'Times the Docker event stream was re-established after it broke.',
    registers: [registry],
  });
  const connected = new Gauge({
    name: 'quayside_docker_connected',
    help: '1 while the Docker event stream is connected, else 0.',
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'quayside_docker_event_lag_seconds',
    help: 'Delay between the engine timestamping the latest event and this process receiving it.',
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'quayside_docker_events_skipped_total',
    help: 'Docker events not delivered: malformed lines, and replays of events already delivered.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const handlerErrors = new Counter({
    name: 'quayside_docker_handler_errors_total',
    help: 'Event or sync handlers that threw, by subscriber.',
    labelNames: ['subscriber'],
    registers: [registry],
  });
  let watched: EventStream | undefined;
  new Gauge({
    name: 'quayside_docker_dispatch_pending',
    help: 'Events and syncs queued or being handled, by subscriber.',
    labelNames: ['subscriber'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { subscriber, pending } of watched?.backlog() ?? []) this.set({ subscriber }, pending);
    },
  });
  connected.set(0);
  skipped.inc({ reason: 'malformed' }, 0);
  skipped.inc({ reason: 'duplicate' }, 0);

  const observer: EventStreamObserver = {
    eventReceived(event) {
      events.inc({ type: event.type, action: event.action });
      lag.set(Math.max(0, (clock() - timeNanoToDate(event.timeNano).getTime()) / 1000));
    },
    connectedChanged: (isConnected) => connected.set(isConnected ? 1 : 0),
    reconnecting: () => reconnects.inc(),
    malformedEvent: () => skipped.inc({ reason: 'malformed' }),
    duplicateSkipped: () => skipped.inc({ reason: 'duplicate' }),
    handlerFailed: (subscriber) => handlerErrors.inc({ subscriber }),
  };
  return {
    observer,
    watch(stream) {
      watched = stream;
    },
  };
}

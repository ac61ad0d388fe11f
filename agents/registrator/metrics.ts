/** `quayside_registrator_*` metrics. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Operation = 'register' | 'deregister' | 'maintenance' | 'health' | 'list' | 'ping';

export interface RegistratorMetrics {
  operation(op: Operation, ok: boolean): void;
  reconciled(scope: 'all' | 'container', seconds: number): void;
}

export function registratorMetrics(
  registry: Registry,
  sources: { desired(): number; registered(): number; up(): boolean },
): RegistratorMetrics {
  const operations = new Counter({
    name: 'quayside_registrator_operations_total',
    help: 'Calls to the registry by operation and result (ok, error).',
    labelNames: ['op', 'result'],
    registers: [registry],
  });
  for (const op of ['register', 'deregister', 'list'] as const)
    for (const result of ['ok', 'error']) operations.inc({ op, result }, 0);
  const duration = new Histogram({
    name: 'quayside_registrator_reconcile_duration_seconds',
    help: "How long a reconcile took: all services (start, sync, periodic, retry) or one container's (an event).",
    labelNames: ['scope'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'quayside_registrator_services',
    help: 'Services of this node: desired (from the containers) and registered (in the registry at the last look).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'desired' }, sources.desired());
      this.set({ state: 'registered' }, sources.registered());
    },
  });
  new Gauge({
    name: 'quayside_registrator_registry_up',
    help: '1 when the last call to the registry succeeded, else 0.',
    registers: [registry],
    collect() {
      this.set(sources.up() ? 1 : 0);
    },
  });
  return {
    operation: (op, ok) => operations.inc({ op, result: ok ? 'ok' : 'error' }),
    reconciled: (scope, seconds) => duration.observe({ scope }, seconds),
  };
}

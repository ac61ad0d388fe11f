/**
 * Makes the registry hold the desired services: for all containers (start, every sync, -resync,
 * a retry) or for one (its event). One reconcile at a time, so an event's never interleaves with
 * a full one; a failed write is retried by a full reconcile (see RegistryStatus), so nothing is
 * lost while the registry is away and nothing is written twice once it is back.
 */
import { forEachLimited } from '../../shared/for-each-limited';
import type { Logger } from '../../shared/ops/logger';
import type { HealthFeed } from './health-feed';
import type { RegistratorMetrics } from './metrics';
import { isEmptyPlan } from './reconcile';
import type { RegistryCalls } from './registry-calls';
import type { RegistryStatus } from './registry-status';
import type { RegistryView } from './registry-view';
import type { DesiredService } from './service-model';

/** What the registry side needs of the Docker side. */
interface DesiredServices {
  /** This node's name; nothing is written before it is known. */
  readonly node: string | undefined;
  desired(): DesiredService[];
  /** Called after each full reconcile: forget what was remembered of containers gone. */
  forgetGone(): void;
}

interface SyncDeps {
  source: DesiredServices;
  view: RegistryView;
  calls: RegistryCalls;
  health: HealthFeed;
  status: RegistryStatus;
  logger: Logger;
  metrics: RegistratorMetrics;
  /** Aborted at shutdown: no reconcile starts after it. */
  signal: AbortSignal;
}

const SHUTDOWN_CONCURRENCY = 8;

export class RegistrySync {
  private lock: Promise<void> = Promise.resolve();
  /** A full reconcile queued behind the lock and not started yet. */
  private waitingFull: Promise<void> | undefined;

  constructor(private readonly deps: SyncDeps) {}

  async reconcileAll(reason: string): Promise<void> {
    const { source, view, calls, health, status, signal } = this.deps;
    const node = source.node;
    if (!node || signal.aborted) return;
    // One waiting is enough: it will list after everything asked so far. Without this a Consul
    // slower than -resync would pile up reconciles without end.
    if (this.waitingFull) return this.waitingFull;
    const run = this.exclusive(async () => {
      this.waitingFull = undefined;
      if (signal.aborted) return;
      const began = process.hrtime.bigint();
      if (!(await calls.list(node))) return;
      const plan = view.plan(source.desired());
      if (!isEmptyPlan(plan))
        this.deps.logger.info('reconciling', {
          reason,
          register: plan.register.length,
          deregister: plan.deregister.length,
        });
      const ok = await calls.execute(plan);
      await health.send(source.desired(), false);
      this.forgetGone();
      this.deps.metrics.reconciled('all', Number(process.hrtime.bigint() - began) / 1e9);
      if (ok) status.recovered();
    });
    this.waitingFull = run;
    return run;
  }

  async reconcileContainer(id: string): Promise<void> {
    if (this.deps.signal.aborted) return;
    if (!this.deps.view.listed) return this.reconcileAll('event');
    await this.exclusive(async () => {
      const began = process.hrtime.bigint();
      const services = this.deps.source.desired().filter((s) => s.containerId === id);
      await this.deps.calls.execute(this.deps.view.plan(services, new Set([id])));
      await this.deps.health.send(services, false);
      this.deps.metrics.reconciled('container', Number(process.hrtime.bigint() - began) / 1e9);
    });
  }

  /** Every health state sent again, so the registry's TTL checks do not expire. */
  async refreshHealth(): Promise<void> {
    await this.exclusive(() => this.deps.health.send(this.deps.source.desired(), true));
  }

  /** Waits for the reconcile running, then (`deregister`) removes this node's services. */
  async shutdown(deregister: boolean): Promise<void> {
    if (!deregister || !this.deps.source.node) return this.exclusive(async () => undefined);
    // Side by side, and not past the first outage answer: the shutdown deadline is short, and
    // a registry that is away would make every call wait for its timeout.
    await this.exclusive(async () => {
      const { calls, status, logger } = this.deps;
      let away = false;
      await forEachLimited(this.deps.source.desired(), SHUTDOWN_CONCURRENCY, async (service) => {
        if (away) return;
        away = !(await calls.deregister(service)) && !status.up;
      });
      if (away)
        logger.warn('failed', {
          op: 'deregister',
          error: `the registry is away; this node's services stay registered (${status.error})`,
        });
    });
  }

  /** Drops what is remembered of services no container wants any more, so churn does not grow memory. */
  private forgetGone(): void {
    const desired = this.deps.source.desired();
    this.deps.view.forgetGone(desired);
    this.deps.health.forgetGone(desired);
    this.deps.source.forgetGone();
  }

  /** Registry writes one at a time: an event's reconcile never interleaves with a full one. */
  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.lock.then(task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

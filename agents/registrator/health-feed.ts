/**
 * Docker's health into the registry's TTL checks: sent when it changes, and for every service
 * now and then to refresh the TTL. A check the registry no longer has means it lost our
 * services (its agent restarted empty): a full reconcile puts them back.
 */
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { RegistryError, type RegistryBackend } from './backends/backend';
import type { RegistratorMetrics } from './metrics';
import type { RegistryView } from './registry-view';
import type { DesiredService } from './service-model';

interface HealthFeedDeps {
  backend: RegistryBackend;
  logger: Logger;
  metrics: RegistratorMetrics;
  view: Pick<RegistryView, 'holds'>;
  /** A full reconcile, asked for when a check is missing in the registry. */
  refill(): void;
  /** Aborted at shutdown: nothing more is sent. */
  signal: AbortSignal;
}

export class HealthFeed {
  /** What was last sent per check ID (`status\noutput`). */
  private readonly sent = new Map<string, string>();
  private refillQueued = false;

  constructor(private readonly deps: HealthFeedDeps) {}

  /** Sends the health of `services` the registry holds: what changed, or all of it (`force`). */
  async send(services: DesiredService[], force: boolean): Promise<void> {
    const { backend, metrics, logger } = this.deps;
    if (!backend.hasChecks) return;
    let lost = false;
    for (const service of services) {
      if (this.deps.signal.aborted) return;
      const health = service.health;
      if (!health || !this.deps.view.holds(service)) continue;
      const state = `${health.status}\n${health.output}`;
      if (!force && this.sent.get(health.checkId) === state) continue;
      try {
        await backend.setHealth(health.checkId, health.status, health.output);
        metrics.operation('health', true);
        this.sent.set(health.checkId, state);
      } catch (error) {
        metrics.operation('health', false);
        this.sent.delete(health.checkId);
        logger.warn('failed', { op: 'health', check: health.checkId, error: errorMessage(error) });
        if (error instanceof RegistryError && error.status === 404) lost = true;
      }
    }
    // Compare everything now rather than at the next -resync; after the caller's turn, since the
    // caller holds the registry lock.
    if (lost && !this.refillQueued) {
      this.refillQueued = true;
      setImmediate(() => {
        this.refillQueued = false;
        this.deps.refill();
      });
    }
  }

  /** Drops what was sent for checks no desired service has any more, so churn does not grow memory. */
  forgetGone(desired: DesiredService[]): void {
    const checkIds = new Set(desired.flatMap((s) => (s.health ? [s.health.checkId] : [])));
    for (const id of this.sent.keys()) if (!checkIds.has(id)) this.sent.delete(id);
  }
}

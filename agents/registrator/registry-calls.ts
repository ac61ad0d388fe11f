/**
 * The reconciler's calls to the registry (list, register, deregister, maintenance), each counted
 * and logged, and what each outcome means kept: the view in step after a write, a refusal (4xx)
 * remembered so it is not sent again, anything else an outage that the status retries.
 */
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { RegistryError, type RegistryBackend } from './backends/backend';
import type { Operation, RegistratorMetrics } from './metrics';
import type { ReconcilePlan } from './reconcile';
import type { RegistryStatus } from './registry-status';
import type { RegistryView } from './registry-view';
import type { DesiredService } from './service-model';

interface CallsDeps {
  backend: RegistryBackend;
  logger: Logger;
  metrics: RegistratorMetrics;
  view: RegistryView;
  status: RegistryStatus;
  /** Aborted at shutdown: a plan stops between writes. */
  signal: AbortSignal;
}

export class RegistryCalls {
  constructor(private readonly deps: CallsDeps) {}

  /** Lists this node's scope of the registry into the view; false when that failed. */
  async list(node: string): Promise<boolean> {
    try {
      this.deps.view.replace(node, await this.deps.backend.list(node));
    } catch (error) {
      this.failed('list', undefined, undefined, error);
      return false;
    }
    this.succeeded('list');
    return true;
  }

  /** Runs a plan; true when every write succeeded. */
  async execute(plan: ReconcilePlan): Promise<boolean> {
    const { backend, view, signal } = this.deps;
    let ok = true;
    for (const { service, holder } of plan.blocked) {
      const id = service.registration.ID;
      if (!view.block(id, holder)) continue;
      this.deps.logger.warn('failed', {
        op: 'register',
        service: id,
        container: service.containerId.slice(0, 12),
        error: `service ID taken by ${holder}; not overwritten`,
        retry: false,
      });
    }
    for (const service of plan.deregister) {
      if (signal.aborted) return false;
      ok =
        (await this.apply('deregister', service.id, service.containerId, () => backend.deregister(service), {
          key: backend.keyOf(service),
        })) && ok;
    }
    for (const service of plan.register) {
      if (signal.aborted) return false;
      const id = service.registration.ID;
      const spec = backend.specOf(service);
      if (view.refusedBefore(id, spec)) continue;
      ok =
        (await this.apply('register', id, service.containerId, () => backend.register(service), {
          registered: { service, spec },
        })) && ok;
    }
    for (const { service, enable } of plan.maintenance) {
      if (signal.aborted) return false;
      const id = service.registration.ID;
      ok =
        (await this.apply('maintenance', id, service.containerId, () =>
          backend.setMaintenance(id, enable, 'container paused'),
        )) && ok;
      view.maintenance(service, enable);
    }
    return ok;
  }

  /** Removes one desired service (at shutdown); false when that failed. */
  deregister(service: DesiredService): Promise<boolean> {
    const { ID: id, Name: name } = service.registration;
    return this.apply('deregister', id, service.containerId, () => this.deps.backend.deregister({ id, name }), {
      key: this.deps.view.keyOf(service),
    });
  }

  /**
   * One registry call, counted and logged, with the view kept in step. `registered`: the service a
   * register sent and its spec (a refusal is remembered by it); `key`: a deregistered service's
   * registry key.
   */
  private async apply(
    op: Operation,
    serviceId: string,
    containerId: string | undefined,
    call: () => Promise<void>,
    what: { registered?: { service: DesiredService; spec: string }; key?: string } = {},
  ): Promise<boolean> {
    const { registered, key = serviceId } = what;
    try {
      await call();
    } catch (error) {
      this.failed(op, serviceId, containerId, error, registered?.spec);
      return false;
    }
    this.succeeded(op);
    const container = containerId?.slice(0, 12);
    if (op === 'register') {
      // What was sent, not the container's record now: an event may have changed it meanwhile,
      // and its own reconcile must still see the difference.
      if (registered) this.deps.view.registered(registered.service, registered.spec);
      this.deps.logger.info('added', { service: serviceId, container });
    } else if (op === 'deregister') {
      this.deps.view.deregistered(key);
      this.deps.logger.info('removed', { service: serviceId, container });
    }
    return true;
  }

  private succeeded(op: Operation): void {
    this.deps.metrics.operation(op, true);
    this.deps.status.answered();
  }

  private failed(
    op: Operation,
    serviceId: string | undefined,
    containerId: string | undefined,
    error: unknown,
    spec?: string,
  ): void {
    this.deps.metrics.operation(op, false);
    const message = errorMessage(error);
    const transient = !(error instanceof RegistryError) || this.deps.backend.isTransient(error);
    this.deps.logger.warn('failed', {
      op,
      service: serviceId,
      container: containerId?.slice(0, 12),
      error: message,
      retry: transient,
    });
    if (!transient && op === 'register' && serviceId && spec) {
      // The registry refused this registration; it will refuse it again until the container changes.
      this.deps.view.refused(serviceId, spec, message);
      return;
    }
    // Anything else (unreachable, 5xx, but also a 403 on the list: a token fixed in Consul heals it) is retried.
    this.deps.status.failed(message);
  }
}

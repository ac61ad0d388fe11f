/**
 * The registrator at work: keeps the desired services of every container (from inspect), and
 * makes the registry match them — for all containers on start, after every event-stream
 * (re)connect and every `-resync`; for one container on each of its events. A failed write is
 * retried by a full reconcile with capped backoff, so nothing is lost while the registry is away
 * and nothing is written twice once it is back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { backoffDelay } from '../../shared/docker/backoff';
import { containerName } from '../../shared/docker/container-name';
import type { DockerEvent } from '../../shared/docker/event';
import type { EventStream, SyncSnapshot } from '../../shared/docker/event-stream';
import { unlessGone } from '../../shared/docker/not-found';
import { forEachLimited } from '../../shared/for-each-limited';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { RegistryError, type ActualService, type RegistryBackend } from './backends/backend';
import type { Operation, RegistratorMetrics } from './metrics';
import { desiredKey, isEmptyPlan, planReconcile, type ReconcilePlan } from './reconcile';
import { servicesFor, type ContainerServices, type DesiredService, type ModelSettings } from './service-model';

export interface RegistratorSettings extends Omit<ModelSettings, 'node' | 'hostAddress'> {
  nodeName?: string;
  deregister: 'always' | 'on-success';
  cleanup: boolean;
  resyncMs: number;
  retryIntervalMs: number;
  deregisterOnShutdown: boolean;
}

export interface RegistratorDeps {
  docker: Dockerode;
  backend: RegistryBackend;
  logger: Logger;
  metrics: RegistratorMetrics;
  /** This host's address for published ports (detection lives outside, to test without a host). */
  detectHostAddress(info: { Swarm?: { NodeAddr?: string } }): string | undefined;
}

interface ContainerRecord extends ContainerServices {
  name: string;
}

const MAX_BACKOFF_MS = 30_000;
const INSPECT_CONCURRENCY = 8;
const SHUTDOWN_CONCURRENCY = 8;
/** Delays before an event's failed inspect is tried again. */
const INSPECT_RETRIES = [100, 500, 2_000];
const CONTAINER_ACTIONS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update'];
const NETWORK_ACTIONS = ['connect', 'disconnect'];

export class Registrator {
  private node: string | undefined;
  private hostAddress: string | undefined;
  private readonly containers = new Map<string, ContainerRecord>();
  /** The registry as last seen or written; undefined until the first successful list. */
  private actual: Map<string, ActualService> | undefined;
  /** Registrations the registry refused (4xx), by service ID with the spec refused: not retried until it changes. */
  private readonly rejected = new Map<string, { spec: string; error: string }>();
  private readonly healthSent = new Map<string, string>();
  /** Desired services whose ID the registry holds for someone else, with who (logged once each). */
  private readonly blocked = new Map<string, string>();
  /** `<container>/<service ID>` conflicts already logged. */
  private readonly conflicts = new Set<string>();
  private lock: Promise<void> = Promise.resolve();
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private synced = false;
  private reachable = false;
  private lastError: string | undefined;
  private nextRetryAt: number | undefined;
  private refillQueued = false;
  /** A full reconcile queued behind the lock and not started yet. */
  private waitingFull: Promise<void> | undefined;

  constructor(
    private readonly settings: RegistratorSettings,
    private readonly deps: RegistratorDeps,
  ) {}

  subscribe(events: EventStream): () => void {
    return events.subscribe({
      name: 'registrator',
      types: ['container', 'network'],
      actions: [...CONTAINER_ACTIONS, ...NETWORK_ACTIONS],
      onEvent: (event) => this.onEvent(event),
      onSync: (snapshot) => this.onSync(snapshot),
    });
  }

  /** Periodic reconcile (also how an agent that restarted empty is noticed) and health TTL refresh. */
  startTimers(): void {
    if (this.settings.resyncMs > 0)
      this.timers.push(
        setInterval(() => void this.reconcileAll('periodic').catch(() => undefined), this.settings.resyncMs),
      );
    if (this.settings.healthTtlMs > 0 && this.deps.backend.hasChecks) {
      this.timers.push(
        setInterval(
          () => void this.refreshHealth().catch(() => undefined),
          Math.max(1_000, Math.floor(this.settings.healthTtlMs / 3)),
        ),
      );
    }
    this.timers.forEach((t) => t.unref());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.settings.deregisterOnShutdown && this.node) {
      // Side by side, and not past the first outage answer: the shutdown deadline is short, and
      // a registry that is away would make every call wait for its timeout.
      await this.exclusive(async () => {
        let away = false;
        await forEachLimited(this.desired(), SHUTDOWN_CONCURRENCY, async (service) => {
          if (away) return;
          const id = service.registration.ID;
          away =
            !(await this.apply(
              'deregister',
              id,
              service.containerId,
              () => this.deps.backend.deregister({ id, name: service.registration.Name }),
              { key: this.keyOf(service) },
            )) && !this.reachable;
        });
        if (away)
          this.deps.logger.warn('failed', {
            op: 'deregister',
            error: `the registry is away; this node's services stay registered (${this.lastError})`,
          });
      });
    } else {
      await this.exclusive(async () => undefined);
    }
    this.deps.backend.close();
  }

  // ---- what the outside sees ------------------------------------------------------------------

  readiness(): { ready: boolean; detail: string } {
    const where = this.deps.backend.description;
    if (!this.reachable) {
      const retry = this.nextRetryAt
        ? `; retrying in ${Math.max(0, Math.round((this.nextRetryAt - Date.now()) / 1000))}s`
        : '';
      return {
        ready: false,
        detail: this.lastError
          ? `cannot reach ${where}: ${this.lastError}${retry}`
          : `waiting for the first reconcile with ${where}`,
      };
    }
    if (!this.synced) return { ready: false, detail: 'waiting for the first container list' };
    return { ready: true, detail: `${this.desiredCount()} services desired, in ${where}` };
  }

  get up(): boolean {
    return this.reachable;
  }

  desiredCount(): number {
    let n = 0;
    for (const record of this.containers.values()) n += record.services.length;
    return n;
  }

  registeredCount(): number {
    let n = 0;
    for (const service of this.actual?.values() ?? []) if (service.owner === this.node) n += 1;
    return n;
  }

  /** Desired against registered, per container, for GET /services. */
  report(): unknown {
    const actual = this.actual;
    const containers = [...this.containers.entries()].map(([id, record]) => ({
      id,
      name: record.name,
      services: record.services.map((s) => {
        const current = actual?.get(this.keyOf(s));
        const rejected = this.rejected.get(s.registration.ID);
        const plan = current ? planReconcile([s], new Map([[this.keyOf(s), current]]), this.planOptions()) : undefined;
        // Someone else's service under our ID is not ours registered.
        const registered = plan !== undefined && plan.blocked.length === 0;
        return {
          id: s.registration.ID,
          name: s.registration.Name,
          address: s.registration.Address,
          port: s.registration.Port,
          tags: s.registration.Tags,
          checks: s.registration.Checks.length,
          maintenance: s.maintenance,
          registered,
          inSync: registered && plan.register.length === 0,
          ...(rejected ? { error: rejected.error } : {}),
          ...(this.blocked.has(s.registration.ID)
            ? { error: `service ID taken by ${this.blocked.get(s.registration.ID)}; not overwritten` }
            : {}),
        };
      }),
      skipped: record.skipped,
      dropped: record.dropped,
    }));
    const desiredKeys = new Set(this.desired().map((s) => this.keyOf(s)));
    const orphans = [...(actual ?? [])]
      .filter(([key, s]) => s.owner === this.node && !desiredKeys.has(key))
      .map(([, s]) => s.id);
    return {
      node: this.node,
      registry: this.deps.backend.description,
      reachable: this.reachable,
      lastError: this.lastError,
      containers,
      pendingRemoval: orphans,
    };
  }

  // ---- Docker side ----------------------------------------------------------------------------

  async onSync(snapshot: SyncSnapshot): Promise<void> {
    await this.identify();
    const listed = new Set<string>();
    const toInspect: string[] = [];
    for (const container of snapshot.containers) {
      listed.add(container.Id);
      if (container.State === 'running' || container.State === 'paused') toInspect.push(container.Id);
      else if (this.containers.has(container.Id) && this.removeOnExit(exitCodeFromStatus(container.Status)))
        this.containers.delete(container.Id);
    }
    for (const id of [...this.containers.keys()]) if (!listed.has(id)) this.containers.delete(id);
    // One container the engine fails to inspect must not hold up the others: it keeps what it had
    // (its services are neither added nor removed on a guess) until a later look succeeds.
    await forEachLimited(toInspect, INSPECT_CONCURRENCY, (id) =>
      this.refresh(id).catch(
        (error: unknown) =>
          void this.deps.logger.warn('failed', {
            op: 'inspect',
            container: id.slice(0, 12),
            error: errorMessage(error),
          }),
      ),
    );
    this.synced = true;
    this.deps.logger.info('containers listed', {
      reason: snapshot.reason,
      containers: snapshot.containers.length,
      services: this.desiredCount(),
    });
    await this.reconcileAll(snapshot.reason);
  }

  async onEvent(event: DockerEvent): Promise<void> {
    const id = event.type === 'network' ? event.attributes.container : event.id;
    if (!id || !this.node) return; // before the first sync there is nothing to compare with; the sync covers it
    switch (event.action) {
      case 'die':
        if (!this.removeOnExit(event.attributes.exitCode === undefined ? undefined : Number(event.attributes.exitCode)))
          return;
        this.containers.delete(id);
        break;
      case 'destroy':
        this.containers.delete(id);
        break;
      default:
        await this.refreshWithRetry(id);
    }
    await this.reconcileContainer(id);
  }

  /** registrator's -deregister: always, or on-success (exit 0 or killed by a signal; unknown counts as gone). */
  private removeOnExit(exitCode: number | undefined): boolean {
    if (this.settings.deregister === 'always' || exitCode === undefined || Number.isNaN(exitCode)) return true;
    return exitCode === 0 || exitCode >= 128;
  }

  private async identify(): Promise<void> {
    if (this.node) return;
    const info = (await this.deps.docker.info()) as { Name?: string; Swarm?: { NodeAddr?: string } };
    const node = this.settings.nodeName ?? info.Name;
    if (!node) throw new Error('the Docker engine reported no name; set --node-name');
    this.hostAddress = this.deps.detectHostAddress(info);
    this.node = node;
    this.deps.logger.info('node identified', {
      node,
      hostAddress: this.hostAddress ?? null,
      ip: this.settings.ip ?? null,
    });
  }

  /**
   * An event's inspect, tried again a few times when the engine fails it (busy, timing out): the
   * next sync may be minutes away. Still in the container's turn, so its order holds.
   */
  private async refreshWithRetry(id: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.refresh(id);
      } catch (error) {
        if (attempt >= INSPECT_RETRIES.length || this.stopped) throw error;
        this.deps.logger.warn('failed', {
          op: 'inspect',
          container: id.slice(0, 12),
          error: errorMessage(error),
          retry: true,
        });
        await sleep(INSPECT_RETRIES[attempt]!);
      }
    }
  }

  private async refresh(id: string): Promise<void> {
    const inspect = await unlessGone(() => this.deps.docker.getContainer(id).inspect());
    if (!inspect) {
      this.containers.delete(id);
      return;
    }
    const model = servicesFor(inspect, { ...this.settings, node: this.node!, hostAddress: this.hostAddress });
    const previous = this.containers.get(id);
    for (const problem of model.dropped) {
      if (!previous?.dropped.some((p) => p.key === problem.key))
        this.deps.logger.warn('ignored container setting', {
          container: id.slice(0, 12),
          key: problem.key,
          reason: problem.reason,
        });
    }
    // A stopped container's services are the die and destroy events' business (-deregister
    // on-success keeps some); a later event of it (network disconnect) must not drop them.
    if (!inspect.State?.Running) return;
    this.containers.set(id, { ...model, name: containerName(inspect.Name) });
  }

  /**
   * Every container's services; when two containers claim one service ID (the same SERVICE_ID),
   * the older container keeps it, or they would overwrite each other at every reconcile.
   */
  private desired(): DesiredService[] {
    const byId = new Map<string, DesiredService>();
    for (const [containerId, record] of [...this.containers.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      for (const service of record.services) {
        const owner = byId.get(service.registration.ID);
        if (!owner) byId.set(service.registration.ID, service);
        else if (!this.conflicts.has(`${containerId}/${service.registration.ID}`)) {
          this.conflicts.add(`${containerId}/${service.registration.ID}`);
          this.deps.logger.warn('failed', {
            op: 'register',
            service: service.registration.ID,
            container: containerId.slice(0, 12),
            error: `service ID also claimed by container ${owner.containerId.slice(0, 12)}, which keeps it`,
          });
        }
      }
    }
    return [...byId.values()];
  }

  // ---- registry side --------------------------------------------------------------------------

  async reconcileAll(reason: string): Promise<void> {
    if (!this.node || this.stopped) return;
    // One waiting is enough: it will list after everything asked so far. Without this a Consul
    // slower than -resync would pile up reconciles without end.
    if (this.waitingFull) return this.waitingFull;
    const run = this.exclusive(async () => {
      this.waitingFull = undefined;
      if (this.stopped) return;
      const began = process.hrtime.bigint();
      try {
        this.actual = await this.deps.backend.list(this.node!);
        this.succeeded('list');
      } catch (error) {
        this.failed('list', undefined, undefined, error);
        return;
      }
      const plan = planReconcile(this.desired(), this.actual, this.planOptions());
      if (!isEmptyPlan(plan))
        this.deps.logger.info('reconciling', {
          reason,
          register: plan.register.length,
          deregister: plan.deregister.length,
        });
      const ok = await this.execute(plan);
      await this.sendHealth(this.desired(), false);
      this.forgetGone();
      this.deps.metrics.reconciled('all', Number(process.hrtime.bigint() - began) / 1e9);
      if (ok) this.failures = 0;
    });
    this.waitingFull = run;
    return run;
  }

  private async reconcileContainer(id: string): Promise<void> {
    if (this.stopped) return;
    if (this.actual === undefined) return this.reconcileAll('event');
    await this.exclusive(async () => {
      const began = process.hrtime.bigint();
      const services = this.desired().filter((s) => s.containerId === id);
      const plan = planReconcile(services, this.actual!, { ...this.planOptions(), containers: new Set([id]) });
      await this.execute(plan);
      await this.sendHealth(services, false);
      this.deps.metrics.reconciled('container', Number(process.hrtime.bigint() - began) / 1e9);
    });
  }

  /** Runs a plan; true when every write succeeded. Failures schedule a full reconcile with backoff. */
  private async execute(plan: ReconcilePlan): Promise<boolean> {
    const { backend } = this.deps;
    let ok = true;
    for (const { service, holder } of plan.blocked) {
      const id = service.registration.ID;
      if (this.blocked.get(id) === holder) continue;
      this.blocked.set(id, holder);
      this.deps.logger.warn('failed', {
        op: 'register',
        service: id,
        container: service.containerId.slice(0, 12),
        error: `service ID taken by ${holder}; not overwritten`,
        retry: false,
      });
    }
    for (const service of plan.deregister) {
      if (this.stopped) return false;
      ok =
        (await this.apply('deregister', service.id, service.containerId, () => backend.deregister(service), {
          key: backend.keyOf(service),
        })) && ok;
    }
    for (const service of plan.register) {
      if (this.stopped) return false;
      const id = service.registration.ID;
      const spec = this.deps.backend.specOf(service);
      if (this.rejected.get(id)?.spec === spec) continue;
      ok =
        (await this.apply('register', id, service.containerId, () => backend.register(service), {
          spec,
          registered: service,
        })) && ok;
    }
    for (const { service, enable } of plan.maintenance) {
      if (this.stopped) return false;
      const id = service.registration.ID;
      ok =
        (await this.apply('maintenance', id, service.containerId, () =>
          backend.setMaintenance(id, enable, 'container paused'),
        )) && ok;
      const current = this.actual?.get(this.keyOf(service));
      if (current) current.maintenance = enable;
    }
    return ok;
  }

  /**
   * One registry call, counted and logged, with the cache kept in step. `registered`: the service a
   * register sent; `spec`: its spec (a refusal is remembered by it); `key`: a deregistered
   * service's registry key.
   */
  private async apply(
    op: Operation,
    serviceId: string,
    containerId: string | undefined,
    call: () => Promise<void>,
    what: { spec?: string; registered?: DesiredService; key?: string } = {},
  ): Promise<boolean> {
    const { spec, registered, key = serviceId } = what;
    try {
      await call();
    } catch (error) {
      this.failed(op, serviceId, containerId, error, spec);
      return false;
    }
    this.succeeded(op);
    const container = containerId?.slice(0, 12);
    if (op === 'register') {
      this.rejected.delete(serviceId);
      this.blocked.delete(serviceId);
      // What was sent, not the container's record now: an event may have changed it meanwhile,
      // and its own reconcile must still see the difference.
      if (registered)
        this.actual?.set(this.keyOf(registered), actualOf(registered, this.deps.backend.specOf(registered)));
      this.deps.logger.info('added', { service: serviceId, container });
    } else if (op === 'deregister') {
      this.actual?.delete(key);
      this.deps.logger.info('removed', { service: serviceId, container });
    }
    return true;
  }

  private succeeded(op: Operation): void {
    this.deps.metrics.operation(op, true);
    this.reachable = true;
    this.lastError = undefined;
    this.nextRetryAt = undefined;
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
      this.rejected.set(serviceId, { spec, error: message });
      return;
    }
    // Anything else (unreachable, 5xx, but also a 403 on the list: a token fixed in Consul heals it) is retried.
    this.reachable = false;
    this.lastError = message;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    const delay = backoffDelay(this.failures++, {
      initialMs: this.settings.retryIntervalMs,
      maxMs: MAX_BACKOFF_MS,
      factor: 2,
    });
    this.nextRetryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconcileAll('retry').catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }

  /** Feeds Docker health into the TTL checks: on change, or for all (`force`) to refresh their TTL. */
  private async sendHealth(services: DesiredService[], force: boolean): Promise<void> {
    if (!this.deps.backend.hasChecks) return;
    let lost = false;
    for (const service of services) {
      if (this.stopped) return;
      const health = service.health;
      if (!health || !this.actual?.has(this.keyOf(service))) continue;
      const state = `${health.status}\n${health.output}`;
      if (!force && this.healthSent.get(health.checkId) === state) continue;
      try {
        await this.deps.backend.setHealth(health.checkId, health.status, health.output);
        this.deps.metrics.operation('health', true);
        this.healthSent.set(health.checkId, state);
      } catch (error) {
        this.deps.metrics.operation('health', false);
        this.healthSent.delete(health.checkId);
        this.deps.logger.warn('failed', { op: 'health', check: health.checkId, error: errorMessage(error) });
        if (error instanceof RegistryError && error.status === 404) lost = true;
      }
    }
    // The check is gone: the agent restarted empty (or someone removed it). Compare everything now
    // rather than at the next -resync; after the caller's turn, since this runs under the lock.
    if (lost && !this.refillQueued) {
      this.refillQueued = true;
      setImmediate(() => {
        this.refillQueued = false;
        void this.reconcileAll('check missing in the registry').catch(() => undefined);
      });
    }
  }

  /** Drops what is remembered of services no container wants any more, so churn does not grow memory. */
  private forgetGone(): void {
    const desired = this.desired();
    const ids = new Set(desired.map((s) => s.registration.ID));
    const checkIds = new Set(desired.flatMap((s) => (s.health ? [s.health.checkId] : [])));
    for (const id of this.rejected.keys()) if (!ids.has(id)) this.rejected.delete(id);
    for (const id of this.blocked.keys()) if (!ids.has(id)) this.blocked.delete(id);
    for (const id of this.healthSent.keys()) if (!checkIds.has(id)) this.healthSent.delete(id);
    for (const key of this.conflicts)
      if (!this.containers.has(key.slice(0, key.indexOf('/')))) this.conflicts.delete(key);
  }

  private async refreshHealth(): Promise<void> {
    await this.exclusive(() => this.sendHealth(this.desired(), true));
  }

  private planOptions() {
    return {
      node: this.node!,
      specOf: (service: DesiredService) => this.deps.backend.specOf(service),
      hasChecks: this.deps.backend.hasChecks,
      legacyCleanup: this.settings.cleanup,
      keyOf: (s: { id: string; name: string }) => this.deps.backend.keyOf(s),
    };
  }

  private keyOf(service: DesiredService): string {
    return desiredKey(service, this.deps.backend);
  }

  /** Registry writes one at a time: an event's reconcile never interleaves with a full one. */
  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.lock.then(task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function actualOf(service: DesiredService, spec: string): ActualService {
  const r = service.registration;
  return {
    id: r.ID,
    name: r.Name,
    address: r.Address,
    port: r.Port,
    tags: [...r.Tags],
    owner: r.Meta.quayside_node,
    containerId: service.containerId,
    spec,
    maintenance: false,
    checks: r.Checks.length,
  };
}

/** The exit code in a listing's status text, `Exited (137) 3 minutes ago`. */
function exitCodeFromStatus(status: string | undefined): number | undefined {
  const match = /^Exited \((-?\d+)\)/.exec(status ?? '');
  return match ? Number(match[1]) : undefined;
}

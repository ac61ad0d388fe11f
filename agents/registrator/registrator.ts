/**
 * The registrator at work, wired from collaborators with one job each: the container catalog
 * (the Docker side: desired services from inspect), the registry sync (makes the registry match,
 * with its view, calls, status and health feed), and this class, which feeds events to them, runs
 * the timers and shows readiness and the desired-against-registered report.
 */
import type Dockerode from 'dockerode';
import type { DockerEvent } from '../../shared/docker/event';
import type { EventStream, SyncSnapshot } from '../../shared/docker/event-stream';
import type { Logger } from '../../shared/ops/logger';
import type { RegistryBackend } from './backends/backend';
import { ContainerCatalog, type CatalogSettings } from './container-catalog';
import { HealthFeed } from './health-feed';
import type { RegistratorMetrics } from './metrics';
import { RegistryCalls } from './registry-calls';
import { RegistryStatus } from './registry-status';
import { RegistrySync } from './registry-sync';
import { RegistryView } from './registry-view';

export interface RegistratorSettings extends CatalogSettings {
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

const CONTAINER_ACTIONS = ['start', 'die', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update'];
const NETWORK_ACTIONS = ['connect', 'disconnect'];

export class Registrator {
  /** One signal for every collaborator: after it, nothing new is inspected, written or retried. */
  private readonly stopping = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly catalog: ContainerCatalog;
  private readonly view: RegistryView;
  private readonly status: RegistryStatus;
  private readonly registry: RegistrySync;

  constructor(
    private readonly settings: RegistratorSettings,
    private readonly deps: RegistratorDeps,
  ) {
    const { signal } = this.stopping;
    const { backend, logger, metrics } = deps;
    this.catalog = new ContainerCatalog(settings, { ...deps, signal });
    this.view = new RegistryView(backend, settings.cleanup);
    this.status = new RegistryStatus({
      retryIntervalMs: settings.retryIntervalMs,
      retry: () => this.reconcileInBackground('retry'),
      signal,
    });
    this.registry = new RegistrySync({
      source: this.catalog,
      view: this.view,
      calls: new RegistryCalls({ backend, logger, metrics, view: this.view, status: this.status, signal }),
      health: new HealthFeed({
        backend,
        logger,
        metrics,
        view: this.view,
        refill: () => this.reconcileInBackground('check missing in the registry'),
        signal,
      }),
      status: this.status,
      logger,
      metrics,
      signal,
    });
  }

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
      this.timers.push(setInterval(() => this.reconcileInBackground('periodic'), this.settings.resyncMs));
    if (this.settings.healthTtlMs > 0 && this.deps.backend.hasChecks) {
      this.timers.push(
        setInterval(
          () => void this.registry.refreshHealth().catch(() => undefined),
          Math.max(1_000, Math.floor(this.settings.healthTtlMs / 3)),
        ),
      );
    }
    this.timers.forEach((t) => t.unref());
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.timers.forEach(clearInterval);
    await this.registry.shutdown(this.settings.deregisterOnShutdown);
    this.deps.backend.close();
  }

  async onSync(snapshot: SyncSnapshot): Promise<void> {
    await this.catalog.sync(snapshot);
    await this.registry.reconcileAll(snapshot.reason);
  }

  async onEvent(event: DockerEvent): Promise<void> {
    const id = await this.catalog.update(event);
    if (id) await this.registry.reconcileContainer(id);
  }

  reconcileAll(reason: string): Promise<void> {
    return this.registry.reconcileAll(reason);
  }

  /** A full reconcile nobody waits for: its failures are logged, and retried, where they happen. */
  private reconcileInBackground(reason: string): void {
    void this.reconcileAll(reason).catch(() => undefined);
  }

  // ---- what the outside sees ------------------------------------------------------------------

  readiness(): { ready: boolean; detail: string } {
    const where = this.deps.backend.description;
    const outage = this.status.outage(where);
    if (outage) return { ready: false, detail: outage };
    if (!this.catalog.listed) return { ready: false, detail: 'waiting for the first container list' };
    return { ready: true, detail: `${this.desiredCount()} services desired, in ${where}` };
  }

  get up(): boolean {
    return this.status.up;
  }

  desiredCount(): number {
    return this.catalog.desiredCount();
  }

  registeredCount(): number {
    return this.view.registeredCount();
  }

  /** Desired against registered, per container, for GET /services. */
  report(): unknown {
    const containers = [...this.catalog.containers()].map(([id, record]) => ({
      id,
      name: record.name,
      services: record.services.map((s) => ({
        id: s.registration.ID,
        name: s.registration.Name,
        address: s.registration.Address,
        port: s.registration.Port,
        tags: s.registration.Tags,
        checks: s.registration.Checks.length,
        maintenance: s.maintenance,
        ...this.view.stateOf(s),
      })),
      skipped: record.skipped,
      dropped: record.dropped,
    }));
    return {
      node: this.catalog.node,
      registry: this.deps.backend.description,
      reachable: this.status.up,
      lastError: this.status.error,
      containers,
      pendingRemoval: this.view.pendingRemoval(this.catalog.desired()),
    };
  }
}

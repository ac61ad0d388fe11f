/**
 * The Docker side: who this node is, and each running container's desired services (from
 * inspect), kept current by the sync snapshots and the events. Knows nothing of the registry.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import type { DockerEvent } from '../../shared/docker/event';
import type { SyncSnapshot } from '../../shared/docker/event-stream';
import { unlessGone } from '../../shared/docker/not-found';
import { forEachLimited } from '../../shared/for-each-limited';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { servicesFor, type ContainerServices, type DesiredService, type ModelSettings } from './service-model';

export interface CatalogSettings extends Omit<ModelSettings, 'node' | 'hostAddress'> {
  nodeName?: string;
  deregister: 'always' | 'on-success';
}

interface CatalogDeps {
  docker: Dockerode;
  logger: Logger;
  detectHostAddress(info: { Swarm?: { NodeAddr?: string } }): string | undefined;
  /** Aborted at shutdown: a failed inspect is not tried again then. */
  signal: AbortSignal;
}

interface ContainerRecord extends ContainerServices {
  name: string;
}

const INSPECT_CONCURRENCY = 8;
/** Delays before an event's failed inspect is tried again. */
const INSPECT_RETRIES = [100, 500, 2_000];

export class ContainerCatalog {
  private nodeName: string | undefined;
  private hostAddress: string | undefined;
  private readonly records = new Map<string, ContainerRecord>();
  /** `<container>/<service ID>` conflicts already logged. */
  private readonly conflicts = new Set<string>();
  private listedOnce = false;

  constructor(
    private readonly settings: CatalogSettings,
    private readonly deps: CatalogDeps,
  ) {}

  /** This node's name; undefined until the first sync asked the engine. */
  get node(): string | undefined {
    return this.nodeName;
  }

  /** Whether a container list has been read at least once. */
  get listed(): boolean {
    return this.listedOnce;
  }

  /** The running containers (and stopped ones `-deregister on-success` keeps), by ID. */
  containers(): ReadonlyMap<string, ContainerRecord> {
    return this.records;
  }

  /** Rebuilds the records from a sync snapshot: every listed container inspected again. */
  async sync(snapshot: SyncSnapshot): Promise<void> {
    await this.identify();
    const listed = new Set<string>();
    const toInspect: string[] = [];
    for (const container of snapshot.containers) {
      listed.add(container.Id);
      if (container.State === 'running' || container.State === 'paused') toInspect.push(container.Id);
      else if (this.records.has(container.Id) && this.removeOnExit(exitCodeFromStatus(container.Status)))
        this.records.delete(container.Id);
    }
    for (const id of [...this.records.keys()]) if (!listed.has(id)) this.records.delete(id);
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
    this.listedOnce = true;
    this.deps.logger.info('containers listed', {
      reason: snapshot.reason,
      containers: snapshot.containers.length,
      services: this.desiredCount(),
    });
  }

  /** Brings an event's container up to date; returns its ID when its services may have changed. */
  async update(event: DockerEvent): Promise<string | undefined> {
    const id = event.type === 'network' ? event.attributes.container : event.id;
    if (!id || !this.nodeName) return undefined; // before the first sync there is nothing to compare with; the sync covers it
    switch (event.action) {
      case 'die':
        if (!this.removeOnExit(event.attributes.exitCode === undefined ? undefined : Number(event.attributes.exitCode)))
          return undefined;
        this.records.delete(id);
        break;
      case 'destroy':
        this.records.delete(id);
        break;
      default:
        await this.refreshWithRetry(id);
    }
    return id;
  }

  /**
   * Every container's services; when two containers claim one service ID (the same SERVICE_ID),
   * the older container keeps it, or they would overwrite each other at every reconcile.
   */
  desired(): DesiredService[] {
    const byId = new Map<string, DesiredService>();
    for (const [containerId, record] of [...this.records.entries()].sort(([a], [b]) => a.localeCompare(b))) {
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

  desiredCount(): number {
    let n = 0;
    for (const record of this.records.values()) n += record.services.length;
    return n;
  }

  /** Drops the logged conflicts of containers gone, so churn does not grow memory. */
  forgetGone(): void {
    for (const key of this.conflicts) if (!this.records.has(key.slice(0, key.indexOf('/')))) this.conflicts.delete(key);
  }

  /** registrator's -deregister: always, or on-success (exit 0 or killed by a signal; unknown counts as gone). */
  private removeOnExit(exitCode: number | undefined): boolean {
    if (this.settings.deregister === 'always' || exitCode === undefined || Number.isNaN(exitCode)) return true;
    return exitCode === 0 || exitCode >= 128;
  }

  private async identify(): Promise<void> {
    if (this.nodeName) return;
    const info = (await this.deps.docker.info()) as { Name?: string; Swarm?: { NodeAddr?: string } };
    const node = this.settings.nodeName ?? info.Name;
    if (!node) throw new Error('the Docker engine reported no name; set --node-name');
    this.hostAddress = this.deps.detectHostAddress(info);
    this.nodeName = node;
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
        if (attempt >= INSPECT_RETRIES.length || this.deps.signal.aborted) throw error;
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
      this.records.delete(id);
      return;
    }
    const model = servicesFor(inspect, { ...this.settings, node: this.nodeName!, hostAddress: this.hostAddress });
    const previous = this.records.get(id);
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
    this.records.set(id, { ...model, name: containerName(inspect.Name) });
  }
}

/** The exit code in a listing's status text, `Exited (137) 3 minutes ago`. */
function exitCodeFromStatus(status: string | undefined): number | undefined {
  const match = /^Exited \((-?\d+)\)/.exec(status ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The containers to export, kept from the shared event stream: each container event re-inspects
 * that one container (new pid and cgroup after a start, new name after a rename, new limits after
 * an update), and every sync snapshot reconciles the whole set, so nothing is listed per scrape
 * and a missed event is repaired at the next sync.
 */
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import type { DockerEvent } from '../../shared/docker/event';
import type { EventStream, SyncSnapshot } from '../../shared/docker/event-stream';
import { unlessGone } from '../../shared/docker/not-found';
import { forEachLimited } from '../../shared/for-each-limited';
import { errorMessage, silentLogger, type Logger } from '../../shared/ops/logger';
import { containerFromInspect, type CgroupLocator, type HealthStatus, type TrackedContainer } from './container';
import type { ErrorReporter, ErrorSink } from './collectors/errors';

/** The container actions that change what we export about a container. */
const INVENTORY_ACTIONS = [
  'create',
  'start',
  'die',
  'destroy',
  'rename',
  'update',
  'pause',
  'unpause',
  'health_status',
  'oom',
] as const;

export const INVENTORY_ERRORS = {
  name: 'inventory',
  /** Inspecting a container for the inventory failed. */
  errorKinds: ['inspect'],
} as const satisfies ErrorReporter;

/** Inspects per sync at once: enough to be quick, few enough not to flood the engine. */
const SYNC_CONCURRENCY = 8;

export interface InventoryOptions {
  docker: Pick<Dockerode, 'getContainer'>;
  locate: CgroupLocator;
  errors: ErrorSink;
  logger?: Logger;
  /** Runs before each sync snapshot is applied (asking the engine's cgroup driver again while unknown). */
  beforeSync?: () => Promise<void>;
}

export class ContainerInventory {
  private readonly containers = new Map<string, TrackedContainer>();
  private readonly logger: Logger;
  private hasSynced = false;
  /** A sync was applied since the latest (re)connect: events lost in between are repaired. */
  private syncedSinceConnect = false;

  constructor(private readonly options: InventoryOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** True once the first sync snapshot was applied. */
  get synced(): boolean {
    return this.hasSynced;
  }

  /** In step with the engine: synced since the event stream last (re)connected. */
  get inStep(): boolean {
    return this.syncedSinceConnect;
  }

  get size(): number {
    return this.containers.size;
  }

  all(): IterableIterator<TrackedContainer> {
    return this.containers.values();
  }

  get(id: string): TrackedContainer | undefined {
    return this.containers.get(id);
  }

  subscribe(events: EventStream): () => void {
    // Events may be lost until the next sync: out of step from the disconnect until then.
    const outOfStep = (): void => {
      this.syncedSinceConnect = false;
    };
    events.on('disconnected', outOfStep);
    const unsubscribe = events.subscribe({
      name: 'stats-exporter',
      types: ['container'],
      actions: INVENTORY_ACTIONS,
      onEvent: (event) => this.handleEvent(event),
      onSync: (snapshot) => this.handleSync(snapshot),
    });
    return () => {
      events.off('disconnected', outOfStep);
      unsubscribe();
    };
  }

  async handleEvent(event: DockerEvent): Promise<void> {
    const known = this.containers.get(event.id);
    switch (event.action) {
      case 'destroy':
        this.containers.delete(event.id);
        return;
      case 'oom':
        if (known) known.oomEvents += 1;
        return;
      case 'health_status':
        if (known && isHealthStatus(event.detail)) {
          known.health = event.detail;
          return;
        }
        break;
      case 'die': {
        await this.refresh(event.id);
        // The event carries the exit code even when the container restarts before we inspect it.
        const exitCode = Number(event.attributes.exitCode);
        const record = this.containers.get(event.id);
        if (record && event.attributes.exitCode !== undefined && Number.isInteger(exitCode))
          record.lastExitCode = exitCode;
        return;
      }
    }
    await this.refresh(event.id);
  }

  async handleSync(snapshot: SyncSnapshot): Promise<void> {
    await this.options.beforeSync?.();
    const listed = new Set(snapshot.containers.map((c) => c.Id));
    for (const id of this.containers.keys()) if (!listed.has(id)) this.containers.delete(id);
    // After a reconnect, events may have been lost: a running container may have restarted
    // (new pid, new start time) without any change the listing shows.
    const recheckRunning = snapshot.reason === 'reconnect';
    const stale = snapshot.containers
      .filter((c) => (recheckRunning && c.State === 'running') || this.needsRefresh(c))
      .map((c) => c.Id);
    await forEachLimited(stale, SYNC_CONCURRENCY, (id) => this.refresh(id));
    this.hasSynced = true;
    this.syncedSinceConnect = true;
    this.logger.debug('inventory synced', {
      reason: snapshot.reason,
      containers: this.containers.size,
      inspected: stale.length,
    });
  }

  /** Unknown, changed state or name, running without a located cgroup, or named by a guess (retry). */
  private needsRefresh(listed: Dockerode.ContainerInfo): boolean {
    const known = this.containers.get(listed.Id);
    if (!known) return true;
    if (known.state !== listed.State) return true;
    if (!listed.Names.some((n) => containerName(n) === known.name)) return true;
    return (known.state === 'running' && known.cgroup === undefined) || known.cgroupPathProvisional;
  }

  /** Re-inspects one container; a 404 means it is gone. */
  private async refresh(id: string): Promise<void> {
    let info: Dockerode.ContainerInspectInfo | undefined;
    try {
      info = await unlessGone(() => this.options.docker.getContainer(id).inspect());
    } catch (error) {
      this.options.errors.count(INVENTORY_ERRORS, 'inspect', id, error);
      this.logger.warn('cannot inspect container', { id, error: errorMessage(error) });
      return;
    }
    if (!info) {
      this.containers.delete(id);
      return;
    }
    this.containers.set(id, containerFromInspect(info, this.options.locate, this.containers.get(id)));
  }
}

function isHealthStatus(value: string): value is HealthStatus {
  return value === 'starting' || value === 'healthy' || value === 'unhealthy';
}

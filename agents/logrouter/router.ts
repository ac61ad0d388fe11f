/**
 * The core: routes (each a runner with its adapter) and, per route and matching container, a pipe
 * that reads that container's log stream. Driven by container events and sync snapshots.
 */
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import { unlessGone } from '../../shared/docker/not-found';
import type { DockerEvent } from '../../shared/docker/event';
import type { SyncSnapshot } from '../../shared/docker/event-stream';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { checkRoute, createAdapter } from './adapters';
import type { Adapter } from './adapters/adapter';
import { AttachCapture } from './attach-capture';
import type { CheckpointStore } from './checkpoint-store';
import { ContainerPipe } from './container-pipe';
import { optOutReason, routeMatcher, type ExcludedLabel } from './container-filter';
import { multilineSettings, type MultilineSettings } from './multiline';
import { tsFromMillis, type ContainerMeta, type LogSource } from './message';
import { RouteError, type RouteSpec } from './route';
import { jsonRouteOption, queueRouteOptions, routeOptionValues } from './route-options';
import { RouteRunner, type QueuePolicy } from './route-runner';
import { RouteStats, type RouteView } from './stats';
import { TemplateError } from './template';

export interface RouterSettings {
  docker: Pick<Dockerode, 'getContainer'>;
  store: CheckpointStore;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  queueSize: number;
  policy: QueuePolicy;
  batchSize: number;
  maxLineBytes: number;
  /** Containers found at start without a checkpoint: read their history (true) or start now. */
  backlog: boolean;
  excludeLabels: ExcludedLabel[];
  selfId: string | undefined;
}

interface ActiveRoute {
  spec: RouteSpec;
  runner: RouteRunner;
  matches: (container: ContainerMeta) => boolean;
  sources: LogSource[];
  parseJson: boolean;
  multiline: MultilineSettings | undefined;
  stats: RouteStats;
  pipes: Map<string, ContainerPipe>;
  /** Pipes of removed containers reading what the engine still sends. */
  leaving: Set<ContainerPipe>;
}

/** Output caught through attach for a container removed before its log was opened, at most. */
const CAPTURE_MAX_BYTES = 1 << 20;
/** A created container not started by then is read from its log alone when it starts. */
const CAPTURE_WAIT_MS = 60_000;

export class LogRouter {
  private readonly routes = new Map<string, ActiveRoute>();
  private readonly containers = new Map<string, ContainerMeta>();
  readonly lag = new Map<string, number>();
  synced = false;
  private readonly startListeners: Array<(container: ContainerMeta) => void> = [];

  constructor(private readonly settings: RouterSettings) {}

  /** Validates and starts a route; throws RouteError for a bad one. */
  addRoute(spec: RouteSpec): void {
    let queuePolicy: QueuePolicy, queueSize: number, multiline: MultilineSettings | undefined, adapter: Adapter;
    try {
      checkRoute(spec);
      const queue = routeOptionValues(queueRouteOptions, spec.options, {});
      queuePolicy = queue['queue.policy'] ?? this.settings.policy;
      queueSize = queue['queue.size'] ?? this.settings.queueSize;
      multiline = multilineSettings(spec.options);
      adapter = createAdapter({ spec, env: this.settings.env, stdout: this.settings.stdout });
    } catch (error) {
      // Name the route (without its query, which may hold API keys) so the user knows which one.
      if (error instanceof RouteError || error instanceof TemplateError)
        throw new RouteError(`route ${describeRoute(spec)}: ${error.message}`, error.message);
      throw error;
    }
    this.removeRoute(spec.id);
    const stats = new RouteStats();
    const runner = new RouteRunner({
      spec,
      adapter,
      queueSize,
      policy: queuePolicy,
      batchSize: this.settings.batchSize,
      logger: this.settings.logger,
      counters: {
        linesOut: (count, bytes) => {
          stats.linesOut += count;
          stats.bytesOut += bytes;
        },
        dropped: (count, reason) => (stats.dropped[reason] += count),
        retry: () => (stats.retries += 1),
        lag: (container, seconds) => this.lag.set(container.name, seconds),
      },
      afterBatch: () => this.settings.store.flush(),
    });
    const route: ActiveRoute = {
      spec,
      runner,
      matches: routeMatcher(spec.filters),
      sources: spec.filters.sources && spec.filters.sources.length > 0 ? spec.filters.sources : ['stdout', 'stderr'],
      parseJson: routeOptionValues(jsonRouteOption, spec.options, {}).json,
      multiline,
      stats,
      pipes: new Map(),
      leaving: new Set(),
    };
    this.routes.set(spec.id, route);
    this.settings.store.routeSince(spec.id);
    this.settings.store.flush();
    // A route added while running starts at "now" for containers already running.
    for (const container of this.containers.values())
      this.ensurePipe(route, container, this.synced ? 'now' : undefined);
  }

  removeRoute(id: string): boolean {
    const route = this.routes.get(id);
    if (!route) return false;
    this.routes.delete(id);
    for (const pipe of [...route.pipes.values(), ...route.leaving]) pipe.close();
    this.settings.store.unfollow(id);
    void route.runner.stop(0);
    return true;
  }

  routeSpecs(): RouteSpec[] {
    return [...this.routes.values()].map((r) => r.spec);
  }

  async onEvent(event: DockerEvent): Promise<void> {
    if (event.type !== 'container') return;
    if (event.action === 'create') await this.track(event.id, 'create', event);
    else if (event.action === 'start') {
      // Read at once with what create found; inspect (new PID) after.
      for (const route of this.routes.values()) route.pipes.get(event.id)?.wake();
      await this.track(event.id, 'run');
    } else if (event.action === 'destroy') this.forget(event.id);
    else if (event.action === 'rename') {
      const meta = this.containers.get(event.id);
      if (meta) meta.name = containerName(event.name);
    }
  }

  async onSync(snapshot: SyncSnapshot): Promise<void> {
    const present = new Set(snapshot.containers.map((c) => c.Id));
    for (const id of [...this.containers.keys()]) if (!present.has(id)) this.forget(id);
    // Stopped containers too when they may hold unread lines: read before, or created after a route first ran.
    const firstRun = Math.min(...[...this.routes.keys()].map((id) => this.settings.store.routeSince(id)));
    // Not a container that was created but not started: its start event wakes its reader.
    const unread = (c: Dockerode.ContainerInfo) =>
      c.State !== 'created' &&
      (c.State === 'running' || this.settings.store.knows(c.Id) || c.Created * 1000 >= firstRun - 1000);
    await Promise.all(snapshot.containers.filter(unread).map((c) => this.track(c.Id, 'run')));
    this.settings.store.retain(new Set(this.routes.keys()), present);
    this.settings.store.flush();
    this.synced = true;
  }

  views(): RouteView[] {
    return [...this.routes.values()].map((r) => ({
      id: r.spec.id,
      stats: r.stats,
      depth: r.runner.depth,
      reconnects: r.runner.options.adapter.reconnects,
      replayed: r.runner.options.adapter.replayed ?? 0,
      connected: r.runner.options.adapter.connected && r.runner.lastError === undefined,
      lastError: r.runner.lastError,
    }));
  }

  pipeCount(): number {
    let n = 0;
    for (const route of this.routes.values()) n += route.pipes.size;
    return n;
  }

  /** Called with each container once it runs (tracked after its start, or found running). */
  onContainerRunning(listener: (container: ContainerMeta) => void): void {
    this.startListeners.push(listener);
  }

  runningContainers(): ContainerMeta[] {
    return [...this.containers.values()];
  }

  async stop(deadlineMs: number): Promise<void> {
    for (const route of this.routes.values())
      for (const pipe of [...route.pipes.values(), ...route.leaving]) pipe.close();
    await Promise.all([...this.routes.values()].map((r) => r.runner.stop(deadlineMs)));
    this.settings.store.flush();
  }

  /**
   * Inspects a container and gives each matching route a reader. On `create` the readers wait for
   * the start, and an attach opened first catches the output of a container that may be gone
   * (docker run --rm) before its log can be read. Such a container may be gone before inspect
   * answers too: then the create event says who it is, so what attach caught is still shipped.
   */
  private async track(id: string, phase: 'create' | 'run', event?: DockerEvent): Promise<void> {
    const capture = phase === 'create' && this.routes.size > 0 ? await this.attach(id) : undefined;
    let info: Dockerode.ContainerInspectInfo | undefined;
    try {
      // After attach: a container still created then was attached to before it started.
      info = await unlessGone(() => this.settings.docker.getContainer(id).inspect());
    } catch (error) {
      // An engine too busy to answer in time: with a capture, the create event says enough.
      this.settings.logger.debug('cannot inspect container', { id, phase, error: errorMessage(error) });
      if (!(capture && event)) return;
    }
    if (!info && !(capture && event)) {
      // Created, run and removed before attach and inspect answered.
      if (event)
        this.settings.logger.warn('container removed before it could be attached to or inspected; its output is lost', {
          container: event.name,
          id,
        });
      else this.settings.logger.debug('container gone before it could be inspected', { id, phase });
      return;
    }
    const meta: ContainerMeta = info ? inspectedMeta(info) : eventMeta(event!, capture!.looksLikeTty);
    const reason = optOutReason(meta, info?.Config.Env ?? [], this.settings.excludeLabels, this.settings.selfId);
    if (reason) {
      capture?.close();
      if (!this.containers.has(id))
        this.settings.logger.debug('container logs not shipped', { container: meta.name, reason });
      return;
    }
    if (!info)
      this.settings.logger.warn(
        'container not inspected (removed, or the engine did not answer); read by its create event, its env not known',
        { container: meta.name, id },
      );
    if (capture) {
      // Attach came after the start if the container is no longer just created.
      capture.fromStart = info?.State.Status === 'created';
      capture.setTty(meta.tty);
    }
    const known = this.containers.get(id);
    if (known) {
      known.pid = meta.pid;
      known.name = meta.name;
    } else this.containers.set(id, meta);
    // Removed before inspect: created just now.
    const created = info ? Date.parse(info.Created) : Date.now();
    // Started before attach came (a quick docker run): read at once, not after this event's
    // handler, before the container may be removed.
    const started = capture !== undefined && info !== undefined && info.State.Status !== 'created';
    for (const route of this.routes.values()) {
      // Created after the route first ran (also while the agent was down): every line is new.
      const fresh = this.synced || created >= this.settings.store.routeSince(route.spec.id) - 1000;
      this.ensurePipe(route, known ?? meta, fresh || this.settings.backlog ? undefined : 'now', {
        capture,
        wake: phase === 'run' || started,
      });
    }
    // Attach came after the start: the lines written before it, from the log's replay.
    if (capture && started) await capture.attachHistory(this.settings.docker.getContainer(id));
    capture?.expireAfter(CAPTURE_WAIT_MS);
    if (phase === 'run' && info?.State.Running) for (const listener of this.startListeners) listener(known ?? meta);
  }

  private async attach(id: string): Promise<AttachCapture | undefined> {
    const capture = new AttachCapture(CAPTURE_MAX_BYTES);
    return (await capture.open(this.settings.docker.getContainer(id))) ? capture : undefined;
  }

  private ensurePipe(
    route: ActiveRoute,
    container: ContainerMeta,
    startAt: 'now' | undefined,
    how: { capture?: AttachCapture; wake: boolean } = { wake: true },
  ): void {
    const existing = route.pipes.get(container.id);
    if (existing) {
      if (how.wake) existing.wake();
      return;
    }
    if (!route.matches(container)) return;
    const store = this.settings.store;
    let checkpoint = store.get(route.spec.id, container.id);
    if (!checkpoint) {
      // Remembered at once, so that a restart before the first line does not move the start to "now".
      const start = { ts: startAt === 'now' ? tsFromMillis(Date.now()) : '0001-01-01T00:00:00.000000000Z', n: 0 };
      checkpoint = { stdout: start, stderr: start };
      store.set(route.spec.id, container.id, checkpoint);
      store.flush();
    }
    const stats = route.stats;
    const pipe = new ContainerPipe({
      docker: this.settings.docker,
      container,
      route: route.runner,
      checkpoint,
      checkpoints: store,
      routeId: route.spec.id,
      capture: how.capture,
      maxLineBytes: this.settings.maxLineBytes,
      sources: route.sources,
      parseJson: route.parseJson,
      multiline: route.multiline,
      logger: this.settings.logger,
      counters: {
        linesIn: (count, bytes) => {
          stats.linesIn += count;
          stats.bytesIn += bytes;
        },
        skipped: (reason) => (stats.skipped[reason] += 1),
        gap: () => (stats.gaps += 1),
        malformed: () => (stats.malformed += 1),
      },
    });
    route.pipes.set(container.id, pipe);
    if (how.wake) pipe.wake();
  }

  private forget(id: string): void {
    const meta = this.containers.get(id);
    this.containers.delete(id);
    if (meta) this.lag.delete(meta.name);
    for (const route of this.routes.values()) {
      const pipe = route.pipes.get(id);
      if (!pipe) continue;
      route.pipes.delete(id);
      // Not closed: lines of a removed container may still be on their way (docker run --rm).
      route.leaving.add(pipe);
      void pipe.finish().then(() => {
        route.leaving.delete(pipe);
        // Its checkpoint is of no use any more; without this the state file grows with every
        // removed container until the next full sync (never, with --resync-interval 0).
        if (this.routes.get(route.spec.id) === route) {
          this.settings.store.forget(route.spec.id, id);
          this.settings.store.flush();
        }
      });
    }
  }
}

function inspectedMeta(info: Dockerode.ContainerInspectInfo): ContainerMeta {
  return {
    id: info.Id,
    name: containerName(info.Name),
    image: info.Config.Image,
    hostname: info.Config.Hostname,
    pid: info.State.Pid,
    labels: info.Config.Labels ?? {},
    tty: info.Config.Tty === true,
  };
}

/**
 * Who a container was, from its create event: the engine puts its labels in the attributes, then
 * `name` and `image` over them. The hostname defaults to the short ID; the PID is gone.
 */
function eventMeta(event: DockerEvent, tty: boolean): ContainerMeta {
  const { name, image, ...labels } = event.attributes;
  return {
    id: event.id,
    name: containerName(name ?? event.name),
    image: image ?? event.image,
    hostname: event.id.slice(0, 12),
    pid: 0,
    labels,
    tty,
  };
}

/** `adapter://address/path (id)`: which route, without the query (API keys, passwords). */
function describeRoute(spec: RouteSpec): string {
  return `${spec.adapter}://${spec.address}${spec.path} (id ${spec.id})`;
}

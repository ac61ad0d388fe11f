/**
 * The one Docker event stream of a process.
 *
 * - Reads GET /events and normalizes each line (event.ts).
 * - Remembers the newest `timeNano`; when the stream breaks or dockerd restarts it reconnects
 *   forever with capped exponential backoff and jitter, and resumes with `since`, dropping the
 *   events it already delivered.
 * - After every (re)connect, and periodically, it hands subscribers a `sync` snapshot of all
 *   containers, so they converge even when the engine lost events (it keeps only 256).
 * - Delivers in order per container and concurrently across containers, each subscriber on its
 *   own queue so a slow agent never delays another.
 * - One container never holds back the others: every Docker request has a deadline
 *   (request-deadline.ts); a handler still running after `isolateAfterMs` no longer holds back
 *   syncs (its container's later events still wait for it) and is logged; a sync's per-container
 *   work goes on that container's queue (`SyncSnapshot.followUp`), not into the sync itself.
 * - `dispatchReadiness()` says not ready, naming the oldest waiting work, once anything has waited
 *   longer than `dispatchLagBoundMs`.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import split2 from 'split2';
import { errorMessage, silentLogger, type Logger } from '../ops/logger';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { detectEngine, engineFromHeaders, type EngineKind } from './engine-kind';
import { isExecEvent, MalformedEventError, orderingKey, parseEventLine, type DockerEvent } from './event';
import { matchesFilters, planFilters, type FilterPlan } from './event-filters';
import { openEventsStream } from './events-request';
import { HealthCheckClassifier } from './health-checks';
import { KeyedQueue } from './keyed-queue';
import { withDockerDeadline } from './request-deadline';
import { RecentEvents, type ReplayGuard } from './recent-events';
import { socketProblemHint } from './socket-hint';
import { compareTimeNano, nanoFromMillis, sinceParam } from './time';

export type SyncReason = 'connect' | 'reconnect' | 'periodic';

export interface SyncSnapshot {
  reason: SyncReason;
  /** Every container, running or not, as GET /containers/json?all=1 lists them. */
  containers: Dockerode.ContainerInfo[];
  /** Every image, when a subscriber asked for images. */
  images?: Dockerode.ImageInfo[];
  at: Date;
  /**
   * Queues work for one ordering key (`containerKey(id)`, or 'image') after this sync, in order
   * with that key's events: a container that does not answer then holds back only itself.
   * Set on every snapshot the stream delivers; absent on one built by hand.
   */
  followUp?(key: string, task: () => Promise<void>): void;
}

export interface EventSubscription {
  /** Names the subscriber in logs and metrics. */
  name: string;
  /** Event types to receive (container, image, network…); all when absent. */
  types?: readonly string[];
  /** Actions to receive (start, die, exec_start…); all when absent. */
  actions?: readonly string[];
  /** Also deliver the engine's health-check execs. Off by default: they fire every interval. */
  healthChecks?: boolean;
  /** Include the image list in sync snapshots. */
  images?: boolean;
  onEvent?(event: DockerEvent): void | Promise<void>;
  onSync?(snapshot: SyncSnapshot): void | Promise<void>;
}

/** Hooks for metrics; every one optional. */
export interface EventStreamObserver {
  eventReceived?(event: DockerEvent): void;
  connectedChanged?(connected: boolean): void;
  reconnecting?(): void;
  malformedEvent?(): void;
  duplicateSkipped?(): void;
  handlerFailed?(subscriber: string): void;
}

export interface EventStreamOptions {
  docker: Dockerode;
  logger?: Logger;
  observer?: EventStreamObserver;
  /** Filters, as `docker events --filter`: sent to the engine, or applied here where it cannot (event-filters.ts). */
  filters?: Record<string, string[]>;
  /** Start from this point (nanoseconds) instead of now. */
  since?: string;
  backoff?: BackoffPolicy;
  /** Emit a periodic sync this often; 0 turns it off. */
  resyncIntervalMs?: number;
  /** Ping the engine this often while connected, to notice a silent dead connection; 0 turns it off. */
  pingIntervalMs?: number;
  /** A connection up at least this long resets the reconnect backoff. */
  stableAfterMs?: number;
  /** Give up on opening the stream or listing containers after this long, and retry. */
  requestTimeoutMs?: number;
  random?: () => number;
  healthChecks?: HealthCheckClassifier;
  /** A handler running this long stops holding back syncs and shutdown (its key stays in order). */
  isolateAfterMs?: number;
  /** Work waiting longer than this makes `dispatchReadiness()` not ready. */
  dispatchLagBoundMs?: number;
  clock?: () => number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_STABLE_AFTER_MS = 10_000;
const DEFAULT_ISOLATE_AFTER_MS = 2_000;
const DEFAULT_DISPATCH_LAG_BOUND_MS = 60_000;

/** How far before the newest delivered event a resume starts, to catch events the engine published out of order. */
const RESUME_OVERLAP_MS = 1_000;

interface Subscriber {
  subscription: EventSubscription;
  queue: KeyedQueue;
}

export class EventStream extends EventEmitter {
  readonly stats = {
    sessions: 0,
    connections: 0,
    events: 0,
    reconnects: 0,
    duplicates: 0,
    malformed: 0,
    handlerErrors: 0,
  };

  private readonly docker: Dockerode;
  private readonly logger: Logger;
  private readonly observer: EventStreamObserver;
  private readonly healthChecks: HealthCheckClassifier;
  private readonly subscribers = new Set<Subscriber>();
  private readonly delivered = new RecentEvents(1024);
  private replays: ReplayGuard | undefined;
  private readonly stopping = new AbortController();
  private newestTimeNano: string | undefined;
  /** Where to resume when no event arrived yet: the engine's clock when the first stream opened. */
  private openedAtNano: string | undefined;
  private isConnected = false;
  private hasConnected = false;
  /** The engine of the current (or last) connection, and the filters as it takes them. */
  private engineKind: EngineKind | undefined;
  private filterPlan: FilterPlan = { server: {}, client: {} };
  private running: Promise<void> | undefined;

  constructor(private readonly options: EventStreamOptions) {
    super();
    this.docker = options.docker;
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer ?? {};
    this.healthChecks = options.healthChecks ?? HealthCheckClassifier.forDocker(options.docker);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Docker or Podman, once connected. */
  get engine(): EngineKind | undefined {
    return this.engineKind;
  }

  /** Pending deliveries per subscriber, for metrics. */
  backlog(): Array<{ subscriber: string; pending: number }> {
    return [...this.subscribers].map(({ subscription, queue }) => ({
      subscriber: subscription.name,
      pending: queue.pending,
    }));
  }

  /**
   * For /readyz: not ready once some delivery has waited longer than the lag bound, naming the
   * subscriber, the oldest waiting work and the handlers running longest (the likely cause).
   */
  dispatchReadiness(): { ready: boolean; detail: string } {
    const bound = this.options.dispatchLagBoundMs ?? DEFAULT_DISPATCH_LAG_BOUND_MS;
    const now = (this.options.clock ?? Date.now)();
    const late: string[] = [];
    for (const { subscription, queue } of this.subscribers) {
      const oldest = queue.oldest();
      if (!oldest || now - oldest.queuedAt <= bound) continue;
      const slow = queue
        .slowKeys(bound)
        .slice(0, 3)
        .map((k) => `${k.key} running ${Math.round(k.runningMs / 1000)} s`);
      late.push(
        `${subscription.name}: ${oldest.key ?? 'a sync'} waiting ${Math.round((now - oldest.queuedAt) / 1000)} s${slow.length > 0 ? ` (held by ${slow.join(', ')})` : ''}`,
      );
    }
    if (late.length > 0) return { ready: false, detail: `dispatch stuck beyond ${bound / 1000} s: ${late.join('; ')}` };
    return { ready: true, detail: 'dispatch keeping up' };
  }

  subscribe(subscription: EventSubscription): () => void {
    const subscriber: Subscriber = {
      subscription,
      queue: new KeyedQueue({
        onError: (error) => this.handlerFailed(subscription.name, error),
        isolateAfterMs: this.options.isolateAfterMs ?? DEFAULT_ISOLATE_AFTER_MS,
        onIsolated: (key, runningMs) =>
          this.logger.warn('event handler slow; other containers proceed without it', {
            subscriber: subscription.name,
            key,
            runningMs,
          }),
        clock: this.options.clock,
      }),
    };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops reading, then waits for every subscriber to finish what was already delivered. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await Promise.all([...this.subscribers].map(({ queue }) => queue.idle()));
  }

  /** Resolves once connected (now or later); rejects after timeoutMs. */
  async waitUntilConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new Error(`Docker event stream not connected after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    let lastHint: string | undefined;
    while (!this.stopping.signal.aborted) {
      const connectionsBefore = this.stats.connections;
      const began = Date.now();
      try {
        await this.session();
        lastHint = undefined;
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        // A missing or forbidden socket is said once with what to do; its retries go to debug.
        const hint = socketProblemHint(error);
        if (hint !== undefined && hint === lastHint)
          this.logger.debug('Docker event stream failed', { error: errorMessage(error), attempt: failures + 1 });
        else
          this.logger.warn('Docker event stream failed', {
            error: errorMessage(error),
            attempt: failures + 1,
            ...(hint === undefined ? {} : { hint }),
          });
        lastHint = hint;
      }
      if (this.stopping.signal.aborted) break;
      // A connection that stayed up a while resets the backoff however it ended. One dropped right
      // after its sync counts as a failure: an engine (or proxy) that accepts and closes at once
      // must not be hammered with full container listings.
      const stable = Date.now() - began >= (this.options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS);
      if (this.stats.connections > connectionsBefore && stable) failures = 0;
      const delay = backoffDelay(failures++, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
      this.logger.info('reconnecting to Docker', { inMs: delay });
      try {
        await sleep(delay, undefined, { signal: this.stopping.signal });
      } catch {
        break; // stopped while waiting
      }
      this.stats.reconnects += 1;
      this.observer.reconnecting?.();
    }
  }

  /** One connection: open, sync, read until the stream ends. Resolves on a clean end. */
  private async session(): Promise<void> {
    this.stats.sessions += 1;
    const request = new AbortController();
    const abortRequest = (): void => request.abort();
    this.stopping.signal.addEventListener('abort', abortRequest);
    const timers: NodeJS.Timeout[] = [];
    let response: IncomingMessage | undefined;
    // A blackholed TCP engine or a hung dockerd would otherwise stall the session forever.
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    try {
      this.replays = this.delivered.replayGuard();
      // Filters depend on the engine's dialect, so it is asked first (the socket may have changed hands).
      const filters =
        this.options.filters && Object.keys(this.options.filters).length > 0 ? this.options.filters : undefined;
      if (filters)
        this.filterPlan = planFilters(
          filters,
          await withTimeout(detectEngine(this.docker), timeoutMs, 'asking the engine its version'),
        );
      const opening = openEventsStream(this.docker, {
        since: this.resumeFrom(),
        filters: this.filterPlan.server,
        signal: request.signal,
      });
      response = await withTimeout(opening, timeoutMs, 'opening the event stream');
      this.engineKind = engineFromHeaders(response.headers);
      this.openedAtNano ??= engineClockNano(response);
      const ended = this.consume(response);
      ended.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
      await withTimeout(this.synchronize(this.hasConnected ? 'reconnect' : 'connect'), timeoutMs, 'listing containers');
      this.hasConnected = true;
      this.stats.connections += 1;
      this.setConnected(true);
      timers.push(...this.startTimers(response));
      await ended;
    } finally {
      timers.forEach(clearInterval);
      this.stopping.signal.removeEventListener('abort', abortRequest);
      request.abort();
      response?.destroy();
      this.setConnected(false);
    }
  }

  private resumeFrom(): string | undefined {
    const from = this.newestTimeNano ?? this.openedAtNano ?? this.options.since;
    if (from === undefined) return undefined;
    const overlap = BigInt(from) - BigInt(nanoFromMillis(RESUME_OVERLAP_MS));
    return sinceParam((overlap > 0n ? overlap : 0n).toString());
  }

  /** Reads lines until the stream ends (resolves) or fails (rejects). */
  private consume(response: IncomingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const lines = response.pipe(split2());
      lines.on('data', (line: string) => this.handleLine(line));
      response.on('error', reject);
      lines.on('error', reject);
      lines.on('end', resolve);
      response.on('close', () => (response.complete ? undefined : reject(new Error('Docker closed the event stream'))));
    });
  }

  private startTimers(response: IncomingMessage): NodeJS.Timeout[] {
    const timers: NodeJS.Timeout[] = [];
    const { resyncIntervalMs = 0, pingIntervalMs = 0 } = this.options;
    if (resyncIntervalMs > 0) {
      timers.push(
        setInterval(() => {
          this.synchronize('periodic').catch((error: unknown) =>
            this.logger.warn('periodic sync failed', { error: errorMessage(error) }),
          );
        }, resyncIntervalMs),
      );
    }
    if (pingIntervalMs > 0) {
      timers.push(
        setInterval(() => {
          withTimeout(this.docker.ping(), pingIntervalMs, 'ping').catch((error: unknown) => {
            response.destroy(new Error(`Docker ping failed: ${errorMessage(error)}`));
          });
        }, pingIntervalMs),
      );
    }
    timers.forEach((timer) => timer.unref());
    return timers;
  }

  private handleLine(line: string): void {
    if (line.trim() === '') return;
    let event: DockerEvent;
    try {
      event = parseEventLine(line, this.engineKind);
    } catch (error) {
      this.stats.malformed += 1;
      this.observer.malformedEvent?.();
      this.logger.warn('skipping malformed Docker event', {
        error: error instanceof MalformedEventError ? error.message : errorMessage(error),
      });
      return;
    }
    if (!matchesFilters(event, this.filterPlan.client)) return;
    if (this.replays?.isReplay(event)) {
      this.stats.duplicates += 1;
      this.observer.duplicateSkipped?.();
      return;
    }
    this.delivered.add(event);
    if (this.newestTimeNano === undefined || compareTimeNano(event.timeNano, this.newestTimeNano) > 0) {
      this.newestTimeNano = event.timeNano;
    }
    this.stats.events += 1;
    this.observer.eventReceived?.(event);
    this.healthChecks.observe(event);
    this.dispatch(event);
  }

  private dispatch(event: DockerEvent): void {
    let healthCheck: Promise<boolean> | undefined;
    const isHealthCheck = (): Promise<boolean> => (healthCheck ??= this.healthChecks.isHealthCheck(event));
    const key = orderingKey(event);
    for (const { subscription, queue } of this.subscribers) {
      if (!subscription.onEvent || !wants(subscription, event)) continue;
      queue.push(key, async () => {
        if (isExecEvent(event) && !subscription.healthChecks && (await isHealthCheck())) return;
        await subscription.onEvent?.(event);
      });
    }
  }

  private async synchronize(reason: SyncReason): Promise<void> {
    const session = this.stats.sessions;
    const withSync = [...this.subscribers].filter(({ subscription }) => subscription.onSync);
    const wantImages = withSync.some(({ subscription }) => subscription.images);
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const listing = withDockerDeadline(timeoutMs, () =>
      Promise.all([
        this.docker.listContainers({ all: true }),
        wantImages ? this.docker.listImages() : Promise.resolve(undefined),
      ]),
    ).then(([containers, images]) => ({ reason, containers, images, at: new Date() }));
    // The snapshot takes its place in each queue now, before the engine answers: events received
    // while it lists are newer than (or as new as) the snapshot, so they must come after it.
    for (const { subscription, queue } of withSync) {
      void queue.exclusive(async () => {
        const listed = await listing.catch(() => undefined);
        // A listing that outlived its connection (timed out) is stale; the next one replaces it.
        if (listed && session === this.stats.sessions)
          await subscription.onSync?.({ ...listed, followUp: (key, task) => void queue.push(key, task) });
      });
    }
    const snapshot = await listing;
    this.logger.debug('sync snapshot', { reason, containers: snapshot.containers.length });
    this.emit('sync', snapshot);
  }

  private setConnected(connected: boolean): void {
    if (this.isConnected === connected) return;
    this.isConnected = connected;
    this.observer.connectedChanged?.(connected);
    this.logger.info(connected ? 'connected to Docker' : 'disconnected from Docker');
    this.emit(connected ? 'connected' : 'disconnected');
  }

  private handlerFailed(subscriber: string, error: unknown): void {
    this.stats.handlerErrors += 1;
    this.observer.handlerFailed?.(subscriber);
    this.logger.error('event handler failed', { subscriber, error: errorMessage(error) });
  }
}

function wants(subscription: EventSubscription, event: DockerEvent): boolean {
  if (subscription.types && !subscription.types.includes(event.type)) return false;
  if (subscription.actions && !subscription.actions.includes(event.action)) return false;
  return true;
}

/** The engine's clock from the response's Date header, to the second (rounded down). */
function engineClockNano(response: IncomingMessage): string {
  const date = Date.parse(response.headers.date ?? '');
  return nanoFromMillis(Number.isNaN(date) ? Date.now() : date);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

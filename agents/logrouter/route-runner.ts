/**
 * One route at work: a bounded queue of messages and one sender that hands batches to the
 * adapter in order. A failed batch is retried with capped exponential backoff and jitter, forever.
 * Policy `block` (default) makes producers wait for room (Docker keeps the data meanwhile);
 * `drop` drops new messages while the queue is full and counts them. Each route has its own
 * queue and readers, so a slow or dead route never stalls another.
 */
import { backoffDelay, type BackoffPolicy } from '../../shared/docker/backoff';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { RetryLater, type Adapter } from './adapters/adapter';
import { tsMillis, type ContainerMeta, type LogMessage } from './message';
import type { RouteSpec } from './route';

export type QueuePolicy = 'block' | 'drop';

/** Log destinations come back quickly after a restart; waiting up to 30 s would only add lag. */
const ROUTE_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000, factor: 2 };

interface RouteCounters {
  linesOut(count: number, bytes: number): void;
  dropped(count: number, reason: 'queue_full' | 'rejected'): void;
  retry(): void;
  /** Seconds from the timestamp of a container's last delivered line to its delivery. */
  lag(container: ContainerMeta, seconds: number): void;
}

export interface RouteRunnerOptions {
  spec: RouteSpec;
  adapter: Adapter;
  queueSize: number;
  policy: QueuePolicy;
  batchSize: number;
  logger: Logger;
  counters: RouteCounters;
  /** Called right after every accepted batch's messages' `done` ran (to write checkpoints). */
  afterBatch(): void;
  random?: () => number;
}

export class RouteRunner {
  private queue: LogMessage[] = [];
  private head = 0;
  private waiters: Array<() => void> = [];
  private sending = false;
  private stopped = false;
  private failures = 0;
  private wake: (() => void) | undefined;
  lastError: string | undefined;

  constructor(readonly options: RouteRunnerOptions) {}

  get spec(): RouteSpec {
    return this.options.spec;
  }

  get depth(): number {
    return this.queue.length - this.head;
  }

  get full(): boolean {
    return this.depth >= this.options.queueSize;
  }

  /** Queues a message; false when it was dropped (policy drop, queue full). Never blocks. */
  push(message: LogMessage): boolean {
    if (this.full && this.options.policy === 'drop') {
      this.options.counters.dropped(1, 'queue_full');
      message.done();
      return false;
    }
    this.queue.push(message);
    if (!this.sending) {
      // Start after the current chunk of the log stream is parsed, so its lines go in one batch.
      this.sending = true;
      queueMicrotask(() => void this.run());
    }
    return true;
  }

  /** Resolves when the queue has room (at once unless it is full). */
  room(): Promise<void> {
    if (!this.full || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Sends what is queued (within `deadlineMs`), then closes the adapter. */
  async stop(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.depth > 0 && Date.now() < until && this.failures === 0) await new Promise((r) => setTimeout(r, 20));
    this.stopped = true;
    this.wake?.();
    for (const waiter of this.waiters.splice(0)) waiter();
    await this.options.adapter.close();
  }

  private async run(): Promise<void> {
    this.sending = true;
    try {
      while (!this.stopped && this.depth > 0) {
        const end = Math.min(this.queue.length, this.head + this.options.batchSize);
        const batch = this.queue.slice(this.head, end);
        await this.sendWithRetry(batch);
        if (this.stopped) return;
        this.head = end;
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        } else if (this.head > 4096) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (!this.full) for (const waiter of this.waiters.splice(0)) waiter();
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * The destination took `batch`: its messages are done and the checkpoint is written at once, in
   * the adapter's own turn when it can tell (a kill before the write sends the batch again), so
   * nothing else comes first: the lag, once per container of the batch, comes after.
   */
  private commit(batch: readonly LogMessage[]): void {
    for (const message of batch) message.done();
    this.options.afterBatch();
    const now = Date.now();
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!;
      if (batch[i + 1]?.container !== message.container)
        this.options.counters.lag(message.container, Math.max(0, (now - tsMillis(message.ts)) / 1000));
    }
  }

  /** Sends until the destination takes the batch (or the route stops). */
  private async sendWithRetry(batch: LogMessage[]): Promise<void> {
    let committed = false;
    const accepted = () => {
      if (committed) return;
      committed = true;
      this.commit(batch);
    };
    for (;;) {
      let waitMs: number | undefined;
      try {
        const outcome = await this.options.adapter.send(batch, accepted);
        const refused = outcome?.rejected ? (outcome.rejected.count ?? batch.length) : 0;
        if (outcome?.rejected) {
          this.options.logger.warn('route refused lines; dropped', {
            route: this.spec.id,
            lines: refused,
            reason: outcome.rejected.reason,
          });
          this.options.counters.dropped(refused, 'rejected');
        }
        if (refused < batch.length)
          this.options.counters.linesOut(
            batch.length - refused,
            batch.reduce((sum, m) => sum + m.data.length, 0),
          );
        if (this.failures > 0)
          this.options.logger.info('route delivers again', { route: this.spec.id, after: this.failures });
        this.failures = 0;
        this.lastError = undefined;
        accepted();
        return;
      } catch (error) {
        // Taken, then the connection failed: the batch is delivered (a replay may send it again).
        if (committed) return;
        this.failures += 1;
        this.lastError = errorMessage(error);
        this.options.counters.retry();
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.options.logger.warn('route cannot deliver; retrying', {
            route: this.spec.id,
            address: this.spec.address,
            attempt: this.failures,
            error: this.lastError,
          });
        }
        if (error instanceof RetryLater) waitMs = error.retryAfterMs;
      }
      const delay = Math.max(
        waitMs ?? 0,
        backoffDelay(this.failures - 1, ROUTE_BACKOFF, this.options.random ?? Math.random),
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.stopped) return;
    }
  }
}

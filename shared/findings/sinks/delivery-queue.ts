/**
 * Sends items to a remote sink one at a time, in order, retrying failures with capped backoff.
 * Bounded: when the sink stays down and the queue is full, the oldest item is dropped and
 * counted, so an outage never grows memory without limit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type BackoffPolicy } from '../../docker/backoff';
import { errorMessage, type Logger } from '../../ops/logger';

/** Thrown by a sender for an item that must not be retried (the sink refused it for good). */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

export interface DeliveryStats {
  sent: number;
  failedAttempts: number;
  rejected: number;
  dropped: number;
}

export class DeliveryQueue<T> {
  readonly stats: DeliveryStats = { sent: 0, failedAttempts: 0, rejected: 0, dropped: 0 };
  private readonly items: T[] = [];
  private draining: Promise<void> | undefined;
  /** The head item is being sent: it must not be dropped or shifted by anyone else. */
  private sending = false;
  private lastError: string | undefined;
  private readonly closing = new AbortController();

  constructor(
    private readonly name: string,
    private readonly send: (item: T) => Promise<void>,
    private readonly logger: Logger,
    private readonly capacity = 10_000,
    private readonly backoff: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2 },
  ) {}

  get pending(): number {
    return this.items.length;
  }

  /** Why the last attempt failed, while the sink is failing; undefined when healthy. */
  get failing(): string | undefined {
    return this.lastError;
  }

  push(item: T): void {
    if (this.items.length >= this.capacity) {
      this.stats.dropped += this.items.splice(this.sending ? 1 : 0, 1).length; // the oldest not in flight
    }
    this.items.push(item);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Waits until everything queued is sent, or until the deadline (even with a send hanging); then stops retrying. */
  async close(deadlineMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([this.draining, deadline]);
    clearTimeout(timer);
    this.closing.abort();
    if (this.items.length > 0)
      this.logger.warn('findings sink closed with items unsent', { sink: this.name, unsent: this.items.length });
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    while (this.items.length > 0 && !this.closing.signal.aborted) {
      try {
        this.sending = true;
        await this.send(this.items[0]!);
        this.items.shift();
        this.sending = false;
        this.stats.sent += 1;
        this.lastError = undefined;
        attempt = 0;
      } catch (error) {
        this.sending = false;
        if (error instanceof PermanentDeliveryError) {
          this.items.shift();
          this.stats.rejected += 1;
          this.logger.error('findings sink refused an item', { sink: this.name, error: error.message });
          continue;
        }
        this.stats.failedAttempts += 1;
        this.lastError = errorMessage(error);
        if (attempt === 0)
          this.logger.warn('findings sink failing, retrying', { sink: this.name, error: this.lastError });
        try {
          await sleep(backoffDelay(attempt++, this.backoff), undefined, { signal: this.closing.signal });
        } catch {
          return; // closing
        }
      }
    }
  }
}

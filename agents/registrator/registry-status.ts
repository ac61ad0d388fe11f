/**
 * Whether the registry answers, and while it does not, when it is tried again: one full
 * reconcile after a capped, growing delay, so nothing is lost while it is away and it is not
 * hammered meanwhile.
 */
import { backoffDelay } from '../../shared/docker/backoff';

const MAX_BACKOFF_MS = 30_000;

interface StatusOptions {
  /** The first delay; each outage in a row doubles it, up to 30 s. */
  retryIntervalMs: number;
  /** Tries again (a full reconcile). */
  retry(): void;
  /** Aborted at shutdown: no retry is pending or scheduled after it. */
  signal: AbortSignal;
}

export class RegistryStatus {
  private reachable = false;
  private lastError: string | undefined;
  private nextRetryAt: number | undefined;
  /** Outages since the last full reconcile that wrote everything: the backoff's step. */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StatusOptions) {
    options.signal.addEventListener('abort', () => clearTimeout(this.retryTimer), { once: true });
  }

  /** Whether the last call to the registry succeeded. */
  get up(): boolean {
    return this.reachable;
  }

  /** Why the last call failed, while the registry is away. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Why the registry at `where` is not usable yet, or undefined when it answers. */
  outage(where: string): string | undefined {
    if (this.reachable) return undefined;
    if (!this.lastError) return `waiting for the first reconcile with ${where}`;
    const retry = this.nextRetryAt
      ? `; retrying in ${Math.max(0, Math.round((this.nextRetryAt - Date.now()) / 1000))}s`
      : '';
    return `cannot reach ${where}: ${this.lastError}${retry}`;
  }

  /** A call succeeded. */
  answered(): void {
    this.reachable = true;
    this.lastError = undefined;
    this.nextRetryAt = undefined;
  }

  /** A call failed in a way that heals (unreachable, 5xx, 403 …): try again later. */
  failed(message: string): void {
    this.reachable = false;
    this.lastError = message;
    this.scheduleRetry();
  }

  /** A full reconcile wrote everything: the next outage starts again from the first delay. */
  recovered(): void {
    this.failures = 0;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.options.signal.aborted) return;
    const delay = backoffDelay(this.failures++, {
      initialMs: this.options.retryIntervalMs,
      maxMs: MAX_BACKOFF_MS,
      factor: 2,
    });
    this.nextRetryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.options.retry();
    }, delay);
    this.retryTimer.unref();
  }
}

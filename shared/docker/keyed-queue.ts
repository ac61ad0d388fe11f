/**
 * Runs tasks in order per key and concurrently across keys: a container's `die` is handled
 * before its next `start`, while other containers proceed in parallel.
 *
 * `exclusive` runs a task after everything queued so far and before anything queued later;
 * the event stream delivers `sync` snapshots that way.
 *
 * One key must never hold back the others: a keyed task that has run for `isolateAfterMs`
 * (say, its container does not answer) no longer holds back `exclusive` tasks or `idle()`. Its
 * key stays in order: the key's next task still waits for it. `onIsolated` reports it.
 */
export type Task = () => Promise<void> | void;

export interface KeyedQueueOptions {
  /** Receives what a task threw; the queue itself never rejects. */
  onError(error: unknown): void;
  /** Stop waiting for a keyed task at barriers after it has run this long; 0 waits forever. */
  isolateAfterMs?: number;
  onIsolated?(key: string, runningMs: number): void;
  clock?: () => number;
}

/** A task queued or running, for the age of the backlog. */
export interface PendingTask {
  /** Absent for an exclusive task. */
  key?: string;
  queuedAt: number;
  startedAt?: number;
}

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private barrier: Promise<void> = Promise.resolve();
  private readonly live = new Set<PendingTask>();
  /** When the running task of each key started. */
  private readonly runningSince = new Map<string, number>();
  private readonly options: KeyedQueueOptions;
  private readonly clock: () => number;

  constructor(options: KeyedQueueOptions | ((error: unknown) => void)) {
    this.options = typeof options === 'function' ? { onError: options } : options;
    this.clock = this.options.clock ?? Date.now;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.live.size;
  }

  /** The oldest task queued or running, if any. */
  oldest(): PendingTask | undefined {
    let oldest: PendingTask | undefined;
    for (const task of this.live) if (!oldest || task.queuedAt < oldest.queuedAt) oldest = task;
    return oldest;
  }

  /** Keys whose running task has run at least `minMs`, longest first. */
  slowKeys(minMs: number): Array<{ key: string; runningMs: number }> {
    const now = this.clock();
    return [...this.runningSince]
      .map(([key, since]) => ({ key, runningMs: now - since }))
      .filter((k) => k.runningMs >= minMs)
      .sort((a, b) => b.runningMs - a.runningMs);
  }

  push(key: string, task: Task): Promise<void> {
    const previous = this.tails.get(key);
    // The barrier passes an isolated key by; its next task must still come after it.
    const after = previous ? Promise.all([this.barrier, previous]).then(() => undefined) : this.barrier;
    const tail = this.run(after, task, key);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return tail;
  }

  exclusive(task: Task): Promise<void> {
    this.barrier = this.run(this.settledOrIsolated(), task);
    return this.barrier;
  }

  /** Resolves when everything queued so far has run, except isolated keys' work. */
  async idle(): Promise<void> {
    await this.settledOrIsolated();
  }

  private settledOrIsolated(): Promise<void> {
    const waits = [...this.tails].map(([key, tail]) => this.untilSettledOrIsolated(key, tail));
    return Promise.all([this.barrier, ...waits]).then(() => undefined);
  }

  private untilSettledOrIsolated(key: string, tail: Promise<void>): Promise<void> {
    const limit = this.options.isolateAfterMs ?? 0;
    if (limit <= 0) return tail;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        const since = this.runningSince.get(key);
        const running = since === undefined ? 0 : this.clock() - since;
        if (running >= limit) {
          this.options.onIsolated?.(key, running);
          resolve();
          return;
        }
        timer = setTimeout(check, limit - running);
        timer.unref();
      };
      void tail.then(() => {
        clearTimeout(timer);
        resolve();
      });
      check();
    });
  }

  private run(after: Promise<void>, task: Task, key?: string): Promise<void> {
    const record: PendingTask = { key, queuedAt: this.clock() };
    this.live.add(record);
    return after
      .then(() => {
        record.startedAt = this.clock();
        if (key !== undefined) this.runningSince.set(key, record.startedAt);
        return task();
      })
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.live.delete(record);
        if (key !== undefined) this.runningSince.delete(key); // the key's next task starts only after this
      });
  }
}

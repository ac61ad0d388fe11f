/**
 * Runs tasks in order per key and concurrently across keys: a container's `die` is handled
 * before its next `start`, while other containers proceed in parallel.
 *
 * `exclusive` runs a task after everything queued so far and before anything queued later;
 * the event stream delivers `sync` snapshots that way.
 */
export type Task = () => Promise<void> | void;

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private barrier: Promise<void> = Promise.resolve();
  private queued = 0;

  /** `onError` receives what a task threw; the queue itself never rejects. */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Tasks queued or running. */
  get pending(): number {
    return this.queued;
  }

  push(key: string, task: Task): Promise<void> {
    const tail = this.run(this.tails.get(key) ?? this.barrier, task);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return tail;
  }

  exclusive(task: Task): Promise<void> {
    const before = Promise.all([this.barrier, ...this.tails.values()]).then(() => undefined);
    this.tails.clear();
    this.barrier = this.run(before, task);
    return this.barrier;
  }

  /** Resolves when everything queued so far has run. */
  async idle(): Promise<void> {
    await Promise.all([this.barrier, ...this.tails.values()]);
  }

  private run(after: Promise<void>, task: Task): Promise<void> {
    this.queued += 1;
    return after
      .then(task)
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.queued -= 1;
      });
  }
}

/**
 * Graceful shutdown: on SIGTERM or SIGINT run the stop hooks (last registered first: stop intake,
 * flush queues and checkpoints, close servers) and exit 0; if they overrun the deadline, exit 1.
 */
import { errorMessage, type Logger } from './logger';

type Hook = { name: string; stop: () => Promise<void> | void };

export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private shuttingDown: Promise<number> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs: number,
  ) {}

  onShutdown(name: string, stop: () => Promise<void> | void): void {
    this.hooks.push({ name, stop });
  }

  /** Runs the hooks once; resolves to the exit code. */
  shutdown(reason: string): Promise<number> {
    this.shuttingDown ??= this.runHooks(reason);
    return this.shuttingDown;
  }

  /** Exits the process after shutdown on SIGTERM/SIGINT; a second signal exits at once. */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (this.shuttingDown) {
          this.logger.warn('second signal, exiting now', { signal });
          exit(1);
          return;
        }
        void this.shutdown(signal).then(exit);
      });
    }
  }

  private async runHooks(reason: string): Promise<number> {
    this.logger.info('shutting down', { reason, deadlineMs: this.deadlineMs });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.deadlineMs);
    });
    const work = (async () => {
      let failed = false;
      for (const hook of [...this.hooks].reverse()) {
        try {
          await hook.stop();
        } catch (error) {
          failed = true;
          this.logger.error('shutdown step failed', { step: hook.name, error: errorMessage(error) });
        }
      }
      return failed ? 'failed' : 'done';
    })();
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome === 'late')
      this.logger.error('shutdown deadline passed; exiting anyway', { deadlineMs: this.deadlineMs });
    else this.logger.info('stopped');
    return outcome === 'done' ? 0 : 1;
  }
}

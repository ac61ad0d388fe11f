/**
 * How collectors report a problem with one container without failing the scrape: they count it
 * by kind (the `quayside_stats_collector_errors_total` metric) and carry on.
 */

/**
 * Anything that counts into the error metric (a collector, the inventory, the layer walker): its
 * `collector` label and every kind it may count, declared where it is written. The metric starts
 * each declared kind at 0, so rate() and alerts see a 0 before the first error; the sink accepts
 * only declared kinds, so a kind counted but not declared is a compile error, not a series missing.
 */
export interface ErrorReporter<K extends string = string> {
  readonly name: string;
  readonly errorKinds: readonly K[];
}

export interface ErrorSink {
  count<K extends string>(reporter: ErrorReporter<K>, kind: NoInfer<K>, containerId: string, error: unknown): void;
}

/** A file read failed because the file (or its cgroup directory) does not exist. */
export function isMissingFile(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENODEV' || code === 'ESRCH';
}

export class ParseError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ParseError';
  }
}

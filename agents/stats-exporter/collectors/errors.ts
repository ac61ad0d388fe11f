/**
 * How collectors report a problem with one container without failing the scrape: they count it
 * by kind (the `quayside_stats_collector_errors_total` metric) and carry on.
 */

export const COLLECTOR_ERROR_KINDS = [
  /** The container's cgroup is gone: it stopped between the inventory and the scrape. */
  'container_gone',
  /** A cgroup file that should be there could not be read. */
  'cgroup_read',
  /** A cgroup or proc file had content we could not parse. */
  'parse',
  /** /proc/<pid>/net/dev could not be read (no host pid namespace, or the process ended). */
  'network',
  /** The Docker stats API failed, timed out, or answered without stats. */
  'docker_api',
  /** Inspecting a container for the inventory failed. */
  'inspect',
  /** Measuring a writable layer failed (no permission, or the Docker data root not mounted where the engine says). */
  'fs_usage',
] as const;
export type CollectorErrorKind = (typeof COLLECTOR_ERROR_KINDS)[number];

/** The kinds each reporter can count, so the error metric starts at 0 for exactly those. */
export const ERROR_KINDS_BY_REPORTER: Readonly<Record<string, readonly CollectorErrorKind[]>> = {
  cgroup: ['container_gone', 'cgroup_read', 'parse', 'network'],
  'docker-api': ['docker_api'],
  inventory: ['inspect'],
  fs_usage: ['fs_usage'],
};

export interface ErrorSink {
  count(collector: string, kind: CollectorErrorKind, containerId: string, error: unknown): void;
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

/**
 * Per route and container, the position of the last delivered line, kept in one JSON file in the
 * state folder. Written with temp file + fsync + rename, so a crash or a power cut leaves the old or
 * the new file, never half of one. `flush()` is synchronous and called right after a route's batch was accepted, to
 * keep the window between "delivered" and "remembered" as short as the two system calls.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamPositions } from './delivery-tracker';
import type { LogPosition } from './message';

interface FileShape {
  version: 1;
  routes: Record<string, Record<string, StreamPositions>>;
  /** When each route was first run (ms): containers created later are read from their first line. */
  routeSince?: Record<string, number>;
}

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

export class CheckpointStore {
  private readonly file: string;
  private data: FileShape = { version: 1, routes: {} };
  private dirty = false;
  /** Times the file was written, and when it last was (for the checkpoint-age metric). */
  writes = 0;
  lastWriteMs = 0;

  constructor(dir: string, private readonly onCorrupt: (message: string) => void = () => undefined) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'checkpoints.json');
    this.load();
  }

  get(route: string, container: string): StreamPositions | undefined {
    return this.data.routes[route]?.[container];
  }

  /**
   * When the route first ran, remembered across restarts: a container created after that (even
   * while the agent was down) has all its lines to ship; an older one predates the route.
   */
  routeSince(route: string): number {
    const since = (this.data.routeSince ??= {});
    if (since[route] === undefined) {
      since[route] = Date.now();
      this.dirty = true;
    }
    return since[route]!;
  }

  /** Whether any route has read this container before. */
  knows(container: string): boolean {
    return Object.values(this.data.routes).some((byContainer) => byContainer[container] !== undefined);
  }

  set(route: string, container: string, positions: StreamPositions): void {
    const copy: StreamPositions = {};
    if (positions.stdout) copy.stdout = { ...positions.stdout };
    if (positions.stderr) copy.stderr = { ...positions.stderr };
    (this.data.routes[route] ??= {})[container] = copy;
    this.dirty = true;
  }

  /** Forgets a removed container's position on a route. */
  forget(route: string, container: string): void {
    const byContainer = this.data.routes[route];
    if (byContainer?.[container] === undefined) return;
    delete byContainer[container];
    this.dirty = true;
  }

  /** Forgets containers that no longer exist, and routes that were deleted. */
  retain(routes: ReadonlySet<string>, containers: ReadonlySet<string> | undefined): void {
    for (const route of Object.keys(this.data.routes)) {
      if (!routes.has(route)) {
        delete this.data.routes[route];
        delete this.data.routeSince?.[route];
        this.dirty = true;
        continue;
      }
      if (!containers) continue;
      const byContainer = this.data.routes[route]!;
      for (const id of Object.keys(byContainer)) {
        if (!containers.has(id)) {
          delete byContainer[id];
          this.dirty = true;
        }
      }
    }
  }

  flush(): void {
    if (!this.dirty) return;
    const temp = `${this.file}.tmp`;
    // fsync before the rename: after a power cut the name must not point at a file whose bytes
    // never reached the disk (an empty file would mean starting without checkpoints).
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    this.dirty = false;
    this.writes += 1;
    this.lastWriteMs = Date.now();
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return; // first start
    }
    try {
      const parsed = JSON.parse(text) as FileShape;
      if (parsed?.version !== 1 || typeof parsed.routes !== 'object' || parsed.routes === null) throw new Error('unknown layout');
      for (const [route, ms] of Object.entries(parsed.routeSince ?? {})) if (Number.isFinite(ms)) (this.data.routeSince ??= {})[route] = ms;
      for (const [route, byContainer] of Object.entries(parsed.routes)) {
        for (const [id, positions] of Object.entries(byContainer ?? {})) {
          const valid: StreamPositions = {};
          for (const source of ['stdout', 'stderr'] as const) if (isPosition(positions?.[source])) valid[source] = positions[source];
          (this.data.routes[route] ??= {})[id] = valid;
        }
      }
    } catch (error) {
      // Never crash on a damaged file: start over (re-reading from "now") and say so.
      this.onCorrupt(`checkpoint file ${this.file} is unreadable (${(error as Error).message}); starting without checkpoints`);
    }
  }
}

function isPosition(value: LogPosition | undefined): value is LogPosition {
  return typeof value?.ts === 'string' && TS.test(value.ts) && Number.isInteger(value.n) && value.n >= 0;
}

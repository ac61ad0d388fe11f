/**
 * Per route and container, the position of the last delivered line, kept in the state folder.
 *
 * `flush()` runs right after every batch a destination accepted, and a `kill -9` between the two
 * sends that batch again; so the write must be as short as possible. A temp file + rename takes
 * about 200 µs here; overwriting a file in place (one pwrite into the page cache, which survives
 * the process) about 2 µs. So the state goes alternately into two slot files, `checkpoints.a` and
 * `checkpoints.b`, each record `<json>\n<sha1 of json>\n` with a sequence number: a write cut short
 * (power cut) fails its checksum and the other slot, one batch older, is used. A slot is fdatasync'ed
 * at most once a second, which bounds how old the checkpoint can be after a power cut (older means
 * lines sent again, never lost). `checkpoints.json` (temp + rename) of the first version is still read.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { StreamPositions } from './delivery-tracker';
import type { LogPosition } from './message';

interface FileShape {
  version: 1;
  /** Slot records only: which of the two is newer. */
  seq?: number;
  routes: Record<string, Record<string, StreamPositions>>;
  /** When each route was first run (ms): containers created later are read from their first line. */
  routeSince?: Record<string, number>;
}

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

const SLOTS = ['checkpoints.a', 'checkpoints.b'];
const SYNC_EVERY_MS = 1_000;

export class CheckpointStore {
  private readonly dir: string;
  private data: FileShape = { version: 1, routes: {} };
  private dirty = false;
  private seq = 0;
  /** The slot the next record goes to (never the one holding the newest record). */
  private next = 0;
  private fds: number[] | undefined;
  /** Each slot file's length (unknown until written): truncated only when a record is shorter. */
  private slotBytes = [Infinity, Infinity];
  private lastSyncMs = 0;
  /** Positions read from their pipe when written out, not copied at every delivered line. */
  private readonly live = new Map<string, Map<string, () => StreamPositions>>();
  /** Times the state was written, and when it last was (for the checkpoint-age metric). */
  writes = 0;
  lastWriteMs = 0;

  constructor(
    dir: string,
    private readonly onCorrupt: (message: string) => void = () => undefined,
  ) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
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

  /** Every position, by route and container (read-only; for tests and diagnostics). */
  all(): Readonly<Record<string, Readonly<Record<string, StreamPositions>>>> {
    return this.data.routes;
  }

  /** Whether any route has read this container before. */
  knows(container: string): boolean {
    return Object.values(this.data.routes).some((byContainer) => byContainer[container] !== undefined);
  }

  /**
   * From now on the position of `container` on `route` is whatever `read` says when the state is
   * written; `touch()` says it changed. One call per delivered line costs a flag, not a copy.
   */
  follow(route: string, container: string, read: () => StreamPositions): void {
    let byContainer = this.live.get(route);
    if (!byContainer) this.live.set(route, (byContainer = new Map()));
    byContainer.set(container, read);
  }

  /** The readers of a route stopped: keep their last positions, stop asking them. */
  unfollow(route: string): void {
    const byContainer = this.live.get(route);
    if (!byContainer) return;
    for (const [container, read] of byContainer) (this.data.routes[route] ??= {})[container] = read();
    this.live.delete(route);
    this.dirty = true;
  }

  touch(): void {
    this.dirty = true;
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
    this.live.get(route)?.delete(container);
    const byContainer = this.data.routes[route];
    if (byContainer?.[container] === undefined) return;
    delete byContainer[container];
    this.dirty = true;
  }

  /** Forgets containers that no longer exist, and routes that were deleted. */
  retain(routes: ReadonlySet<string>, containers: ReadonlySet<string> | undefined): void {
    for (const route of Object.keys(this.data.routes)) {
      if (!routes.has(route)) {
        this.live.delete(route);
        delete this.data.routes[route];
        delete this.data.routeSince?.[route];
        this.dirty = true;
        continue;
      }
      if (!containers) continue;
      const byContainer = this.data.routes[route]!;
      for (const id of Object.keys(byContainer)) {
        if (!containers.has(id)) {
          this.live.get(route)?.delete(id);
          delete byContainer[id];
          this.dirty = true;
        }
      }
    }
  }

  flush(): void {
    if (!this.dirty) return;
    for (const [route, byContainer] of this.live)
      for (const [container, read] of byContainer) (this.data.routes[route] ??= {})[container] = read();
    this.fds ??= SLOTS.map((name) => openSync(join(this.dir, name), constants.O_RDWR | constants.O_CREAT, 0o600));
    this.seq += 1;
    const json = JSON.stringify({ ...this.data, seq: this.seq });
    const record = Buffer.from(`${json}\n${sha1(json)}\n`);
    const fd = this.fds[this.next]!;
    writeSync(fd, record, 0, record.length, 0);
    // From here the checkpoint survives a crash of the process; the rest is housekeeping.
    this.dirty = false;
    // Bytes after the record's checksum line are never read: cut them only when it shrank (a
    // system call per batch otherwise).
    if (record.length < this.slotBytes[this.next]!) ftruncateSync(fd, record.length);
    this.slotBytes[this.next] = record.length;
    this.next = 1 - this.next;
    const now = Date.now();
    if (now - this.lastSyncMs >= SYNC_EVERY_MS) {
      fdatasyncSync(fd);
      this.lastSyncMs = now;
    }
    this.writes += 1;
    this.lastWriteMs = now;
  }

  close(): void {
    for (const fd of this.fds ?? []) closeSync(fd);
    this.fds = undefined;
    this.slotBytes = [Infinity, Infinity];
  }

  private load(): void {
    const found: Array<{ slot: number; state: FileShape }> = [];
    const damaged: string[] = [];
    SLOTS.forEach((name, slot) => {
      const text = readText(join(this.dir, name));
      if (text === undefined) return;
      const newline = text.indexOf('\n');
      const json = newline < 0 ? '' : text.slice(0, newline);
      const state = json !== '' && text.slice(newline + 1, newline + 41) === sha1(json) ? parseState(json) : undefined;
      if (state) found.push({ slot, state });
      else damaged.push(name);
    });
    found.sort((a, b) => (b.state.seq ?? 0) - (a.state.seq ?? 0));
    let best: FileShape | undefined = found[0]?.state;
    if (best) {
      this.seq = best.seq ?? 0;
      this.next = 1 - found[0]!.slot;
    } else {
      // The first version's single file.
      const legacy = join(this.dir, 'checkpoints.json');
      const text = readText(legacy);
      if (text !== undefined) {
        best = parseState(text);
        if (!best) damaged.push('checkpoints.json');
      }
    }
    if (best === undefined) {
      // Never crash on damaged files: start over (re-reading from "now") and say so.
      if (damaged.length > 0)
        this.onCorrupt(
          `checkpoint files ${damaged.map((d) => join(this.dir, d)).join(', ')} are unreadable; starting without checkpoints`,
        );
      return;
    }
    if (damaged.length > 0)
      this.onCorrupt(
        `checkpoint file ${join(this.dir, damaged[0]!)} is unreadable (a write cut short); using the other one`,
      );
    const { seq: _seq, ...state } = best;
    this.data = state;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** The valid positions of a state record; undefined when it is not one. */
function parseState(text: string): FileShape | undefined {
  let parsed: FileShape;
  try {
    parsed = JSON.parse(text) as FileShape;
  } catch {
    return undefined;
  }
  if (parsed?.version !== 1 || typeof parsed.routes !== 'object' || parsed.routes === null) return undefined;
  const state: FileShape = { version: 1, routes: {}, seq: typeof parsed.seq === 'number' ? parsed.seq : 0 };
  for (const [route, ms] of Object.entries(parsed.routeSince ?? {}))
    if (Number.isFinite(ms)) (state.routeSince ??= {})[route] = ms;
  for (const [route, byContainer] of Object.entries(parsed.routes)) {
    for (const [id, positions] of Object.entries(byContainer ?? {})) {
      const valid: StreamPositions = {};
      for (const source of ['stdout', 'stderr'] as const)
        if (isPosition(positions?.[source])) valid[source] = positions[source];
      (state.routes[route] ??= {})[id] = valid;
    }
  }
  return state;
}

function isPosition(value: LogPosition | undefined): value is LogPosition {
  return typeof value?.ts === 'string' && TS.test(value.ts) && Number.isInteger(value.n) && value.n >= 0;
}

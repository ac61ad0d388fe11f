/**
 * Exactly-once bookkeeping for one container on one route.
 *
 * Docker copies stdout and stderr in separate goroutines, so the log holds each stream in
 * timestamp order but may interleave the two out of order. The checkpoint is therefore kept per
 * stream: Docker's timestamp of the last delivered line plus how many lines stamped with it were
 * delivered (Podman stamps whole seconds: many lines share one). Re-reading starts just before
 * the older of the two (`resumeSinceOf`: every engine then sends that line again); per stream the
 * tracker skips every line older than that stream's checkpoint or than a line already read in this
 * stream (json-file rotation duplicates), and the first `n` lines stamped with the checkpoint's
 * timestamp. A checkpoint advances only over the prefix of lines the route accepted, so a crash
 * re-sends nothing accepted and loses nothing that was not.
 *
 * A stream that stays quiet (often stderr) must not hold the resume point back at its last line,
 * or at the epoch: every re-attach would read the whole log again. So its position follows the
 * other stream's, `QUIET_MARGIN_MS` behind: Docker stamps a line just before writing it, so a
 * quiet-stream line stamped earlier than that is in the log already (it would take a stall of the
 * engine's copier longer than the margin to break this). Once a read of a stopped container ended
 * cleanly, the log is complete, and every stream moves to the newest timestamp read.
 */
import { compareTs, type LogLine, type LogPosition, type LogSource } from './message';

/** How far behind the busy stream a quiet stream's position follows. */
export const QUIET_MARGIN_MS = 1_000;

/** The checkpoint of a container on a route: one position per stream. */
export type StreamPositions = Partial<Record<LogSource, LogPosition>>;

export type Admission = { skip: true; reason: 'older' | 'delivered' } | { skip: false; ticket: Ticket };

export interface Ticket {
  source: LogSource;
  /** Absent on the pieces of a split line before the last: the checkpoint cannot stop mid-line. */
  position?: LogPosition;
  done: boolean;
}

interface StreamState {
  committed: LogPosition | undefined;
  /** Lines read in this session stamped with the newest timestamp seen, to number them. */
  readTs: string | undefined;
  readN: number;
  inFlight: Ticket[];
  head: number;
  firstAfterResume: boolean;
}

export class DeliveryTracker {
  private readonly streams: Record<LogSource, StreamState>;
  /** The newest timestamp read in any stream (delivered or skipped). */
  private newestTs: string | undefined;
  /** True when the line at a checkpoint was no longer in the log on re-attach (rotated away). */
  gapDetected = false;
  /**
   * The last positions given out, until a line is done or the log settles: every checkpoint
   * write asks every container the route follows, most of them idle.
   */
  private saved: StreamPositions | undefined;

  /** `sources`: the streams this route reads; the others never hold the resume point back. */
  constructor(
    checkpoint: StreamPositions | undefined,
    /** A checkpoint moved (cheap, called per line): read `checkpoint` when writing them out. */
    private readonly onAdvance: () => void,
    private readonly sources: readonly LogSource[] = ['stdout', 'stderr'],
  ) {
    const state = (committed: LogPosition | undefined): StreamState => ({
      committed,
      readTs: undefined,
      readN: 0,
      inFlight: [],
      head: 0,
      firstAfterResume: true,
    });
    this.streams = { stdout: state(checkpoint?.stdout), stderr: state(checkpoint?.stderr) };
  }

  /** The positions to save; quiet streams catch up with the busy one first (see above). */
  get checkpoint(): StreamPositions {
    if (this.saved) return this.saved;
    this.catchUpQuiet();
    const positions: StreamPositions = {};
    if (this.streams.stdout.committed) positions.stdout = this.streams.stdout.committed;
    if (this.streams.stderr.committed) positions.stderr = this.streams.stderr.committed;
    this.saved = positions;
    return positions;
  }

  /** Where a new stream must start: the older of the read streams' checkpoints (undefined: the beginning). */
  get resumeTs(): string | undefined {
    return this.resumeTsOf(this.sources);
  }

  /** Where a new stream of `sources` alone must start (undefined: the beginning). */
  resumeTsOf(sources: readonly LogSource[]): string | undefined {
    let oldest: string | undefined;
    for (const source of sources) {
      const committed = this.streams[source].committed;
      if (!committed) return undefined;
      if (oldest === undefined || compareTs(committed.ts, oldest) < 0) oldest = committed.ts;
    }
    return oldest;
  }

  get pending(): number {
    return (
      this.streams.stdout.inFlight.length -
      this.streams.stdout.head +
      this.streams.stderr.inFlight.length -
      this.streams.stderr.head
    );
  }

  /** A new stream of `sources` starts: number their lines afresh (the engine replays from `since`). */
  resume(sources: readonly LogSource[] = this.sources): void {
    for (const source of sources) {
      const state = this.streams[source];
      state.readTs = undefined;
      state.readN = 0;
      state.firstAfterResume = true;
    }
  }

  /** Decides whether `line` is new; if so, gives the ticket to mark when the route accepted it. */
  admit(line: LogLine): Admission {
    const state = this.streams[line.source];
    const counts = line.part === undefined || line.part.last;
    if (this.newestTs === undefined || compareTs(line.ts, this.newestTs) > 0) this.newestTs = line.ts;
    let n = 0;
    if (counts) {
      // Older than a line already read in this stream: a json-file rotation duplicate.
      if (state.readTs !== undefined && compareTs(line.ts, state.readTs) < 0) return { skip: true, reason: 'older' };
      if (state.readTs === line.ts) state.readN += 1;
      else {
        state.readTs = line.ts;
        state.readN = 1;
      }
      n = state.readN;
    }
    const cp = state.committed;
    if (cp) {
      const order = compareTs(line.ts, cp.ts);
      // The re-read starts a little before the checkpoint: lines from there are not the first one after it.
      if (order < 0) return { skip: true, reason: 'older' };
      if (state.firstAfterResume && order > 0 && cp.n > 0) this.gapDetected = true;
      state.firstAfterResume = false;
      if (order === 0 && (!counts || n <= cp.n)) return { skip: true, reason: 'delivered' };
    }
    state.firstAfterResume = false;
    const ticket: Ticket = { source: line.source, position: counts ? { ts: line.ts, n } : undefined, done: false };
    state.inFlight.push(ticket);
    return { skip: false, ticket };
  }

  /** The route accepted (or dropped) the line of `ticket`. */
  done(ticket: Ticket): void {
    ticket.done = true;
    this.saved = undefined;
    const state = this.streams[ticket.source];
    let advanced: LogPosition | undefined;
    while (state.head < state.inFlight.length && state.inFlight[state.head]!.done) {
      const position = state.inFlight[state.head]!.position;
      if (position) advanced = position;
      state.head += 1;
    }
    if (state.head > 1024 && state.head * 2 > state.inFlight.length) {
      state.inFlight.splice(0, state.head);
      state.head = 0;
    }
    if (advanced) {
      state.committed = advanced;
      this.onAdvance();
    }
  }

  /**
   * A read of a stopped container ended cleanly: the log holds every line it will ever hold
   * before a restart (whose lines are stamped later), so quiet streams move up to the newest
   * timestamp read. Returns whether a checkpoint moved.
   */
  settle(): boolean {
    const newest = this.newestTs;
    if (newest === undefined) return false;
    let moved = false;
    for (const source of this.sources) moved = this.moveIfQuiet(source, newest) || moved;
    if (moved) {
      this.saved = undefined;
      this.onAdvance();
    }
    return moved;
  }

  /**
   * Lines from outside the log follow the log's last ones (the attach capture of a removed
   * container): per stream, the timestamp after which such a line counts as new, and no gap to
   * detect (nothing was re-read).
   */
  appendAfterLog(): Record<LogSource, string | undefined> {
    const after: Record<LogSource, string | undefined> = { stdout: undefined, stderr: undefined };
    for (const source of ['stdout', 'stderr'] as const) {
      const state = this.streams[source];
      state.firstAfterResume = false;
      let last = state.readTs;
      if (state.committed && (last === undefined || compareTs(state.committed.ts, last) > 0)) last = state.committed.ts;
      after[source] = last === undefined || last < '1970' ? undefined : tsPlusMillis(last, 1);
    }
    return after;
  }

  /**
   * The container's output was taken from outside its log: every stream moves to `ts`, a time
   * after the container stopped, so a read of its log after a restart never sends those lines
   * again, whatever timestamps the log gave them.
   */
  passAll(ts: string): void {
    let moved = false;
    for (const source of this.sources) moved = this.moveIfQuiet(source, ts) || moved;
    if (moved) {
      this.saved = undefined;
      this.onAdvance();
    }
  }

  /** Quiet streams follow the newest delivered line of the others, `QUIET_MARGIN_MS` behind. */
  private catchUpQuiet(): void {
    if (this.sources.length < 2) return;
    let newest: string | undefined;
    for (const source of this.sources) {
      const committed = this.streams[source].committed;
      if (committed && (newest === undefined || compareTs(committed.ts, newest) > 0)) newest = committed.ts;
    }
    if (newest === undefined) return;
    const quietUntil = tsPlusMillis(newest, -QUIET_MARGIN_MS);
    for (const source of this.sources) this.moveIfQuiet(source, quietUntil);
  }

  /** Moves a stream with nothing in flight forward to `ts` (nothing stamped `ts` counted as delivered). */
  private moveIfQuiet(source: LogSource, ts: string): boolean {
    const state = this.streams[source];
    if (state.head < state.inFlight.length) return false;
    if (state.committed && compareTs(state.committed.ts, ts) >= 0) return false;
    state.committed = { ts, n: 0 };
    return true;
  }
}

/** A Docker timestamp moved by whole milliseconds (the nanoseconds below the millisecond kept). */
function tsPlusMillis(ts: string, ms: number): string {
  if (ts < '1970') return ts;
  const shifted = new Date(Date.parse(ts) + ms).toISOString(); // …ss.mmmZ
  return `${shifted.slice(0, 23)}${ts.slice(23, 29)}Z`;
}

/**
 * Exactly-once bookkeeping for one container on one route.
 *
 * Docker copies stdout and stderr in separate goroutines, so the log holds each stream in
 * timestamp order but may interleave the two out of order. The checkpoint is therefore kept per
 * stream: Docker's timestamp of the last delivered line plus how many lines stamped with it were
 * delivered. Re-reading starts at `since=<the older of the two>` (inclusive); per stream the
 * tracker skips every line older than that stream's checkpoint or than a line already read in this
 * stream (json-file rotation duplicates), and the first `n` lines stamped with the checkpoint's
 * timestamp. A checkpoint advances only over the prefix of lines the route accepted, so a crash
 * re-sends nothing accepted and loses nothing that was not.
 */
import { compareTs, type LogLine, type LogPosition, type LogSource } from './message';

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
  /** True when the line at a checkpoint was no longer in the log on re-attach (rotated away). */
  gapDetected = false;

  constructor(checkpoint: StreamPositions | undefined, private readonly onAdvance: (positions: StreamPositions) => void) {
    const state = (committed: LogPosition | undefined): StreamState => ({ committed, readTs: undefined, readN: 0, inFlight: [], head: 0, firstAfterResume: true });
    this.streams = { stdout: state(checkpoint?.stdout), stderr: state(checkpoint?.stderr) };
  }

  get checkpoint(): StreamPositions {
    const positions: StreamPositions = {};
    if (this.streams.stdout.committed) positions.stdout = this.streams.stdout.committed;
    if (this.streams.stderr.committed) positions.stderr = this.streams.stderr.committed;
    return positions;
  }

  /** Where a new stream must start: the older of the streams' checkpoints (undefined: the beginning). */
  get resumeTs(): string | undefined {
    const { stdout, stderr } = this.streams;
    if (!stdout.committed || !stderr.committed) return stdout.committed?.ts ?? stderr.committed?.ts;
    return compareTs(stdout.committed.ts, stderr.committed.ts) <= 0 ? stdout.committed.ts : stderr.committed.ts;
  }

  get pending(): number {
    return this.streams.stdout.inFlight.length - this.streams.stdout.head + this.streams.stderr.inFlight.length - this.streams.stderr.head;
  }

  /** A new stream starts: number lines afresh (the engine replays from `since`). */
  resume(): void {
    for (const state of Object.values(this.streams)) {
      state.readTs = undefined;
      state.readN = 0;
      state.firstAfterResume = true;
    }
  }

  /** Decides whether `line` is new; if so, gives the ticket to mark when the route accepted it. */
  admit(line: LogLine): Admission {
    const state = this.streams[line.source];
    const counts = line.part === undefined || line.part.last;
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
    const firstLine = state.firstAfterResume;
    state.firstAfterResume = false;
    if (cp) {
      const order = compareTs(line.ts, cp.ts);
      if (order < 0) return { skip: true, reason: 'older' };
      if (firstLine && order > 0 && cp.n > 0) this.gapDetected = true;
      if (order === 0 && (!counts || n <= cp.n)) return { skip: true, reason: 'delivered' };
    }
    const ticket: Ticket = { source: line.source, position: counts ? { ts: line.ts, n } : undefined, done: false };
    state.inFlight.push(ticket);
    return { skip: false, ticket };
  }

  /** The route accepted (or dropped) the line of `ticket`. */
  done(ticket: Ticket): void {
    ticket.done = true;
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
      this.onAdvance(this.checkpoint);
    }
  }
}

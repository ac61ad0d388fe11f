/**
 * Exactly-once bookkeeping for one container on one route.
 *
 * The checkpoint is Docker's timestamp of the last delivered line plus how many lines stamped
 * with it were delivered. Re-reading starts at `since=<ts>` (inclusive), so the tracker skips
 * every line older than the checkpoint (this also drops json-file rotation duplicates) and the
 * first `n` lines stamped `ts`. Lines are then handed out in order; the checkpoint advances only
 * over the prefix of lines the route has accepted, so a crash re-sends nothing accepted and
 * loses nothing that was not.
 */
import { compareTs, type LogLine, type LogPosition } from './message';

export type Admission = { skip: true; reason: 'older' | 'delivered' } | { skip: false; ticket: Ticket };

export interface Ticket {
  /** Absent on the pieces of a split line before the last: the checkpoint cannot stop mid-line. */
  position?: LogPosition;
  done: boolean;
}

export class DeliveryTracker {
  private committed: LogPosition | undefined;
  /** Lines read in this session stamped with the newest timestamp seen, to number them. */
  private readTs: string | undefined;
  private readN = 0;
  private readonly inFlight: Ticket[] = [];
  private head = 0;
  private firstAfterResume = true;
  /** True when the line at the checkpoint was no longer in the log on re-attach (rotated away). */
  gapDetected = false;

  constructor(checkpoint: LogPosition | undefined, private readonly onAdvance: (position: LogPosition) => void) {
    this.committed = checkpoint;
  }

  get checkpoint(): LogPosition | undefined {
    return this.committed;
  }

  get pending(): number {
    return this.inFlight.length - this.head;
  }

  /** A new stream starts: number lines afresh (the engine replays from `since`). */
  resume(): void {
    this.readTs = undefined;
    this.readN = 0;
    this.firstAfterResume = true;
  }

  /** Decides whether `line` is new; if so, gives the ticket to mark when the route accepted it. */
  admit(line: LogLine): Admission {
    const counts = line.part === undefined || line.part.last;
    let n = 0;
    if (counts) {
      // Older than a line already read in this stream: a json-file rotation duplicate.
      if (this.readTs !== undefined && compareTs(line.ts, this.readTs) < 0) return { skip: true, reason: 'older' };
      if (this.readTs === line.ts) this.readN += 1;
      else {
        this.readTs = line.ts;
        this.readN = 1;
      }
      n = this.readN;
    }
    const cp = this.committed;
    const firstLine = this.firstAfterResume;
    this.firstAfterResume = false;
    if (cp) {
      const order = compareTs(line.ts, cp.ts);
      if (order < 0) return { skip: true, reason: 'older' };
      if (firstLine && order > 0 && cp.n > 0) this.gapDetected = true;
      if (order === 0 && (!counts || n <= cp.n)) return { skip: true, reason: 'delivered' };
    }
    const ticket: Ticket = { position: counts ? { ts: line.ts, n } : undefined, done: false };
    this.inFlight.push(ticket);
    return { skip: false, ticket };
  }

  /** The route accepted (or dropped) the line of `ticket`. */
  done(ticket: Ticket): void {
    ticket.done = true;
    let advanced: LogPosition | undefined;
    while (this.head < this.inFlight.length && this.inFlight[this.head]!.done) {
      const position = this.inFlight[this.head]!.position;
      if (position) advanced = position;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
    if (advanced) {
      this.committed = advanced;
      this.onAdvance(advanced);
    }
  }
}

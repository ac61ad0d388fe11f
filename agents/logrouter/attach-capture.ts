/**
 * A container's output through `attach`, opened on `create` (as `docker run` itself does): the
 * safety net for a container removed (`docker run --rm`) before its log could be read to the
 * end. The log stream stays the source of truth; the capture gives what it can no longer give:
 * all of a container removed before its log could be opened, or the last lines of one whose log
 * stream ended at its exit without them (Docker 20.10 does that to a stream opened just before
 * the exit) and that was removed before it could be read again.
 *
 * Attach streams only (`logs=0`): the engine hangs the stream on the container's output before
 * it replays the log, so with the replay the lines written in between come twice (seen on Docker
 * 20.10), and nothing tells where the replay ends. Without it, per stream the capture is the log's
 * lines from the moment attach came, in the log's order (the engine copies each write to both):
 * all of them when attach came before the start (`fromStart`), else the last ones from some line
 * on. A stopped container's log can still be replayed alone (`open(…, 'replay')`).
 *
 * The engine writes to an attached client before it goes on, so the capture is read at once and
 * never paused. It keeps the newest `maxBytes` of the output (a log stream lacks its end, not its
 * start) as the bytes came, with the time they came (attach has no timestamps), and counts lines
 * as they pass; lines are made only when a reader needs them.
 */
import type Dockerode from 'dockerode';
import { tsFromMillis, type LogSource } from './message';
import { OutputRing } from './output-ring';

/** What the capture holds once the container's output ended. */
export interface CapturedLines {
  /** Its lines in the logs API's format (`timestamps=1`), so the same LogParser reads them. */
  data: Buffer;
  /** Per stream, the number in the container's output of the first line in `data` (lines before it were given up). */
  firstLine: Record<LogSource, number>;
  /** False when attach came after the start: the lines start somewhere in the output, not at its first. */
  fromStart: boolean;
  /** False when there is nothing to read: the capture was given up. */
  usable: boolean;
}

type AttachStream = NodeJS.ReadableStream & { destroy(): void };

interface CapturedLine {
  body: Buffer;
  ts: string;
}

const ATTACH_ERROR = Buffer.from('Error attaching: ');
const STREAM_OF_FRAME: Record<number, LogSource | undefined> = { 1: 'stdout', 2: 'stderr' };

export class AttachCapture {
  private rings: Record<LogSource, OutputRing>;
  private readonly holders = new Set<object>();
  private stream: AttachStream | undefined;
  private readonly frames = new FrameSplitter();
  private closed = false;
  /** Given up (a container that ran long enough for its log): nothing to fill in from. */
  private dropped = false;
  /** The attach stream ended: the container exited (or the capture was closed). */
  private outputEnded = false;
  private endedResolve!: () => void;
  private readonly ended = new Promise<void>((resolve) => (this.endedResolve = resolve));
  private tty = false;
  /** Bytes that came before inspect said whether the container has a TTY (frames or raw bytes). */
  private raw: Buffer[] | undefined = [];
  private rawBytes = 0;
  private keepTimer: NodeJS.Timeout | undefined;
  private replaying = false;
  /** A second attach, with the log's replay, for a capture that came after the start. */
  private history: AttachCapture | undefined;
  /** Set by the caller once it knows whether the container had started when attach began. */
  fromStart = true;

  constructor(private readonly maxBytes: number) {
    this.rings = { stdout: new OutputRing(maxBytes), stderr: new OutputRing(maxBytes) };
  }

  /**
   * Attaches to the container's stdout and stderr; false when the engine refused. `replay`: the
   * engine's replay of the log, alone: only for a container that has stopped, since the engine
   * also hangs a pipe on the container's output that such an attach never reads (a container
   * still writing would block on it). `history`: the replay, then the stream.
   */
  async open(
    container: Pick<Dockerode.Container, 'attach'>,
    what: 'stream' | 'replay' | 'history' = 'stream',
  ): Promise<boolean> {
    try {
      this.replaying = what === 'replay';
      const stream = (await container.attach({
        stream: what !== 'replay',
        logs: what !== 'stream',
        stdout: true,
        stderr: true,
      })) as unknown as AttachStream;
      if (this.closed) {
        stream.destroy();
        return false;
      }
      this.stream = stream;
      stream.on('data', (chunk: Buffer) => this.take(chunk));
      const end = () => {
        this.outputEnded = true;
        this.endedResolve();
      };
      stream.on('end', end);
      stream.on('close', end);
      stream.on('error', end);
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  /**
   * Whether the container has a TTY (known after inspect): raw bytes rather than frames. Bytes
   * that came before are sorted now.
   */
  setTty(tty: boolean): void {
    this.tty = tty;
    const pending = this.raw;
    this.raw = undefined;
    for (const chunk of pending ?? []) this.sort(chunk, tsFromMillis(Date.now()));
  }

  /**
   * Whether the bytes so far are a TTY's raw output rather than attach frames (which start with
   * stream type 0-2 and three zero bytes): for a container gone before inspect said.
   */
  get looksLikeTty(): boolean {
    // No byte yet: frames (the default of `docker run` without -t).
    const first = Buffer.concat((this.raw ?? []).slice(0, 4)).subarray(0, 4);
    if (first.length < 4) return false;
    return !(first[0]! <= 2 && first[1] === 0 && first[2] === 0 && first[3] === 0);
  }

  /** Not given up: it may still hold what a reader lacks. */
  get usable(): boolean {
    return !this.dropped;
  }

  /** A route's reader that may still need the capture. */
  hold(holder: object): void {
    this.holders.add(holder);
  }

  /** That reader is done with it (read to the end, or stopped): once no one holds it, it closes. */
  release(holder: object): void {
    this.holders.delete(holder);
    if (this.holders.size === 0) this.close();
  }

  /**
   * Gives the capture up if no reader opened the log by then and the container has not ended (its
   * readers still hold it): a container left created keeps no connection open. The log alone is
   * read when it starts.
   */
  expireAfter(ms: number): void {
    if (this.holders.size === 0) {
      this.close();
      return;
    }
    const timer = setTimeout(() => {
      if (!this.keepTimer && !this.outputEnded) this.giveUp();
    }, ms);
    timer.unref();
    void this.ended.then(() => clearTimeout(timer));
  }

  /**
   * A reader opened the log. A container still running `ms` later has a log stream that does not
   * end before its lines: the capture (a second copy of its output) is given up then.
   */
  keepFor(ms: number): void {
    if (this.keepTimer || this.closed) return;
    this.keepTimer = setTimeout(() => {
      if (!this.outputEnded) this.giveUp();
    }, ms);
    this.keepTimer.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keepTimer);
    this.stream?.destroy();
    this.endedResolve();
    if (this.dropped) this.history?.giveUp();
  }

  /**
   * Every line kept, once the container's output ended (or `graceMs` passed: attach to a
   * container that exits as it comes may stay open), each stamped with the time it came.
   */
  async lines(graceMs: number): Promise<CapturedLines> {
    await this.outputEnd(graceMs);
    const lines = { stdout: this.linesOf('stdout'), stderr: this.linesOf('stderr') };
    let firstLine = { stdout: this.firstLineOf('stdout'), stderr: this.firstLineOf('stderr') };
    let fromStart = this.fromStart;
    const history = !fromStart && !this.dropped ? this.history : undefined;
    if (history && (await history.outputEnd(graceMs), !history.dropped)) {
      const stdout = joinHistory(history.linesOf('stdout'), lines.stdout);
      const stderr = joinHistory(history.linesOf('stderr'), lines.stderr);
      if (stdout && stderr) {
        Object.assign(lines, { stdout, stderr });
        firstLine = { stdout: history.firstLineOf('stdout'), stderr: history.firstLineOf('stderr') };
        fromStart = true;
      }
    }
    const frames = (source: LogSource) =>
      lines[source].flatMap((line) => logFrames(source, line.ts, line.body, this.tty));
    return {
      data: Buffer.concat(this.dropped ? [] : [...frames('stdout'), ...frames('stderr')]),
      firstLine,
      fromStart,
      usable: !this.dropped,
    };
  }

  /**
   * Attach came after the start: attach once more, with the log's replay (`logs=1`), for the lines
   * written before (see `joinHistory`).
   */
  async attachHistory(container: Pick<Dockerode.Container, 'attach'>): Promise<void> {
    const history = new AttachCapture(this.maxBytes);
    if (!(await history.open(container, 'history'))) return;
    history.setTty(this.tty);
    this.history = history;
    if (this.closed) history.close();
  }

  private take(chunk: Buffer): void {
    if (this.dropped) return;
    if (this.raw) {
      // The TTY setting is not known yet (inspect runs after attach): keep the bytes as they came.
      this.raw.push(chunk);
      this.rawBytes += chunk.length;
      if (this.rawBytes > this.maxBytes) this.giveUp();
      return;
    }
    this.sort(chunk, tsFromMillis(Date.now()));
  }

  /** Splits attach output into each stream's bytes (all stdout with a TTY) and keeps them. */
  private sort(chunk: Buffer, ts: string): void {
    if (this.tty) this.keep('stdout', chunk, ts);
    else for (const [type, payload] of this.frames.split(chunk)) this.keep(type, payload, ts);
  }

  private keep(source: LogSource, bytes: Buffer, ts: string): void {
    if (!this.dropped) this.rings[source].append(bytes, ts);
  }

  /** Waits until the output ended or `graceMs` passed, then stops reading it. */
  private async outputEnd(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.close();
    if (this.raw) this.setTty(this.tty);
    if (this.replaying && this.replayFailed()) this.giveUp();
  }

  /** The number in the output of `source`'s first kept line. */
  private firstLineOf(source: LogSource): number {
    return this.rings[source].firstLine;
  }

  /** `source`'s kept lines (not one whose beginning was given up), each with the time it came. */
  private linesOf(source: LogSource): CapturedLine[] {
    if (this.dropped) return [];
    const lines: CapturedLine[] = [];
    let pending: Buffer[] = [];
    let cutHead = this.rings[source].startsCut;
    let lastTs = '';
    const emit = (body: Buffer, ts: string) => {
      if (!cutHead) lines.push({ body, ts });
      cutHead = false;
    };
    for (const segment of this.rings[source].kept()) {
      lastTs = segment.ts;
      let start = 0;
      for (let newline = segment.bytes.indexOf(0x0a); newline >= 0; newline = segment.bytes.indexOf(0x0a, start)) {
        pending.push(segment.bytes.subarray(start, newline + 1));
        emit(Buffer.concat(pending), segment.ts);
        pending = [];
        start = newline + 1;
      }
      if (start < segment.bytes.length) pending.push(segment.bytes.subarray(start));
    }
    // A last line without newline (the container ended mid-line): the log has it as a line too.
    if (pending.length > 0) emit(Buffer.concat(pending), lastTs);
    return lines;
  }

  /**
   * The engine could not replay the log (its file already removed) and said so in the output
   * itself, as one stdout line: `Error attaching: open …-json.log: no such file or directory`.
   * (A container whose whole output is that one line is taken for it.)
   */
  private replayFailed(): boolean {
    const output = Buffer.concat([...this.rings.stdout.kept()].map((block) => block.bytes));
    return (
      this.rings.stderr.size === 0 &&
      output.subarray(0, ATTACH_ERROR.length).equals(ATTACH_ERROR) &&
      output.indexOf(0x0a) === output.length - 1
    );
  }

  /** Given up: no copy of the output is kept any more, nor read. */
  private giveUp(): void {
    this.dropped = true;
    this.history?.giveUp();
    this.rings = { stdout: new OutputRing(0), stderr: new OutputRing(0) };
    this.raw = undefined;
    this.close();
  }
}

/** Attach's multiplexed frames (8-byte header: stream type, 0, 0, 0, length) → each stream's bytes, at any chunk cut. */
class FrameSplitter {
  private header = Buffer.alloc(0);
  private frameLeft = 0;
  private frameType = 0;

  *split(chunk: Buffer): Generator<[LogSource, Buffer]> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.frameLeft === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
        offset += Math.min(need, chunk.length - offset);
        if (this.header.length < 8) return;
        this.frameType = this.header[0]!;
        this.frameLeft = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.frameLeft, chunk.length - offset);
      const source = STREAM_OF_FRAME[this.frameType];
      if (source) yield [source, chunk.subarray(offset, offset + take)];
      offset += take;
      this.frameLeft -= take;
    }
  }
}

/** The log driver's cut for a line without newline; the LogParser joins such pieces again. */
const PIECE = 16_384;

/**
 * One line as the logs API sends it with timestamps: `ts line` per piece of at most 16 KiB, as
 * the log driver stores it (the last piece ends with the newline, if the line has one); each in
 * a frame of its stream, or raw with a TTY.
 */
function logFrames(source: LogSource, ts: string, line: Buffer, tty: boolean): Buffer[] {
  const frames: Buffer[] = [];
  for (let start = 0; start < line.length; start += PIECE) {
    const payload = Buffer.concat([Buffer.from(`${ts} `), line.subarray(start, start + PIECE)]);
    if (tty) {
      frames.push(payload);
      continue;
    }
    const header = Buffer.alloc(8);
    header[0] = source === 'stdout' ? 1 : 2;
    header.writeUInt32BE(payload.length, 4);
    frames.push(header, payload);
  }
  return frames;
}

/**
 * The whole output of a stream from a capture that came after the start (`late`: the output from
 * some line on, exactly) and the history attach opened after it (the engine hangs its stream on
 * the output before it replays the log, so the history is the log's first lines, then again some
 * of them and the rest). The lines before `late`'s first are the history's up to its first line
 * equal to `late`'s first: never past where `late` starts, so never a line twice (a repeated line
 * may make it stop early: lines lost). Undefined when the history has no such line.
 */
function joinHistory(history: CapturedLine[], late: CapturedLine[]): CapturedLine[] | undefined {
  if (late.length === 0) return history;
  const first = late[0]!.body;
  const at = history.findIndex((line) => line.body.equals(first));
  return at < 0 ? undefined : [...history.slice(0, at), ...late];
}

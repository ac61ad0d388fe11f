/**
 * A container's output from before it starts, through `attach` (opened on `create`, as `docker
 * run` itself does): the safety net for a container removed (`docker run --rm`) before its log
 * could be opened. The log stream stays the source of truth; once every route opened it, the
 * capture is closed. If the container is gone first, a route reads the capture instead.
 *
 * The engine writes to an attached client before it goes on, so the capture is read at once and
 * never paused; what exceeds `maxBytes` is counted, not kept. Attach has no timestamps: each
 * line gets the time it arrived. The bytes are kept in the logs API's format (`timestamps=1`),
 * so the same LogParser reads them.
 */
import type Dockerode from 'dockerode';
import { tsFromMillis } from './message';

export interface CaptureOutput {
  /** The output as the logs API would send it with `timestamps=1`. */
  data: Buffer;
  /** Bytes that did not fit. */
  lostBytes: number;
  /** False when the capture may have missed the start (the container ran before attach). */
  fromStart: boolean;
}

type AttachStream = NodeJS.ReadableStream & { destroy(): void };

export class AttachCapture {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private lostBytes = 0;
  private readonly holders = new Set<object>();
  private stream: AttachStream | undefined;
  private readonly converter = new AttachConverter();
  private closed = false;
  private endedResolve!: () => void;
  private readonly ended = new Promise<void>((resolve) => (this.endedResolve = resolve));
  private tty = false;
  private raw: Buffer[] = [];
  /** The TTY setting is known (inspect answered), so bytes can be converted as they come. */
  private ready = false;
  /** Bytes the engine sent. */
  private received = 0;
  /** Set by the caller once it knows whether the container had started when attach began. */
  fromStart = true;

  constructor(private readonly maxBytes: number) {}

  /** Attaches to the container's stdout and stderr; false when the engine refused. */
  async open(container: Pick<Dockerode.Container, 'attach'>): Promise<boolean> {
    try {
      // `logs`: the engine first replays what the container wrote before attach came (if it
      // started first), then streams. A container already exited gets the replay only.
      const stream = (await container.attach({
        stream: true,
        logs: true,
        stdout: true,
        stderr: true,
      })) as unknown as AttachStream;
      if (this.closed) {
        stream.destroy();
        return false;
      }
      this.stream = stream;
      stream.on('data', (chunk: Buffer) => this.take(chunk));
      const end = () => this.endedResolve();
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
   * that came before are converted now.
   */
  setTty(tty: boolean): void {
    this.tty = tty;
    const pending = this.raw;
    this.raw = [];
    for (const chunk of pending) this.keep(this.converter.convert(chunk, tty, tsFromMillis(Date.now())));
    this.ready = true;
  }

  /**
   * Whether the bytes so far are a TTY's raw output rather than attach frames (which start with
   * stream type 0-2 and three zero bytes): for a container gone before inspect said.
   */
  get looksLikeTty(): boolean {
    // No byte yet: frames (the default of `docker run` without -t).
    const first = Buffer.concat(this.ready ? [] : this.raw.slice(0, 4)).subarray(0, 4);
    if (first.length < 4) return false;
    return !(first[0]! <= 2 && first[1] === 0 && first[2] === 0 && first[3] === 0);
  }

  /** A route's reader that may still need the capture. */
  hold(holder: object): void {
    this.holders.add(holder);
  }

  /** That reader opened the log stream (or stopped): once no one holds the capture, it closes. */
  release(holder: object): void {
    this.holders.delete(holder);
    if (this.holders.size === 0) this.close();
  }

  /**
   * Closes the capture if the container has not started by then (its readers still hold it):
   * a container left created keeps no connection open. The log alone is read when it starts.
   */
  expireAfter(ms: number): void {
    if (this.holders.size === 0) {
      this.close();
      return;
    }
    const timer = setTimeout(() => {
      if (this.received === 0) this.fromStart = false;
      this.close();
    }, ms);
    timer.unref();
    void this.ended.then(() => clearTimeout(timer));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.destroy();
    this.endedResolve();
  }

  /**
   * Everything the container wrote, once its output ended, the capture was closed, or `graceMs`
   * passed (an attach to a container that exited before it came sends the replay, then stays open).
   */
  async output(graceMs: number): Promise<CaptureOutput> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.close();
    if (!this.ready) this.setTty(this.tty);
    const tail = this.converter.end(this.tty, tsFromMillis(Date.now()));
    this.keep(tail);
    return { data: Buffer.concat(this.kept, this.keptBytes), lostBytes: this.lostBytes, fromStart: this.fromStart };
  }

  private take(chunk: Buffer): void {
    this.received += chunk.length;
    if (!this.ready) {
      // The TTY setting is not known yet (inspect runs after attach): keep the bytes as they came.
      if (this.received > this.maxBytes) this.lostBytes += chunk.length;
      else this.raw.push(chunk);
      return;
    }
    this.keep(this.converter.convert(chunk, this.tty, tsFromMillis(Date.now())));
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.keptBytes + bytes.length > this.maxBytes) {
      this.lostBytes += bytes.length;
      return;
    }
    this.kept.push(bytes);
    this.keptBytes += bytes.length;
  }
}

/** The log driver's cut for a line without newline; the LogParser joins such pieces again. */
const PIECE = 16_384;

/**
 * Attach output → logs API output with timestamps. Non-TTY: attach frames are pieces of the
 * stream, not lines; lines are reassembled per stream and each sent as one frame `ts line\n`.
 * TTY: raw bytes; each line gets `ts ` in front. A line without newline is cut every 16 KiB, as
 * the log driver does.
 */
export class AttachConverter {
  private header = Buffer.alloc(0);
  private frameLeft = 0;
  private frameType = 0;
  private readonly partial: Record<number, Buffer> = { 1: Buffer.alloc(0), 2: Buffer.alloc(0) };

  convert(chunk: Buffer, tty: boolean, ts: string): Buffer {
    const out: Buffer[] = [];
    if (tty) {
      this.lines(1, chunk, ts, out, true);
      return Buffer.concat(out);
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (this.frameLeft === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
        offset += Math.min(need, chunk.length - offset);
        if (this.header.length < 8) break;
        this.frameType = this.header[0]!;
        this.frameLeft = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.frameLeft, chunk.length - offset);
      const payload = chunk.subarray(offset, offset + take);
      offset += take;
      this.frameLeft -= take;
      if (this.frameType === 1 || this.frameType === 2) this.lines(this.frameType, payload, ts, out, false);
    }
    return Buffer.concat(out);
  }

  /** The last lines without a newline. */
  end(tty: boolean, ts: string): Buffer {
    const out: Buffer[] = [];
    for (const type of [1, 2]) {
      const rest = this.partial[type]!;
      this.partial[type] = Buffer.alloc(0);
      if (rest.length > 0) out.push(message(type, ts, rest, tty));
    }
    return Buffer.concat(out);
  }

  private lines(type: number, bytes: Buffer, ts: string, out: Buffer[], tty: boolean): void {
    let pending = this.partial[type]!.length > 0 ? Buffer.concat([this.partial[type]!, bytes]) : bytes;
    for (;;) {
      const newline = pending.indexOf(0x0a);
      const end = newline >= 0 && newline < PIECE ? newline + 1 : pending.length >= PIECE ? PIECE : -1;
      if (end < 0) break;
      out.push(message(type, ts, pending.subarray(0, end), tty));
      pending = pending.subarray(end);
    }
    this.partial[type] = Buffer.from(pending);
  }
}

function message(type: number, ts: string, body: Buffer, tty: boolean): Buffer {
  const payload = Buffer.concat([Buffer.from(`${ts} `), body]);
  if (tty) return payload;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * Turns the bytes of a `GET /containers/{id}/logs?timestamps=1` stream into lines.
 *
 * - Non-TTY containers: 8-byte frame headers `[stream,0,0,0,size(be32)]`; one frame is one
 *   message as the log driver stored it. Lines longer than 16 KiB come as several frames, only
 *   the last ending in `\n`, each with its own timestamp: they are joined per stream.
 * - TTY containers: raw bytes, stderr merged into stdout, lines ending `\r\n`, a timestamp at the
 *   start of every line.
 * - Lines longer than `maxLineBytes` are cut into pieces of that size, marked with `part`.
 * - `end()` flushes a last line that had no newline.
 * Bytes are kept as they are (invalid UTF-8 included).
 */
import type { LogLine, LogSource } from './message';

const TS_LENGTH = 30; // 2026-11-27T20:20:15.620573110Z
const TS_SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

export interface LogParserOptions {
  tty: boolean;
  maxLineBytes: number;
  onLine(line: LogLine): void;
  /** Bytes that did not fit the expected shape (no timestamp, unknown stream type). */
  onMalformed?(reason: string): void;
}

interface Pending {
  chunks: Buffer[];
  bytes: number;
  /** Pieces already emitted for this line (it exceeded the maximum). */
  parts: number;
  ts: string;
}

export class LogParser {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Record<LogSource, Pending | undefined> = { stdout: undefined, stderr: undefined };

  constructor(private readonly options: LogParserOptions) {}

  write(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.options.tty) this.readRaw();
    else this.readFrames();
  }

  /** The stream ended cleanly: what is left is the last line, without a newline. */
  end(): void {
    if (this.options.tty && this.buffer.length > 0) {
      this.rawLine(this.buffer, false);
      this.buffer = Buffer.alloc(0);
    }
    for (const source of ['stdout', 'stderr'] as const) {
      const pending = this.pending[source];
      if (pending) this.flush(source, pending, true);
    }
  }

  /** The stream broke: forget half-read lines; they will be read again from the checkpoint. */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.pending.stdout = undefined;
    this.pending.stderr = undefined;
  }

  /** Whether a line is half read (its start not yet delivered). */
  get midLine(): boolean {
    return this.pending.stdout !== undefined || this.pending.stderr !== undefined;
  }

  private readFrames(): void {
    let offset = 0;
    const buf = this.buffer;
    while (buf.length - offset >= 8) {
      const type = buf[offset]!;
      const size = buf.readUInt32BE(offset + 4);
      if (buf.length - offset - 8 < size) break;
      const payload = buf.subarray(offset + 8, offset + 8 + size);
      offset += 8 + size;
      if (type === 1) this.frame('stdout', payload);
      else if (type === 2) this.frame('stderr', payload);
      else this.options.onMalformed?.(`frame of stream type ${type}`);
    }
    this.buffer = offset === buf.length ? Buffer.alloc(0) : buf.subarray(offset);
  }

  private frame(source: LogSource, payload: Buffer): void {
    const ts = this.timestamp(payload);
    if (ts === undefined) return;
    const complete = payload.length > TS_LENGTH && payload[payload.length - 1] === 0x0a;
    const body = payload.subarray(TS_LENGTH + 1, complete ? payload.length - 1 : payload.length);
    this.append(source, ts, body, complete);
  }

  private readRaw(): void {
    let start = 0;
    const buf = this.buffer;
    for (;;) {
      const newline = buf.indexOf(0x0a, start);
      if (newline < 0) break;
      this.rawLine(buf.subarray(start, newline), true);
      start = newline + 1;
    }
    this.buffer = start === buf.length ? Buffer.alloc(0) : buf.subarray(start);
    // A TTY line with no newline yet: bound what we hold by streaming full pieces out.
    if (this.buffer.length > this.options.maxLineBytes + TS_LENGTH + 1) {
      const pending = this.pending.stdout;
      const ts = pending ? pending.ts : this.timestamp(this.buffer);
      if (ts !== undefined) this.append('stdout', ts, pending ? this.buffer : this.buffer.subarray(TS_LENGTH + 1), false);
      this.buffer = Buffer.alloc(0);
    }
  }

  private rawLine(line: Buffer, complete: boolean): void {
    if (this.pending.stdout) {
      // The rest of a line whose start was streamed out: no timestamp of its own.
      const end = complete && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
      this.append('stdout', this.pending.stdout.ts, line.subarray(0, end), complete);
      return;
    }
    const ts = this.timestamp(line);
    if (ts === undefined) return;
    const end = line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
    this.append('stdout', ts, line.subarray(Math.min(TS_LENGTH + 1, end), end), complete);
  }

  private append(source: LogSource, ts: string, body: Buffer, complete: boolean): void {
    const max = this.options.maxLineBytes;
    let pending = this.pending[source];
    if (!pending) {
      if (complete && body.length <= max) {
        this.options.onLine({ source, ts, data: body });
        return;
      }
      pending = this.pending[source] = { chunks: [], bytes: 0, parts: 0, ts };
    }
    pending.ts = ts;
    // Copy: the stream's buffer is reused for the next frames.
    let rest = body;
    while (pending.bytes + rest.length > max) {
      const take = max - pending.bytes;
      pending.chunks.push(Buffer.from(rest.subarray(0, take)));
      pending.bytes += take;
      rest = rest.subarray(take);
      this.emitPart(source, pending, false);
    }
    if (rest.length > 0) {
      pending.chunks.push(Buffer.from(rest));
      pending.bytes += rest.length;
    }
    if (complete) this.flush(source, pending, true);
  }

  private emitPart(source: LogSource, pending: Pending, last: boolean): void {
    pending.parts += 1;
    const data = pending.chunks.length === 1 ? pending.chunks[0]! : Buffer.concat(pending.chunks, pending.bytes);
    this.options.onLine({ source, ts: pending.ts, data, part: { index: pending.parts, last } });
    pending.chunks = [];
    pending.bytes = 0;
  }

  private flush(source: LogSource, pending: Pending, _complete: boolean): void {
    this.pending[source] = undefined;
    if (pending.parts > 0) {
      this.emitPart(source, pending, true);
      return;
    }
    const data = pending.chunks.length === 1 ? pending.chunks[0]! : Buffer.concat(pending.chunks, pending.bytes);
    this.options.onLine({ source, ts: pending.ts, data });
  }

  private timestamp(payload: Buffer): string | undefined {
    const ts = payload.toString('latin1', 0, TS_LENGTH);
    if (payload.length < TS_LENGTH || payload[TS_LENGTH] !== undefined && payload[TS_LENGTH] !== 0x20 || !TS_SHAPE.test(ts)) {
      this.options.onMalformed?.('a log message without a Docker timestamp');
      return undefined;
    }
    return ts;
  }
}

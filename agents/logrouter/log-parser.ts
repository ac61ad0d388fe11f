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
 * - Timestamps: Docker writes 9 fraction digits, Podman 0 to 9 (`2026-12-03T08:02:27Z`, trailing
 *   zeros dropped); lines carry them in Docker's fixed-width form, so they compare as strings.
 * Bytes are kept as they are (invalid UTF-8 included).
 */
import type { LogLine, LogSource } from './message';

/** RFC 3339 with 0–9 fraction digits and a zone: `Z` or an offset (a log file written in local time). */
const TS_SHAPE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;
/** The longest timestamp TS_SHAPE accepts: `2026-11-27T20:20:15.620573110+01:00`. */
const MAX_TS_LENGTH = 35;
/** The log driver's copier cuts a line without newline into messages of this many bytes. */
const TTY_PIECE = 16_384;

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
  /** TTY: the message being read (its timestamp, payload bytes so far, whether at a possible cut). */
  private ttyMessage: { ts: string; payload: number; atCut: boolean } | undefined;
  /** TTY: a line without a timestamp is being skipped to its end. */
  private ttySkipping = false;

  constructor(private readonly options: LogParserOptions) {}

  write(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.options.tty) this.readRaw();
    else this.readFrames();
  }

  /** The stream ended cleanly: what is left is the last line, without a newline. */
  end(): void {
    if (this.options.tty) {
      const rest = this.buffer[this.buffer.length - 1] === 0x0d ? this.buffer.subarray(0, -1) : this.buffer;
      if (this.ttyMessage && !this.ttyMessage.atCut && !this.ttySkipping)
        this.append('stdout', this.ttyMessage.ts, rest, false);
      this.buffer = Buffer.alloc(0);
      this.ttyMessage = undefined;
      this.ttySkipping = false;
    }
    for (const source of ['stdout', 'stderr'] as const) {
      const pending = this.pending[source];
      if (pending) this.flush(source, pending, true);
    }
  }

  /** The stream broke: forget half-read lines; they will be read again from the checkpoint. */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.ttyMessage = undefined;
    this.ttySkipping = false;
    this.pending.stdout = undefined;
    this.pending.stderr = undefined;
  }

  /** Whether a line is half read (its start not yet delivered). */
  get midLine(): boolean {
    return this.pending.stdout !== undefined || this.pending.stderr !== undefined || this.ttyMessage !== undefined;
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
    // `ts SP body`; a frame that is a timestamp alone has an empty body.
    const space = payload.subarray(0, MAX_TS_LENGTH + 1).indexOf(0x20);
    const tsEnd = space >= 0 ? space : payload.length;
    const ts = tsEnd <= MAX_TS_LENGTH ? dockerTimestamp(payload.toString('latin1', 0, tsEnd)) : undefined;
    if (ts === undefined) {
      this.options.onMalformed?.('a log message without a Docker timestamp');
      return;
    }
    const complete = space >= 0 && payload[payload.length - 1] === 0x0a;
    const body = payload.subarray(tsEnd + 1, complete ? payload.length - 1 : payload.length);
    this.append(source, ts, body, complete);
  }

  /**
   * TTY: messages `ts SP payload` back to back. A message ends at `\r\n`, or is one of the log
   * driver's 16,384-byte pieces of a longer line, after which the next piece comes with its own
   * timestamp: those are joined, like partial frames, so no timestamp lands inside a line.
   */
  private readRaw(): void {
    const buf = this.buffer;
    let pos = 0;
    for (;;) {
      const message = this.ttyMessage;
      if (this.ttySkipping) {
        const newline = buf.indexOf(0x0a, pos);
        if (newline < 0) {
          pos = buf.length;
          break;
        }
        this.ttySkipping = false;
        pos = newline + 1;
        continue;
      }
      if (message === undefined || message.atCut) {
        const space = buf.subarray(pos, pos + MAX_TS_LENGTH + 1).indexOf(0x20);
        if (space < 0 && buf.length - pos <= MAX_TS_LENGTH) break; // the timestamp may still be coming
        const ts = space >= 0 ? dockerTimestamp(buf.toString('latin1', pos, pos + space)) : undefined;
        if (ts !== undefined) {
          // A new message; after a cut, the next piece of the same line (append keeps it pending).
          this.ttyMessage = { ts, payload: 0, atCut: false };
          pos += space + 1;
          continue;
        }
        if (message) {
          message.atCut = false; // not the engine's cut after all: the same message goes on
        } else {
          this.options.onMalformed?.('a log message without a Docker timestamp');
          this.ttySkipping = true;
          continue;
        }
      }
      const current = this.ttyMessage!;
      const cutAt = pos + (TTY_PIECE - (current.payload % TTY_PIECE));
      const end = Math.min(buf.length, cutAt);
      const newline = buf.indexOf(0x0a, pos);
      if (newline >= 0 && newline < end) {
        const body = buf.subarray(pos, newline > pos && buf[newline - 1] === 0x0d ? newline - 1 : newline);
        this.ttyMessage = undefined;
        this.append('stdout', current.ts, body, true);
        pos = newline + 1;
        continue;
      }
      // Hold back a carriage return that may be the start of the line's `\r\n`.
      const take = end < cutAt && end > pos && buf[end - 1] === 0x0d ? end - 1 : end;
      if (take > pos) {
        this.append('stdout', current.ts, buf.subarray(pos, take), false);
        current.payload += take - pos;
        pos = take;
      }
      if (take < cutAt) break;
      current.atCut = true;
    }
    this.buffer = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
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
}

/**
 * An engine's log timestamp in Docker's form: UTC, 9 fraction digits (`…:27Z` → `…:27.000000000Z`);
 * undefined when `text` is not one.
 */
export function dockerTimestamp(text: string): string | undefined {
  const match = TS_SHAPE.exec(text);
  if (!match) return undefined;
  const [, seconds, fraction = '', zone] = match as unknown as [string, string, string | undefined, string];
  const nanos = fraction.padEnd(9, '0');
  if (zone === 'Z') return `${seconds}.${nanos}Z`;
  const ms = Date.parse(`${seconds}${zone}`);
  return Number.isNaN(ms) ? undefined : `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}

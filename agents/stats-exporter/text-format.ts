/**
 * Prometheus text format 0.0.4, written directly: the container families of one scrape are a few
 * thousand samples, and building prom-client metric objects for them each scrape cost more memory
 * (and garbage) than the text itself.
 */

/** `# HELP` and `# TYPE` lines of a family; HELP escapes `\` and newlines. */
export function familyHeader(name: string, help: string, type: 'counter' | 'gauge'): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** A label value with `\`, `"` and newlines escaped. */
export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** `a="x",b="y"` from names and raw values. */
export function labelPairs(labels: ReadonlyArray<readonly [name: string, value: string]>): string {
  return labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',');
}

/** A sample value: integers and floats as JavaScript prints them, `NaN`, `+Inf`, `-Inf`. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/**
 * Builds one scrape's exposition text in one byte buffer. Built with `+=`, the text of a few
 * hundred containers is a tree of thousands of string pieces that lives through the scrape, so
 * each scrape copied it into the old generation, which grew between full collections; a buffer
 * holds it outside the JavaScript heap. The parts every sample repeats (a family's name, a
 * container's labels: most of a line) are encoded once and copied in as bytes, so a scrape makes
 * almost no strings. The buffer is sized from the previous scrape and handed out as it is, no
 * copy: the bytes go to the socket (or gzip) without being decoded and encoded again. Once they
 * are sent, recycle() gives the buffer back and the next scrape writes into it: a fresh one per
 * scrape piled up until the GC freed them (4–5 MB of peak RSS).
 */
export class ExpositionWriter {
  private buffer: Buffer;
  private length = 0;
  /** A buffer take() handed out whose bytes have been sent: the next scrape writes into it. */
  private spare: Buffer | undefined;
  /** The size of the previous scrape's text, plus room for a few more containers. */
  private expected = 64 * 1024;

  constructor() {
    this.buffer = Buffer.allocUnsafeSlow(this.expected);
  }

  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /**
   * A short piece of a sample line (a value, a label name, punctuation): copied a character a byte
   * while it is ASCII, which costs less than an encoder call for a few bytes, so a sample's line is
   * written in pieces rather than first concatenated into a string.
   */
  writeShort(text: string): void {
    this.reserve(text.length * 3);
    const buffer = this.buffer;
    const start = this.length;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) {
        this.length = start + buffer.write(text, start, 'utf8');
        return;
      }
      buffer[start + i] = code;
    }
    this.length = start + text.length;
  }

  /** Bytes encoded once, such as a container's label text. */
  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written since the last call; the next text goes to another buffer (the spare, if there is one). */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.length);
    this.expected = Math.max(64 * 1024, Math.ceil(this.length * 1.05));
    this.buffer = EMPTY;
    this.length = 0;
    return bytes;
  }

  /** Gives back bytes take() handed out, once nothing reads them any more (the response has closed). */
  recycle(bytes: Buffer): void {
    if (bytes.buffer.byteLength > (this.spare?.length ?? 0)) this.spare = Buffer.from(bytes.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    const size = Math.max(needed, this.expected, this.buffer.length * 2);
    // A spare too small for this scrape is let go: the GC frees it.
    const bigger = this.spare && this.spare.length >= size ? this.spare : Buffer.allocUnsafeSlow(size);
    this.spare = undefined;
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * One stream's newest output, at most `maxBytes` (and one block), copied into 16 KiB blocks: a
 * container that writes a short line at a time sends a frame per line, and keeping each frame as
 * it came would cost far more than its bytes. Each block knows when its last bytes came and how
 * many newlines it holds, so the lines given up to stay small are counted.
 */
const BLOCK_BYTES = 16_384;

interface Block {
  bytes: Buffer;
  used: number;
  /** When its last bytes came, as a log timestamp. */
  ts: string;
  newlines: number;
}

export class OutputRing {
  private blocks: Block[] = [];
  private head = 0;
  private keptBytes = 0;
  /** Complete lines whose newline was given up. */
  private evictedLines = 0;
  /** The kept bytes start inside a line (its beginning was given up). */
  private headCut = false;

  constructor(private readonly maxBytes: number) {}

  /** The number in the stream of the first line whose beginning is kept. */
  get firstLine(): number {
    return this.evictedLines + (this.headCut ? 1 : 0);
  }

  /** Whether the kept bytes start inside a line. */
  get startsCut(): boolean {
    return this.headCut;
  }

  get size(): number {
    return this.keptBytes;
  }

  append(bytes: Buffer, ts: string): void {
    for (let offset = 0; offset < bytes.length;) {
      let block = this.blocks[this.blocks.length - 1];
      if (!block || this.blocks.length === this.head || block.used === block.bytes.length) {
        block = { bytes: Buffer.allocUnsafe(BLOCK_BYTES), used: 0, ts, newlines: 0 };
        this.blocks.push(block);
      }
      const copied = bytes.copy(block.bytes, block.used, offset);
      block.newlines += countNewlines(block.bytes, block.used, block.used + copied);
      block.used += copied;
      block.ts = ts;
      offset += copied;
      this.keptBytes += copied;
    }
    // The newest bytes are what a reader may need: give up the oldest.
    while (this.keptBytes > this.maxBytes && this.blocks.length - this.head > 1) {
      const old = this.blocks[this.head++]!;
      this.keptBytes -= old.used;
      this.evictedLines += old.newlines;
      this.headCut = old.bytes[old.used - 1] !== 0x0a;
    }
    if (this.head > 64 && this.head * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.head);
      this.head = 0;
    }
  }

  /** The kept bytes, block by block, each with the time its last bytes came. */
  *kept(): Generator<{ bytes: Buffer; ts: string }> {
    for (let i = this.head; i < this.blocks.length; i++) {
      const block = this.blocks[i]!;
      yield { bytes: block.bytes.subarray(0, block.used), ts: block.ts };
    }
  }
}

function countNewlines(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a, from); at >= 0 && at < to; at = bytes.indexOf(0x0a, at + 1)) count += 1;
  return count;
}

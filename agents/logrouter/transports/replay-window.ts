/**
 * The last writes of a stream transport, kept to be written again after a lost connection: the
 * writes of the last `ms`, at most `bytes` of them. The bytes are copied into one ring buffer
 * allocated once, so keeping them costs a copy per write and a fixed amount of memory — not a
 * retained buffer per batch that only a major GC would give back.
 */
export interface ReplayLimits {
  /** How far back before a failure was seen writes are sent again; 0 turns replay off. */
  ms: number;
  /** At most this many bytes are kept for that. */
  bytes: number;
}

interface Entry<K> {
  /** Position of the first byte among all bytes ever kept. */
  start: number;
  length: number;
  lines: number;
  at: number;
  key: K;
}

export class ReplayWindow<K> {
  private ring: Buffer | undefined;
  /** Bytes ever kept: where the next one goes, modulo the ring's size. */
  private end = 0;
  private entries: Array<Entry<K>> = [];
  private head = 0;

  constructor(private readonly limits: ReplayLimits) {}

  get enabled(): boolean {
    return this.limits.ms > 0 && this.limits.bytes > 0;
  }

  /** Keeps a write made on `key` (a connection). */
  add(data: Buffer, lines: number, key: K, now = Date.now()): void {
    if (!this.enabled) return;
    if (data.length > this.limits.bytes) {
      // Cannot be kept, and replaying what came before it without it would reorder lines.
      this.entries = [];
      this.head = 0;
      return;
    }
    this.ring ??= Buffer.allocUnsafe(this.limits.bytes);
    const at = this.end % this.ring.length;
    const first = Math.min(data.length, this.ring.length - at);
    data.copy(this.ring, at, 0, first);
    if (first < data.length) data.copy(this.ring, 0, first);
    this.entries.push({ start: this.end, length: data.length, lines, at: now, key });
    this.end += data.length;
    this.expire(now);
  }

  /** Removes and returns what was written on `key` within the window before `now`. */
  take(key: K, now = Date.now()): { data: Buffer; lines: number } | undefined {
    this.expire(now);
    const mine = this.entries.slice(this.head).filter((entry) => entry.key === key);
    if (mine.length === 0) return undefined;
    this.entries = this.entries.slice(this.head).filter((entry) => entry.key !== key);
    this.head = 0;
    const data = Buffer.allocUnsafe(mine.reduce((sum, entry) => sum + entry.length, 0));
    let offset = 0;
    for (const entry of mine) {
      offset += this.copyOut(entry, data, offset);
    }
    return { data, lines: mine.reduce((sum, entry) => sum + entry.lines, 0) };
  }

  private copyOut(entry: Entry<K>, target: Buffer, offset: number): number {
    const ring = this.ring!;
    const at = entry.start % ring.length;
    const first = Math.min(entry.length, ring.length - at);
    ring.copy(target, offset, at, at + first);
    if (first < entry.length) ring.copy(target, offset + first, 0, entry.length - first);
    return entry.length;
  }

  /** Drops entries older than the window or overwritten in the ring. */
  private expire(now: number): void {
    const oldest = now - this.limits.ms;
    while (
      this.head < this.entries.length &&
      (this.entries[this.head]!.start < this.end - this.limits.bytes || this.entries[this.head]!.at < oldest)
    )
      this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

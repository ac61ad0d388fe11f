/**
 * Which of a removed container's captured lines (attach-capture.ts) its reader still lacks, for
 * one stream. The reader got the log's first lines; the capture holds the output from the
 * moment attach came.
 *
 * - Attach came before the start: the capture holds every line (but those it gave up to stay
 *   small), so the reader lacks the capture's lines after as many as it read: a count.
 * - Attach came later: the capture starts somewhere in the output. Its first lines that are also
 *   the last lines the reader got are skipped, taking the longest such overlap: a line repeated
 *   in the output can make it skip one the reader lacks, never send one twice. With no overlap
 *   the capture starts after the reader's last line, and lines between the two may be lost.
 */
import type { LogLine } from './message';

export interface StreamFill {
  /** The lines the reader lacks, in order. */
  lines: LogLine[];
  /** Lines the reader lacks that the capture gave up (more output than it keeps). */
  lost: number;
  /** Lines may be missing that neither the log nor the capture had. */
  maybeLost: boolean;
}

/** The last whole lines a reader took from the log, to line a late capture up with. */
export class LogTail {
  private lines: Buffer[] = [];
  /** Lines older than those kept were read. */
  private trimmed = false;
  /** A line came in pieces (longer than the maximum): the tail no longer matches line for line. */
  private broken = false;

  constructor(private readonly maxLines: number) {}

  add(line: LogLine): void {
    if (line.part) this.broken = true;
    if (this.broken) return;
    this.lines.push(line.data);
    if (this.lines.length > 2 * this.maxLines) {
      this.lines = this.lines.slice(-this.maxLines);
      this.trimmed = true;
    }
  }

  /** The longest run of `captured`'s first lines equal to the tail's last; undefined when the tail cannot say. */
  overlapWith(captured: LogLine[]): number | undefined {
    if (this.broken || captured.some((line) => line.part)) return undefined;
    // Trimmed and shorter than the capture: a longer overlap than the tail holds cannot be ruled out.
    if (this.trimmed && captured.length > this.lines.length) return undefined;
    const tail = this.lines;
    for (let overlap = Math.min(tail.length, captured.length); overlap > 0; overlap--) {
      const from = tail.length - overlap;
      let same = true;
      for (let i = 0; i < overlap && same; i++) same = tail[from + i]!.equals(captured[i]!.data);
      if (same) return overlap;
    }
    return 0;
  }
}

/**
 * `read`: whole lines the reader took from the log (from its first line); `firstLine`: the
 * number of the capture's first line when attach came before the start; `tail`: the reader's
 * last lines, for a capture from a later attach.
 */
export function missingLines(
  captured: LogLine[],
  read: number,
  capture: { fromStart: boolean; firstLine: number },
  tail: LogTail | undefined,
): StreamFill {
  if (capture.fromStart) {
    let skip = read - capture.firstLine;
    let at = 0;
    while (skip > 0 && at < captured.length) {
      const line = captured[at++]!;
      if (!line.part || line.part.last) skip -= 1;
    }
    return { lines: captured.slice(at), lost: Math.max(0, capture.firstLine - read), maybeLost: false };
  }
  // What came before attach is lost unless the log gave it.
  if (read === 0) return { lines: captured, lost: 0, maybeLost: true };
  const overlap = tail?.overlapWith(captured);
  if (overlap === undefined) return { lines: [], lost: 0, maybeLost: true };
  return { lines: captured.slice(overlap), lost: 0, maybeLost: overlap === 0 };
}

/** Physical lines to instructions (BuildKit parser.Parse): parser directives, comments, line continuations, heredoc bodies. */
import { INSTRUCTION_GAP, trimAsciiSpace, trimEnd, trimLineEnd, trimStart } from './characters';
import { expandOrThrow } from './expansion';
import { DockerfileSyntaxError } from './syntax-error';
import { splitWords } from './words';

export interface Instruction {
  /** Lower-cased: instruction names are case-insensitive. */
  keyword: string;
  args: string;
  line: number;
  /** The physical line a character of `args` came from. */
  lineOf(argsIndex: number): number;
}

interface Segment {
  offset: number;
  line: number;
}

const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=([^]*)$/;
const HEREDOC_WORD = /^\d*<<(-?)([^<]+)$/;
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

export class InstructionReader {
  /** Set by a `# escape=` directive; also the line-continuation character. */
  escape = '\\';
  private readonly lines: string[];
  private next = 0;
  private directivesDone = false;
  private readonly seenDirectives = new Set<string>();

  constructor(text: string) {
    this.lines = text.replace(/^\uFEFF/, '').split('\n');
  }

  get lineCount(): number {
    return this.lines.length;
  }

  read(): Instruction | undefined {
    while (this.next < this.lines.length) {
      const line = this.next + 1;
      const first = trimStart(this.take());
      this.readDirective(first, line);
      if (first.startsWith('#')) continue;
      const { text, continues } = this.stripContinuation(first);
      if (!continues && text === '') continue;
      const instruction = continues ? this.joinContinued(text, line) : toInstruction(text, [{ offset: 0, line }]);
      this.skipHeredocBodies(instruction);
      return instruction;
    }
    return undefined;
  }

  /** Appends the lines that trailing escape characters continue onto, remembering where each began. */
  private joinContinued(start: string, line: number): Instruction {
    let text = start;
    let continues = true;
    const segments: Segment[] = [{ offset: 0, line }];
    while (continues && this.next < this.lines.length) {
      const physicalLine = this.next + 1;
      const raw = this.take();
      // Docker drops comment and blank lines inside a continued instruction.
      const trimmed = trimStart(raw);
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      segments.push({ offset: text.length, line: physicalLine });
      const stripped = this.stripContinuation(raw);
      text += stripped.text;
      continues = stripped.continues;
    }
    return toInstruction(text, segments);
  }

  private take(): string {
    return trimLineEnd(this.lines[this.next++] ?? '');
  }

  /** Directives count only before the first comment, blank line or instruction. */
  private readDirective(line: string, lineNumber: number): void {
    if (this.directivesDone) return;
    const match = DIRECTIVE.exec(line);
    const name = match?.[1]?.toLowerCase() ?? '';
    const value = trimAsciiSpace(match?.[2] ?? '');
    if (!KNOWN_DIRECTIVES.has(name) || value === '') {
      this.directivesDone = true;
      return;
    }
    if (this.seenDirectives.has(name)) {
      throw new DockerfileSyntaxError(`only one ${name} parser directive can be used`, lineNumber);
    }
    this.seenDirectives.add(name);
    if (name !== 'escape') return;
    if (value !== '\\' && value !== '`') {
      throw new DockerfileSyntaxError(
        `invalid escape directive '${value}': the escape character must be \\ or \``,
        lineNumber,
      );
    }
    this.escape = value;
  }

  /** A trailing escape character (blanks after it allowed) continues the line, unless it is itself escaped. */
  private stripContinuation(line: string): { text: string; continues: boolean } {
    let end = line.length;
    while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
    const continues = end > 0 && line[end - 1] === this.escape && (end === 1 || line[end - 2] !== this.escape);
    return continues ? { text: line.slice(0, end - 1), continues } : { text: line, continues };
  }

  /** `RUN <<EOF … EOF`: the body is data, not instructions, even where a line reads `LABEL …`. */
  private skipHeredocBodies(instruction: Instruction): void {
    for (const { terminator, chomp } of heredocs(instruction)) {
      let terminated = false;
      while (this.next < this.lines.length && !terminated) {
        const line = this.take();
        terminated = (chomp ? line.replace(/^\t+/, '') : line) === terminator;
      }
      if (!terminated) {
        throw new DockerfileSyntaxError(`unterminated heredoc: no line reads ${terminator}`, instruction.line);
      }
    }
  }
}

function toInstruction(text: string, segments: Segment[]): Instruction {
  const line = trimEnd(text);
  const gap = INSTRUCTION_GAP.exec(line);
  const argsStart = gap ? gap.index + gap[0].length : line.length;
  return {
    keyword: (gap ? line.slice(0, gap.index) : line).toLowerCase(),
    args: line.slice(argsStart),
    line: segments[0]?.line ?? 0,
    lineOf: (argsIndex) => lineAt(segments, argsStart + argsIndex),
  };
}

function lineAt(segments: Segment[], offset: number): number {
  let low = 0;
  let high = segments.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((segments[middle]?.offset ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return segments[low]?.line ?? 0;
}

function heredocs(instruction: Instruction): Array<{ terminator: string; chomp: boolean }> {
  let { keyword, args } = instruction;
  if (keyword === 'onbuild') {
    const gap = INSTRUCTION_GAP.exec(args);
    keyword = (gap ? args.slice(0, gap.index) : args).toLowerCase();
    args = gap ? args.slice(gap.index + gap[0].length) : '';
  }
  if (!HEREDOC_INSTRUCTIONS.has(keyword)) return [];
  // BuildKit reads heredoc words with the default escape character, whatever the directive says.
  return splitWords(args, '\\').flatMap((word) => {
    const match = HEREDOC_WORD.exec(word.text);
    if (!match) return [];
    const terminator = expandOrThrow(match[2] ?? '', () => undefined, '\\', instruction.line, 'heredoc name');
    return [{ terminator: terminator.text, chomp: match[1] === '-' }];
  });
}

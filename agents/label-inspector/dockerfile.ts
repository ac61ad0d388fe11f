/**
 * Reads the LABEL instructions of a Dockerfile the way BuildKit's dockerfile frontend does
 * (moby/buildkit `frontend/dockerfile/parser`, `instructions` and `shell`), for `check --dockerfile`.
 *
 * Three small layers: physical lines become instructions (parser directives, comments, line
 * continuations, heredoc bodies), an instruction's arguments become words (quotes kept), and each
 * word is expanded (quotes removed, `$VAR` substituted) against the ARG and ENV values in scope.
 *
 * Where we cannot know what the real build sees (a build arg nobody passed us, an ENV of the base
 * image), the reference is kept as written and the label marked `unresolved`: Docker would
 * substitute whatever the real build has, which is not necessarily empty.
 */

export class DockerfileSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'DockerfileSyntaxError';
  }
}

export interface DockerfileStage {
  index: number;
  /** The `AS` name, lower-cased as Docker does. */
  name?: string;
  /** The base image or earlier stage, after substituting global ARGs. */
  from: string;
  line: number;
  /** The earlier stage this one is built on (`FROM <stage>`): it inherits that stage's ENV and labels. */
  parent?: number;
}

export interface DockerfileLabel {
  key: string;
  value: string;
  /** The line the pair starts on; one LABEL may span many lines. */
  line: number;
  stage: number;
  /** Key or value refers to a variable we do not know here; the reference is kept as written. */
  unresolved: boolean;
}

export interface DockerfileLabels {
  stages: DockerfileStage[];
  labels: DockerfileLabel[];
  /**
   * The labels the Dockerfile gives the image it builds (its last stage, including what that stage
   * inherits from earlier stages); later values win. Labels of an external base image are unknown.
   */
  finalStageLabels(): Record<string, string>;
}

export function parseDockerfileLabels(
  text: string,
  buildArgs: Readonly<Record<string, string>> = {},
): DockerfileLabels {
  const reader = new InstructionReader(text);
  const evaluator = new StageEvaluator(buildArgs);
  for (let instruction = reader.read(); instruction; instruction = reader.read()) {
    evaluator.apply(instruction, reader.escape);
  }
  return evaluator.result(reader.lineCount);
}

// ---------------------------------------------------------------------------------------------
// Physical lines to instructions (BuildKit parser.Parse)

interface Instruction {
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

class InstructionReader {
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
      throw new DockerfileSyntaxError(`invalid escape directive '${value}': the escape character must be \\ or \``, lineNumber);
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

// ---------------------------------------------------------------------------------------------
// Arguments to words (BuildKit parseWords): split on unquoted blanks, quotes and escapes kept

interface Word {
  text: string;
  /** Where the word starts in the instruction's arguments. */
  offset: number;
}

function splitWords(args: string, escape: string): Word[] {
  const words: Word[] = [];
  let word = '';
  let start = -1;
  let quote = '';
  for (let i = 0; i < args.length; i++) {
    let ch = args[i] ?? '';
    if (start < 0) {
      if (isSpace(ch)) continue;
      start = i;
    }
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === escape && quote === '"') {
        if (i + 1 === args.length) continue; // a trailing escape is dropped
        word += ch;
        ch = args[++i] ?? '';
      }
    } else if (isSpace(ch)) {
      words.push({ text: word, offset: start });
      word = '';
      start = -1;
      continue;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === escape) {
      if (i + 1 === args.length) continue;
      word += ch;
      ch = args[++i] ?? '';
    }
    word += ch;
  }
  if (start >= 0) words.push({ text: word, offset: start });
  return words;
}

// ---------------------------------------------------------------------------------------------
// Word expansion (BuildKit shell.Lex): quote removal, escapes, $VAR / ${VAR…} substitution

/** A variable's value, or undefined when we cannot know it. */
type Lookup = (name: string) => string | undefined;

interface Expansion {
  text: string;
  unresolved: boolean;
}

class WordError extends Error {
  override name = 'WordError';
}

/** `$0`…`$9`, `$@`, `$*`… are shell parameters; BuildKit reads them as one-character names. */
const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const MODIFIERS = new Set([':-', '-', ':+', '+', ':?', '?']);
const PATTERN_MODIFIERS = new Set(['#', '%', '/']);

/** Longest text one word may expand to: `ARG B=$A$A`, `ARG C=$B$B`… doubles at every line. */
export const MAX_EXPANSION_CHARS = 1 << 20;
/** Deepest `${A:-${B:-…}}` nesting read; deeper would overflow the stack. */
export const MAX_SUBSTITUTION_DEPTH = 64;

class WordExpander {
  private readonly chars: string[];
  private pos = 0;
  private unresolved = false;
  private depth = 0;

  constructor(
    word: string,
    private readonly lookup: Lookup,
    private readonly escape: string,
  ) {
    this.chars = Array.from(word);
  }

  expand(): Expansion {
    const text = this.until(undefined);
    return { text, unresolved: this.unresolved };
  }

  private until(stop: '}' | undefined): string {
    let out = '';
    while (this.pos < this.chars.length) {
      const ch = this.chars[this.pos] ?? '';
      if (ch === stop) {
        this.pos++;
        return out;
      }
      if (ch === "'") out += this.singleQuoted();
      else if (ch === '"') out += this.doubleQuoted();
      else if (ch === '$') out += this.dollar();
      else {
        this.pos += ch === this.escape ? 2 : 1;
        out += this.chars[this.pos - 1] ?? ''; // an escape at the very end is dropped
      }
      bounded(out);
    }
    if (stop) throw new WordError("missing '}'");
    return out;
  }

  /** Everything up to the next `'` is literal; nothing escapes inside. */
  private singleQuoted(): string {
    const end = this.chars.indexOf("'", this.pos + 1);
    if (end < 0) throw new WordError('unterminated single quote');
    const text = this.chars.slice(this.pos + 1, end).join('');
    this.pos = end + 1;
    return text;
  }

  /** `$` substitutes; the escape character escapes only `"`, `$` and itself, as in sh. */
  private doubleQuoted(): string {
    let out = '';
    this.pos++;
    for (;;) {
      const ch = this.chars[this.pos];
      if (ch === undefined) throw new WordError('unterminated double quote');
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += bounded(this.dollar());
        continue;
      }
      this.pos++;
      const escaped = this.chars[this.pos];
      if (ch === this.escape && (escaped === '"' || escaped === '$' || escaped === this.escape)) {
        this.pos++;
        out += escaped;
      } else if (!(ch === this.escape && escaped === undefined)) {
        out += ch;
      }
    }
  }

  private dollar(): string {
    const start = this.pos++;
    if (this.chars[this.pos] !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return this.lookup(name) ?? this.asWritten(start);
    }
    this.pos++;
    const first = this.chars[this.pos];
    if (first === undefined) throw new WordError("missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new WordError('bad substitution');
    const name = this.name();
    const operator = this.chars[this.pos++];
    if (operator === undefined) throw new WordError("missing '}'");
    if (operator === '}') return this.lookup(name) ?? this.asWritten(start);
    const modifier = operator === ':' ? `:${this.chars[this.pos++] ?? ''}` : operator;
    if (++this.depth > MAX_SUBSTITUTION_DEPTH) throw new WordError(`substitutions nested deeper than ${MAX_SUBSTITUTION_DEPTH}`);
    const text = this.modified(name, modifier, start);
    this.depth--;
    return text;
  }

  /** `${NAME:-word}` and friends. The word is always parsed (it may hold errors), used only when chosen. */
  private modified(name: string, modifier: string, start: number): string {
    if (!MODIFIERS.has(modifier) && !PATTERN_MODIFIERS.has(modifier)) {
      throw new WordError(`unsupported modifier (${modifier}) in substitution`);
    }
    const unresolvedBefore = this.unresolved;
    const word = this.until('}');
    const wordUnresolved = this.unresolved;
    this.unresolved = unresolvedBefore;

    const value = this.lookup(name);
    // Pattern removal and replacement (#, %, /) are not evaluated here: say so rather than guess.
    if (value === undefined || PATTERN_MODIFIERS.has(modifier)) return this.asWritten(start);
    // A known variable is set; the ':' forms also treat an empty value as unset.
    const isSet = !modifier.startsWith(':') || value !== '';
    const chosen = (): string => {
      this.unresolved ||= wordUnresolved;
      return word;
    };
    switch (modifier.at(-1)) {
      case '-':
        return isSet ? value : chosen();
      case '+':
        return isSet ? chosen() : '';
      default:
        if (!isSet) throw new WordError(`${name}: ${word || 'parameter null or not set'}`);
        return value;
    }
  }

  private name(): string {
    const first = this.chars[this.pos];
    if (first === undefined) return '';
    if (isDigit(first)) {
      let digits = '';
      while (isDigit(this.chars[this.pos] ?? '')) digits += this.chars[this.pos++];
      return digits;
    }
    if (SPECIAL_PARAMETERS.has(first)) {
      this.pos++;
      return first;
    }
    let name = '';
    while (isNameChar(this.chars[this.pos] ?? '')) name += this.chars[this.pos++];
    return name;
  }

  private asWritten(start: number): string {
    this.unresolved = true;
    return this.chars.slice(start, this.pos).join('');
  }
}

/** The text, unless it grew past what a word may expand to. */
function bounded(text: string): string {
  if (text.length > MAX_EXPANSION_CHARS) throw new WordError(`expands to more than ${MAX_EXPANSION_CHARS} characters`);
  return text;
}

function expandOrThrow(word: string, lookup: Lookup, escape: string, line: number, context: string): Expansion {
  try {
    return new WordExpander(word, lookup, escape).expand();
  } catch (error) {
    if (!(error instanceof WordError)) throw error;
    throw new DockerfileSyntaxError(`${error.message} in ${context} ${quoteForMessage(word)}`, line);
  }
}

// ---------------------------------------------------------------------------------------------
// Instructions to stages, variables and labels (BuildKit instructions.Parse and dispatch)

const KNOWN_INSTRUCTIONS = new Set([
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
]);
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

interface StageState {
  info: DockerfileStage;
  /** ENV only: what a stage built on this one inherits. */
  env: Map<string, string>;
  /** ENV and ARG, the later one winning, as BuildKit expands them. A missing name is unknown. */
  scope: Map<string, string>;
}

interface KeyValue {
  key: Word;
  value: Word;
}

class StageEvaluator {
  private readonly globalArgs = new Map<string, string>();
  private readonly stages: StageState[] = [];
  /** Named stages by lower-case name: one lookup per FROM, not a scan (40,000 stages were quadratic). */
  private readonly named = new Map<string, StageState>();
  private readonly labels: DockerfileLabel[] = [];

  constructor(private readonly buildArgs: Readonly<Record<string, string>>) {}

  apply(instruction: Instruction, escape: string): void {
    const { keyword } = instruction;
    if (!KNOWN_INSTRUCTIONS.has(keyword)) {
      throw new DockerfileSyntaxError(`unknown instruction: ${keyword.toUpperCase()}`, instruction.line);
    }
    if (keyword === 'from') return this.from(instruction, escape);
    if (keyword === 'arg') return this.arg(instruction, escape);
    const stage = this.stages.at(-1);
    if (!stage) {
      throw new DockerfileSyntaxError(`${keyword.toUpperCase()} before the first FROM: no build stage in current context`, instruction.line);
    }
    if (keyword === 'env') this.env(instruction, escape, stage);
    if (keyword === 'label') this.label(instruction, escape, stage);
  }

  result(lineCount: number): DockerfileLabels {
    if (this.stages.length === 0) {
      throw new DockerfileSyntaxError('no FROM instruction: the Dockerfile has no build stage', Math.max(lineCount, 1));
    }
    const stages = this.stages.map((stage) => stage.info);
    const labels = this.labels;
    const lineage = new Set<number>();
    for (let stage = stages.at(-1); stage; stage = stage.parent === undefined ? undefined : stages[stage.parent]) {
      lineage.add(stage.index);
    }
    const inherited = labels.filter((label) => lineage.has(label.stage));
    return {
      stages,
      labels,
      // fromEntries defines own properties, so a label named __proto__ stays a label.
      finalStageLabels: () => Object.fromEntries(inherited.map((label) => [label.key, label.value])),
    };
  }

  /** `FROM [--platform=…] image [AS name]`; only global ARGs are visible here. */
  private from(instruction: Instruction, escape: string): void {
    const words = withoutFlags(instruction.args).split(INSTRUCTION_GAP).filter(Boolean);
    const [image = '', as, alias] = words;
    if (words.length !== 1 && !(words.length === 3 && as?.toLowerCase() === 'as')) {
      throw new DockerfileSyntaxError('FROM requires either one or three arguments: image [AS name]', instruction.line);
    }
    const name = alias?.toLowerCase();
    if (name !== undefined && !STAGE_NAME.test(name)) {
      throw new DockerfileSyntaxError(`invalid name for build stage: ${quoteForMessage(alias ?? '')}, name can't start with a number or contain symbols`, instruction.line);
    }
    if (name !== undefined && this.named.has(name)) {
      throw new DockerfileSyntaxError(`duplicate stage name ${quoteForMessage(name)}`, instruction.line);
    }
    const from = expandOrThrow(image, (variable) => this.globalArgs.get(variable), escape, instruction.line, 'FROM').text;
    // Stage names are case-insensitive; a stage built on an earlier one inherits its image config.
    const parent = this.named.get(from.toLowerCase());
    const env = new Map(parent?.env);
    const info: DockerfileStage = { index: this.stages.length, from, line: instruction.line };
    if (parent) info.parent = parent.info.index;
    const stage = { info, env, scope: new Map(env) };
    if (name !== undefined) {
      info.name = name;
      this.named.set(name, stage);
    }
    this.stages.push(stage);
  }

  /**
   * `ARG name[=default] …`. A build arg we were given wins over the default; before the first FROM
   * the ARG is global, and inside a stage a bare `ARG name` brings the global value in.
   */
  private arg(instruction: Instruction, escape: string): void {
    rejectFlags(instruction);
    const words = splitWords(instruction.args, escape);
    if (words.length === 0) throw new DockerfileSyntaxError('ARG requires at least one argument', instruction.line);
    const stage = this.stages.at(-1);
    const scope = stage ? stage.scope : this.globalArgs;
    const lookup: Lookup = (variable) => scope.get(variable);
    for (const word of words) {
      const equals = word.text.indexOf('=');
      const nameWord = equals < 0 ? word : { text: word.text.slice(0, equals), offset: word.offset };
      const line = instruction.lineOf(word.offset);
      const name = expandOrThrow(nameWord.text, lookup, escape, line, 'ARG').text;
      let value: string | undefined;
      if (Object.hasOwn(this.buildArgs, name)) value = this.buildArgs[name];
      else if (equals >= 0) value = known(expandOrThrow(word.text.slice(equals + 1), lookup, escape, line, 'ARG'));
      else if (stage) value = this.globalArgs.get(name);
      assign(scope, name, value);
    }
  }

  /** `ENV k=v …` or `ENV k the rest`: every value sees the variables as they were before this ENV. */
  private env(instruction: Instruction, escape: string, stage: StageState): void {
    const lookup: Lookup = (variable) => stage.scope.get(variable);
    const assignments = keyValues(instruction, escape).map((pair) => this.expandPair(pair, instruction, escape, lookup));
    for (const { key, value, unresolved } of assignments) {
      assign(stage.env, key, unresolved ? undefined : value);
      assign(stage.scope, key, unresolved ? undefined : value);
    }
  }

  private label(instruction: Instruction, escape: string, stage: StageState): void {
    const lookup: Lookup = (variable) => stage.scope.get(variable);
    for (const pair of keyValues(instruction, escape)) {
      const label = this.expandPair(pair, instruction, escape, lookup);
      this.labels.push({ ...label, line: instruction.lineOf(pair.key.offset), stage: stage.info.index });
    }
  }

  private expandPair(pair: KeyValue, instruction: Instruction, escape: string, lookup: Lookup): Omit<DockerfileLabel, 'line' | 'stage'> {
    const context = instruction.keyword.toUpperCase();
    const key = expandOrThrow(pair.key.text, lookup, escape, instruction.lineOf(pair.key.offset), context);
    const value = expandOrThrow(pair.value.text, lookup, escape, instruction.lineOf(pair.value.offset), context);
    return { key: key.text, value: value.text, unresolved: key.unresolved || value.unresolved };
  }
}

/**
 * The pairs of a LABEL or ENV: `k=v k2="v 2" …`, or the legacy `k the rest is the value`. Like
 * BuildKit, the first word decides the form, and a pair splits at its first `=` even inside quotes.
 */
function keyValues(instruction: Instruction, escape: string): KeyValue[] {
  rejectFlags(instruction);
  const name = instruction.keyword.toUpperCase();
  const words = splitWords(instruction.args, escape);
  const first = words[0];
  if (!first) throw new DockerfileSyntaxError(`${name} requires at least one key=value pair`, instruction.line);
  if (!first.text.includes('=')) return [legacyKeyValue(instruction, name)];
  return words.map((word) => {
    const equals = word.text.indexOf('=');
    const line = instruction.lineOf(word.offset);
    if (equals < 0) {
      throw new DockerfileSyntaxError(`${name} ${quoteForMessage(word.text)} is not key=value (the legacy form "${name} key value" takes one pair only)`, line);
    }
    if (equals === 0) throw new DockerfileSyntaxError(`${name} ${quoteForMessage(word.text)} has no key before "="`, line);
    return {
      key: { text: word.text.slice(0, equals), offset: word.offset },
      value: { text: word.text.slice(equals + 1), offset: word.offset + equals + 1 },
    };
  });
}

/** `LABEL key value words`: the key ends at the first blank, quoted or not, and the rest is the value. */
function legacyKeyValue(instruction: Instruction, name: string): KeyValue {
  const { args } = instruction;
  const gap = INSTRUCTION_GAP.exec(args);
  if (!gap) throw new DockerfileSyntaxError(`${name} ${quoteForMessage(args)} has no value: write ${name} key=value`, instruction.line);
  const valueStart = gap.index + gap[0].length;
  return { key: { text: args.slice(0, gap.index), offset: 0 }, value: { text: args.slice(valueStart), offset: valueStart } };
}

/** LABEL, ENV and ARG take no `--flags`; Docker refuses them rather than reading them as keys. */
function rejectFlags(instruction: Instruction): void {
  const { args } = instruction;
  if (args.startsWith('--') && args.length > 2 && !isSpace(args[2] ?? '')) {
    const flag = args.split(INSTRUCTION_GAP, 1)[0] ?? args;
    throw new DockerfileSyntaxError(`${instruction.keyword.toUpperCase()} takes no flags, got ${quoteForMessage(flag)}`, instruction.line);
  }
}

/** Drops leading `--name=value` / `--name value` flags (FROM --platform …). */
function withoutFlags(args: string): string {
  let rest = args;
  while (rest.startsWith('--')) {
    const [flag = '', ...others] = rest.split(INSTRUCTION_GAP);
    if (flag === '--') return others.join(' ');
    rest = (flag.includes('=') ? others : others.slice(1)).join(' ');
  }
  return rest;
}

function known(expansion: Expansion): string | undefined {
  return expansion.unresolved ? undefined : expansion.text;
}

function assign(scope: Map<string, string>, name: string, value: string | undefined): void {
  if (value === undefined) scope.delete(name);
  else scope.set(name, value);
}

// ---------------------------------------------------------------------------------------------
// Characters

/** BuildKit splits an instruction from its arguments (and a legacy key from its value) on these. */
const INSTRUCTION_GAP = /[\t\v\f\r ]+/;
/** Go's unicode.IsSpace, which BuildKit splits words and trims lines with (it includes NBSP). */
const GO_SPACES = new Set([...'\t\n\v\f\r \u0085\u00A0\u1680\u2028\u2029\u202F\u205F\u3000'].concat(
  Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i)),
));

function isSpace(ch: string): boolean {
  return GO_SPACES.has(ch);
}

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

function isNameChar(ch: string): boolean {
  return ch === '_' || /^[\p{L}\p{Nd}]$/u.test(ch);
}

function trimStart(text: string): string {
  let start = 0;
  while (start < text.length && isSpace(text[start] ?? '')) start++;
  return text.slice(start);
}

function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1] ?? '')) end--;
  return text.slice(0, end);
}

/** Drops the `\r` of CRLF line ends (BuildKit trims trailing `\r` and `\n`). */
function trimLineEnd(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === '\r') end--;
  return line.slice(0, end);
}

/** Go regexp's `\s`, around a directive's value. */
function trimAsciiSpace(text: string): string {
  const blank = (ch: string | undefined) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\f' || ch === '\r';
  let start = 0;
  let end = text.length;
  while (start < end && blank(text[start])) start++;
  while (end > start && blank(text[end - 1])) end--;
  return text.slice(start, end);
}

function quoteForMessage(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}

/** Instructions to stages, variables and labels (BuildKit instructions.Parse and dispatch). */
import { INSTRUCTION_GAP, isSpace, quoteForMessage } from './characters';
import { expandOrThrow, type Expansion, type Lookup } from './expansion';
import type { Instruction } from './instructions';
import { DockerfileSyntaxError } from './syntax-error';
import { splitWords, type Word } from './words';

interface DockerfileStage {
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

const KNOWN_INSTRUCTIONS = new Set([
  'add',
  'arg',
  'cmd',
  'copy',
  'entrypoint',
  'env',
  'expose',
  'from',
  'healthcheck',
  'label',
  'maintainer',
  'onbuild',
  'run',
  'shell',
  'stopsignal',
  'user',
  'volume',
  'workdir',
]);
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
/**
 * Most variables the stages of one Dockerfile copy from their parents in all. Inherited variables
 * are shared until a stage writes one, but 2,000 ENVs down 20,000 chained stages that each write
 * one more would still copy 80 million entries from a 400 KB file. A real Dockerfile copies hundreds.
 */
const MAX_INHERITED_VARIABLES = 1 << 20;

/**
 * A stage's variables: shared with the stage it inherits them from until its first write, then
 * copied once. A stage is only written while it is the last one, so sharing is safe.
 */
class StageVariables {
  private owned = false;

  constructor(
    private entries: ReadonlyMap<string, string>,
    private readonly copying: InheritanceBudget,
  ) {}

  get(name: string): string | undefined {
    return this.entries.get(name);
  }

  /** Sets `name`, or deletes it when its value is unknown. */
  assign(name: string, value: string | undefined): void {
    let entries = this.entries as Map<string, string>;
    if (!this.owned) {
      this.copying.spend(this.entries.size);
      this.entries = entries = new Map(this.entries);
      this.owned = true;
    }
    if (value === undefined) entries.delete(name);
    else entries.set(name, value);
  }

  /** The variables as a new stage built on this one starts with them. */
  inherited(copying: InheritanceBudget): StageVariables {
    return new StageVariables(this.entries, copying);
  }
}

/** Counts the variables copied into the current stage; past the maximum, an error naming its FROM. */
class InheritanceBudget {
  private copied = 0;

  constructor(private readonly fromLine: () => number) {}

  spend(entries: number): void {
    this.copied += entries;
    if (this.copied > MAX_INHERITED_VARIABLES) {
      throw new DockerfileSyntaxError(
        `its stages inherit more than ${MAX_INHERITED_VARIABLES} ENV and ARG variables in all`,
        this.fromLine(),
      );
    }
  }
}

interface StageState {
  info: DockerfileStage;
  /** ENV only: what a stage built on this one inherits. */
  env: StageVariables;
  /** ENV and ARG, the later one winning, as BuildKit expands them. A missing name is unknown. */
  scope: StageVariables;
}

interface KeyValue {
  key: Word;
  value: Word;
}

export class StageEvaluator {
  private readonly globalArgs = new Map<string, string>();
  private readonly stages: StageState[] = [];
  /** Named stages by lower-case name: one lookup per FROM, not a scan (40,000 stages were quadratic). */
  private readonly named = new Map<string, StageState>();
  private readonly labels: DockerfileLabel[] = [];
  private readonly copying = new InheritanceBudget(() => this.stages.at(-1)?.info.line ?? 1);

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
      throw new DockerfileSyntaxError(
        `${keyword.toUpperCase()} before the first FROM: no build stage in current context`,
        instruction.line,
      );
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
      throw new DockerfileSyntaxError(
        `invalid name for build stage: ${quoteForMessage(alias ?? '')}, name can't start with a number or contain symbols`,
        instruction.line,
      );
    }
    if (name !== undefined && this.named.has(name)) {
      throw new DockerfileSyntaxError(`duplicate stage name ${quoteForMessage(name)}`, instruction.line);
    }
    const from = expandOrThrow(
      image,
      (variable) => this.globalArgs.get(variable),
      escape,
      instruction.line,
      'FROM',
    ).text;
    // Stage names are case-insensitive; a stage built on an earlier one inherits its image config.
    const parent = this.named.get(from.toLowerCase());
    const env = parent ? parent.env.inherited(this.copying) : new StageVariables(new Map(), this.copying);
    const info: DockerfileStage = { index: this.stages.length, from, line: instruction.line };
    if (parent) info.parent = parent.info.index;
    const stage = { info, env, scope: env.inherited(this.copying) };
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
    const lookup: Lookup = (variable) => (stage ? stage.scope : this.globalArgs).get(variable);
    for (const word of words) {
      const equals = word.text.indexOf('=');
      const nameWord = equals < 0 ? word : { text: word.text.slice(0, equals), offset: word.offset };
      const line = instruction.lineOf(word.offset);
      const name = expandOrThrow(nameWord.text, lookup, escape, line, 'ARG').text;
      let value: string | undefined;
      if (Object.hasOwn(this.buildArgs, name)) value = this.buildArgs[name];
      else if (equals >= 0) value = known(expandOrThrow(word.text.slice(equals + 1), lookup, escape, line, 'ARG'));
      else if (stage) value = this.globalArgs.get(name);
      if (stage) stage.scope.assign(name, value);
      else assign(this.globalArgs, name, value);
    }
  }

  /** `ENV k=v …` or `ENV k the rest`: every value sees the variables as they were before this ENV. */
  private env(instruction: Instruction, escape: string, stage: StageState): void {
    const lookup: Lookup = (variable) => stage.scope.get(variable);
    const assignments = keyValues(instruction, escape).map((pair) =>
      this.expandPair(pair, instruction, escape, lookup),
    );
    for (const { key, value, unresolved } of assignments) {
      stage.env.assign(key, unresolved ? undefined : value);
      stage.scope.assign(key, unresolved ? undefined : value);
    }
  }

  private label(instruction: Instruction, escape: string, stage: StageState): void {
    const lookup: Lookup = (variable) => stage.scope.get(variable);
    for (const pair of keyValues(instruction, escape)) {
      const label = this.expandPair(pair, instruction, escape, lookup);
      this.labels.push({ ...label, line: instruction.lineOf(pair.key.offset), stage: stage.info.index });
    }
  }

  private expandPair(
    pair: KeyValue,
    instruction: Instruction,
    escape: string,
    lookup: Lookup,
  ): Omit<DockerfileLabel, 'line' | 'stage'> {
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
      throw new DockerfileSyntaxError(
        `${name} ${quoteForMessage(word.text)} is not key=value (the legacy form "${name} key value" takes one pair only)`,
        line,
      );
    }
    if (equals === 0)
      throw new DockerfileSyntaxError(`${name} ${quoteForMessage(word.text)} has no key before "="`, line);
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
  if (!gap)
    throw new DockerfileSyntaxError(
      `${name} ${quoteForMessage(args)} has no value: write ${name} key=value`,
      instruction.line,
    );
  const valueStart = gap.index + gap[0].length;
  return {
    key: { text: args.slice(0, gap.index), offset: 0 },
    value: { text: args.slice(valueStart), offset: valueStart },
  };
}

/** LABEL, ENV and ARG take no `--flags`; Docker refuses them rather than reading them as keys. */
function rejectFlags(instruction: Instruction): void {
  const { args } = instruction;
  if (args.startsWith('--') && args.length > 2 && !isSpace(args[2] ?? '')) {
    const flag = args.split(INSTRUCTION_GAP, 1)[0] ?? args;
    throw new DockerfileSyntaxError(
      `${instruction.keyword.toUpperCase()} takes no flags, got ${quoteForMessage(flag)}`,
      instruction.line,
    );
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

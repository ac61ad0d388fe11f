/**
 * What a command line will run, as far as it can be known before it runs: the programs it starts
 * (through wrappers such as `env`, `sudo`, `xargs`, `busybox`, and through `sh -c` scripts), and
 * what cannot be decided statically (`eval "$x"`, `$p add`, `curl … | sh`), which is a finding of
 * its own rather than a silent pass.
 *
 * Scripts are parsed with mvdan/sh, the parser behind shfmt, through the npm package `mvdan-sh`
 * (its GopherJS build: plain JavaScript, synchronous, loads offline). The WASM build `sh-syntax`
 * was tried first: its JSON tree (0.7.0) drops the contents of every command, so there is nothing
 * to walk. Scripts are attacker input, so parsing is bounded: each script is capped in length
 * (longer is undecidable, not parsed), nesting deeper than the stack allows fails as a parse
 * error, and scripts in scripts are followed to a fixed depth.
 */
import { posix } from 'node:path';

export const SHELLS = ['ash', 'bash', 'csh', 'ksh', 'sh', 'tcsh', 'zsh', 'dash', 'mksh'];
/** The longest `sh -c` script parsed (bytes of UTF-16); parse time grows with it (about 10 ms/KiB here). */
const MAX_SCRIPT_LENGTH = 8 * 1024;
/** Wrappers in wrappers and scripts in scripts (`sudo env sh -c "nice sh -c …"`) are followed this deep. */
const MAX_DEPTH = 8;

/** Programs that run the program named in their arguments, with their flags that take a value. */
const WRAPPERS: Record<string, readonly string[]> = {
  env: ['-u', '--unset', '-C', '--chdir', '-S', '--split-string'],
  sudo: ['-u', '-g', '-U', '-C', '-D', '-h', '-p', '-R', '-r', '-T', '-t'],
  doas: ['-u', '-C'],
  nohup: [],
  time: ['-f', '-o'],
  timeout: ['-s', '--signal', '-k', '--kill-after'],
  nice: ['-n', '--adjustment'],
  ionice: ['-c', '-n', '-p', '-P', '-u'],
  setsid: [],
  stdbuf: ['-i', '-o', '-e'],
  chroot: ['--userspec', '--groups'],
  exec: ['-a'],
  command: [],
  builtin: [],
  busybox: [],
  xargs: [
    '-a',
    '--arg-file',
    '-d',
    '--delimiter',
    '-E',
    '-e',
    '-I',
    '-i',
    '-L',
    '-l',
    '-n',
    '--max-args',
    '-P',
    '--max-procs',
    '-s',
    '--max-chars',
  ],
  su: ['-c', '--command', '-s', '--shell', '-g', '-G'],
};
/** Wrappers whose first plain word is not the program but an argument (`timeout 5 cmd`, `chroot /new cmd`). */
const FIRST_WORD_IS_ARGUMENT = new Set(['timeout', 'chroot']);

export interface LaunchedProgram {
  /** The program's file name (`apk` for `/sbin/apk`). */
  program: string;
  /** The program as written (`/tmp/busybox2`), to tell where it runs from. */
  path: string;
  words: string[];
}

export interface CommandAnalysis {
  launched: LaunchedProgram[];
  /** What cannot be known before it runs, each in words with the part of the command that says it. */
  undecidable: string[];
}

interface MvdanNode {
  Pos(): { Offset(): number };
  End(): { Offset(): number };
  [field: string]: unknown;
}
interface MvdanSyntax {
  NewParser(): { Parse(src: string, name: string): MvdanNode };
  Walk(node: MvdanNode, visit: (node: MvdanNode | null) => boolean): void;
  NodeType(node: MvdanNode): string;
}

let loaded: MvdanSyntax | undefined;
/** Loaded on the first script: 1.5 MB of JavaScript that most execs never need. */
function shellSyntax(): MvdanSyntax {
  // A CommonJS build without types: required, and typed by the few calls made here.
  loaded ??= (require('mvdan-sh') as { syntax: MvdanSyntax }).syntax;
  return loaded;
}

/**
 * What a shell started without a script reads: nothing, a person at a terminal, or data (a pipe,
 * `docker exec -i c sh < script`), which is a script nobody can see in advance.
 */
export type StandardInput = 'none' | 'terminal' | 'data';

/** Analyses `entrypoint args…` as the engine would start it (an exec's ProcessConfig, a container's Path/Args). */
export function analyzeCommand(
  entrypoint: string,
  args: readonly string[],
  stdin: StandardInput = 'none',
): CommandAnalysis {
  const analysis: CommandAnalysis = { launched: [], undecidable: [] };
  followArgv([entrypoint, ...args], 0, analysis, stdin);
  return analysis;
}

/** A copy of a known program under a new name (`busybox2`, `sh.bak`) runs as that program. */
export function renamedFrom(program: string, known: readonly string[]): string | undefined {
  if (known.includes(program)) return undefined; // apt-get is not a copy of apt
  return known.find((name) => program.startsWith(name) && /^(?:\d+|[-_.~][\w.-]*)$/.test(program.slice(name.length)));
}

function isShell(program: string): boolean {
  return SHELLS.includes(program) || renamedFrom(program, SHELLS) !== undefined;
}

function wrapperOf(program: string): string | undefined {
  if (Object.hasOwn(WRAPPERS, program)) return program;
  // `/tmp/busybox2 wget …` still runs busybox's applet.
  return renamedFrom(program, ['busybox']);
}

function followArgv(argv: readonly string[], depth: number, analysis: CommandAnalysis, stdin: StandardInput): void {
  const path = argv[0] ?? '';
  if (path === '') return;
  const words = argv.slice(1);
  const program = posix.basename(path);
  analysis.launched.push({ program, path, words });
  if (depth >= MAX_DEPTH) {
    analysis.undecidable.push(
      `nested deeper than ${MAX_DEPTH} wrappers or scripts: ${excerpt(argv.slice(0, 50).join(' '))}`,
    );
    return;
  }
  const wrapper = wrapperOf(program);
  if (wrapper === 'su') {
    // `su -c 'script' user` runs the script through the user's shell.
    const flag = words.findIndex((w) => w === '-c' || w === '--command');
    if (flag >= 0 && flag + 1 < words.length) followScript(words[flag + 1]!, depth + 1, analysis);
    return;
  }
  if (wrapper !== undefined) {
    const wrapped = wrappedCommand(wrapper, words);
    if (wrapped.length > 0) followArgv(wrapped, depth + 1, analysis, stdin);
    return;
  }
  if (program === 'eval') {
    followScript(words.join(' '), depth + 1, analysis);
    return;
  }
  if ((program === '.' || program === 'source') && words.length > 0) {
    analysis.undecidable.push(`${program} runs the file ${words[0]}, whose content the Docker API cannot see`);
    return;
  }
  if (!isShell(program)) return;
  const shell = shellInvocation(words);
  if (shell.script !== undefined) followScript(shell.script, depth + 1, analysis);
  else if (shell.file !== undefined)
    analysis.undecidable.push(`${program} runs the script file ${shell.file}, whose content the Docker API cannot see`);
  else if (stdin === 'data')
    analysis.undecidable.push(
      `${program} runs commands from its standard input, which the Docker API cannot see: ${excerpt(argv.join(' '))}`,
    );
}

/** The command a wrapper runs: past its options, `VAR=value` words, and its own first argument where it has one. */
function wrappedCommand(wrapper: string, words: readonly string[]): string[] {
  const withValue = WRAPPERS[wrapper] ?? [];
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (word === '--') {
      i += 1;
      break;
    }
    if (word.startsWith('-') && word.length > 1) i += withValue.includes(word) ? 2 : 1;
    else if (wrapper === 'env' && /^\w+=/.test(word)) i += 1;
    else break;
  }
  if (FIRST_WORD_IS_ARGUMENT.has(wrapper)) i += 1;
  return words.slice(i);
}

/** `sh -c SCRIPT`, or combined short options that include c (`bash -lc`, `sh -ec`); else a script file, or stdin. */
function shellInvocation(words: readonly string[]): { script?: string; file?: string } {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(word)) return { script: words[i + 1] ?? '' };
    if (word === '-s') return {};
    if (word === '-o' || word === '+o' || word === '--rcfile' || word === '--init-file') i += 1;
    else if (!word.startsWith('-') && !word.startsWith('+')) return { file: word };
  }
  return {};
}

function followScript(script: string, depth: number, analysis: CommandAnalysis): void {
  if (script.length > MAX_SCRIPT_LENGTH) {
    analysis.undecidable.push(
      `a shell script of ${script.length} characters, longer than the ${MAX_SCRIPT_LENGTH} parsed`,
    );
    return;
  }
  const syntax = shellSyntax();
  let file: MvdanNode;
  try {
    file = syntax.NewParser().Parse(script, '');
  } catch (error) {
    // A script the parser rejects (or nests past the stack) may still mean something to the shell that runs it.
    analysis.undecidable.push(`a shell script that cannot be parsed (${parseErrorText(error)}): ${excerpt(script)}`);
    return;
  }
  const calls: MvdanNode[] = [];
  syntax.Walk(file, (node) => {
    if (node && syntax.NodeType(node) === 'CallExpr') calls.push(node);
    return true;
  });
  for (const call of calls) {
    const args = (call.Args as MvdanNode[]).map((word) => wordValue(syntax, word, script));
    if (args.length === 0) continue; // only assignments (`p=apk`)
    const text = excerpt(script.slice(call.Pos().Offset(), call.End().Offset()));
    if (args[0]!.dynamic) {
      analysis.undecidable.push(`the program's name is known only when it runs: ${text}`);
      continue;
    }
    if (args[0]!.value === 'eval' && args.slice(1).some((a) => a.dynamic)) {
      analysis.undecidable.push(`eval of text known only when it runs: ${text}`);
      continue;
    }
    followArgv(
      args.map((a) => a.value),
      depth,
      analysis,
      'data',
    );
  }
}

/**
 * A word's value with quotes removed (`a''pk` is `apk`, `'apt-get'` is `apt-get`); dynamic when a
 * part of it is expanded at run time (`$p`, `$(…)`, `` `…` ``, globs are left as written).
 */
function wordValue(syntax: MvdanSyntax, word: MvdanNode, script: string): { value: string; dynamic: boolean } {
  return partsValue(syntax, word.Parts as MvdanNode[], script, false);
}

function partsValue(
  syntax: MvdanSyntax,
  parts: readonly MvdanNode[],
  script: string,
  inDoubleQuotes: boolean,
): { value: string; dynamic: boolean } {
  let value = '';
  let dynamic = false;
  for (const part of parts) {
    const type = syntax.NodeType(part);
    if (type === 'Lit') value += unescape(String(part.Value), inDoubleQuotes);
    else if (type === 'SglQuoted') value += String(part.Value);
    else if (type === 'DblQuoted') {
      const inner = partsValue(syntax, part.Parts as MvdanNode[], script, true);
      value += inner.value;
      dynamic ||= inner.dynamic;
    } else {
      value += script.slice(part.Pos().Offset(), part.End().Offset());
      dynamic = true;
    }
  }
  return { value, dynamic };
}

/** Backslash escapes: outside quotes any character (`a\pk` is `apk`); inside double quotes only $ ` " \ and newline. */
function unescape(literal: string, inDoubleQuotes: boolean): string {
  const escaped = inDoubleQuotes ? /\\([$`"\\\n])/g : /\\([\s\S])/g;
  return literal.replace(escaped, (_, c: string) => (c === '\n' ? '' : c));
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

function parseErrorText(error: unknown): string {
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'object' && error && 'Error' in error
        ? String((error as { Error(): string }).Error())
        : String(error);
  return message.slice(0, 200);
}

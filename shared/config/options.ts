/**
 * One declaration per option: flag, environment variable, type, default, validation and help.
 * Parsing, `--help`, the README tables and the error messages all come from these declarations.
 * Precedence: flag > environment > default.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { durationMs } from './duration';
import { ConfigError } from './errors';
import { withoutPassword } from './uri';
import { readSecretFile, secretFileVariable } from './secret-files';

export interface OptionDecl<T> {
  help: string;
  /** The flag, e.g. `--listen`; derived from the property name when absent. */
  flag?: string;
  /** The value placeholder in help, e.g. `<host:port>`; absent for booleans. */
  placeholder?: string;
  env?: string;
  default?: T;
  /** How the default reads in help and docs, when `String(default)` is not right. */
  defaultText?: string;
  /** May be given several times; values accumulate in order. */
  repeatable?: boolean;
  /** Carries a secret: may also come from the file that `<env>_FILE` names (shared/config/secret-files.ts). */
  secret?: boolean;
  /** The heading it is listed under in --help, when not the one its command's options share. */
  helpGroup?: string;
  /** Turns the raw text into a value, or throws an Error whose message says what is expected. */
  parse(raw: string): T;
}

export type OptionDecls = Record<string, OptionDecl<unknown>>;

/** The parsed values of a set of declarations, keyed by property name. */
export type OptionValues<D extends OptionDecls> = {
  [K in keyof D]: D[K] extends OptionDecl<infer T> ? (D[K] extends { repeatable: true } ? T[] : T) : never;
};

/**
 * An option's value as errors quote it: a secret option's not at all, a URI without its password.
 * `name` is the flag or operand (`registry-uri`) the value was given as.
 */
export function valueForMessage(name: string, decl: OptionDecl<unknown>, raw: string): string {
  return decl.secret ? name : `${name} ${JSON.stringify(withoutPassword(raw))}`;
}

/** `--docker-host (DOCKER_HOST)`: the option by both names it may be given by. */
function optionName(key: string, decl: OptionDecl<unknown>): string {
  return decl.env ? `${flagOf(key, decl)} (${decl.env})` : flagOf(key, decl);
}

export function flagOf(key: string, decl: OptionDecl<unknown>): string {
  return decl.flag ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Adds the declarations to a commander command, listed in --help under `helpGroup` unless one says otherwise. */
export function addOptions(command: Command, decls: OptionDecls, helpGroup?: string): Command {
  for (const [key, decl] of Object.entries(decls)) {
    const flags = `${flagOf(key, decl)} ${decl.placeholder ?? '[true|false]'}`;
    const option = new Option(
      flags,
      decl.secret && decl.env ? `${decl.help} (or from the file named by ${secretFileVariable(decl.env)})` : decl.help,
    );
    option.attributeName = () => key;
    const group = decl.helpGroup ?? helpGroup;
    if (group) option.helpGroup(group);
    if (decl.env) option.env(decl.env);
    if (decl.default !== undefined) option.default(decl.default, decl.defaultText ?? describeDefault(decl.default));
    if (decl.placeholder === undefined) option.preset('true');
    option.argParser((raw: string, previous: unknown) => {
      let value: unknown;
      try {
        value = decl.parse(raw);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // commander's message quotes the value: not one that carries a secret (stderr is a shipped log).
        if (decl.secret || withoutPassword(raw) !== raw)
          throw new ConfigError(`${valueForMessage(optionName(key, decl), decl, raw)}: ${message}`);
        throw new InvalidArgumentError(message);
      }
      if (!decl.repeatable) return value;
      // commander hands the default as `previous` to the first value; a given value replaces it.
      return Array.isArray(previous) && previous !== decl.default ? [...previous, value] : [value];
    });
    command.addOption(option);
  }
  const secrets = Object.entries(decls).filter(([, decl]) => decl.secret && decl.env);
  // commander runs a command's preAction hooks for its subcommands' actions too (`check` under
  // label-inspector), which do not have these options: only this command's own action reads them.
  if (secrets.length > 0)
    command.hook('preAction', (_hooked, actionCommand) => {
      if (actionCommand === command) applySecretFiles(command, secrets);
    });
  return command;
}

/**
 * Fills secret options from `<env>_FILE` where neither the flag nor the variable gave them. The
 * flag still wins (precedence); the variable and its file together are refused as ambiguous.
 */
function applySecretFiles(
  command: Command,
  secrets: ReadonlyArray<[string, OptionDecl<unknown>]>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const [key, decl] of secrets) {
    const variable = secretFileVariable(decl.env!);
    const file = env[variable];
    if (!file) continue;
    const source = command.getOptionValueSource(key);
    if (source === 'cli') continue;
    if (source === 'env') throw new ConfigError(`${decl.env} and ${variable} are both set: give the value one way`);
    let value: unknown;
    try {
      value = decl.parse(readSecretFile(variable, file));
    } catch (error) {
      throw error instanceof ConfigError
        ? error
        : new ConfigError(`${variable}: the value in ${file} is invalid: ${(error as Error).message}`);
    }
    command.setOptionValueWithSource(key, decl.repeatable ? [value] : value, 'env');
  }
}

/** The same declarations, listed in --help under `helpGroup`. */
export function inHelpGroup<D extends OptionDecls>(helpGroup: string, decls: D): D {
  return Object.fromEntries(Object.entries(decls).map(([key, decl]) => [key, { ...decl, helpGroup }])) as D;
}

function describeDefault(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

// ---- declaration helpers -------------------------------------------------------------------

type Common<T> = Omit<OptionDecl<T>, 'parse' | 'placeholder'> & { placeholder?: string };

export function stringOption(decl: Common<string> & { pattern?: RegExp; expect?: string }): OptionDecl<string> {
  return {
    placeholder: '<value>',
    ...decl,
    parse(raw) {
      if (decl.pattern && !decl.pattern.test(raw)) throw new Error(`expected ${decl.expect ?? decl.pattern.source}`);
      return raw;
    },
  };
}

export function optionalStringOption(
  decl: Omit<Common<string | undefined>, 'default'>,
): OptionDecl<string | undefined> {
  return { placeholder: '<value>', ...decl, parse: (raw) => raw || undefined };
}

/** A comma-separated list (`a,b,c`); each item checked by `parseItem`, empty items ignored. */
export function listOption<T = string>(
  // NoInfer: an empty default (`[]`) says nothing about the item type; parseItem does.
  decl: Omit<OptionDecl<T[]>, 'parse' | 'default'> & { default?: NoInfer<T>[]; parseItem?(item: string): T },
): OptionDecl<T[]> {
  const { parseItem = (item: string) => item as T, ...rest } = decl;
  return {
    placeholder: '<list>',
    defaultText: decl.default && decl.default.length > 0 ? decl.default.join(',') : undefined,
    ...rest,
    parse: (raw) =>
      raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
        .map(parseItem),
  };
}

/** A value that may be given several times (`--image a --image b`); values accumulate in order. */
export function repeatableOption<T = string>(
  decl: Omit<Common<T>, 'default'> & { parse?(raw: string): T },
): OptionDecl<T> & { repeatable: true } {
  return { placeholder: '<value>', parse: (raw: string) => raw as T, ...decl, repeatable: true };
}

/** A safe integer within `min`..`max`; a maximum is said in the help, as a duration's is. */
export function integerOption(decl: Common<number> & { min?: number; max?: number }): OptionDecl<number> {
  return {
    placeholder: '<n>',
    ...decl,
    help: decl.max === undefined ? decl.help : `${decl.help} (at most ${decl.max})`,
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error('expected an integer');
      const value = Number(raw);
      if (!Number.isSafeInteger(value))
        throw new Error(`expected an integer between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
      return inRange(value, decl.min, decl.max, String);
    },
  };
}

export function booleanOption(decl: Omit<Common<boolean>, 'placeholder'>): OptionDecl<boolean> {
  return { ...decl, parse: parseBoolean };
}

function parseBoolean(raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
  if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
  throw new Error('expected true or false');
}

export function choiceOption<C extends string>(decl: Common<C> & { choices: readonly C[] }): OptionDecl<C> {
  return {
    placeholder: `<${decl.choices.join('|')}>`,
    ...decl,
    parse(raw) {
      const choice = decl.choices.find((c) => c === raw.trim().toLowerCase());
      if (choice === undefined) throw new Error(`expected one of ${decl.choices.join(', ')}`);
      return choice;
    },
  };
}

/**
 * The longest duration any option takes unless it says less: a week. Node.js fires a timer longer
 * than 2^31-1 ms (24.8 days) after 1 ms, so no duration may come near that.
 */
const MAX_DURATION_MS = 7 * 24 * 3_600_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration in milliseconds: Go form (`500ms`, `10s`, `1m30s`, `1h`) or a bare number, in seconds
 * unless `bareUnit` says milliseconds (options that logspout users already write in ms); at most
 * `maxMs` (a week by default). The help says both.
 */
export function durationOption(
  decl: Common<number> & { minMs?: number; maxMs?: number; bareUnit?: 's' | 'ms' },
): OptionDecl<number> & { maxMs: number } {
  const { bareUnit = 's', ...rest } = decl;
  const maxMs = decl.maxMs ?? MAX_DURATION_MS;
  if (maxMs > MAX_TIMER_MS)
    throw new Error(`a duration option may not allow more than ${MAX_TIMER_MS} ms (the longest Node.js timer)`);
  const bareNote = bareUnit === 'ms' ? 'a bare number is milliseconds; ' : '';
  return {
    placeholder: '<duration>',
    ...rest,
    help: `${decl.help} (${bareNote}at most ${formatDuration(maxMs)})`,
    maxMs,
    defaultText: decl.defaultText ?? (decl.default !== undefined ? formatDuration(decl.default) : undefined),
    parse(raw) {
      const ms = durationMs(raw, bareUnit === 'ms' ? 1 : 1_000);
      if (Number.isNaN(ms)) throw new Error('expected a duration such as 500ms, 10s, 1m30s or 1h');
      return inRange(ms, decl.minMs, maxMs, formatDuration);
    },
  };
}

function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT`, `:PORT` (all interfaces) or `[IPv6]:PORT`. */
export function parseHostPort(raw: string): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error('expected HOST:PORT, :PORT or [IPv6]:PORT with a port from 0 to 65535');
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function hostPortOption(decl: Common<HostPort>): OptionDecl<HostPort> {
  return {
    placeholder: '<host:port>',
    ...decl,
    defaultText: decl.defaultText ?? (decl.default ? formatHostPort(decl.default) : undefined),
    parse: parseHostPort,
  };
}

function inRange<N extends number>(
  value: N,
  min: number | undefined,
  max: number | undefined,
  show: (n: number) => string,
): N {
  if (!Number.isFinite(value)) throw new Error('expected a number');
  if (min !== undefined && value < min) throw new Error(`must be at least ${show(min)}`);
  if (max !== undefined && value > max) throw new Error(`must be at most ${show(max)}`);
  return value;
}

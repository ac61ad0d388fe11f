/**
 * The part of Go's text/template that logspout users write in SYSLOG_*, RAW_FORMAT and route
 * options, compiled once into a function: fields (`.Data`, `.Container.Name`, `.Time`…),
 * pipelines (`{{ .Data | toJSON }}`), parentheses, and what logspout's own README uses —
 * `toJSON`, `index`, `printf`, `.Time.Format "layout"` and `.ContainerNameSplitN "sep" n`. Values
 * print as Go prints them (`.Container.Name` with its leading slash, `.Time` as Go's time.Time).
 * Anything else is a configuration error naming it, never a surprise at the first line.
 */
import { hostname } from 'node:os';
import { formatGoTime, GoTime } from './go-time';
import type { LogMessage } from './message';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** What a template sees besides the message: fields an adapter adds (syslog's `.Priority`). */
export type TemplateExtras = Readonly<Record<string, Value>>;

export type Template = (message: LogMessage, extras?: TemplateExtras) => string;

type Value = string | number | boolean | GoTime | readonly Value[] | { readonly [key: string]: Value } | undefined;
type Evaluate = (message: LogMessage, extras: TemplateExtras | undefined) => Value;

const FIELDS: Record<string, Evaluate> = {
  '.Data': (m) => m.data.toString('utf8'),
  '.Source': (m) => m.source,
  '.Time': (m) => new GoTime(m.ts),
  '.Timestamp': (m) => m.ts,
  '.ContainerName': (m) => m.container.name,
  // Go's inspect keeps the leading slash of the name; logspout prints it as is.
  '.Container.Name': (m) => `/${m.container.name}`,
  '.Container.ID': (m) => m.container.id,
  '.Container.Config.Hostname': (m) => m.container.hostname,
  '.Container.Config.Image': (m) => m.container.image,
  '.Container.Config.Labels': (m) => m.container.labels,
  '.Container.State.Pid': (m) => m.container.pid,
  '.Hostname': () => hostname(),
};

/** Methods: `.Time.Format "layout"`, `.ContainerNameSplitN "sep" n`, `.Time.Unix`. */
const METHODS: Record<
  string,
  { receiver: string; arity: number; call(receiver: Value, args: Value[], m: LogMessage): Value }
> = {
  '.Time.Format': { receiver: '.Time', arity: 1, call: (time, [layout]) => formatGoTime(time as GoTime, text(layout)) },
  '.Time.Unix': { receiver: '.Time', arity: 0, call: (time) => (time as GoTime).unixSeconds },
  '.Time.UnixNano': { receiver: '.Time', arity: 0, call: (time) => (time as GoTime).unixNanos },
  // Go's strings.SplitN: at most n pieces, the last holding the rest.
  '.ContainerNameSplitN': {
    receiver: '.',
    arity: 2,
    call: (_root, [sep, n], m) => splitN(m.container.name, text(sep), Number(n)),
  },
};

const FUNCTIONS: Record<string, { min: number; max: number; call(args: Value[]): Value }> = {
  toJSON: { min: 1, max: 1, call: ([value]) => goJson(value) },
  index: {
    min: 1,
    max: Infinity,
    call: ([value, ...keys]) => keys.reduce<Value>((item, key) => indexOf(item, key), value),
  },
  printf: { min: 1, max: Infinity, call: ([format, ...args]) => sprintf(text(format), args) },
  len: {
    min: 1,
    max: 1,
    call: ([value]) =>
      typeof value === 'string'
        ? Buffer.byteLength(value)
        : Array.isArray(value)
          ? value.length
          : value && typeof value === 'object'
            ? Object.keys(value).length
            : 0,
  },
  lower: { min: 1, max: 1, call: ([value]) => text(value).toLowerCase() },
  upper: { min: 1, max: 1, call: ([value]) => text(value).toUpperCase() },
};

/** Compiles `text`; `where` names the setting in errors; `extras` are the extra fields allowed. */
export function compileTemplate(source: string, where: string, extras: readonly string[] = []): Template {
  const parts = parse(source, where, extras);
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return () => constant;
  }
  return (message, values) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : text(part.evaluate(message, values));
    return out;
  };
}

/** Like compileTemplate, but a plain `{{.Data}}` stays the container's bytes (invalid UTF-8 included). */
export function compileByteTemplate(
  source: string,
  where: string,
  extras: readonly string[] = [],
): (message: LogMessage, values?: TemplateExtras) => Buffer {
  const parts = parse(source, where, extras).map((part) =>
    typeof part === 'string' ? Buffer.from(part, 'utf8') : part,
  );
  if (parts.length === 1 && !Buffer.isBuffer(parts[0]) && parts[0]!.rawData) return (message) => message.data;
  return (message, values) => {
    const out: Buffer[] = [];
    for (const part of parts) {
      if (Buffer.isBuffer(part)) out.push(part);
      else if (part.rawData) out.push(message.data);
      else out.push(Buffer.from(text(part.evaluate(message, values)), 'utf8'));
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  };
}

interface Action {
  evaluate: Evaluate;
  /** The action is exactly `{{.Data}}`. */
  rawData: boolean;
}

function parse(source: string, where: string, extras: readonly string[]): Array<string | Action> {
  const parts: Array<string | Action> = [];
  let rest = source;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`${where}: unclosed action {{ in ${JSON.stringify(source)}`);
    let before = rest.slice(0, open);
    let inner = rest.slice(open + 2, close);
    let after = rest.slice(close + 2);
    // `{{-` and `-}}` trim the white space next to the action, as in Go.
    if (/^-\s/.test(inner)) {
      before = before.trimEnd();
      inner = inner.slice(1);
    }
    if (/\s-$/.test(inner)) {
      after = after.trimStart();
      inner = inner.slice(0, -1);
    }
    if (before !== '') parts.push(before);
    const tokens = tokenize(inner.trim(), where);
    if (tokens.length === 0) throw new TemplateError(`${where}: empty action {{}}`);
    const parser = new Parser(tokens, where, inner.trim(), extras);
    const evaluate = parser.pipeline();
    parser.end();
    parts.push({
      evaluate,
      rawData: tokens.length === 1 && tokens[0]!.kind === 'field' && tokens[0]!.text === '.Data',
    });
    rest = after;
  }
  if (rest !== '') parts.push(rest);
  return mergeStrings(parts);
}

function mergeStrings(parts: Array<string | Action>): Array<string | Action> {
  const merged: Array<string | Action> = [];
  for (const part of parts) {
    const last = merged.at(-1);
    if (typeof part === 'string' && typeof last === 'string') merged[merged.length - 1] = last + part;
    else merged.push(part);
  }
  return merged;
}

interface Token {
  kind: 'field' | 'name' | 'string' | 'number' | 'open' | 'close' | 'pipe';
  text: string;
  value?: Value;
}

function tokenize(source: string, where: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s+|(\.(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?)|([A-Za-z_]\w*)|("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?)|([()|])/y;
  while (pattern.lastIndex < source.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(source);
    if (!match) throw new TemplateError(`${where}: cannot read ${JSON.stringify(source.slice(at))} in {{${source}}}`);
    const [all, field, name, quoted, raw, number, punct] = match;
    if (field !== undefined) tokens.push({ kind: 'field', text: field });
    else if (name !== undefined) tokens.push({ kind: 'name', text: name });
    else if (quoted !== undefined) tokens.push({ kind: 'string', text: all, value: JSON.parse(quoted) as string });
    else if (raw !== undefined) tokens.push({ kind: 'string', text: all, value: raw.slice(1, -1) });
    else if (number !== undefined) tokens.push({ kind: 'number', text: all, value: Number(number) });
    else if (punct !== undefined)
      tokens.push({ kind: punct === '(' ? 'open' : punct === ')' ? 'close' : 'pipe', text: punct });
  }
  return tokens;
}

class Parser {
  private at = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly where: string,
    private readonly source: string,
    private readonly extras: readonly string[],
  ) {}

  end(): void {
    if (this.at < this.tokens.length) this.fail(`unexpected ${this.tokens[this.at]!.text}`);
  }

  /** command ( '|' command )*: each command's result is the last argument of the next. */
  pipeline(): Evaluate {
    let current = this.command(undefined);
    while (this.tokens[this.at]?.kind === 'pipe') {
      this.at += 1;
      current = this.command(current);
    }
    return current;
  }

  private command(piped: Evaluate | undefined): Evaluate {
    const head = this.tokens[this.at];
    if (!head || head.kind === 'pipe' || head.kind === 'close') this.fail('missing value');
    const args: Evaluate[] = [];
    if (head.kind === 'name') {
      this.at += 1;
      const fn = FUNCTIONS[head.text];
      if (!fn) this.fail(`unknown function ${head.text} (known: ${Object.keys(FUNCTIONS).join(', ')})`);
      while (this.isOperand()) args.push(this.operand());
      if (piped) args.push(piped);
      if (args.length < fn.min || args.length > fn.max)
        this.fail(
          `${head.text} takes ${fn.min === fn.max ? fn.min : `at least ${fn.min}`} argument(s), not ${args.length}`,
        );
      return (m, x) => fn.call(args.map((arg) => arg(m, x)));
    }
    if (head.kind === 'field' && METHODS[head.text]) {
      this.at += 1;
      const method = METHODS[head.text]!;
      while (this.isOperand()) args.push(this.operand());
      if (piped) args.push(piped);
      if (args.length !== method.arity) this.fail(`${head.text} takes ${method.arity} argument(s), not ${args.length}`);
      const receiver = method.receiver === '.' ? () => undefined : FIELDS[method.receiver]!;
      return (m, x) =>
        method.call(
          receiver(m, x),
          args.map((arg) => arg(m, x)),
          m,
        );
    }
    const value = this.operand();
    if (this.isOperand() || piped) this.fail(`${head.text} is not a function and takes no arguments`);
    return value;
  }

  private isOperand(): boolean {
    const token = this.tokens[this.at];
    return token !== undefined && token.kind !== 'pipe' && token.kind !== 'close';
  }

  private operand(): Evaluate {
    const token = this.tokens[this.at++]!;
    switch (token.kind) {
      case 'string':
      case 'number': {
        const constant = token.value;
        return () => constant;
      }
      case 'open': {
        const inner = this.pipeline();
        if (this.tokens[this.at]?.kind !== 'close') this.fail('missing )');
        this.at += 1;
        return inner;
      }
      case 'field':
        return this.field(token.text);
      case 'name':
        return this.fail(`${token.text}: a function call as an argument needs parentheses`);
      default:
        return this.fail(`unexpected ${token.text}`);
    }
  }

  private field(path: string): Evaluate {
    const known = FIELDS[path];
    if (known) return known;
    const extra = path.slice(1);
    if (this.extras.includes(extra)) return (_m, x) => x?.[extra];
    // A label by a dotted path, as Go resolves map keys: `.Container.Config.Labels.team`.
    const label = /^\.Container\.Config\.Labels\.(\w+)$/.exec(path);
    if (label) return (m) => m.container.labels[label[1]!] ?? undefined;
    const method = METHODS[path];
    if (method?.arity === 0) {
      const receiver = FIELDS[method.receiver]!;
      return (m, x) => method.call(receiver(m, x), [], m);
    }
    if (method) this.fail(`${path} takes ${method.arity} argument(s)`);
    const fields = [...Object.keys(FIELDS), ...this.extras.map((e) => `.${e}`), ...Object.keys(METHODS)].join(', ');
    throw new TemplateError(
      `${this.where}: unknown template field {{${path}}} (known: ${fields}; functions ${Object.keys(FUNCTIONS).join(', ')})`,
    );
  }

  private fail(reason: string): never {
    throw new TemplateError(`${this.where}: ${reason} in {{${this.source}}}`);
  }
}

// ---- values as Go prints them ---------------------------------------------------------------

/** fmt's %v: what text/template writes for a value. */
function text(value: Value): string {
  if (value === undefined) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof GoTime) return value.toString();
  if (Array.isArray(value)) return `[${value.map(text).join(' ')}]`;
  const map = value as Record<string, Value>;
  return `map[${Object.keys(map)
    .sort()
    .map((key) => `${key}:${text(map[key])}`)
    .join(' ')}]`;
}

/** encoding/json's Marshal: sorted keys, `<`, `>` and `&` escaped, time as RFC 3339. */
function goJson(value: Value): string {
  const plain = (item: Value): unknown => {
    if (item instanceof GoTime) return item.rfc3339Nano;
    if (Array.isArray(item)) return item.map(plain);
    if (item && typeof item === 'object') {
      const map = item as Record<string, Value>;
      return Object.fromEntries(
        Object.keys(map)
          .sort()
          .map((key) => [key, plain(map[key])]),
      );
    }
    return item ?? null;
  };
  return JSON.stringify(plain(value)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function indexOf(item: Value, key: Value): Value {
  if (Array.isArray(item)) return item[Number(key)];
  if (item && typeof item === 'object' && !(item instanceof GoTime)) return (item as Record<string, Value>)[text(key)];
  return undefined;
}

function splitN(value: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const pieces = value.split(sep);
  if (n < 0 || pieces.length <= n) return pieces;
  return [...pieces.slice(0, n - 1), pieces.slice(n - 1).join(sep)];
}

/** fmt.Sprintf for the verbs templates use: %s %v %d %q %f %x %%, with flags, width and precision. */
function sprintf(format: string, args: Value[]): string {
  let next = 0;
  return format.replace(
    /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([svdqfxX%])/g,
    (_all, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
      if (verb === '%') return '%';
      if (next >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[next++];
      let out: string;
      switch (verb) {
        case 'd':
          out = typeof arg === 'number' ? String(Math.trunc(arg)) : `%!d(${typeof arg}=${text(arg)})`;
          break;
        case 'f':
          out =
            typeof arg === 'number'
              ? arg.toFixed(precision === undefined ? 6 : Number(precision))
              : `%!f(${typeof arg}=${text(arg)})`;
          break;
        case 'q':
          out = JSON.stringify(text(arg));
          break;
        case 'x':
        case 'X':
          out = typeof arg === 'number' ? arg.toString(16) : Buffer.from(text(arg)).toString('hex');
          if (verb === 'X') out = out.toUpperCase();
          break;
        default:
          out = text(arg);
          // Precision cuts a string to that many characters (runes): `%.12s` of an ID.
          if (precision !== undefined) out = [...out].slice(0, Number(precision)).join('');
      }
      const pad = Number(width ?? 0) - [...out].length;
      if (pad > 0)
        out = flags.includes('-')
          ? out + ' '.repeat(pad)
          : (flags.includes('0') && verb !== 's' ? '0' : ' ').repeat(pad) + out;
      return out;
    },
  );
}

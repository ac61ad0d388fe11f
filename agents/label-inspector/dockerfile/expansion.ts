/** Word expansion (BuildKit shell.Lex): quote removal, escapes, $VAR / ${VAR…} substitution. */
import { isDigit, isNameChar, quoteForMessage } from './characters';
import { DockerfileSyntaxError } from './syntax-error';

/** A variable's value, or undefined when we cannot know it. */
export type Lookup = (name: string) => string | undefined;

export interface Expansion {
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
const MAX_EXPANSION_CHARS = 1 << 20;
/** Deepest `${A:-${B:-…}}` nesting read; deeper would overflow the stack. */
const MAX_SUBSTITUTION_DEPTH = 64;

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
    if (++this.depth > MAX_SUBSTITUTION_DEPTH)
      throw new WordError(`substitutions nested deeper than ${MAX_SUBSTITUTION_DEPTH}`);
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

export function expandOrThrow(word: string, lookup: Lookup, escape: string, line: number, context: string): Expansion {
  try {
    return new WordExpander(word, lookup, escape).expand();
  } catch (error) {
    if (!(error instanceof WordError)) throw error;
    throw new DockerfileSyntaxError(`${error.message} in ${context} ${quoteForMessage(word)}`, line);
  }
}

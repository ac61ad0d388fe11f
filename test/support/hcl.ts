/**
 * A parser for the HCL the deploy/ Nomad job uses, for structural tests: blocks with labels,
 * attributes, strings (kept as written, `${…}` included), numbers, booleans, lists, objects and
 * references such as `var.image` (kept as `{ ref: 'var.image' }`). Comments: `#`, `//`, `/* *\/`.
 * Not covered (and not used there): heredocs, expressions with operators, for and conditionals.
 */
export type HclValue = string | number | boolean | HclValue[] | { [key: string]: HclValue } | HclRef;
interface HclRef {
  ref: string;
}
export interface HclBlock {
  type: string;
  labels: string[];
  attributes: Record<string, HclValue>;
  blocks: HclBlock[];
}

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' || text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`line ${line}: unterminated comment`);
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 2;
      continue;
    }
    if (c === '"') {
      let value = '';
      i++;
      while (text[i] !== '"') {
        if (i >= text.length || text[i] === '\n') throw new Error(`line ${line}: unterminated string`);
        if (text[i] === '\\') {
          value += JSON.parse(`"\\${text[i + 1]}"`) as string;
          i += 2;
          continue;
        }
        value += text[i++];
      }
      i++;
      tokens.push({ kind: 'string', text: value, line });
      continue;
    }
    const word = /^[A-Za-z_][\w.-]*/.exec(text.slice(i))?.[0];
    if (word) {
      tokens.push({ kind: 'ident', text: word, line });
      i += word.length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i))?.[0];
    if (number) {
      tokens.push({ kind: 'number', text: number, line });
      i += number.length;
      continue;
    }
    if ('{}[]=,:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
      continue;
    }
    throw new Error(`line ${line}: unexpected character ${JSON.stringify(c)}`);
  }
  return tokens;
}

export function parseHcl(text: string): HclBlock {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const take = (text?: string): Token => {
    const token = tokens[at++];
    if (!token || (text !== undefined && token.text !== text))
      throw new Error(`line ${token?.line ?? 'end'}: expected ${text ?? 'a token'}, got ${token?.text ?? 'the end'}`);
    return token;
  };

  function value(): HclValue {
    const token = take();
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'ident')
      return token.text === 'true' ? true : token.text === 'false' ? false : { ref: token.text };
    if (token.text === '[') {
      const list: HclValue[] = [];
      while (peek()?.text !== ']') {
        list.push(value());
        if (peek()?.text === ',') take(',');
      }
      take(']');
      return list;
    }
    if (token.text === '{') {
      const object: Record<string, HclValue> = {};
      while (peek()?.text !== '}') {
        const key = take().text;
        take(peek()?.text === ':' ? ':' : '=');
        object[key] = value();
        if (peek()?.text === ',') take(',');
      }
      take('}');
      return object;
    }
    throw new Error(`line ${token.line}: unexpected ${token.text}`);
  }

  function body(block: HclBlock, closing: string | undefined): HclBlock {
    while (peek() && peek()!.text !== closing) {
      const name = take();
      if (name.kind !== 'ident') throw new Error(`line ${name.line}: expected a name, got ${name.text}`);
      if (peek()?.text === '=') {
        take('=');
        if (name.text in block.attributes) throw new Error(`line ${name.line}: ${name.text} given twice`);
        block.attributes[name.text] = value();
        continue;
      }
      const labels: string[] = [];
      while (peek()?.kind === 'string' || (peek()?.kind === 'ident' && tokens[at + 1]?.text !== '=')) {
        labels.push(take().text);
      }
      take('{');
      block.blocks.push(body({ type: name.text, labels, attributes: {}, blocks: [] }, '}'));
      take('}');
    }
    return block;
  }

  return body({ type: '', labels: [], attributes: {}, blocks: [] }, undefined);
}

/** The blocks of `type` (and labels, when given) directly inside `block`. */
export function blocksOf(block: HclBlock, type: string, ...labels: string[]): HclBlock[] {
  return block.blocks.filter((b) => b.type === type && labels.every((l, i) => b.labels[i] === l));
}

/** Arguments to words (BuildKit parseWords): split on unquoted blanks, quotes and escapes kept. */
import { isSpace } from './characters';

export interface Word {
  text: string;
  /** Where the word starts in the instruction's arguments. */
  offset: number;
}

export function splitWords(args: string, escape: string): Word[] {
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

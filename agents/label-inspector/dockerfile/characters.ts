/** Characters as BuildKit's Go code classifies and trims them. */
/** BuildKit splits an instruction from its arguments (and a legacy key from its value) on these. */
export const INSTRUCTION_GAP = /[\t\v\f\r ]+/;
/** Go's unicode.IsSpace, which BuildKit splits words and trims lines with (it includes NBSP). */
const GO_SPACES = new Set(
  [...'\t\n\v\f\r \u0085\u00A0\u1680\u2028\u2029\u202F\u205F\u3000'].concat(
    Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i)),
  ),
);

export function isSpace(ch: string): boolean {
  return GO_SPACES.has(ch);
}

export function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

export function isNameChar(ch: string): boolean {
  return ch === '_' || /^[\p{L}\p{Nd}]$/u.test(ch);
}

export function trimStart(text: string): string {
  let start = 0;
  while (start < text.length && isSpace(text[start] ?? '')) start++;
  return text.slice(start);
}

export function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1] ?? '')) end--;
  return text.slice(0, end);
}

/** Drops the `\r` of CRLF line ends (BuildKit trims trailing `\r` and `\n`). */
export function trimLineEnd(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === '\r') end--;
  return line.slice(0, end);
}

/** Go regexp's `\s`, around a directive's value. */
export function trimAsciiSpace(text: string): string {
  const blank = (ch: string | undefined) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\f' || ch === '\r';
  let start = 0;
  let end = text.length;
  while (start < end && blank(text[start])) start++;
  while (end > start && blank(text[end - 1])) end--;
  return text.slice(start, end);
}

export function quoteForMessage(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}

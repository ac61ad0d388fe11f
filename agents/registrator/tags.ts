/**
 * registrator's tag lists: comma-separated, `\,` for a literal comma, empty items dropped. Unlike
 * registrator (whose splitter reversed every list), tags keep the order they were given in.
 */
export function splitTags(text: string): string[] {
  const tags: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === ',') {
      current += ',';
      i += 1;
    } else if (c === ',') {
      tags.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  tags.push(current);
  return tags.map((t) => t.trim()).filter((t) => t !== '');
}

/** Joins lists in order, keeping the first of each repeated tag. */
export function mergeTags(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

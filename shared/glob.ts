/**
 * Shell-style globs as users write them in filters and policies: `*` is any run of characters
 * (including none), `?` exactly one, everything else literal. Whole-string match.
 */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globBody(glob)}$`);
}

/** One matcher for several globs: true when any of them matches. No globs match nothing. */
export function globMatcher(globs: readonly string[]): (text: string) => boolean {
  if (globs.length === 0) return () => false;
  const regex = new RegExp(`^(?:${globs.map(globBody).join('|')})$`);
  return (text) => regex.test(text);
}

function globBody(glob: string): string {
  return glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
}

/**
 * Shell-style globs as users write them in filters and policies: `*` is any run of characters
 * (including none), `?` exactly one, everything else literal. Whole-string match.
 *
 * Matched by the classic two-pointer wildcard walk, not a backtracking RegExp: a glob is often
 * hostile input (`GET /logs/name:<glob>`, a route filter), and `*a*a*a…b` under RegExp takes time
 * exponential in its stars. Here a mismatch only moves the last star on by one character, so a
 * test takes at most (text length × glob length) steps.
 */
export interface Glob {
  test(text: string): boolean;
}

export function compileGlob(glob: string): Glob {
  const pattern = glob.replace(/\*{2,}/g, '*');
  return { test: (text) => wildcardMatch(pattern, text) };
}

/** One matcher for several globs: true when any of them matches. No globs match nothing. */
export function globMatcher(globs: readonly string[]): (text: string) => boolean {
  const compiled = globs.map(compileGlob);
  return (text) => compiled.some((glob) => glob.test(text));
}

function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  // Where the last `*` was, and the text position it is currently taken to end at.
  let star = -1;
  let starEnd = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      starEnd = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starEnd;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Regular expressions a user writes and hostile text is tested against (schema patterns, multiline
 * route patterns), under RE2 (re2js, pure JavaScript): a test takes time linear in the text, so no
 * pattern can make a label or a log line stall an agent (`^(\w+\s?)+:` against a crafted line
 * backtracks for ever under RegExp). RE2 has no lookaround or backreferences: such a pattern is
 * refused when it is compiled. The native `re2` bindings would be faster but need a compiler or a
 * downloaded binary at install.
 */
export interface LinearRegExp {
  /** True when the pattern matches somewhere in the text, as RegExp.prototype.test. */
  test(text: string): boolean;
}

/** Compiles a pattern; one RE2 cannot run throws an Error saying why. */
export function linearRegExp(pattern: string): LinearRegExp {
  // Loaded on first use: most agents never compile a pattern.
  const { RE2JS } = require('re2js') as typeof import('re2js');
  const re = RE2JS.compile(pattern);
  return { test: (text) => re.test(text) };
}

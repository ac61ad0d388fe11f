/** `com.docker.compose.*` style patterns: `*` is any run of characters, everything else literal. */
export function globMatcher(patterns: readonly string[]): (key: string) => boolean {
  if (patterns.length === 0) return () => false;
  const source = patterns.map((p) => p.split('*').map(escapeRegExp).join('.*')).join('|');
  const regex = new RegExp(`^(?:${source})$`);
  return (key) => regex.test(key);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

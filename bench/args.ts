/** `--name N` from the benchmark's command line, or the fallback. */
export function argValue(name: string, fallback: number, args: readonly string[] = process.argv.slice(2)): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

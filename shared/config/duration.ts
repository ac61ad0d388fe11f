/**
 * Durations as Go writes them (`time.ParseDuration`): `1m30s`, `1.5h`, `300ms`, `2h45m10s`, units
 * ns, us (µs), ms, s, m, h. Docker, Consul, registrator and logspout users write them so, in flags
 * and in container settings alike; one parser keeps every place reading them the same way.
 */
const GO_DURATION =
  /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Nanoseconds of a Go duration without sign (`0` alone is zero too), or NaN when `text` is not one. */
export function goDurationNs(text: string): number {
  if (text === '0') return 0;
  if (!GO_DURATION.test(text)) return Number.NaN;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_NS[unit!]!;
  return total;
}

/**
 * Milliseconds of a Go duration, or of a bare number in `bareUnitMs` units: seconds by default
 * (`30` = 30s, as registrator's flags), milliseconds where logspout's options took them; or NaN.
 */
export function durationMs(text: string, bareUnitMs = 1_000): number {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed) * bareUnitMs;
  return goDurationNs(trimmed) / 1e6;
}

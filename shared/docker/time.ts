/** Docker timestamps: exact nanosecond strings, `since` parameters and user-given times. */
import { goDurationNs } from '../config/duration';

const NANOS_PER_SECOND = 1_000_000_000n;

/** `1700000000123456789` → `1700000000.123456789`, the form `/events?since=` resumes from exactly. */
export function sinceParam(timeNano: string): string {
  const nanos = BigInt(timeNano);
  const seconds = nanos / NANOS_PER_SECOND;
  const fraction = (nanos % NANOS_PER_SECOND).toString().padStart(9, '0');
  return `${seconds}.${fraction}`;
}

/** Orders two nanosecond strings (decimal digits without leading zeros) without BigInt. */
export function compareTimeNano(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function nanoFromMillis(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n).toString();
}

export function timeNanoToDate(timeNano: string): Date {
  return new Date(Number(BigInt(timeNano) / 1_000_000n));
}

/**
 * Reads a user-given point in time the way `docker events --since` does: Unix seconds with an
 * optional fraction (`1700000000.5`), an RFC 3339 date, or a Go duration before now (`10m`, `1m30s`).
 * Returns nanoseconds since the epoch, or throws with the accepted forms.
 */
export function parsePointInTime(value: string, now: () => number = Date.now): string {
  const nanos = pointInTime(value.trim(), now);
  if (nanos === undefined)
    throw new Error(
      `expected Unix seconds (1700000000.5), an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (10m, 1m30s), got '${value}'`,
    );
  // The engine cannot replay from before 1970 or from the future, and would refuse it at every retry.
  if (nanos < 0n) throw new Error(`'${value}' is before 1970`);
  if (nanos > BigInt(now() + CLOCK_SKEW_MS) * 1_000_000n) throw new Error(`'${value}' is in the future`);
  return nanos.toString();
}

/** How far ahead of this clock a --since may be: the engine's clock may run ahead of ours. */
const CLOCK_SKEW_MS = 60_000;

function pointInTime(text: string, now: () => number): bigint | undefined {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1]!) * NANOS_PER_SECOND + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const agoNs = goDurationNs(text);
  if (!Number.isNaN(agoNs)) return BigInt(Math.floor(now() - agoNs / 1e6)) * 1_000_000n;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n;
  }
  return undefined;
}

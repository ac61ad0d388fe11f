/** What flows from a container's log stream to the routes. */

export type LogSource = 'stdout' | 'stderr';

/** The container a message came from, as inspect showed it when the stream was opened. */
export interface ContainerMeta {
  id: string;
  name: string;
  image: string;
  hostname: string;
  pid: number;
  labels: Readonly<Record<string, string>>;
  tty: boolean;
}

/** Where a line sits in a container's log: Docker's timestamp and how many lines before it share it. */
export interface LogPosition {
  /** RFC 3339 with 9 fraction digits, as Docker writes it (`2026-11-27T20:20:15.620573110Z`); other engines' are converted. */
  ts: string;
  /** 1 for the first line stamped `ts`, 2 for the second… */
  n: number;
}

/** One log line (or one piece of a line longer than the maximum), reassembled. */
export interface LogLine {
  source: LogSource;
  /** Docker's timestamp of the line's last frame. */
  ts: string;
  /** The bytes, without the line ending; any bytes, not necessarily UTF-8. */
  data: Buffer;
  /** Set on the pieces of a line longer than the maximum: 1, 2, …; `last` on the final piece. */
  part?: { index: number; last: boolean };
}

/** A message ready for a route: one line, or several merged by multiline. */
export interface LogMessage {
  container: ContainerMeta;
  source: LogSource;
  ts: string;
  data: Buffer;
  part?: { index: number; last: boolean };
  /** Fields parsed from a JSON line, when the route asks for JSON parsing and the line is an object. */
  fields?: Record<string, unknown>;
  /** Called once the route has accepted (or dropped) the message. */
  done(): void;
}

/** Docker's RFC 3339 nano timestamp as `seconds.nanoseconds`, the form `since` takes. */
export function sinceOf(ts: string): string {
  if (ts < '1970') return '0';
  const ms = Date.parse(ts.slice(0, 19) + 'Z');
  const frac = /\.(\d+)Z$/.exec(ts)?.[1] ?? '0';
  return `${Math.floor(ms / 1000)}.${frac.padEnd(9, '0').slice(0, 9)}`;
}

/** How far before a checkpoint's timestamp a re-read starts (see `resumeSinceOf`). */
const RESUME_MARGIN_NS = 1_000;

/**
 * The `since` that re-reads a log from its first line stamped `ts`, whatever the engine: Docker's
 * `since` is inclusive, Podman's exclusive and parsed as a float (about 0.2 µs of error at today's
 * epoch seconds), so ask from a microsecond earlier. The few lines that brings back from before
 * `ts` are skipped as older by the delivery tracker.
 */
export function resumeSinceOf(ts: string): string {
  if (ts < '1970') return '0';
  const [seconds, nanos] = sinceOf(ts).split('.').map(Number) as [number, number];
  const borrow = nanos < RESUME_MARGIN_NS ? 1 : 0;
  if (seconds - borrow < 0) return '0';
  return `${seconds - borrow}.${String(nanos - RESUME_MARGIN_NS + borrow * 1e9).padStart(9, '0')}`;
}

/** Docker timestamps are fixed width (9 fraction digits), so they compare as strings. */
export function compareTs(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

let lastSecond = '';
let lastSecondMs = NaN;

/**
 * Milliseconds since the epoch of a Docker timestamp (for lag metrics). It runs for every
 * batch, so the date is parsed once per second of timestamps, not per call (Date.parse takes
 * microseconds).
 */
export function tsMillis(ts: string): number {
  // Docker's fixed form, `2026-11-27T20:20:15.620573110Z`; anything else is parsed in full.
  if (ts.length !== 30 || ts[19] !== '.' || ts[29] !== 'Z') return Date.parse(ts);
  const second = ts.slice(0, 19);
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondMs = Date.parse(`${second}Z`);
  }
  return lastSecondMs + Number(ts.slice(20, 23));
}

/** `now` as a Docker-style timestamp with 9 fraction digits. */
export function tsFromMillis(ms: number): string {
  const iso = new Date(ms).toISOString(); // …ss.mmmZ
  return `${iso.slice(0, 23)}000000Z`;
}

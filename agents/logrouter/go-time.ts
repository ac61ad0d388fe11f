/**
 * A Docker timestamp as Go's time.Time prints it, for templates written for logspout:
 * `{{.Time.Format "2006-01-02T15:04:05.000Z07:00"}}` formats with Go's reference layout. Docker
 * stamps lines in UTC, so zones are always UTC (`Z`, `+0000`, `UTC`).
 */
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export class GoTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** The 9 fraction digits. */
  readonly nanos: string;

  /** `ts`: Docker's RFC 3339 timestamp with 9 fraction digits. */
  constructor(readonly ts: string) {
    this.year = Number(ts.slice(0, 4));
    this.month = Number(ts.slice(5, 7));
    this.day = Number(ts.slice(8, 10));
    this.hour = Number(ts.slice(11, 13));
    this.minute = Number(ts.slice(14, 16));
    this.second = Number(ts.slice(17, 19));
    this.nanos = (/\.(\d+)/.exec(ts)?.[1] ?? '').padEnd(9, '0').slice(0, 9);
  }

  get unixSeconds(): number {
    return Math.floor(Date.UTC(this.year, this.month - 1, this.day, this.hour, this.minute, this.second) / 1000);
  }

  get unixNanos(): number {
    return this.unixSeconds * 1e9 + Number(this.nanos);
  }

  get weekday(): number {
    return new Date(Date.UTC(this.year, this.month - 1, this.day)).getUTCDay();
  }

  get yearDay(): number {
    return Math.round((Date.UTC(this.year, this.month - 1, this.day) - Date.UTC(this.year, 0, 1)) / 86_400_000) + 1;
  }

  get rfc3339Nano(): string {
    return formatGoTime(this, '2006-01-02T15:04:05.999999999Z07:00');
  }

  /** What `{{.Time}}` prints: Go's time.Time String(). */
  toString(): string {
    return formatGoTime(this, '2006-01-02 15:04:05.999999999 -0700 MST');
  }
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/**
 * The layout elements of Go's time package, longest first where one is a prefix of another.
 * Fractions (`.000`, `.999`, `,000`) are matched separately.
 */
const ELEMENTS: Array<[string, (t: GoTime) => string]> = [
  ['January', (t) => MONTHS[t.month - 1]!],
  ['Jan', (t) => MONTHS[t.month - 1]!.slice(0, 3)],
  ['Monday', (t) => DAYS[t.weekday]!],
  ['Mon', (t) => DAYS[t.weekday]!.slice(0, 3)],
  ['MST', () => 'UTC'],
  ['2006', (t) => pad(t.year, 4)],
  ['002', (t) => pad(t.yearDay, 3)],
  ['__2', (t) => String(t.yearDay).padStart(3, ' ')],
  ['_2', (t) => String(t.day).padStart(2, ' ')],
  ['01', (t) => pad(t.month, 2)],
  ['02', (t) => pad(t.day, 2)],
  ['03', (t) => pad(t.hour % 12 || 12, 2)],
  ['04', (t) => pad(t.minute, 2)],
  ['05', (t) => pad(t.second, 2)],
  ['06', (t) => pad(t.year % 100, 2)],
  ['15', (t) => pad(t.hour, 2)],
  ['1', (t) => String(t.month)],
  ['2', (t) => String(t.day)],
  ['3', (t) => String(t.hour % 12 || 12)],
  ['4', (t) => String(t.minute)],
  ['5', (t) => String(t.second)],
  ['PM', (t) => (t.hour >= 12 ? 'PM' : 'AM')],
  ['pm', (t) => (t.hour >= 12 ? 'pm' : 'am')],
  ['Z07:00:00', () => 'Z'],
  ['Z070000', () => 'Z'],
  ['Z07:00', () => 'Z'],
  ['Z0700', () => 'Z'],
  ['Z07', () => 'Z'],
  ['-07:00:00', () => '+00:00:00'],
  ['-070000', () => '+000000'],
  ['-07:00', () => '+00:00'],
  ['-0700', () => '+0000'],
  ['-07', () => '+00'],
];

/** Go's Time.Format with the reference time `Mon Jan 2 15:04:05 MST 2006`. */
export function formatGoTime(time: GoTime, layout: string): string {
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    // `.000` (fixed digits) or `.999` (trailing zeros trimmed), only when no digit follows.
    const fraction = /^[.,](0+|9+)(?!\d)/.exec(layout.slice(i));
    if (fraction) {
      const digits = fraction[1]!;
      let value = time.nanos.slice(0, digits.length);
      if (digits[0] === '9') value = value.replace(/0+$/, '');
      if (value !== '') out += layout[i] + value;
      i += fraction[0].length;
      continue;
    }
    for (const [element, render] of ELEMENTS) {
      if (layout.startsWith(element, i)) {
        out += render(time);
        i += element.length;
        continue outer;
      }
    }
    out += layout[i];
    i += 1;
  }
  return out;
}

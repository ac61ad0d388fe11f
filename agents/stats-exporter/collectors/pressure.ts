/**
 * Pressure stall information (PSI) of a cgroup: `cpu.pressure`, `memory.pressure`, `io.pressure`,
 * each `some … total=<µs>` and `full … total=<µs>`. cAdvisor's container_pressure_* families.
 */
import { ParseError } from './errors';
import { fileIn, readOptionalText } from './files';
import type { PressureStats, PressureTotals } from './stats';

const US_PER_S = 1e6;

export function readPressure(dir: string): PressureStats {
  return {
    cpu: readOne(fileIn(dir, 'cpu.pressure')),
    memory: readOne(fileIn(dir, 'memory.pressure')),
    io: readOne(fileIn(dir, 'io.pressure')),
  };
}

function readOne(file: string): PressureTotals | undefined {
  let text: string | undefined;
  try {
    text = readOptionalText(file);
  } catch (error) {
    // A kernel booted with psi=0 lists the files but refuses to read them.
    if ((error as NodeJS.ErrnoException).code === 'EOPNOTSUPP') return undefined;
    throw error;
  }
  return text === undefined ? undefined : parsePressure(text, file);
}

/** `some avg10=0.00 avg60=0.00 avg300=0.00 total=4298` (+ a `full` line) → seconds. */
function parsePressure(text: string, file: string): PressureTotals {
  const totals = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(some|full) .*\btotal=(\d+)/.exec(line);
    if (match) totals.set(match[1]!, Number(match[2]) / US_PER_S);
  }
  const some = totals.get('some');
  if (some === undefined) throw new ParseError(file, 'no "some" line');
  return { some, full: totals.get('full') };
}

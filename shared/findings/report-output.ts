/**
 * The output side of the one-shot commands (`label-inspector check`, `security-watcher audit`):
 * the same --format, --fail-on and --output, the report written where asked, and the exit code
 * pipelines read.
 */
import { writeFileSync } from 'node:fs';
import { ConfigError } from '../config/errors';
import { choiceOption, optionalStringOption, type OptionValues } from '../config/options';
import { atLeast, SEVERITIES, type FindingDraft, type Severity } from './finding';
import { FORMAT_NAMES } from './formats';

/** --format, --fail-on (each command has its own default severity) and --output. */
export function reportOutputOptions(defaultFailOn: Severity) {
  const helpGroup = 'Report options:';
  return {
    format: choiceOption({ help: 'Report format', default: 'text', choices: FORMAT_NAMES, helpGroup }),
    failOn: choiceOption({
      help: 'Exit 1 when a finding is at least this severe',
      default: defaultFailOn,
      choices: SEVERITIES,
      helpGroup,
    }),
    output: optionalStringOption({
      help: 'Write the report to this file instead of stdout',
      placeholder: '<file>',
      helpGroup,
    }),
  };
}

export type ReportOutputValues = OptionValues<ReturnType<typeof reportOutputOptions>>;

/** Writes the report to --output or stdout; the exit code is 1 when a finding reaches --fail-on. */
export function deliverReport(report: string, findings: readonly FindingDraft[], values: ReportOutputValues): number {
  if (values.output) writeReport(values.output, report);
  else process.stdout.write(report);
  return findings.some((f) => atLeast(f.severity, values.failOn)) ? 1 : 0;
}

/** Exit 1 means findings: a report that cannot be written must not look like one (exit 2). */
function writeReport(file: string, report: string): void {
  try {
    writeFileSync(file, report);
  } catch (error) {
    throw new ConfigError(`--output ${file}: cannot write the report: ${(error as Error).message}`);
  }
}

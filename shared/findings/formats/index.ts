/**
 * Report formats of the one-shot `check` commands, by name. Each is a pure function of the report.
 */
import { formatJson } from './json';
import { formatJunit } from './junit';
import type { FindingsReport, ReportFormatter } from './report';
import { formatSarif } from './sarif';
import { formatText } from './text';

export type { FindingsReport, ReportFormatter } from './report';
export type { JsonReport } from './json';

export const FORMATS = {
  text: formatText,
  json: formatJson,
  sarif: formatSarif,
  junit: formatJunit,
} as const satisfies Record<string, ReportFormatter>;

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

export function isFormatName(name: string): name is FormatName {
  return Object.hasOwn(FORMATS, name);
}

export function formatReport(format: FormatName, report: FindingsReport): string {
  return FORMATS[format](report);
}

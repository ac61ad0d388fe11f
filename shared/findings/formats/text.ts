/**
 * Plain text for terminals and CI logs: one block per checked object, one line per finding, and a
 * summary. Label keys and values come from images anyone can build, so control and bidi characters
 * are shown escaped instead of being sent to the terminal.
 */
import type { FindingDraft, FindingObject } from '../finding';
import { countBySeverity, describeObject, evidenceLine, findingsByObject, type FindingsReport } from './report';

export function formatText(report: FindingsReport): string {
  const groups = findingsByObject(report);
  const ruleWidth = Math.max(0, ...report.findings.map((finding) => finding.ruleId.length));
  const lines: string[] = [];
  for (const { object, findings } of groups) {
    lines.push(printable(heading(object)));
    if (findings.length === 0) lines.push('  no findings');
    for (const finding of findings) lines.push(printable(findingLine(finding, ruleWidth)));
  }
  if (groups.length > 0) lines.push('');
  lines.push(summaryLine(groups.length, groups.filter((group) => group.findings.length > 0).length, report.findings));
  return `${lines.join('\n')}\n`;
}

function heading(object: FindingObject): string {
  const shortId = object.id.replace(/^sha256:/, '').slice(0, 12);
  return object.kind === 'dockerfile' || !object.name || object.name === object.id
    ? describeObject(object)
    : `${describeObject(object)} [${shortId}]`;
}

function findingLine(finding: FindingDraft, ruleWidth: number): string {
  const line = evidenceLine(finding);
  const where = [finding.subject ? JSON.stringify(finding.subject) : '', line === undefined ? '' : `(line ${line})`]
    .filter(Boolean)
    .join(' ');
  return ['', finding.severity.padEnd(8), finding.ruleId.padEnd(ruleWidth), where, finding.message]
    .filter((part, i) => i === 0 || part)
    .join('  ');
}

function summaryLine(objects: number, withFindings: number, findings: readonly FindingDraft[]): string {
  const counts = Object.entries(countBySeverity(findings)).map(([severity, count]) => `${severity} ${count}`);
  return `${plural(objects, 'object')} checked, ${withFindings} with findings; ${plural(findings.length, 'finding')}: ${counts.join(', ')}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function printable(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

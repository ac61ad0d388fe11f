/**
 * What every report format receives, and the ordering and counting they share, so that all formats
 * list the same findings in the same order.
 */
import {
  objectKey,
  SEVERITIES,
  severityRank,
  type FindingDraft,
  type FindingObject,
  type RuleInfo,
  type Severity,
} from '../finding';

export interface FindingsReport {
  tool: { name: string; version: string; informationUri?: string };
  /** Every rule that may fire; findings of a rule missing here are described from the finding. */
  rules: RuleInfo[];
  findings: FindingDraft[];
  /** Everything checked, clean or not. */
  objects: FindingObject[];
}

export type ReportFormatter = (report: FindingsReport) => string;

export interface ObjectFindings {
  object: FindingObject;
  /** Most severe first, then by rule and subject. */
  findings: FindingDraft[];
}

/** Objects in the order given, each with its findings; objects only findings mention come last. */
export function findingsByObject(report: FindingsReport): ObjectFindings[] {
  const groups = new Map<string, ObjectFindings>();
  for (const object of report.objects) groups.set(objectKey(object), { object, findings: [] });
  for (const finding of report.findings) {
    const key = objectKey(finding.object);
    const group = groups.get(key) ?? { object: finding.object, findings: [] };
    group.findings.push(finding);
    groups.set(key, group);
  }
  for (const group of groups.values()) group.findings.sort(byImportance);
  return [...groups.values()];
}

/** All findings, grouped by object as in findingsByObject. */
export function orderedFindings(report: FindingsReport): FindingDraft[] {
  return findingsByObject(report).flatMap((group) => group.findings);
}

function byImportance(a: FindingDraft, b: FindingDraft): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    compareText(a.ruleId, b.ruleId) ||
    compareText(a.subject, b.subject)
  );
}

/** Counts for every severity, most severe first, zeros included. */
export function countBySeverity(findings: readonly FindingDraft[]): Record<Severity, number> {
  const counts = Object.fromEntries([...SEVERITIES].reverse().map((severity) => [severity, 0])) as Record<
    Severity,
    number
  >;
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}

/** The rules to describe: the catalog, plus any rule a finding names that the catalog lacks. */
export function describedRules(report: FindingsReport): RuleInfo[] {
  const rules = new Map(report.rules.map((rule) => [rule.id, rule]));
  for (const finding of report.findings) {
    if (!rules.has(finding.ruleId)) {
      rules.set(finding.ruleId, {
        id: finding.ruleId,
        title: finding.title,
        severity: finding.severity,
        remediation: finding.remediation,
      });
    }
  }
  return [...rules.values()];
}

/** `image busybox:test`, `container web`, `dockerfile build/Dockerfile`. */
export function describeObject(object: FindingObject): string {
  return `${object.kind} ${object.name || object.id}`;
}

/** The Dockerfile line a finding is about, when the rule recorded one. */
export function evidenceLine(finding: FindingDraft): number | undefined {
  const line = finding.evidence.line;
  return typeof line === 'number' && Number.isInteger(line) && line >= 1 ? line : undefined;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

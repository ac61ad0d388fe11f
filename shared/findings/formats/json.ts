/**
 * Machine-readable JSON, a stable shape for scripts:
 *
 *     {
 *       "tool":     { "name", "version", "informationUri"? },
 *       "summary":  { "objects", "objectsWithFindings", "findings",
 *                     "bySeverity": { "critical", "high", "medium", "low", "info" } },
 *       "objects":  [ { "kind", "id", "name", "image", "findings": <count> } ],      // everything checked
 *       "findings": [ { "key", "ruleId", "severity", "title", "message", "object",
 *                       "subject", "evidence", "remediation" } ]
 *     }
 *
 * `key` identifies a finding across runs (rule, object, subject). Findings are grouped by object in
 * the order of `objects`, most severe first. New fields may be added; none will change meaning.
 */
import { findingKey, type FindingDraft, type FindingObject, type Severity } from '../finding';
import { countBySeverity, findingsByObject, type FindingsReport } from './report';

export interface JsonReport {
  tool: FindingsReport['tool'];
  summary: { objects: number; objectsWithFindings: number; findings: number; bySeverity: Record<Severity, number> };
  objects: Array<FindingObject & { findings: number }>;
  findings: Array<FindingDraft & { key: string }>;
}

export function formatJson(report: FindingsReport): string {
  const groups = findingsByObject(report);
  const findings = groups.flatMap((group) => group.findings);
  const json: JsonReport = {
    tool: report.tool,
    summary: {
      objects: groups.length,
      objectsWithFindings: groups.filter((group) => group.findings.length > 0).length,
      findings: findings.length,
      bySeverity: countBySeverity(findings),
    },
    objects: groups.map(({ object, findings: found }) => ({
      kind: object.kind,
      id: object.id,
      name: object.name,
      image: object.image,
      findings: found.length,
    })),
    findings: findings.map((finding) => ({
      key: findingKey(finding),
      ruleId: finding.ruleId,
      severity: finding.severity,
      title: finding.title,
      message: finding.message,
      object: finding.object,
      subject: finding.subject,
      evidence: finding.evidence,
      remediation: finding.remediation,
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/**
 * The findings model shared by the label-inspector and the security-watcher.
 *
 * A finding is identified by (ruleId, object, subject): one rule may fire for several label keys
 * or mounts of the same object, and each is its own finding to open and resolve.
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

type ObjectKind = 'container' | 'image' | 'dockerfile';

export interface FindingObject {
  kind: ObjectKind;
  /** Container ID, image ID (sha256:…) or Dockerfile path. */
  id: string;
  /** Container name, first image tag, or the Dockerfile path. */
  name: string;
  /** The image of a container; '' otherwise. */
  image: string;
}

/** What a rule reports; the store adds the times and the state. */
export interface FindingDraft {
  ruleId: string;
  severity: Severity;
  title: string;
  message: string;
  object: FindingObject;
  /** What in the object the finding is about (a label key, a mount path), or ''. */
  subject: string;
  /** The facts that decided it (the offending value, the line of a Dockerfile…). */
  evidence: Record<string, unknown>;
  remediation: string;
}

export interface Finding extends FindingDraft {
  firstSeen: string;
  lastSeen: string;
  state: 'open' | 'resolved';
}

export function objectKey(object: Pick<FindingObject, 'kind' | 'id'>): string {
  return `${object.kind}:${object.id}`;
}

export function findingKey(finding: Pick<FindingDraft, 'ruleId' | 'object' | 'subject'>): string {
  return `${finding.ruleId}|${objectKey(finding.object)}|${finding.subject}`;
}

/** Describes a rule for catalogs (README, SARIF rule metadata). */
export interface RuleInfo {
  id: string;
  title: string;
  severity: Severity;
  remediation: string;
  /** Where the rule comes from (a guideline, a benchmark ID). */
  reference?: string;
}

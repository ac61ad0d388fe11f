import type { FindingDraft, RuleInfo } from '../../../shared/findings/finding';
import type { LabelSettings } from '../settings';
import type { LabelTarget } from '../target';

export interface LabelRule extends RuleInfo {
  check(target: LabelTarget, settings: LabelSettings): FindingDraft[];
}

/** A finding of `rule` about `subject` (a label key, or '' for the whole label set). */
export function finding(rule: RuleInfo, target: LabelTarget, subject: string, message: string, evidence: Record<string, unknown> = {}): FindingDraft {
  const line = subject && target.lines?.[subject];
  return {
    ruleId: rule.id,
    severity: rule.severity,
    title: rule.title,
    message,
    object: target.object,
    subject,
    evidence: line ? { ...evidence, line } : evidence,
    remediation: rule.remediation,
  };
}

/** The label keys the key and value rules look at: all but the allow-listed ones. */
export function checkedKeys(target: LabelTarget, settings: LabelSettings): string[] {
  return Object.keys(target.labels).filter((key) => !settings.isAllowed(key));
}

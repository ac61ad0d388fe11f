import type { ValidateFunction } from 'ajv';
import type { FindingDraft, RuleInfo } from '../../../shared/findings/finding';
import type { KeyProfile } from '../profiles';
import type { LabelTarget } from '../target';

/** What the rules read: made from the options by labelSettings (options.ts). */
export interface LabelSettings {
  profile: KeyProfile;
  schema?: LabelSchema;
  required: string[];
  isAllowed(key: string): boolean;
  disabled: ReadonlySet<string>;
  maxValueBytes: number;
  maxTotalBytes: number;
}

/** A loaded label schema (rules/schema.ts). */
export interface LabelSchema {
  file: string;
  validate: ValidateFunction;
  /** What the schema asks that is ignored (unknown formats), each said once; the caller logs them. */
  warnings: string[];
}

export interface LabelRule extends RuleInfo {
  check(target: LabelTarget, settings: LabelSettings): FindingDraft[];
}

/** A finding of `rule` about `subject` (a label key, or '' for the whole label set). */
export function finding(
  rule: RuleInfo,
  target: LabelTarget,
  subject: string,
  message: string,
  evidence: Record<string, unknown> = {},
): FindingDraft {
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

/** Runs every enabled label rule over one object's labels. */
import type { FindingDraft, RuleInfo } from '../../shared/findings/finding';
import { KEY_RULES } from './rules/keys';
import { REQUIRED_RULES } from './rules/required';
import type { LabelRule, LabelSettings } from './rules/rule';
import { SCHEMA_RULES } from './rules/schema';
import { VALUE_RULES } from './rules/values';
import type { LabelTarget } from './target';

const LABEL_RULES: readonly LabelRule[] = [...KEY_RULES, ...VALUE_RULES, ...REQUIRED_RULES, ...SCHEMA_RULES];
export const LABEL_RULE_IDS = LABEL_RULES.map((rule) => rule.id);

export function ruleCatalog(): RuleInfo[] {
  return LABEL_RULES.map(({ id, title, severity, remediation, reference }) => ({
    id,
    title,
    severity,
    remediation,
    reference,
  }));
}

export function checkLabels(target: LabelTarget, settings: LabelSettings): FindingDraft[] {
  return LABEL_RULES.filter((rule) => !settings.disabled.has(rule.id)).flatMap((rule) => rule.check(target, settings));
}

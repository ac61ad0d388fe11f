/**
 * Turns rule hits into findings under a policy: drops disabled rules and exempted objects, applies
 * the policy's severity, and says which enforcement action (if any) the findings call for.
 */
import type { FindingDraft, FindingObject } from '../../shared/findings/finding';
import { compileGlob } from '../../shared/glob';
import { imageMatches, Exemptions, type ExemptionSubject } from './exemptions';
import { ACTIONS, type Action, type Policy, type RulePolicy } from './policy';
import type { SecurityRule } from './rules/rule';

export interface Evaluation {
  findings: FindingDraft[];
  /** Rules in enforce mode that fired, with the action each asks for. */
  enforce: Array<{ ruleId: string; action: Action }>;
  /** Hits waived by an exemption, with its reason, for the log. */
  exempted: Array<{ ruleId: string; reason: string; origin: string }>;
}

export class PolicyEvaluator {
  readonly exemptions: Exemptions;
  readonly allowedImage: (image: string) => boolean;

  constructor(readonly policy: Policy) {
    this.exemptions = new Exemptions(policy.exemptions);
    // A glob matches the reference as given and, for an untagged one, with :latest.
    const globs = policy.allowedImages.map(compileGlob);
    this.allowedImage = (image) => globs.length === 0 || globs.some((re) => imageMatches(re, image));
  }

  rulePolicy(ruleId: string): RulePolicy | undefined {
    return this.policy.rules.get(ruleId);
  }

  evaluate<T>(
    rules: readonly SecurityRule<T>[],
    target: T,
    object: FindingObject,
    subject: ExemptionSubject,
  ): Evaluation {
    const result: Evaluation = { findings: [], enforce: [], exempted: [] };
    for (const rule of rules) {
      const settings = this.policy.rules.get(rule.id);
      if (!settings?.enabled) continue;
      const hits = rule.check(target);
      if (hits.length === 0) continue;
      const exemption = this.exemptions.find(rule.id, subject);
      if (exemption) {
        result.exempted.push({ ruleId: rule.id, reason: exemption.reason, origin: exemption.origin });
        continue;
      }
      for (const hit of hits) {
        result.findings.push({
          ruleId: rule.id,
          severity: settings.severity,
          title: rule.title,
          message: hit.message,
          object,
          subject: hit.subject,
          evidence: { ...(rule.cis ? { cis: rule.cis } : {}), ...hit.evidence, mode: settings.mode },
          remediation: rule.remediation,
        });
      }
      if (settings.mode === 'enforce') result.enforce.push({ ruleId: rule.id, action: settings.action });
    }
    return result;
  }
}

/** The strongest of the actions asked for (kill > stop > pause > disconnect). */
export function strongestAction(actions: readonly Action[]): Action | undefined {
  let best: Action | undefined;
  for (const action of actions)
    if (best === undefined || ACTIONS.indexOf(action) > ACTIONS.indexOf(best)) best = action;
  return best;
}

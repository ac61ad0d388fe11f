/**
 * What a security rule is: catalog facts (ID, CIS ID, title, default severity, remediation) and a
 * pure function from one inspected object to hits. The policy decides later whether a hit becomes
 * a finding (enabled, exempted) and at which severity and mode.
 */
import type { RuleInfo } from '../../../shared/findings/finding';

type RuleFamily = 'container' | 'image' | 'exec' | 'event';

/** One violation as a rule sees it: what it is about, in words, and the inspect field that decided it. */
export interface Hit {
  /** What in the object the hit is about (a mount destination, a capability, a port), or ''. */
  subject: string;
  message: string;
  /** The exact inspect field and its value (never environment values). */
  evidence: { field: string; value: unknown } & Record<string, unknown>;
}

export interface RuleMeta extends RuleInfo {
  family: RuleFamily;
  /** CIS Docker Benchmark 1.6.0 ID, when the rule is one of its checks. */
  cis?: string;
  /** Off unless a policy turns it on (checks that are inventory rather than violations). */
  offByDefault?: boolean;
}

export interface SecurityRule<T> extends RuleMeta {
  check(target: T): Hit[];
}

export function hit(
  subject: string,
  message: string,
  field: string,
  value: unknown,
  extra: Record<string, unknown> = {},
): Hit {
  return { subject, message, evidence: { field, value, ...extra } };
}

/** CIS 1.6.0 reference text for a rule. */
export function cisReference(id: string): string {
  return `CIS Docker Benchmark 1.6.0 ${id}`;
}

/** The user part of `user[:group]`: '', '0' and 'root' all mean root (docker-bench missed `0:0`, `root:root`). */
export function isRootUser(user: string | undefined): boolean {
  const name = (user ?? '').split(':')[0]!.trim();
  // A numeric user is parsed as a number: 00 is uid 0 too.
  return name === '' || /^0+$/.test(name) || name === 'root';
}

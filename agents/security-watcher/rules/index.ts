/** The rule catalog: every family's rules, by ID. Adding a family is one import and one line. */
import type { RuleInfo } from '../../../shared/findings/finding';
import type { ContainerTarget, EventTarget, ExecTarget, ImageTarget } from '../target';
import { CONTAINER_RULES } from './container';
import { CONTAINER_SHELL_RULE, EVENT_RULES, EXEC_RULES } from './exec';
import { IMAGE_RULES } from './image';
import type { RuleMeta, SecurityRule } from './rule';

export const RULES = {
  container: [...CONTAINER_RULES, CONTAINER_SHELL_RULE] as readonly SecurityRule<ContainerTarget>[],
  image: IMAGE_RULES as readonly SecurityRule<ImageTarget>[],
  exec: EXEC_RULES as readonly SecurityRule<ExecTarget>[],
  event: EVENT_RULES as readonly SecurityRule<EventTarget>[],
};

export const ALL_RULES: readonly RuleMeta[] = [...RULES.container, ...RULES.image, ...RULES.exec, ...RULES.event];

function ruleById(id: string): RuleMeta | undefined {
  return ALL_RULES.find((rule) => rule.id === id);
}

/** The rules a policy key names: a rule ID, or a CIS ID (4.1 names the container and the image rule). */
export function rulesNamed(key: string): RuleMeta[] {
  const byId = ruleById(key);
  if (byId) return [byId];
  const cis = key.replace(/^cis[-: ]?/i, '');
  return ALL_RULES.filter((rule) => rule.cis === cis);
}

/** Catalog entries for reports (SARIF rule metadata, JUnit cases). */
export function ruleCatalog(): RuleInfo[] {
  return ALL_RULES.map(({ id, title, severity, remediation, reference }) => ({
    id,
    title,
    severity,
    remediation,
    reference,
  }));
}

/** The README's rule table, generated from the catalog so that it cannot drift. */
export function ruleTable(): string {
  const rows = ALL_RULES.map(
    (rule) =>
      `| \`${rule.id}\` | ${rule.cis ?? ''} | ${rule.family} | ${rule.severity} | ${rule.offByDefault ? 'off' : 'on'} | ${rule.title.replace(/\|/g, '\\|')} |`,
  );
  return ['| rule | CIS 1.6.0 | family | severity | default | fires when |', '|---|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}

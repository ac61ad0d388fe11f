/**
 * `quayside security-watcher audit`: checks every container and image once, as
 * docker-bench-security sections 4 and 5 do, and prints text, JSON, SARIF or JUnit. Exit 0 when
 * nothing reaches --fail-on, 1 when something does, 2 on usage or input errors (docker-bench
 * always exits 0).
 */
import type { Command } from 'commander';
import type Dockerode from 'dockerode';
import { addOptions, repeatableOption, type OptionValues } from '../../shared/config/options';
import { unlessGone } from '../../shared/docker/not-found';
import { oneShotDocker, oneShotDockerOptions, type OneShotDocker } from '../../shared/docker/one-shot';
import type { FindingDraft, FindingObject } from '../../shared/findings/finding';
import { formatReport } from '../../shared/findings/formats';
import { deliverReport, reportOutputOptions } from '../../shared/findings/report-output';
import { packageVersion } from '../../shared/version';
import { PolicyEvaluator } from './evaluate';
import {
  containerContext,
  containerExemptionSubject,
  containerTarget,
  hostFacts,
  imageAliases,
  imageExemptionSubject,
  imageHistory,
  imageTarget,
  resolveBindSources,
} from './objects';
import type { Policy } from './policy';
import { RULES, ruleCatalog } from './rules';
import { ownContainerId } from './self';
import { loadPolicy, securityOptions } from './options';

export const auditOptions = {
  ...oneShotDockerOptions,
  securityPolicy: { ...securityOptions.securityPolicy, flag: '--policy' },
  securityHostRoot: { ...securityOptions.securityHostRoot, flag: '--host-root' },
  securityEngineSockets: { ...securityOptions.securityEngineSockets, flag: '--engine-sockets' },
  container: repeatableOption({
    help: 'Audit only this container (name or ID); repeat for more',
    placeholder: '<name>',
  }),
  image: repeatableOption({ help: 'Audit only this image (name, tag or ID); repeat for more', placeholder: '<ref>' }),
  ...reportOutputOptions('high'),
};

export type AuditValues = OptionValues<typeof auditOptions>;

export function addAuditCommand(agentCommand: Command): void {
  const command = agentCommand
    .command('audit')
    .description(
      'Audit every container and image once against the policy (CIS Docker Benchmark 4 and 5), for pipelines and cron',
    );
  addOptions(command, auditOptions, 'audit options:').action(async (values: AuditValues) => {
    process.exitCode = await runAudit(values);
  });
}

async function runAudit(values: AuditValues): Promise<number> {
  const policy = loadPolicy(values.securityPolicy);
  const { docker, reach } = oneShotDocker(values);
  const { findings, objects } = await audit(docker, policy, values, reach);
  const enabled = new Set([...policy.rules].filter(([, r]) => r.enabled).map(([id]) => id));
  const rules = ruleCatalog()
    .filter((rule) => enabled.has(rule.id))
    .map((rule) => ({ ...rule, severity: policy.rules.get(rule.id)!.severity }));
  const report = formatReport(values.format, {
    tool: { name: 'quayside security-watcher', version: packageVersion() },
    rules,
    findings,
    objects,
  });
  return deliverReport(report, findings, values);
}

/** Every selected container and image, evaluated under the policy (exec rules need live events). */
export async function audit(
  docker: Dockerode,
  policy: Policy,
  select: Partial<Pick<AuditValues, 'container' | 'image' | 'securityHostRoot' | 'securityEngineSockets'>>,
  reach: OneShotDocker['reach'],
): Promise<{ findings: FindingDraft[]; objects: FindingObject[] }> {
  const evaluator = new PolicyEvaluator(policy);
  const host = await reach('engine info', () => hostFacts(docker, select.securityEngineSockets ?? []));
  const only = (select.container?.length ?? 0) > 0 || (select.image?.length ?? 0) > 0;
  const containerRefs = only
    ? (select.container ?? [])
    : (await reach('listing containers', () => docker.listContainers({ all: true }))).map((c) => c.Id);
  const imageRefs = only
    ? (select.image ?? [])
    : (await reach('listing images', () => docker.listImages())).map((i) => i.Id);

  const findings: FindingDraft[] = [];
  const objects: FindingObject[] = [];
  const inContainer = ownContainerId() !== undefined;
  // What the listing named may be removed before it is inspected (a busy host): skip it. What
  // the user named must exist.
  const inspect = <T>(what: string, call: () => Promise<T>): Promise<T | undefined> =>
    only ? reach(what, call) : reach(what, () => unlessGone(call));
  for (const ref of containerRefs) {
    const info = await inspect(`--container '${ref}'`, () => docker.getContainer(ref).inspect());
    if (!info) continue;
    const aliases = await imageAliases(docker, info);
    const context = await containerContext(docker, info);
    const target = containerTarget(
      info,
      host,
      await resolveBindSources(info, select.securityHostRoot ?? '', inContainer),
      evaluator.allowedImage,
      policy.allowedImages.length > 0,
      aliases,
      context,
    );
    objects.push(target.object);
    findings.push(
      ...evaluator.evaluate(RULES.container, target, target.object, containerExemptionSubject(info, aliases)).findings,
    );
  }
  for (const ref of imageRefs) {
    const info = await inspect(`--image '${ref}'`, () => docker.getImage(ref).inspect());
    if (!info) continue;
    const target = imageTarget(info, await imageHistory(docker, info.Id));
    objects.push(target.object);
    findings.push(...evaluator.evaluate(RULES.image, target, target.object, imageExemptionSubject(info)).findings);
  }
  return { findings, objects };
}

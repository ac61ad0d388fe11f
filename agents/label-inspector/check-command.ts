/**
 * `quayside label-inspector check`: one-shot checks for pipelines. Exit 0 when clean, 1 when a
 * finding is at or above --fail-on, 2 on usage or input errors (main maps ConfigError to 2).
 */
import type { Command } from 'commander';
import type Dockerode from 'dockerode';
import { ConfigError } from '../../shared/config/errors';
import { readBoundedText } from '../../shared/config/files';
import { addOptions, booleanOption, repeatableOption, type OptionValues } from '../../shared/config/options';
import { containerName } from '../../shared/docker/container-name';
import { oneShotDocker, oneShotDockerOptions } from '../../shared/docker/one-shot';
import type { FindingDraft, FindingObject } from '../../shared/findings/finding';
import { formatReport } from '../../shared/findings/formats';
import { deliverReport, reportOutputOptions } from '../../shared/findings/report-output';
import { packageVersion } from '../../shared/version';
import { LABEL_RULE_IDS, ruleCatalog } from './checker';
import { DeadlineChecker } from './deadline-checker';
import { DockerfileSyntaxError, parseDockerfileLabels } from './dockerfile';
import { containerTarget, imageTarget } from './objects';
import { labelOptions, labelSettings } from './options';
import type { LabelTarget } from './target';

export const checkOptions = {
  ...oneShotDockerOptions,
  image: repeatableOption({ help: 'Check this image (name, tag or ID); repeat for more', placeholder: '<ref>' }),
  container: repeatableOption({ help: 'Check this container (name or ID); repeat for more', placeholder: '<name>' }),
  all: booleanOption({ help: 'Check every image and container of the engine', default: false }),
  dockerfile: repeatableOption({
    help: 'Check the LABELs of the final stage of this Dockerfile; repeat for more',
    placeholder: '<path>',
  }),
  buildArg: repeatableOption({
    help: 'Value of a Dockerfile ARG, as docker build --build-arg',
    placeholder: '<key=value>',
    parse: parseBuildArg,
  }),
  // The agent's rule options, under the short names a pipeline uses.
  labelSchema: { ...labelOptions.labelSchema, flag: '--schema' },
  labelProfile: { ...labelOptions.labelProfile, flag: '--profile' },
  labelRequire: { ...labelOptions.labelRequire, flag: '--require' },
  labelAllow: { ...labelOptions.labelAllow, flag: '--allow' },
  labelDisable: { ...labelOptions.labelDisable, flag: '--disable' },
  labelMaxValueBytes: { ...labelOptions.labelMaxValueBytes, flag: '--max-value-bytes' },
  labelMaxTotalBytes: { ...labelOptions.labelMaxTotalBytes, flag: '--max-total-bytes' },
  labelCheckTimeout: { ...labelOptions.labelCheckTimeout, flag: '--check-timeout' },
  ...reportOutputOptions('medium'),
};

type CheckValues = OptionValues<typeof checkOptions>;

/** A Dockerfile is read whole: one larger than this is refused. */
const MAX_DOCKERFILE_BYTES = 8 << 20;

function parseBuildArg(raw: string): [string, string] {
  const equals = raw.indexOf('=');
  if (equals < 1) throw new Error('expected KEY=VALUE');
  return [raw.slice(0, equals), raw.slice(equals + 1)];
}

export function addCheckCommand(agentCommand: Command): void {
  const command = agentCommand
    .command('check')
    .description('Check labels of images, containers or Dockerfiles once, for pipelines');
  addOptions(command, checkOptions, 'check options:').action(async (values: CheckValues) => {
    process.exitCode = await runCheck(values);
  });
}

async function runCheck(values: CheckValues): Promise<number> {
  const settings = labelSettings(values, LABEL_RULE_IDS);
  for (const warning of settings.schema?.warnings ?? []) process.stderr.write(`quayside: warning: ${warning}\n`);
  const targets = [...dockerfileTargets(values), ...(await engineTargets(values))];
  if (targets.length === 0) throw new ConfigError('nothing to check: give --image, --container, --all or --dockerfile');
  const findings = await checkUnderDeadline(targets, values);
  const objects: FindingObject[] = targets.map((target) => target.object);
  const report = formatReport(values.format, {
    tool: { name: 'quayside label-inspector', version: packageVersion() },
    rules: ruleCatalog(),
    findings,
    objects,
  });
  return deliverReport(report, findings, values);
}

/**
 * Each object is checked in a worker thread under --check-timeout, as the agent does: hostile
 * labels or a schema that takes too long give a label-check-incomplete finding about that object
 * (exit 1), never a hung pipeline.
 */
async function checkUnderDeadline(targets: LabelTarget[], values: CheckValues): Promise<FindingDraft[]> {
  const checker = new DeadlineChecker(values, values.labelCheckTimeout);
  try {
    const findings: FindingDraft[] = [];
    for (const target of targets) findings.push(...(await checker.check(target)));
    return findings;
  } finally {
    await checker.close();
  }
}

function dockerfileTargets(values: CheckValues): LabelTarget[] {
  const buildArgs = Object.fromEntries(values.buildArg ?? []);
  return (values.dockerfile ?? []).map((path) => {
    let text: string;
    try {
      text = readBoundedText(path, MAX_DOCKERFILE_BYTES);
    } catch (error) {
      throw new ConfigError(`--dockerfile ${path}: cannot read it: ${(error as Error).message}`);
    }
    let parsed: ReturnType<typeof parseDockerfileLabels>;
    try {
      parsed = parseDockerfileLabels(text, buildArgs);
    } catch (error) {
      if (error instanceof DockerfileSyntaxError) throw new ConfigError(`--dockerfile ${path}: ${error.message}`);
      throw error;
    }
    // The final stage, and the earlier stages it is built FROM, whose labels it inherits.
    const lineage = new Set<number>();
    for (
      let stage: number | undefined = parsed.stages.length - 1;
      stage !== undefined && stage >= 0;
      stage = parsed.stages[stage]?.parent
    )
      lineage.add(stage);
    const lines: Record<string, number> = {};
    const unresolved = new Set<string>();
    for (const label of parsed.labels.filter((l) => lineage.has(l.stage))) {
      lines[label.key] = label.line;
      if (label.unresolved) unresolved.add(label.key);
      else unresolved.delete(label.key);
    }
    return {
      object: { kind: 'dockerfile', id: path, name: path, image: '' },
      labels: parsed.finalStageLabels(),
      lines,
      unresolved,
      requireKeys: true,
    };
  });
}

async function engineTargets(values: CheckValues): Promise<LabelTarget[]> {
  const wanted = values.all || (values.image?.length ?? 0) > 0 || (values.container?.length ?? 0) > 0;
  if (!wanted) return [];
  const { docker, reach } = oneShotDocker(values);

  const images = new Map<string, Dockerode.ImageInspectInfo>();
  const containers: Dockerode.ContainerInspectInfo[] = [];
  const imageRefs = values.all
    ? (await reach('--all', () => docker.listImages())).map((i) => i.Id)
    : (values.image ?? []);
  for (const ref of imageRefs) {
    const info = await reach(`--image '${ref}'`, () => docker.getImage(ref).inspect());
    images.set(info.Id, info);
  }
  const containerRefs = values.all
    ? (await reach('--all', () => docker.listContainers({ all: true }))).map((c) => c.Id)
    : (values.container ?? []);
  for (const ref of containerRefs)
    containers.push(await reach(`--container '${ref}'`, () => docker.getContainer(ref).inspect()));

  return [
    ...[...images.values()].map((info) => imageTarget(info.Id, info.RepoTags, info.Config?.Labels)),
    // A container's inherited labels are left to its image when the image is checked too.
    ...containers.map((info) =>
      containerTarget(
        { id: info.Id, name: containerName(info.Name), image: info.Config.Image },
        info.Config.Labels,
        images.get(info.Image)?.Config?.Labels ?? undefined,
      ),
    ),
  ];
}

/**
 * The live label-inspector: checks every container when it is created and every image once per
 * image ID (at start, and on pull, tag, import and load), reconciles at every sync, and resolves
 * findings when their object goes away.
 */
import type Dockerode from 'dockerode';
import type { AgentContext, RunningAgent } from '../../shared/agent';
import { containerName } from '../../shared/docker/container-name';
import type { DockerEvent } from '../../shared/docker/event';
import type { SyncSnapshot } from '../../shared/docker/event-stream';
import { unlessGone } from '../../shared/docker/not-found';
import { attachFindings } from '../../shared/findings/board';
import type { FindingsSinkSettings } from '../../shared/findings/options';
import { FindingStore } from '../../shared/findings/store';
import type { DeadlineChecker } from './deadline-checker';
import { containerTarget, imageTarget, listedContainerName } from './objects';
import type { LabelSettings } from './rules/rule';
import type { LabelTarget } from './target';

const IMAGE_ARRIVALS = ['pull', 'tag', 'import', 'load'];
const SHUTDOWN_FLUSH_MS = 5_000;

class LabelInspector {
  readonly store = new FindingStore();
  /** Labels of every image checked, by image ID: a container's own labels are those that differ. */
  private readonly images = new Map<string, Record<string, string>>();
  /** Containers known, each with the number of its latest check (a report from an older one is stale). */
  private readonly containerChecks = new Map<string, number>();

  constructor(
    private readonly docker: Dockerode,
    private readonly checker: DeadlineChecker,
  ) {}

  async handleEvent(event: DockerEvent): Promise<void> {
    if (event.type === 'container') {
      if (event.action === 'destroy') return this.forgetContainer(event.id);
      if (event.action === 'create' || event.action === 'rename') return this.inspectContainer(event.id);
    }
    if (event.type === 'image') {
      if (IMAGE_ARRIVALS.includes(event.action)) return this.inspectImage(event.id);
      if (event.action === 'delete' || event.action === 'untag') return this.recheckImage(event.id);
    }
  }

  handleSync(snapshot: SyncSnapshot): void {
    const imageIds = new Set<string>();
    for (const image of snapshot.images ?? []) {
      imageIds.add(image.Id);
      if (!this.images.has(image.Id)) void this.checkImage(imageTarget(image.Id, image.RepoTags, image.Labels));
    }
    if (snapshot.images) for (const id of this.images.keys()) if (!imageIds.has(id)) this.forgetImage(id);

    const containerIds = new Set<string>();
    for (const container of snapshot.containers) {
      containerIds.add(container.Id);
      if (this.containerChecks.has(container.Id)) continue;
      const target = containerTarget(
        { id: container.Id, name: listedContainerName(container), image: container.Image },
        container.Labels,
        this.images.get(container.ImageID),
      );
      void this.checkContainer(target);
    }
    for (const id of this.containerChecks.keys()) if (!containerIds.has(id)) this.forgetContainer(id);
  }

  private async inspectContainer(id: string): Promise<void> {
    const info = await unlessGone(() => this.docker.getContainer(id).inspect());
    if (!info) return this.forgetContainer(id);
    const name = containerName(info.Name);
    // Its image first, so that labels inherited from it are told apart (and checked there).
    if (!this.images.has(info.Image)) await this.inspectImage(info.Image);
    return this.checkContainer(
      containerTarget({ id, name, image: info.Config.Image }, info.Config.Labels, this.images.get(info.Image)),
    );
  }

  private async inspectImage(reference: string): Promise<void> {
    const info = await unlessGone(() => this.docker.getImage(reference).inspect());
    if (!info) return;
    // Once per image ID; a new tag of a known image only renames its findings.
    return this.checkImage(imageTarget(info.Id, info.RepoTags, info.Config?.Labels));
  }

  /** After delete or untag: the image may be gone, or still there under another tag. */
  private async recheckImage(reference: string): Promise<void> {
    const id = reference.startsWith('sha256:') ? reference : undefined;
    const info = await unlessGone(() => this.docker.getImage(reference).inspect());
    if (info) return this.checkImage(imageTarget(info.Id, info.RepoTags, info.Config?.Labels));
    if (id) this.forgetImage(id);
  }

  private async checkImage(target: LabelTarget): Promise<void> {
    const id = target.object.id;
    const labels = { ...target.labels };
    this.images.set(id, labels);
    const findings = await this.checker.check(target);
    // Unless it went away, or was checked again, while this check ran.
    if (this.images.get(id) === labels) this.store.report(target.object, findings);
  }

  private async checkContainer(target: LabelTarget): Promise<void> {
    const id = target.object.id;
    const generation = (this.containerChecks.get(id) ?? 0) + 1;
    this.containerChecks.set(id, generation);
    const findings = await this.checker.check(target);
    if (this.containerChecks.get(id) === generation) this.store.report(target.object, findings);
  }

  private forgetImage(id: string): void {
    this.images.delete(id);
    this.store.forget({ kind: 'image', id });
  }

  private forgetContainer(id: string): void {
    this.containerChecks.delete(id);
    this.store.forget({ kind: 'container', id });
  }
}

export async function startLabelInspector(
  context: AgentContext,
  settings: LabelSettings,
  checker: DeadlineChecker,
  sinks: FindingsSinkSettings,
): Promise<RunningAgent> {
  await checker.start();
  const inspector = new LabelInspector(context.docker, checker);
  const board = attachFindings(context, 'label-inspector', inspector.store, sinks);
  const unsubscribe = context.events.subscribe({
    name: 'label-inspector',
    types: ['container', 'image'],
    actions: ['create', 'rename', 'destroy', ...IMAGE_ARRIVALS, 'untag', 'delete'],
    images: true,
    onEvent: (event) => inspector.handleEvent(event),
    onSync: (snapshot) => inspector.handleSync(snapshot),
  });
  for (const warning of settings.schema?.warnings ?? []) context.logger.warn(warning);
  context.logger.info('label-inspector checking labels', {
    profile: settings.profile.name,
    schema: settings.schema?.file,
    required: settings.required,
  });
  return {
    async stop() {
      unsubscribe();
      await checker.close();
      await board.close(SHUTDOWN_FLUSH_MS);
    },
  };
}

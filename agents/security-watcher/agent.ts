/**
 * The live security-watcher. Containers are checked on create (the earliest warning), on start
 * (where enforcement acts), and at every sync (where enforcement is re-applied to containers that
 * came back, e.g. by a restart policy after dockerd restarted). Execs are judged from
 * GET /exec/{id}/json; the engine's health-check execs never reach us (the event stream hides
 * them). Images are checked once per image ID.
 */
import type Dockerode from 'dockerode';
import { Gauge } from 'prom-client';
import type { AgentContext, RunningAgent } from '../../shared/agent';
import { containerName } from '../../shared/docker/container-name';
import { containerKey, type DockerEvent } from '../../shared/docker/event';
import type { SyncSnapshot } from '../../shared/docker/event-stream';
import { unlessGone } from '../../shared/docker/not-found';
import { isDockerDeadline } from '../../shared/docker/request-deadline';
import { attachFindings } from '../../shared/findings/board';
import type { FindingDraft, FindingObject } from '../../shared/findings/finding';
import type { FindingsSinkSettings } from '../../shared/findings/options';
import { FindingStore } from '../../shared/findings/store';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import {
  actionDue,
  Enforcer,
  stateOf,
  untilExecStarted,
  type ContainerState,
  type EnforcementRecord,
} from './enforcement';
import { cgroupRootFor } from './freezer';
import { PolicyEvaluator, strongestAction, type Evaluation } from './evaluate';
import {
  containerContext,
  containerExemptionSubject,
  containerTarget,
  DEFAULT_DOCKER_SOCKETS,
  hostFacts,
  imageAliases,
  imageExemptionSubject,
  imageHistory,
  imageTarget,
  resolveBindSources,
} from './objects';
import type { Action } from './policy';
import { RULES } from './rules';
import { ownContainerId } from './self';
import type { SecuritySettings } from './options';
import type { HostFacts } from './target';

const IMAGE_ARRIVALS = ['pull', 'tag', 'import', 'load'];
const CONTAINER_ACTIONS = [
  'create',
  'start',
  'unpause',
  'update',
  'rename',
  'destroy',
  'exec_create',
  'exec_start',
  'extract-to-dir',
];
/** Occurrence findings (execs, copies) kept per container; the oldest resolve beyond this. */
const MAX_OCCURRENCES = 100;
const SHUTDOWN_FLUSH_MS = 5_000;

interface KnownContainer {
  object: FindingObject;
  /** State as the last listing or inspect showed it, to notice changes at sync. */
  state: string;
  /** What enforcement needs to know of it, as its last inspect showed. */
  last: ContainerState;
  /** Findings of the container's configuration. */
  config: FindingDraft[];
  /** Findings of what happened in it (execs, docker cp), oldest first. */
  occurrences: FindingDraft[];
  /** What its configuration's enforce-mode findings call for now (gone once it complies, e.g. after `docker update`). */
  configEnforcement?: Enforcement;
  /** What enforce-mode exec or copy findings called for; they happened, so this stays. */
  occurrenceEnforcement?: Enforcement;
  user: string;
  labels: Record<string, string>;
  image: string;
}

export interface SecurityWatcherHooks {
  /** Each enforcement, with its latency from the triggering event. */
  enforced?(record: EnforcementRecord): void;
}

export class SecurityWatcher {
  readonly store = new FindingStore();
  readonly evaluator: PolicyEvaluator;
  private readonly containers = new Map<string, KnownContainer>();
  private readonly images = new Set<string>();
  private host: HostFacts | undefined;
  private readonly enforcer: Enforcer;
  private readonly lastSync: Gauge;
  /** Our own container, when we run in one: never enforced on. */
  private readonly selfId = ownContainerId();
  /** Containers whose last check missed a Docker deadline: what was asked, and since when. */
  private readonly unanswered = new Map<string, { request: string; since: Date; name?: string }>();
  /** Podman: the exec sessions of each container already judged (see inspectUnseenExecs). */
  private readonly execsSeen = new Map<string, Set<string>>();

  constructor(
    private readonly docker: Dockerode,
    private readonly settings: SecuritySettings,
    private readonly logger: Logger,
    metrics: AgentContext['metrics'],
    hooks: SecurityWatcherHooks = {},
  ) {
    this.evaluator = new PolicyEvaluator(settings.policy);
    this.enforcer = new Enforcer(
      docker,
      logger,
      metrics,
      settings.dryRun,
      hooks.enforced,
      cgroupRootFor(settings.hostRoot),
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the gauge as `this`
    const watcher = this;
    new Gauge({
      name: 'quayside_security_unanswered_containers',
      help: 'Containers the engine did not answer for within the request deadline at their last check; retried at every sync.',
      registers: [metrics],
      collect() {
        this.set(watcher.unanswered.size);
      },
    });
    this.lastSync = new Gauge({
      name: 'quayside_security_last_reconcile_timestamp_seconds',
      help: 'When the security-watcher last reconciled with the full container list (start, reconnect, periodic).',
      registers: [metrics],
    });
  }

  /** For /readyz: a container the engine does not answer for is a container the watcher cannot see. */
  readiness(): { ready: boolean; detail: string } {
    if (this.unanswered.size === 0) return { ready: true, detail: 'every container answered its last check' };
    const named = [...this.unanswered]
      .slice(0, 5)
      .map(([id, u]) => `${u.name ?? id.slice(0, 12)} (${u.request}, since ${u.since.toISOString()})`);
    return {
      ready: false,
      detail: `the engine does not answer for ${this.unanswered.size} container(s), retried at every sync: ${named.join(', ')}`,
    };
  }

  async handleEvent(event: DockerEvent): Promise<void> {
    const id = event.type === 'container' ? event.id : event.attributes.container;
    return id ? this.noticingSilence(id, () => this.handle(event)) : this.handle(event);
  }

  /** Runs a container's check; a missed Docker deadline marks the container unanswered (and is rethrown to be logged). */
  private async noticingSilence(id: string, check: () => Promise<void>, listedName?: string): Promise<void> {
    try {
      await check();
    } catch (error) {
      if (isDockerDeadline(error)) {
        const name = this.containers.get(id)?.object.name ?? listedName;
        if (!this.unanswered.has(id))
          this.logger.error('the engine does not answer for a container; its checks are retried at every sync', {
            id: id.slice(0, 12),
            container: name,
            request: error.request,
          });
        this.unanswered.set(id, { request: error.request, since: this.unanswered.get(id)?.since ?? new Date(), name });
      }
      throw error;
    }
  }

  private async handle(event: DockerEvent): Promise<void> {
    if (event.type === 'image') {
      if (IMAGE_ARRIVALS.includes(event.action)) return this.inspectImage(event.id);
      if (event.action === 'delete') return this.forgetImage(event.id);
      return;
    }
    if (event.type === 'network') {
      // Someone reconnected a container we quarantined.
      const id = event.attributes.container;
      if (event.action === 'connect' && id && enforcementFor(this.containers.get(id))?.action === 'disconnect')
        await this.inspectContainer(id, event);
      return;
    }
    if (event.type !== 'container') return;
    switch (event.action) {
      case 'destroy':
        return this.forgetContainer(event.id);
      case 'exec_create':
        return this.inspectExec(event);
      case 'exec_start':
        // Docker's carries the execID of an exec_create already judged; Podman has no exec_create.
        return event.attributes.execID ? undefined : this.inspectUnseenExecs(event);
      case 'extract-to-dir':
        return this.recordEvent(event);
      case 'unpause':
        if (!enforcementFor(this.containers.get(event.id))) return;
        return this.inspectContainer(event.id, event);
      case 'start': {
        // The verdict from its create stands (only `update` changes a configuration, and is
        // re-checked): contain first, look after.
        const known = this.containers.get(event.id);
        if (known) await this.enforceAtOnce(known, event);
        return this.inspectContainer(event.id, event);
      }
      default:
        return this.inspectContainer(event.id, event);
    }
  }

  async handleSync(snapshot: SyncSnapshot): Promise<void> {
    if (snapshot.reason !== 'periodic' || !this.host) await this.refreshHostFacts();
    for (const image of snapshot.images ?? []) {
      if (this.images.has(image.Id)) continue;
      await this.inspectImage(image.Id).catch((error: unknown) =>
        this.logger.warn('cannot check image', { id: image.Id, error: errorMessage(error) }),
      );
    }
    if (snapshot.images) {
      const present = new Set(snapshot.images.map((i) => i.Id));
      for (const id of this.images) if (!present.has(id)) this.forgetImage(id);
    }
    const listed = new Set<string>();
    for (const container of snapshot.containers) {
      listed.add(container.Id);
      const known = this.containers.get(container.Id);
      // New, changed (restarted, paused…), contained and maybe back, unanswered last time, or
      // paused (a pause that froze an exec as it started wedges the engine for it): look again.
      const recheck =
        !known ||
        known.state !== container.State ||
        (enforcementFor(known) && container.State === 'running') ||
        container.State === 'paused' ||
        this.unanswered.has(container.Id);
      if (recheck) {
        const check = (): Promise<void> =>
          this.noticingSilence(
            container.Id,
            () => this.inspectContainer(container.Id, undefined, `sync (${snapshot.reason})`),
            container.Names?.[0] ? containerName(container.Names[0]) : undefined,
          ).catch((error: unknown) => {
            this.logger.warn('cannot check container', { id: container.Id.slice(0, 12), error: errorMessage(error) });
          });
        // On the container's own queue: one that does not answer holds back nothing else.
        if (snapshot.followUp) snapshot.followUp(containerKey(container.Id), check);
        else await check();
      }
    }
    for (const id of [...this.containers.keys(), ...this.store.objectIds('container'), ...this.unanswered.keys()])
      if (!listed.has(id)) this.forgetContainer(id);
    this.lastSync.set(snapshot.at.getTime() / 1000);
  }

  private async refreshHostFacts(): Promise<void> {
    try {
      this.host = await hostFacts(this.docker, this.settings.engineSockets);
    } catch (error) {
      this.logger.warn('cannot read the engine info; AppArmor and SELinux checks assume neither', {
        error: errorMessage(error),
      });
      this.host ??= {
        apparmor: false,
        selinux: false,
        dockerSockets: [...DEFAULT_DOCKER_SOCKETS, ...this.settings.engineSockets],
      };
    }
  }

  private async inspectContainer(
    id: string,
    event?: DockerEvent,
    trigger = event ? event.action : 'sync',
  ): Promise<void> {
    const info = await unlessGone(() => this.docker.getContainer(id).inspect());
    if (!info) return this.forgetContainer(id);
    this.unanswered.delete(id);
    if (!this.host) await this.refreshHostFacts();
    const aliases = await imageAliases(this.docker, info);
    // The processes (/top runs the host's `ps` over every host process) are listed at syncs only:
    // on events they would sit in the containment race (a start waits on its container's queue,
    // and each `ps` takes CPU from the engine on a loaded host).
    const context = await containerContext(this.docker, info, { processes: event === undefined });
    const target = containerTarget(
      info,
      this.host!,
      await resolveBindSources(info, this.settings.hostRoot, this.selfId !== undefined),
      this.evaluator.allowedImage,
      this.settings.policy.allowedImages.length > 0,
      aliases,
      context,
    );
    const evaluation = this.evaluator.evaluate(
      RULES.container,
      target,
      target.object,
      containerExemptionSubject(info, aliases),
    );
    this.logExempted(target.object, evaluation);
    const known = this.containers.get(id);
    const entry: KnownContainer = {
      object: target.object,
      state: info.State.Status,
      last: stateOf(info, target.object.name),
      config: evaluation.findings,
      occurrences: (known?.occurrences ?? []).map((f) => ({ ...f, object: target.object })),
      occurrenceEnforcement: known?.occurrenceEnforcement,
      user: info.Config.User ?? '',
      labels: info.Config.Labels ?? {},
      image: info.Config.Image ?? '',
    };
    entry.configEnforcement = enforcementOf(evaluation);
    this.containers.set(id, entry);
    this.report(entry);
    const enforcement = enforcementFor(entry);
    if (enforcement) await this.enforce(stateOf(info, target.object.name), enforcement, trigger, event?.timeNano);
  }

  /** The container as last checked; checked now if it is new to us (its create came before we started). */
  private async knownContainer(id: string, trigger: string): Promise<KnownContainer | undefined> {
    if (!this.containers.has(id)) await this.inspectContainer(id, undefined, trigger);
    return this.containers.get(id);
  }

  private async inspectExec(event: DockerEvent): Promise<void> {
    const execId = event.attributes.execID;
    if (!execId) return;
    const known = await this.knownContainer(event.id, event.action);
    if (!known) return;
    const exec = await unlessGone(() => this.docker.getExec(execId).inspect());
    if (!exec) return;
    const config = exec.ProcessConfig as {
      tty?: boolean;
      entrypoint?: string;
      arguments?: string[];
      privileged?: boolean;
      user?: string;
    };
    const target = {
      object: known.object,
      execId,
      process: {
        tty: config.tty === true,
        entrypoint: config.entrypoint ?? '',
        arguments: config.arguments ?? [],
        privileged: config.privileged === true,
        user: config.user,
        openStdin: exec.OpenStdin === true,
      },
      containerUser: known.user,
    };
    const evaluation = this.evaluator.evaluate(RULES.exec, target, known.object, {
      names: [known.object.name],
      images: [known.image],
      labels: known.labels,
    });
    await this.addOccurrences(known, evaluation, event);
  }

  /**
   * Podman's exec events name neither the exec nor its command: the container's ExecIDs (which
   * keep an exec for minutes after it ended) tell which ones were not judged yet.
   */
  private async inspectUnseenExecs(event: DockerEvent): Promise<void> {
    const info = await unlessGone(() => this.docker.getContainer(event.id).inspect());
    const current = info?.ExecIDs ?? [];
    const seen = this.execsSeen.get(event.id);
    // Only the IDs still listed are kept: the set never outgrows the container's exec sessions.
    this.execsSeen.set(event.id, new Set(current));
    for (const execId of current)
      if (!seen?.has(execId)) await this.inspectExec({ ...event, attributes: { ...event.attributes, execID: execId } });
  }

  private async recordEvent(event: DockerEvent): Promise<void> {
    const known = await this.knownContainer(event.id, event.action);
    if (!known) return;
    const target = {
      object: known.object,
      action: event.action,
      detail: event.detail,
      attributes: event.attributes,
      timeNano: event.timeNano,
    };
    const evaluation = this.evaluator.evaluate(RULES.event, target, known.object, {
      names: [known.object.name],
      images: [known.image],
      labels: known.labels,
    });
    await this.addOccurrences(known, evaluation, event);
  }

  private async addOccurrences(known: KnownContainer, evaluation: Evaluation, event: DockerEvent): Promise<void> {
    this.logExempted(known.object, evaluation);
    if (evaluation.findings.length === 0) return;
    known.occurrences.push(...evaluation.findings);
    if (known.occurrences.length > MAX_OCCURRENCES)
      known.occurrences.splice(0, known.occurrences.length - MAX_OCCURRENCES);
    this.report(known);
    const occurrence = enforcementOf(evaluation);
    if (!occurrence) return;
    // Exec rules act on the whole container: the API cannot stop a single exec.
    known.occurrenceEnforcement = strongest(known.occurrenceEnforcement, occurrence);
    const execId = event.attributes.execID;
    if (execId) await untilExecStarted(this.docker, execId);
    if (await this.enforceAtOnce(known, event)) return;
    const info = await unlessGone(() => this.docker.getContainer(known.object.id).inspect());
    if (info)
      await this.enforce(stateOf(info, known.object.name), enforcementFor(known)!, event.action, event.timeNano);
  }

  /**
   * The shortest path from an event to containment: act without asking the engine for the
   * container's state first (a start or an exec says it runs; the enforcer confirms a pause after).
   * Not for disconnect, which needs the networks of now, nor in dry-run, which counts one would-be
   * action per container run. Returns whether it acted.
   */
  private async enforceAtOnce(known: KnownContainer, event: DockerEvent): Promise<boolean> {
    const enforcement = enforcementFor(known);
    if (!enforcement || enforcement.action === 'disconnect' || this.settings.dryRun) return false;
    await this.enforce({ ...known.last, running: true, paused: false }, enforcement, event.action, event.timeNano);
    return true;
  }

  private async enforce(
    state: ReturnType<typeof stateOf>,
    enforcement: Enforcement,
    trigger: string,
    eventNano?: string,
  ): Promise<void> {
    // Nothing left to do (not running, already paused or disconnected); no-op, not counted.
    if (!actionDue(enforcement.action, state)) return;
    if (this.selfId && state.id.startsWith(this.selfId)) return;
    await this.enforcer.enforce(state, enforcement.action, enforcement.rules, trigger, eventNano);
  }

  private report(known: KnownContainer): void {
    this.store.report(known.object, [...known.config, ...known.occurrences]);
  }

  private async inspectImage(reference: string): Promise<void> {
    const info = await unlessGone(() => this.docker.getImage(reference).inspect());
    if (!info) return;
    const target = imageTarget(info, await imageHistory(this.docker, info.Id));
    const evaluation = this.evaluator.evaluate(RULES.image, target, target.object, imageExemptionSubject(info));
    this.logExempted(target.object, evaluation);
    this.images.add(info.Id);
    this.store.report(target.object, evaluation.findings);
  }

  private logExempted(object: FindingObject, evaluation: Evaluation): void {
    for (const e of evaluation.exempted)
      this.logger.debug('exempted', { object: object.name, rule: e.ruleId, reason: e.reason, exemption: e.origin });
  }

  private forgetImage(id: string): void {
    this.images.delete(id);
    this.store.forget({ kind: 'image', id });
  }

  private forgetContainer(id: string): void {
    this.containers.delete(id);
    this.unanswered.delete(id);
    this.execsSeen.delete(id);
    this.enforcer.forget(id);
    this.store.forget({ kind: 'container', id });
  }
}

interface Enforcement {
  action: Action;
  rules: string[];
}

/** The action an evaluation's enforce-mode findings call for (the strongest), if any. */
function enforcementOf(evaluation: Evaluation): Enforcement | undefined {
  const action = strongestAction(evaluation.enforce.map((e) => e.action));
  return action ? { action, rules: evaluation.enforce.map((e) => e.ruleId) } : undefined;
}

function strongest(a: Enforcement | undefined, b: Enforcement | undefined): Enforcement | undefined {
  if (!a || !b) return a ?? b;
  return { action: strongestAction([a.action, b.action])!, rules: [...new Set([...a.rules, ...b.rules])] };
}

/** What a container is held to now: its configuration's and its occurrences', the strongest. */
function enforcementFor(known: KnownContainer | undefined): Enforcement | undefined {
  return known && strongest(known.configEnforcement, known.occurrenceEnforcement);
}

export function startSecurityWatcher(
  context: AgentContext,
  settings: SecuritySettings,
  sinks: FindingsSinkSettings,
  hooks: SecurityWatcherHooks = {},
): RunningAgent & { watcher: SecurityWatcher } {
  const watcher = new SecurityWatcher(
    context.docker,
    settings,
    context.logger.child({ agent: 'security-watcher' }),
    context.metrics,
    hooks,
  );
  const board = attachFindings(context, 'security-watcher', watcher.store, sinks);
  const unsubscribe = context.events.subscribe({
    name: 'security-watcher',
    types: ['container', 'image', 'network'],
    actions: [...CONTAINER_ACTIONS, ...IMAGE_ARRIVALS, 'delete', 'connect'],
    images: true,
    onEvent: (event) => watcher.handleEvent(event),
    onSync: (snapshot) => watcher.handleSync(snapshot),
  });
  context.http.addReadinessCheck('security-watcher', () => watcher.readiness());
  const enforced = [...settings.policy.rules].filter(([, r]) => r.enabled && r.mode === 'enforce');
  // An image finding has no container to act on: those rules report, whatever their mode says.
  const imageRuleIds = new Set(RULES.image.map((rule) => rule.id));
  const enforcing = enforced.filter(([id]) => !imageRuleIds.has(id)).map(([id, r]) => `${id}:${r.action}`);
  const auditOnly = enforced.filter(([id]) => imageRuleIds.has(id)).map(([id]) => id);
  if (auditOnly.length > 0)
    context.logger.warn('image rules cannot enforce (an image has no container to act on); they only report', {
      rules: auditOnly,
    });
  context.logger.info('security-watcher watching', {
    policy: settings.policy.source,
    enforcing,
    exemptions: settings.policy.exemptions.length,
    dryRun: settings.dryRun,
  });
  return {
    watcher,
    async stop() {
      unsubscribe();
      await board.close(SHUTDOWN_FLUSH_MS);
    },
  };
}

/**
 * Enforce mode: pause, stop, kill or disconnect a container as soon as a violation is seen.
 * This contains a container after it started; it cannot keep its first instructions from running
 * (see the README). Every action is logged with the rules and the latency from the triggering
 * event, and counted.
 */
import type Dockerode from 'dockerode';
import { Counter, Histogram, type Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDockerDeadline, withDockerDeadline } from '../../shared/docker/request-deadline';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { thawContainer } from './freezer';
import type { Action } from './policy';

export interface EnforcementRecord {
  containerId: string;
  name: string;
  action: Action;
  rules: string[];
  /** ok, failed, dry-run, or already (the container was already contained). */
  result: 'ok' | 'failed' | 'dry-run' | 'already';
  error?: string;
  /** What else happened, e.g. a wedged pause that was thawed and done again. */
  note?: string;
  /** Milliseconds from the triggering event (engine time) to the action's completion, when known. */
  latencyMs?: number;
  trigger: string;
}

/** What the action needs to know about the container now. */
export interface ContainerState {
  id: string;
  name: string;
  running: boolean;
  paused: boolean;
  /** Networks it is connected to. */
  networks: string[];
  /** HostConfig.NetworkMode: `host` and `container:<id>` have no network of their own to leave. */
  networkMode?: string;
  /** State.StartedAt: a new value is a new run of the container. */
  startedAt?: string;
}

const STOP_TIMEOUT_S = 2;
/** How long the engine may take to show the container paused; beyond it the pause wedged (see freezer.ts). */
const CONFIRM_PAUSE_MS = 2_000;
/** How long to wait for an exec to be started (or to end) before acting on its container anyway. */
const EXEC_START_WAIT_MS = 2_000;
const EXEC_POLL_MS = 5;

/**
 * Resolves once the exec's process has started (it has a Pid) or ended, or after
 * EXEC_START_WAIT_MS. A pause must not land while the exec's runc is starting: that freezes runc
 * and wedges the engine for the container (freezer.ts). The engine answers GET /exec/{id}/json
 * only after that start phase, and an exec not yet started cannot start in a paused container.
 */
export async function untilExecStarted(docker: Dockerode, execId: string): Promise<void> {
  const giveUpAt = Date.now() + EXEC_START_WAIT_MS;
  while (Date.now() < giveUpAt) {
    const exec = await withDockerDeadline(EXEC_START_WAIT_MS, () => docker.getExec(execId).inspect()).catch(
      () => undefined,
    );
    if (!exec || exec.Pid > 0 || exec.ExitCode !== null) return;
    await sleep(EXEC_POLL_MS);
  }
}

export function stateOf(info: Dockerode.ContainerInspectInfo, name: string): ContainerState {
  return {
    id: info.Id,
    name,
    running: info.State.Running === true,
    paused: info.State.Paused === true,
    networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
    networkMode: info.HostConfig?.NetworkMode,
    startedAt: info.State.StartedAt,
  };
}

/** True when the action has something left to do on a container in this state. */
export function actionDue(action: Action, state: ContainerState): boolean {
  if (!state.running) return false;
  if (action === 'pause') return !state.paused;
  // On the host's network (or another container's) there is nothing to disconnect, yet the
  // container is not contained: the action is due, and fails saying why, rather than silently.
  if (action === 'disconnect')
    return state.networks.some((n) => n !== 'none') || (state.networkMode ?? '').startsWith('container:');
  return true;
}

function disconnectable(state: ContainerState): string[] {
  return state.networks.filter((n) => n !== 'none' && n !== 'host');
}

export class Enforcer {
  private readonly actions: Counter<'action' | 'result'>;
  /** In dry-run the container stays as it is: what was already reported per container run and action. */
  private readonly wouldHaveActed = new Map<string, string>();
  private readonly latency: Histogram<'action'>;
  private readonly wedges: Counter<'recovered'>;

  constructor(
    private readonly docker: Dockerode,
    private readonly logger: Logger,
    metrics: Registry,
    private readonly dryRun = false,
    private readonly onRecord?: (record: EnforcementRecord) => void,
    /** The host's cgroup filesystem, to thaw a wedged pause. */
    private readonly cgroupRoot = '/sys/fs/cgroup',
  ) {
    this.actions = new Counter({
      name: 'quayside_security_enforcement_actions_total',
      help: 'Enforcement actions taken, by action and result (ok, failed, dry-run, already).',
      labelNames: ['action', 'result'],
      registers: [metrics],
    });
    this.wedges = new Counter({
      name: 'quayside_security_enforcement_wedges_total',
      help: 'Pauses after which the engine stopped answering for the container (an exec was starting), by whether thawing recovered it.',
      labelNames: ['recovered'],
      registers: [metrics],
    });
    this.latency = new Histogram({
      name: 'quayside_security_enforcement_seconds',
      help: 'Time from the triggering Docker event to the completed enforcement action.',
      labelNames: ['action'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [metrics],
    });
  }

  /** Applies `action` if the container's state still calls for it. `eventNano` is the trigger's timeNano. */
  async enforce(
    state: ContainerState,
    action: Action,
    rules: string[],
    trigger: string,
    eventNano?: string,
  ): Promise<EnforcementRecord> {
    const record: EnforcementRecord = { containerId: state.id, name: state.name, action, rules, result: 'ok', trigger };
    if (!actionDue(action, state)) record.result = 'already';
    else if (this.dryRun) {
      // Every sync and event sees the same uncontained container again: one would-be action per
      // run (a restart counts anew), or the dry-run count says many more than enforcing would do.
      const run = `${action}@${state.startedAt ?? ''}`;
      if (this.wouldHaveActed.get(state.id) === run) return { ...record, result: 'already' };
      this.wouldHaveActed.set(state.id, run);
      record.result = 'dry-run';
    } else {
      try {
        // Timed when the engine has done it; the pause's confirmation comes after.
        await this.act(state, action);
        if (eventNano !== undefined) record.latencyMs = Date.now() - Number(BigInt(eventNano) / 1_000_000n);
        if (action === 'pause') record.note = await this.confirmPaused(this.docker.getContainer(state.id));
      } catch (error) {
        if (!isAlreadyDone(error)) {
          record.result = 'failed';
          record.error = errorMessage(error);
        } else record.result = 'already';
      }
    }
    if (eventNano !== undefined) record.latencyMs ??= Date.now() - Number(BigInt(eventNano) / 1_000_000n);
    this.actions.inc({ action, result: record.result });
    if (record.result === 'ok' && record.latencyMs !== undefined)
      this.latency.observe({ action }, record.latencyMs / 1000);
    const fields = {
      container: state.name,
      id: state.id.slice(0, 12),
      action,
      rules,
      result: record.result,
      trigger,
      latencyMs: record.latencyMs,
      error: record.error,
      note: record.note,
    };
    if (record.result === 'failed') this.logger.error(`enforcement ${action} failed`, fields);
    else if (record.result !== 'already') this.logger.warn(`enforced: ${action} ${state.name}`, fields);
    this.onRecord?.(record);
    return record;
  }

  /** The container is gone: nothing to remember about it. */
  forget(containerId: string): void {
    this.wouldHaveActed.delete(containerId);
  }

  private async act(state: ContainerState, action: Action): Promise<void> {
    const container = this.docker.getContainer(state.id);
    switch (action) {
      case 'pause':
        await container.pause();
        return;
      case 'stop':
        await withDockerDeadline((STOP_TIMEOUT_S + 10) * 1000, () => container.stop({ t: STOP_TIMEOUT_S }));
        return;
      case 'kill':
        await container.kill({ signal: 'SIGKILL' });
        return;
      case 'disconnect': {
        const networks = disconnectable(state);
        if (networks.length === 0) {
          const mode = state.networks.includes('host') ? 'host' : (state.networkMode ?? "another container's");
          throw new Error(
            `cannot disconnect a container that uses the ${mode} network; enforce pause, stop or kill for this rule`,
          );
        }
        await Promise.all(
          networks.map((n) => this.docker.getNetwork(n).disconnect({ Container: state.id, Force: true })),
        );
      }
    }
  }

  /**
   * The engine must show the container paused. When it stops answering instead, the pause froze
   * an exec's runc as it started (freezer.ts): thaw the cgroup so the exec and the engine go on,
   * then pause again through the engine, now that nothing is starting.
   */
  private async confirmPaused(container: Dockerode.Container): Promise<string | undefined> {
    try {
      const info = await withDockerDeadline(CONFIRM_PAUSE_MS, () => container.inspect());
      if (info.State.Paused !== true)
        throw new Error(`the engine accepted the pause, yet the container is ${info.State.Status}`);
      return undefined;
    } catch (error) {
      if (!isDockerDeadline(error)) throw error;
    }
    let file: string;
    try {
      file = await thawContainer(container.id, this.cgroupRoot);
    } catch (error) {
      this.wedges.inc({ recovered: 'false' });
      throw new Error(
        `the engine stopped answering for the container after the pause (it froze an exec that was starting); could not thaw it: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    // The engine still says paused while the cgroup runs: unpause and pause through it again.
    await withDockerDeadline(CONFIRM_PAUSE_MS * 2, () => container.unpause()).catch((error: unknown) => {
      // runc already sees the thawed cgroup as running: "container not paused".
      if (!/not paused/i.test(errorMessage(error))) throw error;
    });
    await container.pause();
    const info = await withDockerDeadline(CONFIRM_PAUSE_MS, () => container.inspect());
    if (info.State.Paused !== true)
      throw new Error(`paused again after thawing a wedged pause, yet the container is ${info.State.Status}`);
    this.wedges.inc({ recovered: 'true' });
    return `the first pause froze an exec as it started and wedged the engine; thawed ${file} and paused again`;
  }
}

/** The engine says the container is already in the state the action wanted (paused, stopped, gone). */
function isAlreadyDone(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  const message = errorMessage(error);
  return status === 304 || status === 404 || /already paused|is not running|is paused|not connected/i.test(message);
}

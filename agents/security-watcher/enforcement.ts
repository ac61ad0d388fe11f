/**
 * Enforce mode: pause, stop, kill or disconnect a container as soon as a violation is seen.
 * This contains a container after it started; it cannot keep its first instructions from running
 * (see the README). Every action is logged with the rules and the latency from the triggering
 * event, and counted.
 */
import type Dockerode from 'dockerode';
import { Counter, Histogram, type Registry } from 'prom-client';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import type { Action } from './policy';

export interface EnforcementRecord {
  containerId: string;
  name: string;
  action: Action;
  rules: string[];
  /** ok, failed, dry-run, or already (the container was already contained). */
  result: 'ok' | 'failed' | 'dry-run' | 'already';
  error?: string;
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
  if (action === 'disconnect') return state.networks.some((n) => n !== 'none') || (state.networkMode ?? '').startsWith('container:');
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

  constructor(
    private readonly docker: Dockerode,
    private readonly logger: Logger,
    metrics: Registry,
    private readonly dryRun = false,
    private readonly onRecord?: (record: EnforcementRecord) => void,
  ) {
    this.actions = new Counter({
      name: 'quayside_security_enforcement_actions_total',
      help: 'Enforcement actions taken, by action and result (ok, failed, dry-run, already).',
      labelNames: ['action', 'result'],
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
  async enforce(state: ContainerState, action: Action, rules: string[], trigger: string, eventNano?: string): Promise<EnforcementRecord> {
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
        await this.act(state, action);
      } catch (error) {
        if (!isAlreadyDone(error)) {
          record.result = 'failed';
          record.error = errorMessage(error);
        } else record.result = 'already';
      }
    }
    if (eventNano !== undefined) record.latencyMs = Date.now() - Number(BigInt(eventNano) / 1_000_000n);
    this.actions.inc({ action, result: record.result });
    if (record.result === 'ok' && record.latencyMs !== undefined) this.latency.observe({ action }, record.latencyMs / 1000);
    const fields = { container: state.name, id: state.id.slice(0, 12), action, rules, result: record.result, trigger, latencyMs: record.latencyMs, error: record.error };
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
        await container.stop({ t: STOP_TIMEOUT_S });
        return;
      case 'kill':
        await container.kill({ signal: 'SIGKILL' });
        return;
      case 'disconnect': {
        const networks = disconnectable(state);
        if (networks.length === 0) {
          const mode = state.networks.includes('host') ? 'host' : (state.networkMode ?? 'another container\'s');
          throw new Error(`cannot disconnect a container that uses the ${mode} network; enforce pause, stop or kill for this rule`);
        }
        await Promise.all(networks.map((n) => this.docker.getNetwork(n).disconnect({ Container: state.id, Force: true })));
      }
    }
  }
}

/** The engine says the container is already in the state the action wanted (paused, stopped, gone). */
function isAlreadyDone(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  const message = errorMessage(error);
  return status === 304 || status === 404 || /already paused|is not running|is paused|not connected/i.test(message);
}

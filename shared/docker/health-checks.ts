/**
 * Tells the engine's own health-check execs apart from `docker exec`.
 *
 * Both produce the same `exec_create: <cmd>` / `exec_start` / `exec_die` events; only the
 * command distinguishes them. We compare it with the container's configured health check
 * (inspected once per container) and remember each exec ID, because `exec_die` carries no command.
 */
import type Dockerode from 'dockerode';
import type { DockerEvent } from './event';
import { isExecEvent } from './event';

const MAX_TRACKED_EXECS = 10_000;

export class HealthCheckClassifier {
  private readonly execCommands = new Map<string, string>();
  private readonly healthCommands = new Map<string, Promise<string | undefined>>();

  constructor(private readonly inspectHealthCommand: (containerId: string) => Promise<string | undefined>) {}

  static forDocker(docker: Dockerode): HealthCheckClassifier {
    return new HealthCheckClassifier(async (id) => {
      const info = await docker.getContainer(id).inspect();
      const shell = (info.Config as { Shell?: string[] }).Shell;
      return healthCheckCommandLine(info.Config.Healthcheck?.Test, info.Platform, shell);
    });
  }

  /** Called for every event, in stream order, before dispatch. Cheap and synchronous. */
  observe(event: DockerEvent): void {
    if (event.type !== 'container') return;
    if (event.action === 'destroy') {
      this.healthCommands.delete(event.id);
      return;
    }
    const execId = event.attributes.execID;
    if (!execId || event.action !== 'exec_create') return;
    if (this.execCommands.size >= MAX_TRACKED_EXECS) {
      const oldest = this.execCommands.keys().next().value;
      if (oldest !== undefined) this.execCommands.delete(oldest);
    }
    this.execCommands.set(execId, event.detail);
  }

  async isHealthCheck(event: DockerEvent): Promise<boolean> {
    if (!isExecEvent(event)) return false;
    const execId = event.attributes.execID ?? '';
    const command = event.detail || this.execCommands.get(execId);
    if (event.action === 'exec_die') this.execCommands.delete(execId);
    if (!command) return false;
    return command === (await this.healthCommand(event.id));
  }

  private healthCommand(containerId: string): Promise<string | undefined> {
    let known = this.healthCommands.get(containerId);
    if (!known) {
      known = this.inspectHealthCommand(containerId).catch((error: { statusCode?: number }) => {
        // A container that is gone has no health check to match; any other failure is asked again next time.
        if (error.statusCode !== 404) this.healthCommands.delete(containerId);
        return undefined;
      });
      this.healthCommands.set(containerId, known);
    }
    return known;
  }
}

/**
 * The command line the engine reports in exec events for a health check `Test`. CMD-SHELL runs
 * through the container's SHELL when it has one (as moby's getShell does), else the platform's.
 */
export function healthCheckCommandLine(test: string[] | undefined, platform = 'linux', shell?: string[]): string | undefined {
  if (!test || test.length === 0) return undefined;
  const [kind, ...args] = test;
  if (kind === 'CMD') return args.join(' ');
  if (kind !== 'CMD-SHELL') return undefined; // NONE, or an unknown form
  const prefix = shell && shell.length > 0 ? shell.join(' ') : platform === 'windows' ? 'cmd /S /C' : '/bin/sh -c';
  return `${prefix} ${args.join(' ')}`;
}

/**
 * Tells the engine's own health-check execs apart from `docker exec`.
 *
 * Both produce the same `exec_create: <cmd>` / `exec_start` / `exec_die` events. Anyone who can
 * exec can run the health command too, as root, privileged, with a terminal or a hijacked PATH, so
 * the command alone proves nothing. A probe is recognised by everything the engine sets for it
 * (moby daemon/health.go): the configured command exactly, the container's own user, not
 * privileged, no TTY, stdin closed, stdout and stderr attached; while it runs, its environment is
 * the container's and its working directory the container's; and it starts when the engine's
 * timer says (the configured interval after the previous probe ended, or after the container
 * started), one probe per turn. An exec that differs in any of these is not hidden. What the API
 * cannot show is said in the README: the environment and directory of a probe that already
 * ended, and a process readable only on the host.
 */
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { DockerEvent } from './event';
import { isExecEvent } from './event';

const MAX_TRACKED_EXECS = 10_000;
const DEFAULT_INTERVAL_MS = 30_000;
/** A timer never fires early; this covers the engine's clock steps between its log and its event. */
const EARLY_TOLERANCE_MS = 100;
/** A loaded engine starts a probe late: by this much, plus a tenth of the interval. */
const LATE_TOLERANCE_MS = 2_000;

/** The container's health check, as the engine runs it, with what it runs in. */
export interface HealthCheckConfig {
  entrypoint: string;
  arguments: string[];
  /** Config.User ('' when unset): probes run as the container's user. */
  user: string;
  intervalMs: number;
  /** The environment a probe gets (the daemon's PATH and HOSTNAME, overridden by Config.Env). */
  env: string[];
  workingDir: string;
}

/** What the engine says of the container now, for the probe's turn. */
interface HealthTurn {
  /** When the container (last) started, ms since the epoch. */
  startedAtMs: number;
  /** Start and end of the probes the engine logged (the last five), ms since the epoch. */
  log: Array<{ startMs: number; endMs: number }>;
}

/** An exec as GET /exec/{id}/json describes it. */
export interface ExecFacts {
  tty: boolean;
  privileged: boolean;
  user: string;
  entrypoint: string;
  arguments: string[];
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  running: boolean;
  pid: number;
}

export interface HealthCheckSource {
  /** The container's health check; undefined when it has none (or is gone). Cached per container. */
  healthCheck(containerId: string): Promise<HealthCheckConfig | undefined>;
  turn(containerId: string): Promise<HealthTurn | undefined>;
  exec(execId: string): Promise<ExecFacts | undefined>;
  /**
   * A running process's environment and working directory, when this host's /proc shows them and
   * it is the process running `argv` (in another PID namespace the number names another process).
   */
  process(pid: number, argv: readonly string[]): Promise<{ env: string[]; cwd: string } | undefined>;
}

/** Why an exec is not a health probe (for tests and the log), or undefined when it is one. */
export type Verdict = string | undefined;

export class HealthCheckClassifier {
  /** exec ID → the exec_create's command and time (exec_start and exec_die carry the command too, but not the create time). */
  private readonly execs = new Map<string, { command: string; createdMs: number }>();
  private readonly verdicts = new Map<string, Promise<Verdict>>();
  private readonly configs = new Map<string, Promise<HealthCheckConfig | undefined>>();
  /** Per container: when the monitor last (re)started its timer outside the log (unpause), and the probe turns already claimed. */
  private readonly resumedMs = new Map<string, number>();
  private readonly claimedTurns = new Map<string, Set<number>>();

  constructor(private readonly source: HealthCheckSource) {}

  static forDocker(docker: Dockerode, procRoot = '/proc'): HealthCheckClassifier {
    return new HealthCheckClassifier(dockerHealthCheckSource(docker, procRoot));
  }

  /** Called for every event, in stream order, before dispatch. Cheap and synchronous. */
  observe(event: DockerEvent): void {
    if (event.type !== 'container') return;
    if (event.action === 'destroy') {
      this.configs.delete(event.id);
      this.resumedMs.delete(event.id);
      this.claimedTurns.delete(event.id);
      return;
    }
    // The engine stops its health monitor on pause and starts it again on unpause.
    if (event.action === 'unpause') this.resumedMs.set(event.id, nanoToMs(event.timeNano));
    if (event.action === 'start') this.resumedMs.delete(event.id);
    const execId = event.attributes.execID;
    if (!execId || event.action !== 'exec_create') return;
    if (this.execs.size >= MAX_TRACKED_EXECS) {
      const oldest = this.execs.keys().next().value;
      if (oldest !== undefined) {
        this.execs.delete(oldest);
        this.verdicts.delete(oldest);
      }
    }
    this.execs.set(execId, { command: event.detail, createdMs: nanoToMs(event.timeNano) });
  }

  async isHealthCheck(event: DockerEvent): Promise<boolean> {
    return (await this.verdict(event)) === undefined;
  }

  /** undefined for a health probe, else why it is not one. */
  verdict(event: DockerEvent): Promise<Verdict> {
    if (!isExecEvent(event)) return Promise.resolve('not an exec');
    const execId = event.attributes.execID ?? '';
    let verdict = this.verdicts.get(execId);
    if (!verdict) {
      verdict = this.judge(event, execId);
      // exec_create, exec_start and exec_die of one exec share one verdict.
      if (execId) this.verdicts.set(execId, verdict);
    }
    if (event.action === 'exec_die') {
      this.verdicts.delete(execId);
      this.execs.delete(execId);
    }
    return verdict;
  }

  private async judge(event: DockerEvent, execId: string): Promise<Verdict> {
    const seen = this.execs.get(execId);
    const command = event.detail || seen?.command;
    if (!command || !seen) return 'its exec_create was not seen';
    const config = await this.healthCheck(event.id);
    if (!config) return 'the container has no health check';
    if (command !== [config.entrypoint, ...config.arguments].join(' ')) return 'not the health-check command';
    const exec = await this.source.exec(execId).catch(() => undefined);
    if (!exec) return 'its exec cannot be inspected';
    const differs = execDifference(exec, config);
    if (differs) return differs;
    if (exec.running && exec.pid > 0) {
      const process = await this.source.process(exec.pid, [exec.entrypoint, ...exec.arguments]).catch(() => undefined);
      if (process) {
        const processDiffers = processDifference(process, config);
        if (processDiffers) return processDiffers;
      }
    }
    return this.claimTurn(event.id, seen.createdMs, config);
  }

  /**
   * A probe starts one interval after the previous one ended (the engine's timer), or after the
   * container started or was unpaused; each such turn is one probe.
   */
  private async claimTurn(containerId: string, createdMs: number, config: HealthCheckConfig): Promise<Verdict> {
    const turn = await this.source.turn(containerId).catch(() => undefined);
    if (!turn) return 'the container cannot be inspected';
    // The timer restarts when the container starts or is unpaused, and after each probe ends.
    const after = Math.max(
      0,
      ...[turn.startedAtMs, this.resumedMs.get(containerId) ?? 0, ...turn.log.map((l) => l.endMs)].filter(
        (t) => t + config.intervalMs <= createdMs + EARLY_TOLERANCE_MS,
      ),
    );
    const due = after + config.intervalMs;
    const late = LATE_TOLERANCE_MS + config.intervalMs / 10;
    if (after === 0 || createdMs < due - EARLY_TOLERANCE_MS || createdMs > due + late) {
      return `created at ${new Date(createdMs).toISOString()}, not the engine's turn (next probe due ${after === 0 ? 'unknown' : new Date(due).toISOString()})`;
    }
    // A probe of this turn that the engine already logged as ended before this exec was created is another exec.
    if (turn.log.some((l) => l.startMs >= due - EARLY_TOLERANCE_MS && l.endMs < createdMs))
      return 'a second exec in one probe turn (the engine logged its probe already)';
    const claimed = this.claimedTurns.get(containerId) ?? new Set<number>();
    if (claimed.has(due)) return 'a second exec in one probe turn';
    claimed.add(due);
    if (claimed.size > 16) claimed.delete(claimed.values().next().value!);
    this.claimedTurns.set(containerId, claimed);
    return undefined;
  }

  private healthCheck(containerId: string): Promise<HealthCheckConfig | undefined> {
    let known = this.configs.get(containerId);
    if (!known) {
      known = this.source.healthCheck(containerId).catch((error: { statusCode?: number }) => {
        // A container that is gone has no health check to match; any other failure is asked again next time.
        if (error.statusCode !== 404) this.configs.delete(containerId);
        return undefined;
      });
      this.configs.set(containerId, known);
    }
    return known;
  }
}

/** What the exec inspect shows that differs from a probe's settings, or undefined. */
function execDifference(exec: ExecFacts, config: HealthCheckConfig): string | undefined {
  if (exec.entrypoint !== config.entrypoint || !sameList(exec.arguments, config.arguments))
    return 'its arguments differ from the health check';
  if (exec.user !== config.user)
    return `it runs as user ${JSON.stringify(exec.user)}, the health check as ${JSON.stringify(config.user)}`;
  if (exec.privileged) return 'it is privileged';
  if (exec.tty) return 'it has a TTY';
  if (exec.openStdin) return 'its stdin is open';
  if (!exec.openStdout || !exec.openStderr) return 'its output is detached';
  return undefined;
}

/** What a running exec's process shows that differs from a probe's environment and directory, or undefined. */
function processDifference(process: { env: string[]; cwd: string }, config: HealthCheckConfig): string | undefined {
  // HOME comes from the user's passwd entry when the environment has none.
  const setsHome = config.env.some((e) => e.startsWith('HOME='));
  const env = process.env.filter((e) => setsHome || !e.startsWith('HOME='));
  if (!sameList([...env].sort(), [...config.env].sort())) return "its environment differs from the container's";
  if (process.cwd !== (config.workingDir || '/'))
    return `it runs in ${process.cwd}, the health check in ${config.workingDir || '/'}`;
  return undefined;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function nanoToMs(timeNano: string): number {
  return Number(BigInt(timeNano) / 1_000_000n);
}

/** The default PATH the daemon gives a Linux container (moby's oci.DefaultPathEnv). */
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment the daemon builds for a probe: its PATH and HOSTNAME, replaced or extended by Config.Env. */
export function probeEnvironment(hostname: string, configEnv: readonly string[]): string[] {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', `HOSTNAME=${hostname}`],
  ]);
  for (const entry of configEnv) env.set(entry.split('=')[0]!, entry);
  return [...env.values()];
}

/**
 * The entrypoint and arguments the engine runs for a health check `Test`. CMD-SHELL runs through
 * the container's SHELL when it has one (as moby's getShell does), else the platform's.
 */
function healthCheckArgv(test: string[] | undefined, platform = 'linux', shell?: string[]): string[] | undefined {
  if (!test || test.length === 0) return undefined;
  const [kind, ...args] = test;
  if (kind === 'CMD') return args.length > 0 ? args : undefined;
  if (kind !== 'CMD-SHELL') return undefined; // NONE, or an unknown form
  const prefix = shell && shell.length > 0 ? shell : platform === 'windows' ? ['cmd', '/S', '/C'] : ['/bin/sh', '-c'];
  return [...prefix, args.join(' ')];
}

/** The command line the engine reports in exec events for a health check `Test`. */
export function healthCheckCommandLine(
  test: string[] | undefined,
  platform = 'linux',
  shell?: string[],
): string | undefined {
  return healthCheckArgv(test, platform, shell)?.join(' ');
}

function dockerHealthCheckSource(docker: Dockerode, procRoot: string): HealthCheckSource {
  return {
    async healthCheck(id) {
      const info = await docker.getContainer(id).inspect();
      const config = info.Config as Dockerode.ContainerInspectInfo['Config'] & {
        Shell?: string[];
        Healthcheck?: { Test?: string[]; Interval?: number };
      };
      const argv = healthCheckArgv(config.Healthcheck?.Test, info.Platform, config.Shell);
      if (!argv) return undefined;
      return {
        entrypoint: argv[0]!,
        arguments: argv.slice(1),
        user: config.User ?? '',
        intervalMs: config.Healthcheck?.Interval ? config.Healthcheck.Interval / 1e6 : DEFAULT_INTERVAL_MS,
        env: probeEnvironment(config.Hostname ?? '', config.Env ?? []),
        workingDir: config.WorkingDir ?? '',
      };
    },
    async turn(id) {
      const info = await docker.getContainer(id).inspect();
      const state = info.State as { StartedAt?: string; Health?: { Log?: Array<{ Start?: string; End?: string }> } };
      return {
        startedAtMs: Date.parse(state.StartedAt ?? '') || 0,
        log: (state.Health?.Log ?? []).map((l) => ({
          startMs: Date.parse(l.Start ?? '') || 0,
          endMs: Date.parse(l.End ?? '') || 0,
        })),
      };
    },
    async exec(id) {
      const exec = (await docker.getExec(id).inspect()) as unknown as {
        ProcessConfig?: {
          tty?: boolean;
          privileged?: boolean;
          user?: string;
          entrypoint?: string;
          arguments?: string[];
        };
        OpenStdin?: boolean;
        OpenStdout?: boolean;
        OpenStderr?: boolean;
        Running?: boolean;
        Pid?: number;
      };
      const p = exec.ProcessConfig ?? {};
      return {
        tty: p.tty === true,
        privileged: p.privileged === true,
        user: p.user ?? '',
        entrypoint: p.entrypoint ?? '',
        arguments: p.arguments ?? [],
        openStdin: exec.OpenStdin === true,
        openStdout: exec.OpenStdout === true,
        openStderr: exec.OpenStderr === true,
        running: exec.Running === true,
        pid: exec.Pid ?? 0,
      };
    },
    async process(pid, argv) {
      try {
        const dir = join(procRoot, String(pid));
        const [cmdline, environ, cwd] = await Promise.all([
          readFile(join(dir, 'cmdline'), 'utf8'),
          readFile(join(dir, 'environ'), 'utf8'),
          readlink(join(dir, 'cwd')),
        ]);
        if (cmdline !== `${argv.join('\0')}\0`) return undefined;
        return { env: environ.split('\0').filter(Boolean), cwd };
      } catch {
        return undefined; // ended, or not visible from here (another PID namespace)
      }
    },
  };
}

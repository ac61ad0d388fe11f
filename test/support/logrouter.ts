/** Running the built logrouter against the test engine, and what Docker itself holds as truth. */
import type { ChildProcess } from 'node:child_process';
import type Dockerode from 'dockerode';
import { LogParser } from '../../agents/logrouter/log-parser';
import type { LogLine } from '../../agents/logrouter/message';
import { agentArgs, capture, exited, startCli } from './cli';
import { eventually } from './eventually';
import { TEST_LABEL, testEnv } from './test-env';

export interface RunningRouter {
  child: ChildProcess;
  output: ReturnType<typeof capture>;
  /** The port of its HTTP server, once it logged it. */
  port(): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startRouter(
  routes: string[],
  stateDir: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
): RunningRouter {
  const child = startCli(
    agentArgs('logrouter', { port: 0, stateDir, jsonLogs: true }, ...routes, '--log-level', 'debug', ...extra),
    {
      DOCKER_HOST: testEnv().docker.host,
      ...env,
    },
  );
  const output = capture(child);
  return {
    child,
    output,
    port: () =>
      eventually(
        () => {
          const match = /"listen":"127\.0\.0\.1:(\d+)"/.exec(output.stderr());
          if (!match) throw new Error(`no listen address yet; stderr: ${output.stderr().slice(-2000)}`);
          return Number(match[1]);
        },
        20_000,
        50,
      ),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited(child);
    },
  };
}

/** Runs a busybox shell script in a new labelled container (started). */
export async function runScript(
  docker: Dockerode,
  name: string,
  script: string,
  options: { tty?: boolean; labels?: Record<string, string>; env?: string[]; restart?: 'no' | 'always' } = {},
): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name,
    Image: testEnv().images.busybox,
    Cmd: ['sh', '-c', script],
    Tty: options.tty ?? false,
    Env: options.env,
    Labels: { [TEST_LABEL]: '1', ...options.labels },
    HostConfig: { RestartPolicy: { Name: options.restart ?? 'no' }, NetworkMode: 'none' },
  });
  await container.start();
  return container;
}

/** Every line Docker holds for the container (all its runs), reassembled as the agent does. */
export async function dockerLines(container: Dockerode.Container, tty = false): Promise<LogLine[]> {
  const raw = (await container.logs({
    follow: false,
    stdout: true,
    stderr: true,
    timestamps: true,
  })) as unknown as Buffer;
  const lines: LogLine[] = [];
  const parser = new LogParser({ tty, maxLineBytes: 64 * 1024 * 1024, onLine: (line) => lines.push(line) });
  parser.write(raw);
  parser.end();
  return lines;
}

export async function waitExited(container: Dockerode.Container, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const info = await container.inspect();
      if (info.State.Running) throw new Error(`${info.Name} still running`);
    },
    timeoutMs,
    100,
  );
}

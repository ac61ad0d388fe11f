/** Runs `quayside registrator` (built CLI) against the test engine and a Consul double. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { ConsulDouble } from '../consul/double';
import { agentArgs, capture, exited, startCli } from './cli';
import { eventually } from './eventually';
import { TEST_LABEL, testEnv } from './test-env';
import { freePort } from './free-port';

export interface RunningRegistrator {
  base: string;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  stderr(): string;
  services(): Promise<{
    containers: Array<{
      id: string;
      name: string;
      services: Array<{ id: string; registered: boolean; inSync: boolean; error?: string }>;
      skipped: unknown[];
    }>;
    pendingRemoval: string[];
  }>;
}

export async function startRegistrator(
  consul: ConsulDouble,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  uri = `consul://${consul.address}`,
): Promise<RunningRegistrator> {
  const port = await freePort();
  const child = startCli(
    agentArgs('registrator', { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true }, ...args, uri),
    { DOCKER_HOST: testEnv().docker.host, ...env },
  );
  const output = capture(child);
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 20_000, 100).catch(
    (error: Error) => {
      child.kill('SIGKILL');
      throw new Error(`registrator not ready: ${error.message}\n${output.stderr().slice(-3000)}`);
    },
  );
  return {
    base,
    stderr: output.stderr,
    async stop() {
      child.kill('SIGTERM');
      return exited(child);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    services: async () => (await (await fetch(`${base}/services`)).json()) as never,
  };
}

export interface RunSpec {
  name: string;
  cmd?: string[];
  /** `80/tcp` → host port (0 = any) */
  publish?: Record<string, number>;
  expose?: string[];
  env?: string[];
  labels?: Record<string, string>;
  networkMode?: string;
  healthcheck?: Dockerode.HealthConfig;
  restart?: 'no' | 'always';
}

export async function runContainer(docker: Dockerode, spec: RunSpec): Promise<Dockerode.Container> {
  const exposed = Object.fromEntries([...Object.keys(spec.publish ?? {}), ...(spec.expose ?? [])].map((p) => [p, {}]));
  const container = await docker.createContainer({
    name: spec.name,
    Image: testEnv().images.busybox,
    Cmd: spec.cmd ?? ['sleep', '600'],
    Env: spec.env,
    Labels: { [TEST_LABEL]: '1', ...spec.labels },
    ExposedPorts: exposed,
    Healthcheck: spec.healthcheck,
    HostConfig: {
      PortBindings: Object.fromEntries(
        Object.entries(spec.publish ?? {}).map(([p, host]) => [
          p,
          [{ HostIp: '', HostPort: host ? String(host) : '' }],
        ]),
      ),
      NetworkMode: spec.networkMode,
      RestartPolicy: { Name: spec.restart ?? 'no' },
    },
    StopTimeout: 1,
  });
  await container.start();
  return container;
}

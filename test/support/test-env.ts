/**
 * The test environment that `bash test/env/up.sh` brings up: a dedicated Docker engine, Redis,
 * rsyslog, Prometheus and node-exporter on loopback. Its addresses come from env.json.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';

export interface TestEnv {
  root: string;
  docker: { host: string; socket: string; pidfile: string; bridge: string; gateway: string; engineScript: string };
  /** The Podman engine (podman.sh), on its Docker-compatible socket; see engines.ts. */
  podman?: {
    host: string;
    socket: string;
    pidfile: string;
    eventsFile: string;
    /** Its default network (the Docker API names it "bridge") and a second one. */
    network: string;
    extraNetwork: string;
    engineScript: string;
  };
  images: { busybox: string };
  redis: { host: string; port: number };
  /** TCP and UDP on `port`; RELP (imrelp) on `relpPort`. */
  syslog: { host: string; port: number; relpPort: number; receivedFile: string };
  prometheus: { url: string; targetsDir: string };
  nodeExporter: { url: string };
}

let loaded: TestEnv | undefined;

export function testEnv(): TestEnv {
  if (loaded) return loaded;
  const file = join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json');
  try {
    loaded = JSON.parse(readFileSync(file, 'utf8')) as TestEnv;
  } catch (error) {
    throw new Error(`no test environment at ${file} (${(error as Error).message}); run: bash test/env/up.sh`, {
      cause: error,
    });
  }
  return loaded;
}

export function testDocker(): Dockerode {
  return new Dockerode({ socketPath: testEnv().docker.socket });
}

const run = promisify(execFile);

async function engine(command: 'start' | 'stop'): Promise<void> {
  const env = testEnv();
  await run('bash', [env.docker.engineScript, command], {
    env: { ...process.env, QS_TEST_ROOT: env.root },
    timeout: 90_000,
  });
}

/** Stops the test engine (SIGTERM, wait). Containers stop with it; the data-root stays. */
export const stopEngine = (): Promise<void> => engine('stop');
export const startEngine = (): Promise<void> => engine('start');

/** Label carried by every container the tests create, so cleanup never touches anything else. */
export const TEST_LABEL = 'quayside.test';

/** A value unique to one test, for names and label filters. */
export function uniqueTag(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface ContainerSpec {
  name: string;
  cmd: string[];
  labels?: Record<string, string>;
  healthcheck?: Dockerode.HealthConfig;
  restartPolicy?: 'no' | 'always' | 'unless-stopped';
}

export async function createContainer(docker: Dockerode, spec: ContainerSpec): Promise<Dockerode.Container> {
  return docker.createContainer({
    name: spec.name,
    Image: testEnv().images.busybox,
    Cmd: spec.cmd,
    Labels: { [TEST_LABEL]: '1', ...spec.labels },
    Healthcheck: spec.healthcheck,
    HostConfig: { RestartPolicy: { Name: spec.restartPolicy ?? 'no' } },
  });
}

/** Removes every container the tests created (on the test engine only). */
export async function removeTestContainers(docker: Dockerode = testDocker()): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [TEST_LABEL] } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/** Runs a command in a container through the API, as `docker exec` does, and waits for it. */
export async function execIn(container: Dockerode.Container, cmd: string[], tty = false): Promise<string> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: tty });
  const stream = await exec.start({ hijack: true, stdin: false, Tty: tty });
  await new Promise((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.resume();
  });
  return exec.id;
}

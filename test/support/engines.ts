/**
 * The container engines of the test environment, so that one integration test runs the same cases
 * against each:
 *
 *   for (const engine of testEngines()) describe(engine.name, () => { ... engine.docker() ... });
 *
 * Both are driven through the Docker API (dockerode) and the docker CLI, because that is what the
 * agents and their users speak: Podman is tested on its Docker-compatible socket. The docker CLI
 * (Debian's 20.10 as well as 28.x) negotiates API 1.41 with Podman 4.3, and run, exec, network
 * connect/disconnect, rm work through it unchanged; the `podman` CLI would take the same arguments
 * but goes through the libpod API, which no agent uses. The one thing the Docker API cannot do
 * there is run a health check: Podman 4.3 runs them from systemd timers, and there is no systemd
 * here, so `runHealthcheck` calls `podman --remote healthcheck run`.
 *
 * QS_TEST_ENGINES=docker (or podman, or docker,podman) picks the engines; the default is every
 * engine the environment has.
 */
import { strict as assert } from 'node:assert';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { agentArgs, capture, exited, startCli } from './cli';
import { dockerCli } from './docker-cli';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { removeTestContainers, TEST_LABEL, testEnv } from './test-env';

type EngineName = 'docker' | 'podman';

export interface TestEngine {
  name: EngineName;
  /** unix://… as DOCKER_HOST takes it. */
  host: string;
  socket: string;
  /** A fresh API client for this engine. */
  docker(): Dockerode;
  /** The docker CLI against this engine; resolves to its trimmed stdout. */
  cli(args: string[], stdin?: string): Promise<string>;
  /** The engine's own CLI (docker, or podman as a remote client: its run emits other events than the Docker API's). */
  nativeCli(args: string[]): Promise<string>;
  /** Podman: runs the container's health check once, now. Docker: nothing (its timer runs them). */
  runHealthcheck(container: string): Promise<void>;
  /**
   * A second network for connect/disconnect cases; resolves to its name. Podman's is part of the
   * environment (a network created through its API would get CNI's firewall plugin, iptables
   * rules and a subnet from a pool every Podman on the host shares); Docker's is made on first use.
   */
  extraNetwork(): Promise<string>;
}

const run = promisify(execFile);

function dockerEngine(): TestEngine {
  const env = testEnv();
  return {
    name: 'docker',
    host: env.docker.host,
    socket: env.docker.socket,
    docker: () => new Dockerode({ socketPath: env.docker.socket }),
    cli: (args, stdin) => dockerCli(args, stdin),
    nativeCli: (args) => dockerCli(args),
    // Docker has no "run it now" (an exec of the command would not update the status); its own
    // timer runs the checks, so tests give them a short interval and wait for the status.
    runHealthcheck: () => Promise.resolve(),
    extraNetwork: async () => {
      const docker = new Dockerode({ socketPath: env.docker.socket });
      const name = 'quayside-test-extra';
      const found = await docker.listNetworks({ filters: { name: [name] } });
      if (!found.some((n) => n.Name === name)) {
        await docker.createNetwork({ Name: name, Labels: { [TEST_LABEL]: '1' } }).catch(async (error: Error) => {
          // Another test file made it first.
          if (!(await docker.listNetworks({ filters: { name: [name] } })).some((n) => n.Name === name)) throw error;
        });
      }
      return name;
    },
  };
}

function podmanEngine(): TestEngine {
  const podman = testEnv().podman;
  if (!podman) throw new Error('the test environment has no Podman engine; run: bash test/env/up.sh');
  return {
    name: 'podman',
    host: podman.host,
    socket: podman.socket,
    docker: () => new Dockerode({ socketPath: podman.socket }),
    cli: (args, stdin) => dockerCli(args, stdin, { DOCKER_HOST: podman.host }),
    nativeCli: async (args) =>
      (await run('podman', ['--remote', '--url', podman.host, ...args], { timeout: 60_000 })).stdout.trim(),
    runHealthcheck: async (container) => {
      // Exit 1 means "unhealthy", which is a result, not a failure of the call.
      await run('podman', ['--remote', '--url', podman.host, 'healthcheck', 'run', container], {
        timeout: 30_000,
      }).catch((error: { code?: number }) => {
        if (error.code !== 1) throw error;
      });
    },
    extraNetwork: () => Promise.resolve(podman.extraNetwork),
  };
}

const FACTORIES: Record<EngineName, () => TestEngine> = { docker: dockerEngine, podman: podmanEngine };

/** The engines to test against: QS_TEST_ENGINES, else every engine env.json describes. */
export function testEngines(): TestEngine[] {
  const wanted = process.env.QS_TEST_ENGINES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const names: string[] = wanted ?? (testEnv().podman ? ['docker', 'podman'] : ['docker']);
  return names.map((name) => {
    if (!(name in FACTORIES)) throw new Error(`QS_TEST_ENGINES: unknown engine "${name}" (docker or podman)`);
    return FACTORIES[name as EngineName]();
  });
}

/**
 * `quayside <agent>` against one engine for the enclosing describe: started before its tests and
 * ready when /readyz says so, stopped after them (exit code 0 asserted) with the engine's test
 * containers removed. Gives the tests its HTTP address and its log.
 */
export function agentOnEngine(
  agent: string,
  engine: TestEngine,
): { url(path: string): string; stderr(): string; running(): boolean } {
  const dir = mkdtempSync(join(tmpdir(), `qs-${agent}-`));
  let child: ChildProcess | undefined;
  let output: ReturnType<typeof capture> | undefined;
  let port = 0;
  before(async () => {
    port = await freePort();
    child = startCli(agentArgs(agent, { port, stateDir: join(dir, 'state'), jsonLogs: true }), {
      DOCKER_HOST: engine.host,
    });
    output = capture(child);
    await eventually(
      async () => assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200),
      20_000,
      100,
    );
  });
  after(async () => {
    child?.kill('SIGTERM');
    if (child) assert.equal(await exited(child), 0, output?.stderr().slice(-2000));
    await removeTestContainers(engine.docker());
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    stderr: () => output?.stderr() ?? '',
    running: () => child?.exitCode === null,
  };
}

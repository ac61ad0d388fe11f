/**
 * The quayside image, built offline (test/env/quayside-image.sh), run as deploy/ runs it: each
 * agent as the container its deploy/compose.yaml service describes (the socket and only its own
 * mounts, read-only root, no capabilities, the image's non-root user; the host network to reach the
 * test's loopback services), checked to do its job; then the Swarm stack of deploy/ as global
 * services on a one-node swarm.
 *
 * AGENT_CASES is one entry per agent (a test checks none is missing).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { parseDocument, stringify } from 'yaml';
import { AGENTS } from '../../agents';
import { ConsulDouble } from '../consul/double';
import { AGENT_DEPLOYMENTS, envName } from '../support/deploy-agents';
import { dockerCli } from '../support/docker-cli';
import { eventually } from '../support/eventually';
import {
  removeTestContainers,
  startEngine,
  TEST_LABEL,
  testDocker,
  testEnv,
  uniqueTag,
  type TestEnv,
} from '../support/test-env';
import { freePort } from '../support/free-port';

const ROOT = join(__dirname, '..', '..');
const RUN_LABEL = 'qs.deploy.run';

interface FindingJson {
  ruleId: string;
  title: string;
  state: string;
  object: { kind: string; id: string; name: string };
}

/** What a case gets: the test env, the engine, a tag unique to this run, where its agent listens. */
interface CaseContext {
  env: TestEnv;
  docker: Dockerode;
  run: string;
  port: number;
  base: string;
  /** Addresses of what setup() started, by name. */
  backends: Record<string, string>;
}

/**
 * One agent's test. The container itself is the agent's service of deploy/compose.yaml (command,
 * environment, mounts, tmpfs, read-only root, capabilities, security options, groups), on the host
 * network to reach the test's loopback services; a case only points it at those services.
 */
interface AgentContainerCase {
  agent: string;
  /** Starts what the agent talks to; returns how to stop it. */
  setup?(ctx: CaseContext): Promise<() => Promise<void>>;
  /** Environment variables set or replaced for the test. */
  env?(ctx: CaseContext): Record<string, string>;
  /** Arguments after the agent's name, instead of those of compose.yaml. */
  args?(ctx: CaseContext): string[];
  /** The agent does its job. */
  verify(ctx: CaseContext): Promise<void>;
  /**
   * /readyz says ready only once the agent has done its job: the logrouter's routes connect at
   * their first line, and its own log is not read, so a quiet host leaves it "not delivering".
   */
  readyAfterJob?: boolean;
}

// --- helpers ------------------------------------------------------------------------------------------

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url} answered ${response.status}`);
  return (await response.json()) as T;
}

async function promQuery(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const answer = await json<{
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  }>(`${testEnv().prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  assert.equal(answer.status, 'success');
  return answer.data.result;
}

/** A busybox container of this run (labelled for cleanup). */
async function busybox(
  ctx: CaseContext,
  name: string,
  cmd: string,
  extra: Partial<Dockerode.ContainerCreateOptions> = {},
): Promise<Dockerode.Container> {
  return ctx.docker.createContainer({
    name: `${ctx.run}-${name}`,
    Image: ctx.env.images.busybox,
    Cmd: ['sh', '-c', cmd],
    ...extra,
    Labels: { [TEST_LABEL]: '1', [RUN_LABEL]: ctx.run, ...extra.Labels },
  });
}

async function findings(ctx: CaseContext): Promise<FindingJson[]> {
  return (await json<{ findings: FindingJson[] }>(`${ctx.base}/findings`)).findings;
}

// --- one entry per agent ------------------------------------------------------------------------------

const AGENT_CASES: AgentContainerCase[] = [
  {
    // Prometheus scrapes the containerised exporter; the series of a container come from the
    // host's cgroup files (memory) and /proc (network), through the read-only mounts.
    agent: 'stats-exporter',
    // Only the cgroup collector: a missing mount must show, not fall back to the Docker API.
    args: (ctx) => ['--stats-collector', 'cgroup', '--stats-include', `label=${RUN_LABEL}=${ctx.run}`],
    async verify(ctx) {
      const sleeper = await busybox(ctx, 'sleeper', 'exec sleep 600');
      await sleeper.start();
      const targetFile = join(ctx.env.prometheus.targetsDir, `${ctx.run}.json`);
      writeFileSync(
        targetFile,
        JSON.stringify([{ targets: [`127.0.0.1:${ctx.port}`], labels: { test_run: ctx.run } }]),
      );
      try {
        await eventually(
          async () => assert.equal((await promQuery(`up{test_run="${ctx.run}"}`))[0]?.value[1], '1'),
          30_000,
          500,
        );
        const name = `${ctx.run}-sleeper`;
        await eventually(
          async () => {
            const [memory] = await promQuery(`container_memory_usage_bytes{test_run="${ctx.run}",name="${name}"}`);
            assert.ok(Number(memory?.value[1]) > 0, `memory of ${name}: ${JSON.stringify(memory)}`);
            assert.equal(
              (
                await promQuery(
                  `container_network_receive_bytes_total{test_run="${ctx.run}",name="${name}",interface="eth0"}`,
                )
              ).length,
              1,
              'network counters from /host/proc',
            );
            // The writable layer, walked through the data-root mount as the root group (no capability).
            const [usage] = await promQuery(`container_fs_usage_bytes{test_run="${ctx.run}",name="${name}"}`);
            assert.ok(Number(usage?.value[1]) > 0, `writable layer of ${name}: ${JSON.stringify(usage)}`);
          },
          20_000,
          500,
        );
        const [errors] = await promQuery(`sum(quayside_stats_collector_errors_total{test_run="${ctx.run}"})`);
        assert.equal(errors?.value[1], '0');
      } finally {
        rmSync(targetFile, { force: true });
      }
    },
  },
  {
    agent: 'label-inspector',
    async verify(ctx) {
      const bad = await busybox(ctx, 'bad-labels', 'true', { Labels: { Bad_Key: '1' } });
      await eventually(
        async () => {
          const about = (await findings(ctx))
            .filter((f) => f.object.id === bad.id && f.state === 'open')
            .map((f) => f.ruleId);
          assert.ok(about.includes('label-key-format'), `findings on the container: ${about.join(', ')}`);
        },
        15_000,
        250,
      );
    },
  },
  {
    // Logs of a container reach the test rsyslog over TCP.
    agent: 'logrouter',
    readyAfterJob: true,
    env: (ctx) => ({ ROUTE_URIS: `syslog+tcp://127.0.0.1:${ctx.env.syslog.port}` }),
    async verify(ctx) {
      const line = `${ctx.run} hello from a container`;
      const talker = await busybox(ctx, 'talker', `echo '${line}'; exec sleep 600`);
      await talker.start();
      await eventually(
        () => assert.ok(readFileSync(ctx.env.syslog.receivedFile, 'utf8').includes(line), 'the line reached rsyslog'),
        20_000,
        250,
      );
      // Not its own log (it logged at start, before the talker's line): on the host network, as
      // here and in the Swarm stack, its hostname is not its container ID.
      const own = readFileSync(ctx.env.syslog.receivedFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`${ctx.run}-agent`));
      assert.deepEqual(own.slice(0, 3), [], 'the logrouter shipped its own log');
    },
  },
  {
    // A container that publishes a port is registered in the Consul double, at the host port.
    agent: 'registrator',
    async setup(ctx) {
      const consulPort = await freePort();
      const double = await new ConsulDouble().start(consulPort, '127.0.0.1');
      ctx.backends.consul = double.url;
      return () => double.close();
    },
    args: (ctx) => ['-ip', '127.0.0.1', ctx.backends.consul!.replace(/^http:/, 'consul:')],
    async verify(ctx) {
      const hostPort = await freePort();
      const web = await busybox(ctx, 'web', 'exec httpd -f -p 80', {
        Env: [`SERVICE_NAME=${ctx.run}-web`],
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } },
      });
      await web.start();
      const consul = ctx.backends.consul!;
      await eventually(
        async () => {
          const services = Object.values(
            await json<Record<string, { Service: string; Port: number }>>(`${consul}/v1/agent/services`),
          );
          assert.ok(
            services.some((s) => s.Service === `${ctx.run}-web` && s.Port === hostPort),
            JSON.stringify(services),
          );
        },
        20_000,
        250,
      );
    },
  },
  {
    // A privileged container (created: it cannot start on this VM) is flagged.
    agent: 'security-watcher',
    async verify(ctx) {
      const privileged = await busybox(ctx, 'privileged', 'true', { HostConfig: { Privileged: true } });
      await eventually(
        async () => {
          const about = (await findings(ctx)).filter((f) => f.object.id === privileged.id && f.state === 'open');
          assert.ok(
            about.some((f) => /privileged/i.test(`${f.ruleId} ${f.title}`)),
            JSON.stringify(about.map((f) => f.ruleId)),
          );
        },
        15_000,
        250,
      );
    },
  },
];

interface ComposeService {
  entrypoint?: string[];
  command: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  tmpfs?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  group_add?: string[];
}

/** The agent's service in deploy/compose.yaml, with its variables given the test's values. */
function composeService(agent: string): ComposeService {
  const text = readFileSync(join(ROOT, 'deploy', 'compose.yaml'), 'utf8')
    .replaceAll('${DOCKER_SOCKET:-/var/run/docker.sock}', testEnv().docker.socket)
    .replaceAll('${DOCKER_GID:-999}', String(statSync(testEnv().docker.socket).gid))
    // The test engine's data-root (test/env/engine.sh), where its containers' writable layers are.
    .replaceAll('${DOCKER_DATA_ROOT:-/var/lib/docker}', join(testEnv().root, 'docker', 'data'));
  const service = (parseDocument(text).toJS() as { services: Record<string, ComposeService> }).services[agent];
  assert.ok(service, `${agent} is a service of deploy/compose.yaml`);
  return service;
}

/** Host paths the service bind-mounts (named volumes are not host paths). */
const bindsOf = (service: ComposeService): string[] => (service.volumes ?? []).filter((v) => v.startsWith('/'));

/** The agent's Compose service as a container of the test engine, on the host network. */
async function startAgentContainer(
  ctx: CaseContext,
  image: string,
  entry: AgentContainerCase,
): Promise<Dockerode.Container> {
  const service = composeService(entry.agent);
  // A named volume of the Compose project becomes one of this run.
  const volumes = (service.volumes ?? []).map((v) => (v.startsWith('/') ? v : `${ctx.run}-${v}`));
  const tmpfs = Object.fromEntries(
    (service.tmpfs ?? []).map((t) => [t.split(':')[0]!, t.split(':').slice(1).join(':')]),
  );
  const env = { ...service.environment, QUAYSIDE_LISTEN: `127.0.0.1:${ctx.port}`, ...entry.env?.(ctx) };
  const container = await ctx.docker.createContainer({
    name: `${ctx.run}-agent`,
    Image: image,
    Entrypoint: service.entrypoint,
    Cmd: [entry.agent, ...(entry.args?.(ctx) ?? service.command.slice(1))],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { [TEST_LABEL]: '1', [RUN_LABEL]: ctx.run },
    // The image's own check, asked every second instead of every 30.
    Healthcheck: { Interval: 1e9, Timeout: 5e9, Retries: 3 },
    HostConfig: {
      NetworkMode: 'host',
      Binds: volumes,
      Tmpfs: tmpfs,
      ReadonlyRootfs: service.read_only,
      CapDrop: service.cap_drop,
      SecurityOpt: service.security_opt,
      GroupAdd: service.group_add,
    },
  });
  await container.start();
  return container;
}

async function logsOf(container: Dockerode.Container): Promise<string> {
  const buffer = (await container.logs({ stdout: true, stderr: true, tail: 30 })) as unknown as Buffer;
  return buffer.toString('utf8').replace(/[\x00-\x08]/g, '');
}

async function waitHealthy(container: Dockerode.Container, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const info = await container.inspect();
      assert.ok(info.State.Running, `exited with ${info.State.ExitCode}`);
      assert.equal(info.State.Health?.Status, 'healthy', JSON.stringify(info.State.Health?.Log?.at(-1)));
    },
    timeoutMs,
    250,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- logs ---\n${await logsOf(container).catch(() => '')}`);
  });
}

/** Metric families a /metrics text declares. */
function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
}

// --- the tests --------------------------------------------------------------------------------------

describe('deploy: the quayside image on the test engine', function () {
  this.timeout(300_000);
  const docker = testDocker();
  const served = new Map<string, string>();
  let image = '';

  before(async () => {
    await startEngine();
    // Cached: rebuilt only when the sources, package files or Dockerfile changed.
    const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'test', 'env', 'quayside-image.sh')], {
      env: { ...process.env, QS_TEST_ROOT: testEnv().root },
      timeout: 280_000,
    });
    image = stdout.trim().split('\n').at(-1)!;
  });

  after(() => removeTestContainers(docker));

  it('runs as the non-root user, starts with quayside, and is labelled', async () => {
    const info = await docker.getImage(image).inspect();
    assert.equal(info.Config.User, '10001');
    assert.deepEqual(info.Config.Entrypoint, ['quayside']);
    assert.deepEqual(info.Config.Healthcheck?.Test, ['CMD', 'node', '/app/dist/cli/healthcheck.js']);
    assert.equal(info.Config.Labels['org.opencontainers.image.title'], 'quayside');
    // Provenance from the build: the offline build passes the time and the commit.
    assert.ok(
      !Number.isNaN(Date.parse(info.Config.Labels['org.opencontainers.image.created'] ?? '')),
      'created is a date',
    );
    assert.match(info.Config.Labels['org.opencontainers.image.revision'] ?? '', /^([0-9a-f]{40})?$/);
    // The offline build's base is the test runner's own Node.js (24 LTS in CI).
    assert.equal(
      await dockerCli(['run', '--rm', '--label', `${TEST_LABEL}=1`, '--entrypoint', 'node', image, '--version']),
      process.version,
    );
    const version = await dockerCli(['run', '--rm', '--label', `${TEST_LABEL}=1`, image, '--version']);
    assert.equal(version, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    // Production dependencies only.
    const modules = await dockerCli([
      'run',
      '--rm',
      '--label',
      `${TEST_LABEL}=1`,
      '--entrypoint',
      'ls',
      image,
      '/app/node_modules',
    ]);
    for (const dev of ['typescript', 'mocha', 'sinon', 'tsx', 'c8'])
      assert.ok(!modules.split('\n').includes(dev), `${dev} is in the image`);
    assert.ok(modules.split('\n').includes('dockerode'));
  });

  it('has a container case for every agent', () => {
    assert.deepEqual(AGENT_CASES.map((entry) => entry.agent).sort(), AGENTS.map((agent) => agent.name).sort());
  });

  for (const entry of AGENT_CASES) {
    describe(`${entry.agent} as a container`, () => {
      const ctx = {} as CaseContext;
      let container: Dockerode.Container | undefined;
      let teardown: (() => Promise<void>) | undefined;

      before(async () => {
        Object.assign(ctx, {
          env: testEnv(),
          docker,
          run: uniqueTag(`qs-deploy-${entry.agent}`),
          port: await freePort(),
          backends: {},
        });
        ctx.base = `http://127.0.0.1:${ctx.port}`;
        teardown = await entry.setup?.(ctx);
        container = await startAgentContainer(ctx, image, entry);
      });

      after(async () => {
        if (container) await container.remove({ force: true }).catch(() => undefined);
        await teardown?.();
        const mine = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${ctx.run}`] } });
        await Promise.all(
          mine.map((c) =>
            docker
              .getContainer(c.Id)
              .remove({ force: true })
              .catch(() => undefined),
          ),
        );
        for (const volume of composeService(entry.agent).volumes ?? []) {
          if (ctx.run && !volume.startsWith('/'))
            await docker
              .getVolume(`${ctx.run}-${volume.split(':')[0]}`)
              .remove()
              .catch(() => undefined);
        }
      });

      it(`becomes healthy (the image's HEALTHCHECK) as user 10001 with no capability, on a read-only root`, async () => {
        assert.ok(container);
        await waitHealthy(container);
        const info = await container.inspect();
        assert.equal(info.Config.User, '10001');
        assert.equal(info.HostConfig.ReadonlyRootfs, true);
        // compose.yaml mounts every host path read-only.
        assert.deepEqual(
          info.Mounts.filter((m) => m.Type === 'bind')
            .map((m) => [m.Destination, m.RW])
            .sort(),
          bindsOf(composeService(entry.agent))
            .map((b) => [b.split(':')[1]!, false])
            .sort(),
        );
        // The process itself: no capability at all, and none to gain.
        const status = await dockerCli(['exec', container.id, 'cat', '/proc/1/status']);
        assert.match(status, /^CapEff:\s+0+$/m);
        assert.match(status, /^NoNewPrivs:\s+1$/m);
        // Run as compose.yaml says: the stats-exporter under node with its V8 memory flags, the others plain.
        const cmdline = (await dockerCli(['exec', container.id, 'cat', '/proc/1/cmdline'])).split('\0');
        // The test engine starts containers under docker-init (`docker-init -- <command>`), which
        // shows the image's entrypoint as given; without it PID 1 is node running the script.
        const init = cmdline[0]?.endsWith('docker-init') ?? false;
        const argv = init ? cmdline.slice(cmdline.indexOf('--') + 1) : cmdline;
        const program =
          composeService(entry.agent).entrypoint ?? (init ? ['quayside'] : ['node', '/usr/local/bin/quayside']);
        assert.deepEqual(argv.slice(0, program.length + 1), [...program, entry.agent]);
        await eventually(
          async () => {
            const response = await fetch(`${ctx.base}/readyz`);
            const readiness = (await response.json()) as { checks: { docker?: { ready: boolean } } };
            assert.equal(readiness.checks.docker?.ready, true, 'follows the engine');
            if (!entry.readyAfterJob) assert.equal(response.status, 200, JSON.stringify(readiness));
          },
          30_000,
          250,
        );
      });

      it('does its job', async () => {
        await entry.verify(ctx);
        await eventually(
          async () => assert.equal((await fetch(`${ctx.base}/readyz`)).status, 200, 'ready once it did its job'),
          30_000,
          250,
        );
        served.set(entry.agent, await (await fetch(`${ctx.base}/metrics`)).text());
      });

      it('serves the console page and its bundled script (built into the image)', async () => {
        const page = await fetch(`${ctx.base}/`);
        const html = await page.text();
        assert.equal(page.status, 200, html);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        const script = /src="(\/console\/assets\/app\.js[^"]*)"/.exec(html)?.[1];
        assert.ok(script, `the page names its script: ${html}`);
        const asset = await fetch(`${ctx.base}${script}`);
        assert.equal(asset.status, 200);
        assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
        assert.ok((await asset.text()).length > 1_000, 'the bundled console script');
      });
    });
  }

  describe('the Grafana dashboard', () => {
    it('reads only metrics the running agents serve', function () {
      if (!served.has('stats-exporter') || !served.has('label-inspector')) this.skip(); // their cases failed first
      const dashboard = readFileSync(join(ROOT, 'deploy', 'grafana', 'quayside-dashboard.json'), 'utf8');
      const declared = new Set([...served.values()].flatMap(families));
      const read = new Set([...dashboard.matchAll(/\b((?:container|quayside|process)_[a-z_]+)\b/g)].map((m) => m[1]!));
      assert.ok(read.size > 30);
      for (const name of read) assert.ok(declared.has(name), `${name} is read by the dashboard but served by no agent`);
    });
  });

  describe('the Swarm stack (deploy/swarm-stack.yaml) on a one-node swarm', () => {
    const stackName = uniqueTag('qsdeploy');
    const agents = AGENT_DEPLOYMENTS;
    const ports = new Map<string, number>();
    let swarmed = false;

    async function leaveSwarm(): Promise<void> {
      const info = await docker.info();
      if (info.Swarm?.LocalNodeState !== 'inactive') await dockerCli(['swarm', 'leave', '--force']);
      // Swarm leaves this bridge behind; it is the engine's own (named after its bridge).
      await dockerCli(['network', 'rm', 'docker_gwbridge']).catch(() => undefined);
    }

    before(async () => {
      await leaveSwarm(); // what an interrupted run left
      swarmed = true; // from here on, after() undoes what was done
      // The bridge every swarm creates for its tasks: named after this engine's, so engines side by
      // side do not fight over one `docker_gwbridge` interface (15 characters at most); no masquerading, as the engine.
      await dockerCli([
        'network',
        'create',
        '--driver',
        'bridge',
        '-o',
        `com.docker.network.bridge.name=${testEnv().docker.bridge.slice(0, 13)}gw`,
        '-o',
        'com.docker.network.bridge.enable_icc=false',
        '-o',
        'com.docker.network.bridge.enable_ip_masquerade=false',
        'docker_gwbridge',
      ]);
      await dockerCli([
        'swarm',
        'init',
        '--advertise-addr',
        '127.0.0.1',
        '--listen-addr',
        `127.0.0.1:${await freePort()}`,
      ]);

      // The stack as written, each agent on a free port.
      const doc = parseDocument(readFileSync(join(ROOT, 'deploy', 'swarm-stack.yaml'), 'utf8'), { version: '1.1' });
      const stack = doc.toJS({ maxAliasCount: -1 }) as { services: Record<string, unknown> };
      const file = join(testEnv().root, `${stackName}.yaml`);
      writeFileSync(file, stringify(stack, { aliasDuplicateObjects: false }));
      const variables: NodeJS.ProcessEnv = {
        QUAYSIDE_IMAGE: image,
        DOCKER_SOCKET: testEnv().docker.socket,
        DOCKER_GID: String(statSync(testEnv().docker.socket).gid),
        // The test engine's data root (test/env/engine.sh): the stats-exporter's bind source must exist.
        DOCKER_DATA_ROOT: join(testEnv().root, 'docker', 'data'),
        QUAYSIDE_HEALTH_INTERVAL: '1s',
        // Loopback only: nothing of the test may leave this machine.
        QUAYSIDE_CONSUL: `consul://127.0.0.1:${await freePort()}`,
        QUAYSIDE_ROUTE_URIS: `syslog+tcp://127.0.0.1:${testEnv().syslog.port}`,
      };
      for (const agent of agents) {
        ports.set(agent.name, await freePort());
        variables[`QUAYSIDE_${envName(agent.name)}_LISTEN`] = `127.0.0.1:${ports.get(agent.name)}`;
      }
      await dockerCli(['stack', 'deploy', '--resolve-image', 'never', '-c', file, stackName], undefined, variables);
      rmSync(file, { force: true });
    });

    after(async () => {
      if (!swarmed) return;
      await dockerCli(['stack', 'rm', stackName]).catch(() => undefined);
      // The tasks' containers go after the services; the volumes only once those are gone.
      await eventually(
        async () => {
          const left = await docker.listContainers({
            all: true,
            filters: { label: [`com.docker.stack.namespace=${stackName}`] },
          });
          assert.equal(left.length, 0);
        },
        60_000,
        250,
      ).catch(() => undefined);
      await leaveSwarm();
      const { Volumes } = await docker.listVolumes({ filters: { label: [`com.docker.stack.namespace=${stackName}`] } });
      await Promise.all(
        (Volumes ?? []).map((v) =>
          docker
            .getVolume(v.Name)
            .remove()
            .catch(() => undefined),
        ),
      );
    });

    it('runs every built agent as a global service whose task becomes healthy and ready', async () => {
      for (const agent of agents) {
        const service = await docker.getService(`${stackName}_${agent.name}`).inspect();
        assert.ok(service.Spec.Mode.Global !== undefined, `${agent.name} is global`);
      }
      await Promise.all(
        agents.map(async (agent) => {
          const [task] = await eventually(
            async () => {
              const found = await docker.listContainers({
                filters: { label: [`com.docker.swarm.service.name=${stackName}_${agent.name}`], health: ['healthy'] },
              });
              assert.equal(found.length, 1, `${agent.name}: one healthy task`);
              return found;
            },
            90_000,
            500,
          );
          const info = await docker.getContainer(task!.Id).inspect();
          assert.equal(info.HostConfig.ReadonlyRootfs, true);
          assert.equal(info.HostConfig.NetworkMode, 'host');
          // The stack's entrypoint: node with V8 memory flags for the stats-exporter only.
          assert.deepEqual(info.Config.Entrypoint, agent.entrypoint ?? ['quayside'], `${agent.name}: entrypoint`);
          // The socket's group reaches the task through `user:` (stack files have no group_add).
          assert.equal(info.Config.User, `10001:${statSync(testEnv().docker.socket).gid}`);
          assert.ok(
            info.Mounts.filter((m) => m.Type === 'bind').every((m) => !m.RW),
            `${agent.name}: bind mounts read-only`,
          );
          // /readyz may say 503 for a backend the test does not provide (Consul); Docker must be reached.
          await eventually(
            async () => {
              const response = await fetch(`http://127.0.0.1:${ports.get(agent.name)}/readyz`);
              const readiness = (await response.json()) as { checks: { docker: { ready: boolean } } };
              assert.equal(readiness.checks.docker.ready, true, `${agent.name} follows the engine's events`);
            },
            30_000,
            250,
          );
        }),
      );
    });
  });
});

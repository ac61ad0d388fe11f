/**
 * bench/registrator: (1) latency from a container's start event to its register request reaching
 * Consul, on the real test engine, against the least any registrator must do after the event
 * (one inspect and one register PUT) measured in the same run; (2) a reconcile over 500
 * containers with nothing changed: how long it takes and how many writes it makes (must be 0),
 * against a bare GET /v1/agent/services of the same 500 services.
 *
 *   npm run bench:registrator          (brings up the test engine first)
 *   node dist/bench/registrator.js [--starts N] [--containers N] [--rounds N]
 *
 * The 500 containers of (2) are simulated: an in-memory Docker answers their inspects (creating
 * 500 real containers on a 2-core machine shared by others takes minutes and measures dockerd).
 * The Consul agent is the in-process double of test/consul (loopback HTTP), in both parts.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import { parseRegistryUri } from '../agents/registrator/backends';
import { registratorMetrics } from '../agents/registrator/metrics';
import { Registrator, type RegistratorSettings } from '../agents/registrator/registrator';
import { EventStream, type SyncSnapshot } from '../shared/docker/event-stream';
import { silentLogger } from '../shared/ops/logger';
import { ConsulDouble } from '../test/consul/double';
import { argValue } from './args';

const STARTS = argValue('--starts', 60);
const CONTAINERS = argValue('--containers', 500);
const ROUNDS = argValue('--rounds', 20);
const LABEL = 'quayside.bench';
/** Starts not counted: the first ones pay for JIT and connection setup. */
const WARMUP = 3;
const keepAlive = new Agent({ keepAlive: true });

/** One register PUT over a kept-alive connection, with nothing of ours in between. */
function put(consul: ConsulDouble, body: string): Promise<void> {
  const [host, port] = consul.address.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method: 'PUT',
        path: '/v1/agent/service/register',
        agent: keepAlive,
        headers: { 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`register answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const nowNano = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const ms = (ns: bigint | number): number => Number(ns) / 1e6;
const fmt = (n: number): string => n.toFixed(n < 10 ? 2 : 1);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const SETTINGS: RegistratorSettings = {
  internal: false,
  ip: '192.0.2.10',
  tags: [],
  explicit: false,
  healthTtlMs: 0,
  pausedServices: 'maintenance',
  deregister: 'always',
  cleanup: false,
  resyncMs: 3_600_000,
  retryIntervalMs: 100,
  deregisterOnShutdown: false,
};

function newRegistrator(docker: Dockerode, consul: ConsulDouble): Registrator {
  const backend = parseRegistryUri(`consul://${consul.address}`).connect({});
  return new Registrator(SETTINGS, {
    docker,
    backend,
    logger: silentLogger,
    metrics: registratorMetrics(new Registry(), { desired: () => 0, registered: () => 0, up: () => true }),
    detectHostAddress: () => '192.0.2.1',
  });
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// ---- 1. start event -> register request --------------------------------------------------------

async function startLatency(socketPath: string, image: string): Promise<void> {
  const docker = new Dockerode({ socketPath });
  const consul = await new ConsulDouble().start();
  const arrived = new Map<string, bigint>();
  consul.onRequest = ({ method, path, body }) => {
    if (method !== 'PUT' || !path.startsWith('/v1/agent/service/register')) return;
    const container = /"quayside_container":"([0-9a-f]+)"/.exec(body)?.[1];
    if (container && !arrived.has(container)) arrived.set(container, nowNano());
  };
  const started = new Map<string, bigint>();
  const stream = new EventStream({ docker });
  stream.subscribe({
    name: 'bench',
    types: ['container'],
    actions: ['start'],
    onEvent: (e) => void started.set(e.id, BigInt(e.timeNano)),
  });
  const registrator = newRegistrator(docker, consul);
  registrator.subscribe(stream);
  stream.start();
  await until(() => registrator.readiness().ready, 30_000, 'the first reconcile');

  const ours: number[] = [];
  const baseline: number[] = [];
  try {
    for (let i = 0; i < STARTS + WARMUP; i += 1) {
      const container = await docker.createContainer({
        Image: image,
        Cmd: ['sleep', '600'],
        Labels: { [LABEL]: '1', 'quayside.test': '1' },
        ExposedPorts: { '80/tcp': {} },
        HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '' }] } },
      });
      await container.start();
      await until(() => arrived.has(container.id) && started.has(container.id), 10_000, `registration ${i}`);
      if (i >= WARMUP) ours.push(ms(arrived.get(container.id)! - started.get(container.id)!));
      // The least work after the event: inspect once, PUT one registration.
      const t0 = nowNano();
      const inspect = await container.inspect();
      await put(
        consul,
        JSON.stringify({
          ID: `baseline-${i}`,
          Name: 'baseline',
          Address: '192.0.2.10',
          Port: Number(inspect.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort ?? 1),
        }),
      );
      if (i >= WARMUP) baseline.push(ms(nowNano() - t0));
      await container.remove({ force: true });
    }
  } finally {
    await registrator.stop();
    await stream.stop();
    await consul.close();
    keepAlive.destroy();
    const leftovers = await docker.listContainers({ all: true, filters: { label: [LABEL] } });
    await Promise.all(
      leftovers.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  }
  const p50 = percentile(ours, 50);
  const p99 = percentile(ours, 99);
  const b50 = percentile(baseline, 50);
  console.log(
    `1. start event -> register request at Consul, ${STARTS} containers started one after another on the test engine (after ${WARMUP} not counted)`,
  );
  console.log(
    `   quayside registrator      p50 ${fmt(p50)} ms   p99 ${fmt(p99)} ms   max ${fmt(Math.max(...ours))} ms   (target p99 < 25 ms: ${p99 < 25 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `   baseline inspect + PUT     p50 ${fmt(b50)} ms   p99 ${fmt(percentile(baseline, 99))} ms   (no event stream, no model, no reconcile)`,
  );
  console.log(`   ratio p50 ours / baseline  ${fmt(p50 / b50)}`);
}

// ---- 2. reconcile over 500 containers with nothing changed -------------------------------------

/** Answers inspects of CONTAINERS running containers from memory. */
function simulatedDocker(count: number): { docker: Dockerode; snapshot: SyncSnapshot } {
  const inspects = new Map<string, unknown>();
  for (let i = 0; i < count; i += 1) {
    const id = (i + 1).toString(16).padStart(64, '0');
    inspects.set(id, {
      Id: id,
      Name: `/app-${i}`,
      Config: {
        Image: `team/app-${i % 20}:1`,
        Env: [`SERVICE_TAGS=v1,shard-${i % 7}`, 'SERVICE_CHECK_HTTP=/health'],
        Labels: { SERVICE_REGION: 'eu' },
        ExposedPorts: { '80/tcp': {} },
      },
      State: { Running: true, Paused: false },
      HostConfig: { NetworkMode: 'default' },
      NetworkSettings: {
        Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(20_000 + i) }] },
        Networks: { bridge: { IPAddress: `172.17.${Math.floor(i / 250)}.${(i % 250) + 2}` } },
      },
    });
  }
  const docker = {
    info: async () => ({ Name: 'bench-node' }),
    getContainer: (id: string) => ({ inspect: async () => inspects.get(id) }),
  } as unknown as Dockerode;
  const containers = [...inspects.keys()].map((Id) => ({
    Id,
    State: 'running',
    Status: 'Up',
  })) as unknown as Dockerode.ContainerInfo[];
  return { docker, snapshot: { reason: 'connect', containers, at: new Date() } };
}

async function idleReconcile(): Promise<void> {
  const consul = await new ConsulDouble().start();
  const { docker, snapshot } = simulatedDocker(CONTAINERS);
  const registrator = newRegistrator(docker, consul);
  try {
    let t0 = performance.now();
    await registrator.onSync(snapshot);
    const initial = performance.now() - t0;
    if (consul.services.size !== CONTAINERS)
      throw new Error(`expected ${CONTAINERS} services, have ${consul.services.size}`);
    const writesBefore = consul.writes().length;

    const reconcile: number[] = [];
    const sync: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      t0 = performance.now();
      await registrator.reconcileAll('bench');
      reconcile.push(performance.now() - t0);
      t0 = performance.now();
      await registrator.onSync({ ...snapshot, reason: 'periodic' });
      sync.push(performance.now() - t0);
      t0 = performance.now();
      JSON.parse(await (await fetch(`${consul.url}/v1/agent/services`)).text());
      bare.push(performance.now() - t0);
    }
    const writes = consul.writes().length - writesBefore;
    console.log(
      `\n2. ${CONTAINERS} running containers (simulated inspects), ${CONTAINERS} services registered, nothing changed; ${ROUNDS} rounds`,
    );
    console.log(`   first registration of all   ${fmt(initial)} ms (${CONTAINERS} register PUTs)`);
    console.log(
      `   reconcile (list + diff)     p50 ${fmt(percentile(reconcile, 50))} ms   max ${fmt(Math.max(...reconcile))} ms   (target < 2000 ms: ${Math.max(...reconcile) < 2000 ? 'met' : 'NOT met'})`,
    );
    console.log(
      `   full sync (500 inspects + model + list + diff)  p50 ${fmt(percentile(sync, 50))} ms   max ${fmt(Math.max(...sync))} ms`,
    );
    console.log(`   baseline GET /v1/agent/services + JSON.parse    p50 ${fmt(percentile(bare, 50))} ms`);
    console.log(`   ratio reconcile / baseline  ${fmt(percentile(reconcile, 50) / percentile(bare, 50))}`);
    console.log(
      `   writes during ${ROUNDS * 2} idle reconciles: ${writes} (target 0: ${writes === 0 ? 'met' : 'NOT met'})`,
    );
  } finally {
    await registrator.stop();
    await consul.close();
  }
}

async function main(): Promise<void> {
  const envFile = join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json');
  const env = JSON.parse(readFileSync(envFile, 'utf8')) as { docker: { socket: string }; images: { busybox: string } };
  console.log('bench/registrator (numbers from a shared 2-core machine; rerun on a quiet one)\n');
  await startLatency(env.docker.socket, env.images.busybox);
  await idleReconcile();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

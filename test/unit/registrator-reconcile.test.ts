/**
 * The reconciler against the Consul double, with a scripted Docker: what is written (only
 * differences), what is never touched (other nodes' services), refusals (4xx) against outages
 * (retried), 404 on deregister, legacy cleanup, and the consulkv backend.
 */
import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import { parseRegistryUri } from '../../agents/registrator/backends';
import { ownerFlags } from '../../agents/registrator/backends/consul-kv';
import { registratorMetrics } from '../../agents/registrator/metrics';
import { planReconcile } from '../../agents/registrator/reconcile';
import { Registrator, type RegistratorSettings } from '../../agents/registrator/registrator';
import { SPEC_KEY, servicesFor } from '../../agents/registrator/service-model';
import type { SyncSnapshot } from '../../shared/docker/event-stream';
import { silentLogger } from '../../shared/ops/logger';
import { ConsulDouble } from '../consul/double';
import { eventually } from '../support/eventually';
import { makeTestCa } from '../support/test-ca';
import { inspectOf, modelSettings, published, type InspectSpec } from '../support/registrator-fixtures';

class ScriptedDocker {
  readonly containers = new Map<string, InspectSpec>();
  /** Containers whose inspect the engine answers with a 500. */
  readonly broken = new Set<string>();
  /** Containers whose next inspects fail (a busy engine timing out), by how many. */
  readonly failNext = new Map<string, number>();
  info = async () => ({ Name: 'node1' });
  getContainer = (id: string) => ({
    inspect: async () => {
      const failures = this.failNext.get(id) ?? 0;
      if (failures > 0) this.failNext.set(id, failures - 1);
      if (this.broken.has(id) || failures > 0)
        throw Object.assign(new Error('(HTTP code 500) server error - readlink: no such file'), { statusCode: 500 });
      const spec = this.containers.get(id);
      if (!spec) throw Object.assign(new Error('no such container'), { statusCode: 404 });
      return inspectOf({ ...spec, id });
    },
  });
  snapshot(): SyncSnapshot {
    return {
      reason: 'connect',
      at: new Date(),
      containers: [...this.containers.entries()].map(([Id, s]) => ({
        Id,
        State: s.running === false ? 'exited' : 'running',
        Status: '',
      })) as unknown as Dockerode.ContainerInfo[],
    };
  }
}

const { node: _node, hostAddress: _hostAddress, ...MODEL } = modelSettings();
const SETTINGS: RegistratorSettings = {
  ...MODEL,
  deregister: 'always',
  cleanup: false,
  resyncMs: 60_000,
  retryIntervalMs: 20,
  deregisterOnShutdown: false,
};
const containerId = (n: number): string => n.toString(16).padStart(64, '0');

function setup(uri: string, settings: Partial<RegistratorSettings> = {}) {
  const docker = new ScriptedDocker();
  const backend = parseRegistryUri(uri).connect({});
  const registrator: Registrator = new Registrator(
    { ...SETTINGS, ...settings },
    {
      docker: docker as unknown as Dockerode,
      backend,
      logger: silentLogger,
      metrics: registratorMetrics(new Registry(), { desired: () => 0, registered: () => 0, up: () => true }),
      detectHostAddress: () => '192.0.2.1',
    },
  );
  return { docker, registrator };
}

describe('registrator reconcile', () => {
  let consul: ConsulDouble;
  let registrator: Registrator | undefined;
  beforeEach(async () => {
    consul = await new ConsulDouble().start();
  });
  afterEach(async () => {
    await registrator?.stop();
    registrator = undefined;
    await consul.close();
  });

  it("writes only what differs, and never touches other nodes' services", async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    ctx.docker.containers.set(containerId(2), { name: 'b', ports: { '80/tcp': published(8081) } });
    consul.services.set('other:x:80', {
      ID: 'other:x:80',
      Service: 'x',
      Tags: [],
      Meta: { quayside_node: 'other' },
      Port: 1,
      Address: '10.0.0.9',
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Datacenter: 'dc1',
    });
    await registrator.onSync(ctx.docker.snapshot());
    assert.deepEqual([...consul.services.keys()].sort(), ['node1:a:80', 'node1:b:80', 'other:x:80']);
    const writes = consul.writes().length;
    await registrator.onSync(ctx.docker.snapshot());
    await registrator.reconcileAll('test');
    assert.equal(consul.writes().length, writes, 'no writes when nothing changed');
    ctx.docker.containers.get(containerId(2))!.env = ['SERVICE_TAGS=new'];
    ctx.docker.containers.delete(containerId(1));
    await registrator.onSync(ctx.docker.snapshot());
    assert.deepEqual(
      consul
        .writes()
        .slice(writes)
        .map((w) => `${w.method} ${w.path}`),
      ['PUT /v1/agent/service/deregister/node1:a:80', 'PUT /v1/agent/service/register'],
    );
    assert.deepEqual(consul.services.get('node1:b:80')?.Tags, ['new']);
    assert.ok(consul.services.has('other:x:80'));
  });

  it('two containers claiming one SERVICE_ID: the first keeps it, and nothing flips at each reconcile', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), {
      name: 'a',
      ports: { '80/tcp': published(8080) },
      env: ['SERVICE_ID=shared'],
    });
    ctx.docker.containers.set(containerId(2), {
      name: 'b',
      ports: { '80/tcp': published(8081) },
      env: ['SERVICE_ID=shared'],
    });
    await registrator.onSync(ctx.docker.snapshot());
    assert.equal(consul.services.get('shared')?.Port, 8080);
    const writes = consul.writes().length;
    await registrator.onEvent({
      type: 'container',
      action: 'update',
      detail: '',
      id: containerId(2),
      name: 'b',
      image: '',
      attributes: {},
      scope: 'local',
      timeNano: '1',
    });
    await registrator.reconcileAll('again');
    assert.equal(consul.writes().length, writes);
  });

  it('counts a deregister answered 404 as done', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    await registrator.onSync(ctx.docker.snapshot());
    consul.services.clear(); // gone behind our back, but our cache still has it
    ctx.docker.containers.delete(containerId(1));
    await registrator.onEvent({
      type: 'container',
      action: 'destroy',
      detail: '',
      id: containerId(1),
      name: 'a',
      image: '',
      attributes: {},
      scope: 'local',
      timeNano: '1',
    });
    assert.deepEqual(registrator.readiness().ready, true);
    const last = consul.requests.at(-1)!;
    assert.deepEqual([last.path, last.status], ['/v1/agent/service/deregister/node1:a:80', 404]);
  });

  it('does not retry a registration Consul refused (4xx) until the container changes, and shows why', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    consul.fail(1, 400, 'Invalid check: something new', /register/);
    await registrator.onSync(ctx.docker.snapshot());
    await registrator.reconcileAll('again');
    assert.equal(consul.requests.filter((r) => r.path === '/v1/agent/service/register').length, 1);
    const report = registrator.report() as { containers: Array<{ services: Array<{ error?: string }> }> };
    assert.match(report.containers[0]!.services[0]!.error ?? '', /400 Invalid check: something new/);
    assert.equal(registrator.readiness().ready, true, 'a refusal is not an outage');
    ctx.docker.containers.get(containerId(1))!.env = ['SERVICE_NAME=fixed'];
    await registrator.onSync(ctx.docker.snapshot());
    assert.equal(consul.services.get('node1:a:80')?.Service, 'fixed');
  });

  it('retries with backoff while Consul answers 5xx, then converges', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    consul.fail(4, 503);
    await registrator.onSync(ctx.docker.snapshot());
    assert.match(registrator.readiness().detail, /cannot reach consul agent at .*: .*503/);
    await eventually(() => assert.ok(consul.services.has('node1:a:80')), 5_000, 20);
    assert.equal(registrator.readiness().ready, true);
  });

  it('a refused token (403) is not ready and is retried, so fixing the token in Consul heals it', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    consul.fail(2, 403, 'ACL not found');
    await registrator.onSync(ctx.docker.snapshot());
    assert.match(registrator.readiness().detail, /403 ACL not found/);
    await eventually(() => assert.ok(consul.services.has('node1:a:80')), 5_000, 20);
    assert.equal(registrator.readiness().ready, true);
  });

  it('a registration refused for want of ACL rights (403) is retried, so fixing the policy heals it', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    consul.fail(
      1,
      403,
      "Permission denied: token with AccessorID 'x' lacks permission 'service:write' on \"app\"",
      /register/,
    );
    await registrator.onSync(ctx.docker.snapshot());
    assert.match(registrator.readiness().detail, /403 Permission denied/);
    await eventually(() => assert.ok(consul.services.has('node1:a:80')), 5_000, 20);
  });

  it('a script check on an agent with scripts disabled (500) is a refusal, not an outage retried forever', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), {
      name: 'a',
      ports: { '80/tcp': published(8080) },
      env: ['SERVICE_CHECK_SCRIPT=true'],
    });
    ctx.docker.containers.set(containerId(2), { name: 'b', ports: { '80/tcp': published(8081) } });
    await registrator.onSync(ctx.docker.snapshot());
    assert.ok(consul.services.has('node1:b:80'));
    assert.equal(registrator.readiness().ready, true, registrator.readiness().detail);
    await registrator.reconcileAll('again');
    assert.equal(
      consul.requests.filter((r) => r.path === '/v1/agent/service/register' && r.body.includes('node1:a:80')).length,
      1,
    );
    const report = registrator.report() as { containers: Array<{ services: Array<{ id: string; error?: string }> }> };
    const refused = report.containers.flatMap((c) => c.services).find((s) => s.id === 'node1:a:80');
    assert.match(refused?.error ?? '', /500 Scripts are disabled/);
  });

  it('a container changed while its registration is in flight ends with the new registration in Consul', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), {
      name: 'a',
      ports: { '80/tcp': published(8080) },
      env: ['SERVICE_TAGS=old'],
    });
    consul.latencyMs = 200;
    let sent!: () => void;
    const registerSent = new Promise<void>((resolve) => (sent = resolve));
    consul.onRequest = (r) => r.path === '/v1/agent/service/register' && sent();
    const sync = registrator.onSync(ctx.docker.snapshot());
    await registerSent;
    ctx.docker.containers.get(containerId(1))!.env = ['SERVICE_TAGS=new'];
    const event = registrator.onEvent({
      type: 'container',
      action: 'update',
      detail: '',
      id: containerId(1),
      name: 'a',
      image: '',
      attributes: {},
      scope: 'local',
      timeNano: '1',
    });
    await Promise.all([sync, event]);
    assert.deepEqual(consul.services.get('node1:a:80')?.Tags, ['new']);
  });

  it('odd container settings never make Consul refuse the service', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    const odd: string[][] = [
      ['SERVICE_CHECK_INTERVAL=0', 'SERVICE_CHECK_HTTP=/h'],
      ['SERVICE_CHECK_TTL=0'],
      ['SERVICE_CHECK_TTL=-5s'],
      ['SERVICE_CHECK_TIMEOUT=99999999999999h', 'SERVICE_CHECK_TCP=x'],
      ['SERVICE_CHECK_DEREGISTER_AFTER=1e9s', 'SERVICE_CHECK_TTL=10s'],
      ['SERVICE_CHECK_INITIAL_STATUS=PASSING', 'SERVICE_CHECK_TTL=10s'],
      ['SERVICE_CHECK_HTTP=/ünïcode path?q=1#x', 'SERVICE_CHECK_HTTP_METHOD=get'],
      ['SERVICE_CHECK_GRPC=', 'SERVICE_CHECK_GRPC_USE_TLS=no'],
      [`SERVICE_DESCRIPTION=${'日本'.repeat(100)}`, `SERVICE_NOTE=${'x'.repeat(10_000)}`],
      ['SERVICE_=x', 'SERVICE_80=bare', 'SERVICE_80_=x', 'SERVICE_ÉTÉ=1', 'SERVICE_a.b=1', 'SERVICE_CONSUL-X=1'],
      ['SERVICE_NAME=名前 with spaces', 'SERVICE_TAGS=\\,,,\u0000,日本'],
    ];
    odd.forEach((env, i) =>
      ctx.docker.containers.set(containerId(i + 1), { name: `c${i}`, ports: { '80/tcp': published(8000 + i) }, env }),
    );
    await registrator.onSync(ctx.docker.snapshot());
    const refused = consul.requests.filter((r) => r.path === '/v1/agent/service/register' && r.status !== 200);
    assert.deepEqual(
      refused.map((r) => `${r.status} ${r.body}`),
      [],
    );
    assert.equal(consul.services.size, odd.length);
  });

  it('a TTL update answered 404 (the agent restarted empty) refills it at once, not at the next -resync', async () => {
    const ctx = setup(`consul://${consul.address}`, { healthTtlMs: 3_000, resyncMs: 600_000 });
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), {
      name: 'a',
      ports: { '80/tcp': published(8080) },
      healthcheck: ['CMD', 'true'],
      health: 'healthy',
    });
    ctx.docker.containers.set(containerId(2), { name: 'b', ports: { '80/tcp': published(8081) } });
    await registrator.onSync(ctx.docker.snapshot());
    registrator.startTimers();
    consul.restartEmpty();
    await eventually(
      () => assert.deepEqual([...consul.services.keys()].sort(), ['node1:a:80', 'node1:b:80']),
      5_000,
      50,
    );
  });

  it('stop() does not wait for a reconcile in progress to write everything', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = undefined;
    for (let i = 1; i <= 10; i += 1)
      ctx.docker.containers.set(containerId(i), { name: `c${i}`, ports: { '80/tcp': published(8000 + i) } });
    consul.latencyMs = 150;
    let sent!: () => void;
    const registerSent = new Promise<void>((resolve) => (sent = resolve));
    consul.onRequest = (r) => r.path === '/v1/agent/service/register' && sent();
    const sync = ctx.registrator.onSync(ctx.docker.snapshot());
    await registerSent;
    await ctx.registrator.stop();
    await sync;
    assert.ok(
      consul.requests.filter((r) => r.path === '/v1/agent/service/register').length <= 2,
      `${consul.services.size} registered after stop`,
    );
  });

  it('--deregister-on-shutdown deregisters side by side and gives up at the first outage answer', async () => {
    const ctx = setup(`consul://${consul.address}`, { deregisterOnShutdown: true });
    for (let i = 1; i <= 12; i += 1)
      ctx.docker.containers.set(containerId(i), { name: `c${i}`, ports: { '80/tcp': published(8000 + i) } });
    await ctx.registrator.onSync(ctx.docker.snapshot());
    assert.equal(consul.services.size, 12);
    consul.latencyMs = 100;
    let inFlight = 0;
    let most = 0;
    consul.onRequest = (r) => {
      if (!r.path.includes('/deregister/')) return;
      most = Math.max(most, ++inFlight);
      setTimeout(() => (inFlight -= 1), 100);
    };
    await ctx.registrator.stop();
    assert.equal(consul.services.size, 0);
    assert.ok(most > 1, 'deregistered one at a time');

    const again = setup(`consul://${consul.address}`, { deregisterOnShutdown: true });
    consul.latencyMs = 0;
    for (let i = 1; i <= 12; i += 1)
      again.docker.containers.set(containerId(i), { name: `c${i}`, ports: { '80/tcp': published(8000 + i) } });
    await again.registrator.onSync(again.docker.snapshot());
    const before = consul.requests.length;
    consul.fail(100, 503);
    await again.registrator.stop();
    assert.ok(
      consul.requests.length - before <= 8,
      `${consul.requests.length - before} deregisters tried against a Consul answering 503`,
    );
  });

  it('forgets what it remembered of containers that are gone (no growth with container churn)', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    // The private memory of each collaborator: the health feed's, the registry view's, the catalog's.
    const parts = registrator as unknown as {
      registry: { deps: { health: { sent: Map<string, string> } } };
      view: { rejected: Map<string, unknown> };
      catalog: { conflicts: Set<string> };
    };
    const memory = {
      healthSent: parts.registry.deps.health.sent,
      rejected: parts.view.rejected,
      conflicts: parts.catalog.conflicts,
    };
    for (let i = 1; i <= 5; i += 1) {
      ctx.docker.containers.set(containerId(10 * i), {
        name: `h${i}`,
        ports: { '80/tcp': published(8000 + i) },
        healthcheck: ['CMD', 'true'],
        health: 'healthy',
      });
      ctx.docker.containers.set(containerId(10 * i + 1), {
        name: `bad${i}`,
        ports: { '80/tcp': published(9000 + i) },
        env: ['SERVICE_CHECK_SCRIPT=true', 'SERVICE_ID=same'],
      });
      ctx.docker.containers.set(containerId(10 * i + 2), {
        name: `dup${i}`,
        ports: { '80/tcp': published(9100 + i) },
        env: ['SERVICE_ID=same'],
      });
    }
    await registrator.onSync(ctx.docker.snapshot());
    assert.ok(
      memory.healthSent.size === 5 && memory.rejected.size === 1 && memory.conflicts.size > 0,
      'remembered while they run',
    );
    ctx.docker.containers.clear();
    await registrator.onSync(ctx.docker.snapshot());
    assert.deepEqual([memory.healthSent.size, memory.rejected.size, memory.conflicts.size], [0, 0, 0]);
  });

  it('one container the engine cannot inspect does not hold up the others, and keeps what it had', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    await registrator.onSync(ctx.docker.snapshot());
    ctx.docker.broken.add(containerId(1));
    ctx.docker.containers.set(containerId(2), { name: 'b', ports: { '80/tcp': published(8081) } });
    await registrator.onSync(ctx.docker.snapshot());
    assert.deepEqual([...consul.services.keys()].sort(), ['node1:a:80', 'node1:b:80']);
    assert.equal(registrator.readiness().ready, true, registrator.readiness().detail);
  });

  it('full reconciles asked for while one waits are one (a slow Consul does not pile them up)', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    await registrator.onSync(ctx.docker.snapshot());
    consul.latencyMs = 100;
    const lists = consul.requests.filter((r) => r.path === '/v1/agent/services').length;
    await Promise.all(Array.from({ length: 20 }, (_, i) => registrator!.reconcileAll(`periodic ${i}`)));
    const more = consul.requests.filter((r) => r.path === '/v1/agent/services').length - lists;
    assert.ok(more <= 2, `${more} lists for 20 overlapping reconciles`);
  });

  it('a start event whose inspect fails is tried again, in its turn, rather than waiting for the next sync', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    await registrator.onSync(ctx.docker.snapshot());
    ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
    ctx.docker.failNext.set(containerId(1), 2);
    await registrator.onEvent({
      type: 'container',
      action: 'start',
      detail: '',
      id: containerId(1),
      name: 'a',
      image: '',
      attributes: {},
      scope: 'local',
      timeNano: '1',
    });
    assert.ok(consul.services.has('node1:a:80'));
  });

  it('a SERVICE_CHECK_TTL check is service:<id>, as with registrator, whatever other checks the service has', async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    ctx.docker.containers.set(containerId(1), {
      name: 'alone',
      ports: { '80/tcp': published(8080) },
      env: ['SERVICE_CHECK_TTL=30s'],
    });
    ctx.docker.containers.set(containerId(2), {
      name: 'more',
      ports: { '80/tcp': published(8081) },
      env: ['SERVICE_CHECK_TTL=30s', 'SERVICE_CHECK_HTTP=/h'],
      healthcheck: ['CMD', 'true'],
      health: 'healthy',
    });
    await registrator.onSync(ctx.docker.snapshot());
    for (const id of ['node1:alone:80', 'node1:more:80']) {
      const pass = await fetch(`${consul.url}/v1/agent/check/pass/service:${id}`, { method: 'PUT' });
      assert.equal(pass.status, 200, `the container heartbeats service:${id}: ${await pass.text()}`);
    }
  });

  it("never overwrites a service ID another node holds; takes over unmarked ones (registrator's, custom IDs included)", async () => {
    const ctx = setup(`consul://${consul.address}`);
    registrator = ctx.registrator;
    const held = (id: string, meta: Record<string, string>) => ({
      ID: id,
      Service: 'theirs',
      Tags: [],
      Meta: meta,
      Port: 1,
      Address: '10.0.0.9',
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Datacenter: 'dc1',
    });
    consul.services.set('web', held('web', {}));
    consul.services.set('shared', held('shared', { quayside_node: 'node2' }));
    consul.services.set('node1:old:80', held('node1:old:80', {}));
    ctx.docker.containers.set(containerId(1), {
      name: 'a',
      ports: { '80/tcp': published(8080) },
      env: ['SERVICE_ID=web'],
    });
    ctx.docker.containers.set(containerId(2), {
      name: 'b',
      ports: { '80/tcp': published(8081) },
      env: ['SERVICE_ID=shared'],
    });
    ctx.docker.containers.set(containerId(3), { name: 'old', ports: { '80/tcp': published(8082) } });
    await registrator.onSync(ctx.docker.snapshot());
    await registrator.reconcileAll('again');
    assert.equal(consul.services.get('shared')?.Service, 'theirs');
    assert.equal(consul.services.get('node1:old:80')?.Meta.quayside_node, 'node1', 'taken over');
    assert.equal(consul.services.get('web')?.Meta.quayside_node, 'node1', 'taken over');
    assert.deepEqual(
      consul
        .writes()
        .map((w) => w.body)
        .filter((b) => /"ID":"shared"/.test(b)),
      [],
    );
    const report = registrator.report() as {
      containers: Array<{ services: Array<{ id: string; error?: string; registered: boolean; inSync: boolean }> }>;
    };
    const services = report.containers.flatMap((c) => c.services);
    const errors = Object.fromEntries(services.map((s) => [s.id, s.error]));
    assert.deepEqual(
      services
        .filter((s) => s.registered || s.inSync)
        .map((s) => s.id)
        .sort(),
      ['node1:old:80', 'web'],
      "another node's service is not ours registered",
    );
    assert.match(errors.shared ?? '', /taken by node node2/);
    consul.services.delete('shared');
    await registrator.reconcileAll('freed');
    assert.equal(consul.services.get('shared')?.Meta.quayside_node, 'node1', 'registered once the ID is free');
  });

  it("-cleanup also removes gliderlabs/registrator's own services of this node, and only those", async () => {
    const ctx = setup(`consul://${consul.address}`, { cleanup: true });
    registrator = ctx.registrator;
    const legacy = (id: string) => ({
      ID: id,
      Service: 's',
      Tags: [],
      Meta: {},
      Port: 1,
      Address: '10.0.0.1',
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Datacenter: 'dc1',
    });
    for (const id of ['node1:gone:80', 'node1:gone:53:udp', 'node2:gone:80', 'custom-id'])
      consul.services.set(id, legacy(id));
    await registrator.onSync(ctx.docker.snapshot());
    assert.deepEqual([...consul.services.keys()].sort(), ['custom-id', 'node2:gone:80']);
  });

  it("--deregister-on-shutdown removes this node's services at stop, and only then", async () => {
    for (const deregisterOnShutdown of [false, true]) {
      const ctx = setup(`consul://${consul.address}`, { deregisterOnShutdown });
      ctx.docker.containers.set(containerId(1), { name: 'a', ports: { '80/tcp': published(8080) } });
      await ctx.registrator.onSync(ctx.docker.snapshot());
      assert.equal(consul.services.size, 1);
      await ctx.registrator.stop();
      assert.equal(consul.services.size, deregisterOnShutdown ? 0 : 1, `deregisterOnShutdown ${deregisterOnShutdown}`);
    }
  });

  it('plans maintenance only when it differs', () => {
    const paused = servicesFor(inspectOf({ ports: { '80/tcp': published(80) }, paused: true }), modelSettings())
      .services[0]!;
    const r = paused.registration;
    const actual = new Map([
      [
        r.ID,
        {
          id: r.ID,
          name: r.Name,
          address: r.Address,
          port: r.Port,
          tags: r.Tags,
          owner: 'node1',
          spec: r.Meta[SPEC_KEY],
          maintenance: true,
        },
      ],
    ]);
    const options = {
      node: 'node1',
      specOf: (s: typeof paused) => s.registration.Meta[SPEC_KEY]!,
      hasChecks: true,
      legacyCleanup: false,
    };
    assert.deepEqual(planReconcile([paused], actual, options), {
      register: [],
      deregister: [],
      maintenance: [],
      blocked: [],
    });
    actual.get(r.ID)!.maintenance = false;
    assert.deepEqual(
      planReconcile([paused], actual, options).maintenance.map((m) => m.enable),
      [true],
    );
  });

  describe('consulkv', () => {
    it('a service renamed leaves no key under its old name', async () => {
      const ctx = setup(`consulkv://${consul.address}/svc`);
      registrator = ctx.registrator;
      ctx.docker.containers.set(containerId(1), {
        name: 'a',
        ports: { '80/tcp': published(8080) },
        env: ['SERVICE_NAME=one'],
      });
      await registrator.onSync(ctx.docker.snapshot());
      ctx.docker.containers.get(containerId(1))!.env = ['SERVICE_NAME=two'];
      await registrator.onSync(ctx.docker.snapshot());
      assert.deepEqual([...consul.kv.keys()], ['svc/two/node1:a:80']);
    });

    it('names and IDs with slashes: written once, then left alone', async () => {
      const ctx = setup(`consulkv://${consul.address}/svc`);
      registrator = ctx.registrator;
      ctx.docker.containers.set(containerId(1), {
        name: 'a',
        ports: { '80/tcp': published(8080) },
        env: ['SERVICE_NAME=team/web', 'SERVICE_ID=x/y'],
      });
      await registrator.onSync(ctx.docker.snapshot());
      const writes = consul.writes().length;
      await registrator.reconcileAll('again');
      await registrator.reconcileAll('and again');
      assert.deepEqual(
        consul
          .writes()
          .slice(writes)
          .map((w) => `${w.method} ${w.path}`),
        [],
      );
      assert.deepEqual([...consul.kv.keys()], ['svc/team/web/x/y']);
      ctx.docker.containers.clear();
      await registrator.onSync(ctx.docker.snapshot());
      assert.deepEqual([...consul.kv.keys()], []);
    });

    it("writes <prefix>/<name>/<id> = ip:port with our flags, lists a missing prefix as empty, leaves others' keys", async () => {
      const ctx = setup(`consulkv://${consul.address}/svc`);
      registrator = ctx.registrator;
      await registrator.onSync(ctx.docker.snapshot()); // prefix does not exist yet: 404, no crash
      assert.equal(registrator.readiness().ready, true, registrator.readiness().detail);
      await fetch(`${consul.url}/v1/kv/svc/web/node2:web:80`, { method: 'PUT', body: '10.0.0.2:80' });
      ctx.docker.containers.set(containerId(1), { name: 'a', image: 'web', ports: { '80/tcp': published(8080) } });
      ctx.docker.containers.set(containerId(2), { name: 'b', image: 'web', ports: { '80/tcp': published(8081) } });
      await registrator.onSync(ctx.docker.snapshot());
      const entry = consul.kv.get('svc/web/node1:a:80');
      assert.deepEqual([entry?.value.toString(), entry?.flags], ['192.0.2.1:8080', ownerFlags('node1')]);
      const writes = consul.writes().length;
      await registrator.reconcileAll('again');
      assert.equal(consul.writes().length, writes, 'nothing rewritten');
      ctx.docker.containers.delete(containerId(1));
      await registrator.onSync(ctx.docker.snapshot());
      assert.deepEqual([...consul.kv.keys()].sort(), ['svc/web/node1:b:80', 'svc/web/node2:web:80']);
    });
  });
});

describe('registrator over consul-unix://', () => {
  it("reaches an agent on a unix socket (papi's socketPath, which the client passes through)", async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'qs-consul-'));
    const consul = await new ConsulDouble({ token: 't' }).startOnSocket(join(dir, 'consul.sock'));
    const parsed = parseRegistryUri(`consul-unix://${join(dir, 'consul.sock')}`);
    const backend = parsed.connect({ token: 't' });
    try {
      const service = servicesFor(inspectOf({ ports: { '80/tcp': published(8080) } }), modelSettings()).services[0]!;
      await backend.ping();
      await backend.register(service);
      assert.deepEqual([...(await backend.list('node1')).keys()], ['node1:web:80']);
      await backend.deregister({ id: 'node1:web:80', name: 'app' });
      assert.equal(consul.services.size, 0);
      assert.deepEqual([...new Set(consul.requests.map((r) => r.token))], ['t']);
    } finally {
      backend.close();
      await consul.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registrator over consul-tls://', function () {
  this.timeout(20_000);
  it('verifies the agent against CONSUL_CACERT and presents CONSUL_CLIENT_CERT/KEY; refuses an unknown CA', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'qs-consul-tls-'));
    const tls = makeTestCa(dir, 'consul.test');
    const consul = await new ConsulDouble({
      tls: {
        key: readFileSync(tls.key),
        cert: readFileSync(tls.cert),
        ca: readFileSync(tls.ca),
      },
    }).start();
    const parsed = parseRegistryUri(`consul-tls://${consul.address}`);
    const good = parsed.connect({ caFile: tls.ca, certFile: tls.clientCert, keyFile: tls.clientKey });
    const noClientCert = parsed.connect({ caFile: tls.ca });
    const unknownCa = parsed.connect({
      caFile: tls.clientCert,
      certFile: tls.clientCert,
      keyFile: tls.clientKey,
    });
    try {
      await good.ping();
      await assert.rejects(noClientCert.ping(), /GET \/v1\/status\/leader/);
      await assert.rejects(unknownCa.ping(), /certificate/);
      assert.throws(
        () => parsed.connect({ certFile: tls.clientCert }),
        /CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY go together/,
      );
      assert.throws(
        () => parsed.connect({ caFile: join(dir, 'missing.pem') }),
        /CONSUL_CACERT \(--consul-cacert\) .*missing\.pem/,
      );
    } finally {
      for (const b of [good, noClientCert, unknownCa]) b.close();
      await consul.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

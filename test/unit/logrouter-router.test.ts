/** The router against a fake engine: what happens to a removed container's stream and checkpoint. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { CheckpointStore } from '../../agents/logrouter/checkpoint-store';
import { parseRouteUri, routeFromJson, type RouteError } from '../../agents/logrouter/route';
import { LogRouter, type RouterSettings } from '../../agents/logrouter/router';
import type { DockerEvent } from '../../shared/docker/event';
import type { SyncSnapshot } from '../../shared/docker/event-stream';
import { silentLogger } from '../../shared/ops/logger';
import { eventually } from '../support/eventually';

const ID = 'ab12'.padEnd(64, '0');

function frame(text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** One container whose log stream the test writes; inspect answers 404 once it is removed. */
function fakeEngine(created = new Date()) {
  const engine = { stream: new PassThrough(), removed: false, running: true };
  const info = () => ({
    Id: ID,
    Name: '/web',
    Created: created.toISOString(),
    Config: { Image: 'busybox', Hostname: 'ab12', Labels: {}, Env: [], Tty: false },
    State: { Pid: 7, Running: engine.running },
  });
  const docker = {
    getContainer: () => ({
      inspect: async () => {
        if (engine.removed) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return info();
      },
      logs: async () => engine.stream,
    }),
  } as unknown as Pick<Dockerode, 'getContainer'>;
  return { engine, docker };
}

const event = (action: string): DockerEvent =>
  ({
    type: 'container',
    action,
    detail: '',
    id: ID,
    name: 'web',
    image: 'busybox',
    attributes: {},
    timeNano: '0',
    raw: '',
  }) as unknown as DockerEvent;

/** A router with the settings these tests share; each test names what it varies. */
function testRouter(
  settings: Pick<RouterSettings, 'docker' | 'store' | 'stdout'> & Partial<RouterSettings>,
): LogRouter {
  return new LogRouter({
    logger: silentLogger,
    env: {},
    queueSize: 100,
    policy: 'block',
    batchSize: 10,
    maxLineBytes: 1 << 20,
    backlog: false,
    excludeLabels: [],
    selfId: undefined,
    ...settings,
  });
}

describe('logrouter router', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrrt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a removed container to the end of its stream, then forgets its checkpoint', async () => {
    const { engine, docker } = fakeEngine();
    const store = new CheckpointStore(join(dir, 'a'));
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const router = testRouter({
      docker,
      store,
      stdout,
    });
    const route = parseRouteUri('stdout://?format={{.Data}}%0A');
    router.addRoute(route);
    router.synced = true;
    await router.onEvent(event('start'));
    engine.stream.write(frame('2026-11-27T20:20:15.000000001Z first\n'));
    await eventually(() => assert.equal(out, 'first\n'), 5_000, 10);
    assert.ok(store.get(route.id, ID), 'a checkpoint while the container exists');
    // Exit and removal come before the agent read the rest (docker run --rm behind a busy agent).
    engine.running = false;
    engine.removed = true;
    await router.onEvent(event('destroy'));
    engine.stream.end(frame('2026-11-27T20:20:15.000000002Z second\n'));
    await eventually(() => assert.equal(out, 'first\nsecond\n'), 5_000, 10);
    await eventually(() => assert.equal(store.get(route.id, ID), undefined), 5_000, 10);
    assert.equal(new CheckpointStore(join(dir, 'a')).get(route.id, ID), undefined, 'not kept on disk either');
    await router.stop(1_000);
  });

  it('keeps the order of a multiline message and the pieces of an over-long line after it', async () => {
    const { engine, docker } = fakeEngine();
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const router = testRouter({
      docker,
      store: new CheckpointStore(join(dir, 'b')),
      stdout,
      maxLineBytes: 1024,
    });
    router.addRoute(parseRouteUri('stdout://?format={{.Data}}|&multiline=true&multiline.timeout=60000'));
    router.synced = true;
    await router.onEvent(event('start'));
    engine.stream.write(frame(`2026-11-27T20:20:15.000000001Z Exception\n`));
    engine.stream.write(frame(`2026-11-27T20:20:15.000000002Z  at a()\n`));
    engine.stream.write(frame(`2026-11-27T20:20:15.000000003Z ${'x'.repeat(1500)}\n`));
    await eventually(() => assert.equal(out, `Exception\n at a()|${'x'.repeat(1024)}|${'x'.repeat(476)}|`), 5_000, 10);
    engine.removed = true;
    engine.stream.end();
    await router.stop(1_000);
  });

  it('reads from its first line a container created while the agent was down, not from "now"', async () => {
    const route = parseRouteUri('stdout://?format={{.Data}}%0A');
    // The agent ran a minute ago with this route, then was down; the container came meanwhile.
    const state = join(dir, 'c');
    mkdirSync(state, { recursive: true });
    writeFileSync(
      join(state, 'checkpoints.json'),
      JSON.stringify({ version: 1, routes: {}, routeSince: { [route.id]: Date.now() - 60_000 } }),
    );
    const createdAt = new Date(Date.now() - 30_000);
    const { engine, docker } = fakeEngine(createdAt);
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const router = testRouter({
      docker,
      store: new CheckpointStore(state),
      stdout,
    });
    router.addRoute(route);
    await router.onSync({
      containers: [{ Id: ID, State: 'running', Created: Math.floor(createdAt.getTime() / 1000) }],
    } as unknown as SyncSnapshot);
    engine.stream.write(
      frame(
        `${new Date(createdAt.getTime() + 1000).toISOString().slice(0, 23)}000001Z written while the agent was down\n`,
      ),
    );
    engine.stream.write(frame(`${new Date().toISOString().slice(0, 23)}000001Z written now\n`));
    await eventually(() => assert.equal(out, 'written while the agent was down\nwritten now\n'), 5_000, 10);
    engine.removed = true;
    engine.stream.end();
    await router.stop(1_000);
  });

  /** A docker run --rm container already removed when inspect and the log were asked: only attach answered. */
  function goneBeforeInspect(attached: Buffer, firstInspectError?: Error) {
    const gone = () => Promise.reject(Object.assign(new Error('no such container'), { statusCode: 404 }));
    // The first inspect may time out (a busy engine); the container is gone by the next.
    let inspectError = firstInspectError;
    const inspect = () => {
      const error = inspectError;
      inspectError = undefined;
      return error ? Promise.reject(error) : gone();
    };
    const attach = async () => new PassThrough().end(attached);
    return { getContainer: () => ({ attach, inspect, logs: gone }) } as unknown as Pick<Dockerode, 'getContainer'>;
  }
  const created = (labels: Record<string, string>): DockerEvent => ({
    ...event('create'),
    attributes: { ...labels, image: 'busybox', name: 'quick' },
  });

  it('ships what attach caught of a container removed before inspect answered, named by its create event', async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const docker = goneBeforeInspect(Buffer.concat([frame('one\n'), frame('two\n')]));
    const store = new CheckpointStore(join(dir, 'd'));
    const router = testRouter({
      docker,
      store,
      stdout,
    });
    const route = parseRouteUri(
      'stdout://?filter.name=quick&filter.labels=team:pay*&format={{.Container.Name}}/{{.Container.Config.Image}}:{{.Data}}%0A',
    );
    router.addRoute(route);
    router.synced = true;
    await router.onEvent(created({ team: 'payments' }));
    await router.onEvent(event('start'));
    await router.onEvent(event('destroy'));
    await eventually(() => assert.equal(out, '/quick/busybox:one\n/quick/busybox:two\n'), 5_000, 10);
    await eventually(() => assert.equal(store.get(route.id, ID), undefined, 'its checkpoint forgotten'), 5_000, 10);
    await router.stop(1_000);
  });

  it('ships what attach caught of a container whose inspect timed out on a busy engine', async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const docker = goneBeforeInspect(
      frame('one\n'),
      new Error('GET /containers/x/json: Docker did not answer within 10000 ms'),
    );
    const router = testRouter({
      docker,
      store: new CheckpointStore(join(dir, 'g')),
      stdout,
    });
    router.addRoute(parseRouteUri('stdout://?format={{.Data}}%0A'));
    router.synced = true;
    await router.onEvent(created({}));
    await router.onEvent(event('start'));
    await router.onEvent(event('destroy'));
    await eventually(() => assert.equal(out, 'one\n'), 5_000, 10);
    await router.stop(1_000);
  });

  it('honours an opt-out label of a container removed before inspect answered', async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const router = testRouter({
      docker: goneBeforeInspect(frame('secret\n')),
      store: new CheckpointStore(join(dir, 'e')),
      stdout,
    });
    router.addRoute(parseRouteUri('stdout://?format={{.Data}}%0A'));
    router.synced = true;
    await router.onEvent(created({ 'quayside.logs': 'ignore' }));
    await router.onEvent(event('start'));
    assert.equal(router.pipeCount(), 0, 'no reader for it');
    await router.onEvent(event('destroy'));
    await router.stop(1_000);
    assert.equal(out, '');
  });

  it('refuses a route with an option its adapter does not read, from a URI or from /routes JSON alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-router-'));
    const router = testRouter({
      docker: fakeEngine().docker,
      store: new CheckpointStore(join(dir, 'c')),
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      maxLineBytes: 1024,
    });
    try {
      assert.throws(
        () => router.addRoute(parseRouteUri('syslog+tcp://127.0.0.1:1?framming=octet-counted')),
        /route syslog\+tcp:\/\/127\.0\.0\.1:1 \(id [0-9a-f]{12}\): unknown option framming for syslog\+tcp/,
      );
      const json = { adapter: 'syslog+tcp', address: '127.0.0.1:1', options: { framming: 'octet-counted' } };
      assert.throws(
        () => router.addRoute(routeFromJson(json, () => 'r1')),
        (error: RouteError) => error.reason.startsWith('unknown option framming for syslog+tcp'),
      );
      assert.throws(
        () => router.addRoute(routeFromJson({ ...json, options: { 'queue.size': '0' } }, () => 'r2')),
        /queue.size "0": must be at least 1/,
      );
      assert.deepEqual(router.routeSpecs(), [], 'no route was added');
      router.addRoute(routeFromJson({ ...json, options: { framing: 'octet-counted', 'queue.size': '5' } }, () => 'r3'));
      assert.deepEqual(
        router.routeSpecs().map((spec) => spec.id),
        ['r3'],
      );
    } finally {
      await router.stop(1_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

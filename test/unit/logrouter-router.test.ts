/** The router against a fake engine: what happens to a removed container's stream and checkpoint. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { CheckpointStore } from '../../agents/logrouter/checkpoint-store';
import { tsFromMillis } from '../../agents/logrouter/message';
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

  /** A container run by the test step by step: what inspect says, what attach and the log stream send. */
  function steppedEngine() {
    const engine = {
      status: 'created',
      attach: new PassThrough(),
      logs: (): Promise<NodeJS.ReadableStream> => Promise.reject(new Error('no log yet')),
      /** What attach's replay of the log sends (logs=1, stream=0); undefined: refused. */
      replay: undefined as Buffer | undefined,
      /** When inspect last answered that the container stopped. */
      stoppedAt: 0,
    };
    const inspect = async () => {
      if (engine.status === 'exited') {
        // Later than anything attach brought: the log's own timestamps may be too (the engine's copier is late).
        await new Promise((resolve) => setTimeout(resolve, 5));
        engine.stoppedAt = Date.now();
      }
      return {
        Id: ID,
        Name: '/quick',
        Created: new Date().toISOString(),
        Config: { Image: 'busybox', Hostname: 'ab12', Labels: {}, Env: [], Tty: false },
        State: { Pid: 7, Running: engine.status === 'running', Status: engine.status },
      };
    };
    const docker = {
      getContainer: () => ({
        attach: async (options: { logs: boolean }) => {
          if (!options.logs) return engine.attach;
          if (!engine.replay) throw Object.assign(new Error('no such container'), { statusCode: 404 });
          return new PassThrough().end(engine.replay);
        },
        inspect,
        logs: () => engine.logs(),
      }),
    } as unknown as Pick<Dockerode, 'getContainer'>;
    return { engine, docker };
  }
  const frameOf = (type: 1 | 2, text: string) => {
    const framed = frame(text);
    framed[0] = type;
    return framed;
  };
  const linesOf = (out: string) => out.split('\n').slice(0, -1).sort();

  it("fills in from attach the lines a removed container's log stream ended without, each once", async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const { engine, docker } = steppedEngine();
    const router = testRouter({ docker, store: new CheckpointStore(join(dir, 'f')), stdout });
    router.addRoute(parseRouteUri('stdout://?format={{.Data}}%0A'));
    router.synced = true;
    await router.onEvent({ ...event('create'), attributes: { name: 'quick', image: 'busybox' } });
    engine.attach.write(Buffer.concat([frameOf(1, 'one\n'), frameOf(2, 'two\n'), frameOf(1, 'three\n')]));
    const log = new PassThrough();
    engine.status = 'running';
    engine.logs = async () => log;
    await router.onEvent(event('start'));
    log.write(frame('2026-11-27T20:20:15.000000001Z one\n'));
    await eventually(() => assert.equal(out, 'one\n'), 5_000, 10);
    // Docker 20.10 ends a stream opened just before the exit without the last lines, and
    // docker run --rm removes the container before the log can be read again.
    engine.status = 'removing';
    engine.logs = () => Promise.reject(Object.assign(new Error('marked for removal'), { statusCode: 409 }));
    engine.attach.end();
    log.end();
    await eventually(() => assert.deepEqual(linesOf(out), ['one', 'three', 'two']), 5_000, 10);
    await router.onEvent(event('destroy'));
    await router.stop(1_000);
    assert.deepEqual(linesOf(out), ['one', 'three', 'two'], 'each line once');
  });

  it("takes the rest of a removed container's log from the engine's replay when attach came after the start", async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const { engine, docker } = steppedEngine();
    const router = testRouter({ docker, store: new CheckpointStore(join(dir, 'r')), stdout });
    router.addRoute(parseRouteUri('stdout://?format={{.Data}}%0A'));
    router.synced = true;
    // Attach came after the start: it caught only the last line.
    engine.status = 'running';
    await router.onEvent({ ...event('create'), attributes: { name: 'quick', image: 'busybox' } });
    engine.attach.end(frameOf(1, 'three\n'));
    const log = new PassThrough();
    engine.logs = async () => log;
    await router.onEvent(event('start'));
    log.write(frame('2026-11-27T20:20:15.000000001Z one\n'));
    await eventually(() => assert.equal(out, 'one\n'), 5_000, 10);
    engine.status = 'removing';
    engine.logs = () => Promise.reject(Object.assign(new Error('marked for removal'), { statusCode: 409 }));
    engine.replay = Buffer.concat([frameOf(1, 'one\n'), frameOf(2, 'two\n'), frameOf(1, 'three\n')]);
    log.end();
    await eventually(() => assert.deepEqual(linesOf(out), ['one', 'three', 'two']), 5_000, 10);
    await router.onEvent(event('destroy'));
    await router.stop(1_000);
    assert.deepEqual(linesOf(out), ['one', 'three', 'two'], 'each line once');
  });

  it('never repeats what attach gave when the log of the stopped container can be read later', async () => {
    let out = '';
    const stdout = new Writable({ write: (chunk, _encoding, callback) => ((out += String(chunk)), callback()) });
    const { engine, docker } = steppedEngine();
    const router = testRouter({ docker, store: new CheckpointStore(join(dir, 'h')), stdout });
    router.addRoute(parseRouteUri('stdout://?format={{.Data}}%0A'));
    router.synced = true;
    await router.onEvent({ ...event('create'), attributes: { name: 'quick', image: 'busybox' } });
    engine.attach.end(Buffer.concat([frameOf(1, 'one\n'), frameOf(2, 'two\n'), frameOf(1, 'three\n')]));
    // The log cannot be opened in time (a busy engine) and the container has exited: attach's lines go out.
    engine.status = 'exited';
    engine.logs = () => Promise.reject(new Error('Docker did not answer within 10000 ms'));
    await router.onEvent(event('start'));
    await eventually(() => assert.deepEqual(linesOf(out), ['one', 'three', 'two']), 5_000, 10);
    // Started again: its log now opens, its old lines stamped later than attach brought them.
    const late = `${tsFromMillis(engine.stoppedAt).slice(0, 23)}999999Z`;
    const log = new PassThrough();
    log.end(
      Buffer.concat([
        frameOf(1, `${late} one\n`),
        frameOf(2, `${late} two\n`),
        frameOf(1, `${late} three\n`),
        frameOf(1, `${tsFromMillis(Date.now() + 60_000)} four\n`),
      ]),
    );
    engine.status = 'running';
    engine.logs = async () => log;
    await router.onEvent(event('start'));
    await eventually(() => assert.ok(out.includes('four\n')), 5_000, 10);
    engine.status = 'exited';
    await router.stop(1_000);
    assert.deepEqual(linesOf(out), ['four', 'one', 'three', 'two'], 'each line once');
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

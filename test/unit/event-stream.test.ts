import { strict as assert } from 'node:assert';
import Dockerode from 'dockerode';
import type { DockerEvent } from '../../shared/docker/event';
import { EventStream, type SyncSnapshot } from '../../shared/docker/event-stream';
import { HealthCheckClassifier } from '../../shared/docker/health-checks';
import { applyRequestDeadlines } from '../../shared/docker/request-deadline';
import { silentLogger } from '../../shared/ops/logger';
import { FakeEngine, rawEvent } from '../support/fake-engine';
import { eventually } from '../support/eventually';

const T0 = 1_700_000_100_000_000_000n;
const fastBackoff = { initialMs: 5, maxMs: 20, factor: 2 };

describe('EventStream (against a scripted engine)', () => {
  let engine: FakeEngine;
  let stream: EventStream;

  beforeEach(async () => {
    engine = await new FakeEngine().start();
  });
  afterEach(async () => {
    await stream?.stop();
    await engine.close();
  });

  function follow(options: Partial<ConstructorParameters<typeof EventStream>[0]> = {}) {
    const events: DockerEvent[] = [];
    const syncs: SyncSnapshot[] = [];
    stream = new EventStream({
      docker: new Dockerode({ socketPath: engine.socketPath }),
      backoff: fastBackoff,
      ...options,
    });
    stream.subscribe({ name: 'test', onEvent: (e) => void events.push(e), onSync: (s) => void syncs.push(s) });
    return { events, syncs };
  }

  it('delivers normalized events after a connect sync', async () => {
    engine.containers = [{ Id: 'c1', Names: ['/web'], State: 'running' }];
    const { events, syncs } = follow();
    stream.start();
    await engine.connection(1);
    engine.send(1, rawEvent({ action: 'start', id: 'c1', timeNano: T0, attributes: { name: 'web', image: 'nginx' } }));
    await eventually(() => assert.equal(events.length, 1));
    assert.equal(events[0]!.action, 'start');
    assert.equal(events[0]!.name, 'web');
    assert.equal(syncs.length, 1);
    assert.equal(syncs[0]!.reason, 'connect');
    assert.deepEqual(syncs[0]!.containers, [{ Id: 'c1', Names: ['/web'], State: 'running' }]);
    assert.equal(stream.connected, true);
  });

  it('resumes with since after a broken stream and skips what it already delivered', async () => {
    const { events, syncs } = follow();
    stream.start();
    await engine.connection(1);
    const first = rawEvent({ action: 'create', id: 'c1', timeNano: T0 });
    const second = rawEvent({ action: 'start', id: 'c1', timeNano: T0 + 5n });
    engine.send(1, first, second);
    await eventually(() => assert.equal(events.length, 2));

    engine.cut(1);
    const resumed = await engine.connection(2);
    // One second before the newest delivered event, to catch events published out of order.
    assert.equal(resumed.since, '1700000099.000000005');
    engine.send(
      2,
      first,
      second,
      rawEvent({ action: 'die', id: 'c1', timeNano: T0 + 9n, attributes: { exitCode: '0' } }),
    );
    await eventually(() => assert.equal(events.length, 3));
    assert.deepEqual(
      events.map((e) => e.action),
      ['create', 'start', 'die'],
    );
    assert.equal(stream.stats.duplicates, 2);
    assert.equal(stream.stats.reconnects, 1);
    await eventually(() =>
      assert.deepEqual(
        syncs.map((s) => s.reason),
        ['connect', 'reconnect'],
      ),
    );
  });

  it('resumes from the engine clock when no event arrived before the break', async () => {
    follow();
    stream.start();
    await engine.connection(1);
    assert.equal(engine.requests[0]!.since, null, 'the first connection starts from now');
    engine.cut(1);
    const resumed = await engine.connection(2);
    assert.equal(resumed.since, '1699999999.000000000', 'the fake engine says it is 1700000000 in its Date header');
  });

  it('starts from a given point in time', async () => {
    follow({ since: '1600000000500000000' });
    stream.start();
    await engine.connection(1);
    assert.equal(engine.requests[0]!.since, '1599999999.500000000');
  });

  it('skips malformed lines, counts them and keeps going', async () => {
    const { events } = follow();
    stream.start();
    await engine.connection(1);
    engine.send(1, '{"Type": broken', '\u0000\u00ff binary', rawEvent({ action: 'start', id: 'c2', timeNano: T0 }));
    await eventually(() => assert.equal(events.length, 1));
    assert.equal(stream.stats.malformed, 2);
    assert.equal(stream.connected, true);
  });

  it('retries while the engine fails the sync listing, and is not connected meanwhile', async () => {
    engine.listFailures = 2;
    const { syncs } = follow();
    stream.start();
    await engine.connection(3);
    await eventually(() => assert.equal(syncs.length, 1));
    assert.equal(stream.stats.reconnects, 2);
    assert.equal(stream.connected, true);
  });

  it('says once what to do when the engine socket is missing, then retries quietly', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const debug: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_m: string, meta?: Record<string, unknown>) => void warnings.push(meta ?? {}),
      debug: (m: string) => void debug.push(m),
    };
    stream = new EventStream({
      docker: new Dockerode({ socketPath: '/nonexistent/quayside/docker.sock' }),
      backoff: fastBackoff,
      logger,
    });
    stream.start();
    await eventually(() => assert.ok(debug.filter((m) => m === 'Docker event stream failed').length >= 3));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(String(warnings[0]!.hint), /no engine socket at \/nonexistent\/quayside\/docker\.sock: .*DOCKER_HOST/);
  });

  function reconnectDelays(): { delays: number[]; logger: typeof silentLogger } {
    const delays: number[] = [];
    const logger = {
      ...silentLogger,
      info: (message: string, meta?: Record<string, unknown>) =>
        void (message.startsWith('reconnecting') && delays.push(meta?.inMs as number)),
    };
    return { delays, logger };
  }

  it('grows the backoff over failed attempts and starts it afresh after a connection that stayed up', async () => {
    const { delays, logger } = reconnectDelays();
    engine.listFailures = 2;
    follow({ logger, random: () => 0, backoff: { initialMs: 10, maxMs: 60_000, factor: 10 }, stableAfterMs: 50 });
    stream.start();
    await engine.connection(3);
    await eventually(() => assert.equal(stream.connected, true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    engine.cut(3);
    await engine.connection(4);
    assert.deepEqual(delays, [5, 50, 5]);
  });

  it('keeps growing the backoff when connections drop right after their sync', async () => {
    const { delays, logger } = reconnectDelays();
    follow({ logger, random: () => 0, backoff: { initialMs: 10, maxMs: 60_000, factor: 10 }, stableAfterMs: 10_000 });
    stream.start();
    for (const n of [1, 2]) {
      await engine.connection(n);
      await eventually(() => assert.equal(stream.connected, true));
      engine.cut(n);
    }
    await engine.connection(3);
    assert.deepEqual(delays, [5, 50]);
  });

  it('gives up on an engine that does not answer and tries again', async () => {
    engine.stalledEvents = 1;
    const { syncs } = follow({ requestTimeoutMs: 200 });
    stream.start();
    await engine.connection(1);
    await eventually(() => assert.equal(syncs.length, 1));
    assert.equal(stream.stats.reconnects, 1);
    assert.equal(stream.connected, true);
  });

  it('delivers a sync only after the events received before it', async () => {
    const seen: string[] = [];
    stream = new EventStream({ docker: new Dockerode({ socketPath: engine.socketPath }), backoff: fastBackoff });
    stream.subscribe({
      name: 'slow',
      onEvent: async (e) => {
        await new Promise((r) => setTimeout(r, 30));
        seen.push(e.action);
      },
      onSync: (s) => void seen.push(`sync:${s.reason}`),
    });
    stream.start();
    await engine.connection(1);
    await eventually(() => assert.deepEqual(seen, ['sync:connect']));
    engine.send(1, rawEvent({ action: 'die', id: 'c1', timeNano: T0 }));
    await eventually(() => assert.equal(stream.stats.events, 1));
    engine.cut(1); // while the slow handler is still busy with the die
    await engine.connection(2);
    await eventually(() => assert.deepEqual(seen, ['sync:connect', 'die', 'sync:reconnect']));
  });

  it('delivers events received while the engine lists containers after that sync', async () => {
    engine.listDelayMs = 150;
    const seen: string[] = [];
    stream = new EventStream({ docker: new Dockerode({ socketPath: engine.socketPath }), backoff: fastBackoff });
    stream.subscribe({
      name: 'order',
      onEvent: (e) => void seen.push(e.action),
      onSync: (s) => void seen.push(`sync:${s.reason}`),
    });
    stream.start();
    await engine.connection(1);
    engine.send(1, rawEvent({ action: 'create', id: 'c9', timeNano: T0 }));
    await eventually(() => assert.deepEqual(seen, ['sync:connect', 'create']));
  });

  it('filters by type and action for each subscriber', async () => {
    const dies: string[] = [];
    const images: string[] = [];
    stream = new EventStream({ docker: new Dockerode({ socketPath: engine.socketPath }), backoff: fastBackoff });
    stream.subscribe({ name: 'dies', types: ['container'], actions: ['die'], onEvent: (e) => void dies.push(e.id) });
    stream.subscribe({ name: 'images', types: ['image'], onEvent: (e) => void images.push(e.action) });
    stream.start();
    await engine.connection(1);
    engine.send(
      1,
      rawEvent({ action: 'start', id: 'c1', timeNano: T0 }),
      rawEvent({ action: 'die', id: 'c1', timeNano: T0 + 1n }),
      rawEvent({ type: 'image', action: 'tag', id: 'sha256:1', timeNano: T0 + 2n }),
    );
    await eventually(() => assert.deepEqual(images, ['tag']));
    await eventually(() => assert.deepEqual(dies, ['c1']));
  });

  it('keeps delivering to other subscribers when one handler throws, and counts the failure', async () => {
    const good: string[] = [];
    stream = new EventStream({ docker: new Dockerode({ socketPath: engine.socketPath }), backoff: fastBackoff });
    stream.subscribe({
      name: 'broken',
      onEvent: () => {
        throw new Error('boom');
      },
    });
    stream.subscribe({ name: 'good', onEvent: (e) => void good.push(e.action) });
    stream.start();
    await engine.connection(1);
    engine.send(
      1,
      rawEvent({ action: 'start', id: 'c1', timeNano: T0 }),
      rawEvent({ action: 'die', id: 'c1', timeNano: T0 + 1n }),
    );
    await eventually(() => assert.deepEqual(good, ['start', 'die']));
    assert.equal(stream.stats.handlerErrors, 2);
  });

  it('hides health-check execs unless a subscriber asks for them', async () => {
    const inspected: string[] = [];
    // c1's probe runs `/bin/sh -c exit 0` as the engine runs probes, on its turn (one interval after the start).
    const healthChecks = new HealthCheckClassifier({
      async healthCheck(id) {
        inspected.push(id);
        return id === 'c1'
          ? { entrypoint: '/bin/sh', arguments: ['-c', 'exit 0'], user: '', intervalMs: 1_000, env: [], workingDir: '' }
          : undefined;
      },
      turn: async () => ({ startedAtMs: Number(T0 / 1_000_000n) - 1_000, log: [] }),
      exec: async () => ({
        tty: false,
        privileged: false,
        user: '',
        entrypoint: '/bin/sh',
        arguments: ['-c', 'exit 0'],
        openStdin: false,
        openStdout: true,
        openStderr: true,
        running: false,
        pid: 0,
      }),
      process: async () => undefined,
    });
    const quiet: string[] = [];
    const everything: string[] = [];
    stream = new EventStream({
      docker: new Dockerode({ socketPath: engine.socketPath }),
      backoff: fastBackoff,
      healthChecks,
    });
    stream.subscribe({ name: 'quiet', onEvent: (e) => void quiet.push(`${e.action}:${e.attributes.execID}`) });
    stream.subscribe({
      name: 'all',
      healthChecks: true,
      onEvent: (e) => void everything.push(`${e.action}:${e.attributes.execID}`),
    });
    stream.start();
    await engine.connection(1);
    const exec = (action: string, execID: string, t: bigint, id = 'c1') =>
      rawEvent({
        action: action === 'exec_die' ? action : `${action}: /bin/sh -c exit 0`,
        id,
        timeNano: t,
        attributes: { execID },
      });
    engine.send(
      1,
      exec('exec_create', 'h1', T0),
      exec('exec_start', 'h1', T0 + 1n),
      exec('exec_die', 'h1', T0 + 2n),
      // the same command run by hand in a container whose health check differs is a real exec
      exec('exec_create', 'u1', T0 + 3n, 'c2'),
      rawEvent({ action: 'exec_create: sh', id: 'c1', timeNano: T0 + 4n, attributes: { execID: 'u2' } }),
      rawEvent({ action: 'exec_die', id: 'c1', timeNano: T0 + 5n, attributes: { execID: 'u2' } }),
    );
    await eventually(() => assert.equal(everything.length, 6));
    await eventually(() => assert.deepEqual(quiet, ['exec_create:u1', 'exec_create:u2', 'exec_die:u2']));
    assert.deepEqual([...new Set(inspected)].sort(), ['c1', 'c2'], 'one inspect per container');
    assert.equal(inspected.length, 2);
  });
});

describe('EventStream with a container the engine never answers for', () => {
  let engine: FakeEngine;
  let stream: EventStream;
  beforeEach(async () => {
    engine = await new FakeEngine().start();
    engine.unanswered = [/^\/containers\/wedged\//];
  });
  afterEach(async () => {
    await stream?.stop();
    await engine.close();
  });

  /** A subscriber that inspects every container it hears of, as the agents do. */
  function inspecting(options: Partial<ConstructorParameters<typeof EventStream>[0]>) {
    const docker = applyRequestDeadlines(new Dockerode({ socketPath: engine.socketPath }), 60_000);
    const handled: string[] = [];
    const syncs: string[] = [];
    stream = new EventStream({ docker, backoff: fastBackoff, ...options });
    stream.subscribe({
      name: 'inspector',
      onEvent: async (e) => {
        await docker
          .getContainer(e.id)
          .inspect()
          .catch(() => undefined);
        handled.push(`${e.action}:${e.id}`);
      },
      onSync: (s) => {
        syncs.push(s.reason);
        for (const c of s.containers)
          s.followUp?.(
            `container:${c.Id}`,
            async () =>
              void (await docker
                .getContainer(c.Id)
                .inspect()
                .catch(() => undefined)),
          );
      },
    });
    return { handled, syncs };
  }

  it('keeps handling other containers and later syncs while one handler waits on the engine', async () => {
    engine.containers = [
      { Id: 'wedged', State: 'running' },
      { Id: 'c2', State: 'running' },
    ];
    const { handled, syncs } = inspecting({ isolateAfterMs: 50, resyncIntervalMs: 100 });
    stream.start();
    await engine.connection(1);
    engine.send(1, rawEvent({ action: 'start', id: 'wedged', timeNano: T0 }));
    engine.send(1, rawEvent({ action: 'start', id: 'c2', timeNano: T0 + 1n }));
    await eventually(() => assert.ok(syncs.length >= 3, `syncs ${syncs.join()}`), 5_000);
    engine.send(1, rawEvent({ action: 'create', id: 'c3', timeNano: T0 + 2n }));
    await eventually(() => assert.deepEqual(handled, ['start:c2', 'create:c3']));
  });

  it('says not ready once work has waited beyond the bound, naming the container holding it', async () => {
    let now = Date.now();
    inspecting({ isolateAfterMs: 50, dispatchLagBoundMs: 30_000, clock: () => now });
    stream.start();
    await engine.connection(1);
    engine.send(
      1,
      rawEvent({ action: 'start', id: 'wedged', timeNano: T0 }),
      rawEvent({ action: 'die', id: 'wedged', timeNano: T0 + 1n }),
    );
    await eventually(() => assert.equal(stream.backlog()[0]?.pending, 2));
    assert.deepEqual(stream.dispatchReadiness(), { ready: true, detail: 'dispatch keeping up' });
    now += 31_000;
    const readiness = stream.dispatchReadiness();
    assert.equal(readiness.ready, false);
    assert.match(
      readiness.detail,
      /dispatch stuck beyond 30 s: inspector: container:wedged waiting 31 s \(held by container:wedged running 31 s\)/,
    );
  });

  it('stops promptly although a handler never finishes', async () => {
    inspecting({ isolateAfterMs: 50 });
    stream.start();
    await engine.connection(1);
    engine.send(1, rawEvent({ action: 'start', id: 'wedged', timeNano: T0 }));
    await eventually(() => assert.equal(stream.backlog()[0]?.pending, 1));
    const began = Date.now();
    await stream.stop();
    assert.ok(Date.now() - began < 2_000, `stop took ${Date.now() - began} ms`);
  });
});

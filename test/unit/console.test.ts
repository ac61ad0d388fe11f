/** The host console's parts without an engine: the session cookie, the ring, the sections' arithmetic, the stream's coalescing and limit. */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import sinon from 'sinon';
import { ContainersSection, KEPT_SAMPLES } from '../../agents/stats-exporter/console-section';
import type { TrackedContainer } from '../../agents/stats-exporter/container';
import type { ContainerStats } from '../../agents/stats-exporter/collectors/stats';
import { RoutesSection } from '../../agents/logrouter/console-section';
import { RouteStats, type RouteView } from '../../agents/logrouter/stats';
import type { EventStream } from '../../shared/docker/event-stream';
import { AccessPolicy, cookieValue, SESSION_TTL_SECONDS } from '../../shared/ops/access';
import { HostConsole, MAX_PAGES } from '../../shared/ops/console/host-console';
import { type ConsoleAssets } from '../../shared/ops/console/assets';
import { Ring } from '../../shared/ops/console/ring';
import { OpsServer } from '../../shared/ops/http-server';
import { silentLogger } from '../../shared/ops/logger';
import { eventually } from '../support/eventually';
import { createMetricsRegistry } from '../../shared/ops/metrics';

function requestFrom(address: string, method = 'GET', headers: Record<string, string> = {}): IncomingMessage {
  return { method, headers, socket: { remoteAddress: address } } as unknown as IncomingMessage;
}

describe('console session cookie', () => {
  const guarded = new AccessPolicy('s3cret');
  const withToken = (token: string) => requestFrom('10.0.0.5', 'GET', { authorization: `Bearer ${token}` });
  const reading = (cookie: string) => requestFrom('10.0.0.5', 'GET', { cookie });
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => clock?.restore());

  it('is HttpOnly, SameSite=Strict, signed with a key from the token but not the token, and admits reads only', () => {
    const cookie = guarded.sessionCookie(withToken('s3cret'))!;
    assert.match(
      cookie,
      new RegExp(
        `^quayside_session=\\d+\\.[\\w-]{43}; Max-Age=${SESSION_TTL_SECONDS}; HttpOnly; SameSite=Strict; Path=/$`,
      ),
    );
    assert.ok(!cookie.includes('s3cret'));
    const value = cookie.split(';')[0]!;
    assert.equal(guarded.check(reading(`other=1; ${value}`), 'sensitive'), undefined);
    assert.equal(
      guarded.check(requestFrom('10.0.0.5', 'POST', { cookie: value }), 'sensitive')?.status,
      401,
      'a change needs the header',
    );
    assert.equal(guarded.check(reading(`${value}x`), 'sensitive')?.status, 401);
    assert.equal(
      guarded.check(reading(`quayside_session=s3cret`), 'sensitive')?.status,
      401,
      'the token is not a session',
    );
    const other = new AccessPolicy('other');
    assert.equal(other.check(reading(value), 'sensitive')?.status, 401, 'a new token ends the sessions');
  });

  it('is issued only to a request that shows the token: a session does not renew itself', () => {
    assert.equal(guarded.sessionCookie(withToken('wrong')), undefined);
    const value = guarded.sessionCookie(withToken('s3cret'))!.split(';')[0]!;
    assert.equal(guarded.sessionCookie(reading(value)), undefined);
    assert.equal(guarded.sessionCookie(requestFrom('127.0.0.1')), undefined, 'loopback is admitted without one');
  });

  it('expires after SESSION_TTL_SECONDS, and a later expiry cannot be written into it', () => {
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 11, 3, 12), toFake: ['Date'] });
    const value = guarded.sessionCookie(withToken('s3cret'))!.split(';')[0]!;
    const [expires, signature] = value.slice('quayside_session='.length).split('.');
    clock.tick((SESSION_TTL_SECONDS - 1) * 1000);
    assert.equal(guarded.check(reading(value), 'sensitive'), undefined, 'still valid a second before');
    const extended = `quayside_session=${Number(expires) + 3600}.${signature}`;
    clock.tick(1000);
    assert.equal(guarded.check(reading(value), 'sensitive')?.status, 401, 'expired');
    assert.equal(guarded.check(reading(extended), 'sensitive')?.status, 401, 'the expiry is signed');
  });

  it('is not offered without a token (loopback needs none)', () => {
    const open = new AccessPolicy(undefined);
    assert.equal(open.sessionCookie(withToken('')), undefined);
    assert.equal(open.check(reading('quayside_session='), 'sensitive')?.status, 403);
  });

  it('reads one cookie out of a header', () => {
    assert.equal(cookieValue('a=1; quayside_session=xyz; b=2', 'quayside_session'), 'xyz');
    assert.equal(cookieValue('xquayside_session=1', 'quayside_session'), undefined);
    assert.equal(cookieValue(undefined, 'a'), undefined);
  });
});

describe('Ring', () => {
  it('keeps the newest values, oldest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i += 1) ring.push(i);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.size, 3);
    assert.throws(() => new Ring(0), /positive integer/);
  });
});

function tracked(id: string, state: TrackedContainer['state'] = 'running'): TrackedContainer {
  return {
    id,
    name: `c-${id}`,
    image: 'busybox',
    labels: {},
    state,
    pid: 1,
    cgroupPath: `/docker/${id}`,
    cgroupPathProvisional: false,
    cgroupParent: '',
    createdAt: 1,
    startedAt: 2,
    restartCount: 0,
    restarts: 0,
    oomEvents: 0,
    configuredSpec: {},
  };
}

describe('ContainersSection (stats-exporter)', () => {
  it('turns the CPU counter into percent of one CPU, keeps 15 minutes, and forgets a container that went', async () => {
    let now = 0;
    let usage = 0;
    const containers = [tracked('a'), tracked('b', 'exited')];
    const collector = {
      name: 'test',
      collect: async (targets: readonly { id: string }[]) =>
        new Map<string, ContainerStats>(
          targets.map((t) => [
            t.id,
            { cpu: { usageSeconds: usage }, memory: { usageBytes: 200, workingSetBytes: 100 } },
          ]),
        ),
    };
    const section = new ContainersSection({
      containers: () => containers,
      collector,
      logger: silentLogger,
      now: () => now,
    });
    for (let i = 0; i < KEPT_SAMPLES + 10; i += 1) {
      await section.sample();
      now += 5_000;
      usage += 2.5; // half a CPU over 5 s
    }
    const [a, b] = section.snapshot().containers as Array<{
      id: string;
      cpuPercent: number[];
      memoryBytes: number[];
      startedAt: number | null;
    }>;
    assert.equal(a!.cpuPercent.length, KEPT_SAMPLES);
    assert.ok(
      a!.cpuPercent.every((v) => v === 50),
      `${a!.cpuPercent.slice(0, 3)}`,
    );
    assert.equal(a!.memoryBytes.length, KEPT_SAMPLES);
    assert.deepEqual(b!.cpuPercent, [], 'a stopped container is not sampled');
    assert.equal(b!.startedAt, null, 'no uptime when not running');
    containers.splice(0, 1);
    await section.sample();
    assert.equal(section.snapshot().containers.length, 1);
    containers.unshift(tracked('a'));
    assert.deepEqual(
      (section.snapshot().containers[0] as { cpuPercent: number[] }).cpuPercent,
      [],
      'series dropped with the container',
    );
  });
});

describe('RoutesSection (logrouter)', () => {
  it('shows lines and bytes per second between snapshots, the queue and the last error', () => {
    let now = 1_000;
    const stats = new RouteStats();
    const view: RouteView = {
      id: 'r1',
      stats,
      depth: 7,
      reconnects: 1,
      replayed: 0,
      connected: false,
      lastError: 'connect ECONNREFUSED 127.0.0.1:514',
    };
    const section = new RoutesSection(
      () => [view],
      () => now,
    );
    assert.equal(
      (section.snapshot().routes[0] as { linesPerSecond: number }).linesPerSecond,
      0,
      'no rate before two snapshots',
    );
    stats.linesOut += 30;
    stats.bytesOut += 3_000;
    now += 2_000;
    assert.deepEqual(section.snapshot().routes[0], {
      id: 'r1',
      connected: false,
      linesPerSecond: 15,
      bytesPerSecond: 1_500,
      queueDepth: 7,
      linesOut: 30,
      dropped: 0,
      retries: 0,
      reconnects: 1,
      lastError: 'connect ECONNREFUSED 127.0.0.1:514',
    });
  });
});

describe('HostConsole stream', () => {
  let server: OpsServer;
  let hostConsole: HostConsole;
  let base: string;
  let clock: sinon.SinonFakeTimers | undefined;
  let value = 1;

  beforeEach(async () => {
    server = new OpsServer(createMetricsRegistry('1.0.0'), silentLogger);
    const events = Object.assign(new EventEmitter(), { subscribe: () => () => undefined }) as unknown as EventStream;
    const assets = {
      get: () => ({ body: Buffer.from(''), type: 'text/plain', etag: '"x"' }),
    } as unknown as ConsoleAssets;
    hostConsole = new HostConsole({ http: server, events, logger: silentLogger, agents: ['test'], assets });
    value = 1;
    hostConsole.addSection({ name: 'counter', snapshot: () => ({ value }) });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    hostConsole.close();
    await server.close();
  });

  async function open(): Promise<{ text: () => string; abort: () => void; status: number }> {
    const abort = new AbortController();
    const response = await fetch(`${base}/console/stream`, { signal: abort.signal });
    let text = '';
    if (response.body) {
      const reader = response.body.getReader();
      void (async () => {
        for (;;) {
          const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (chunk.done) return;
          text += Buffer.from(chunk.value!).toString();
        }
      })();
    }
    return { text: () => text, abort: () => abort.abort(), status: response.status };
  }

  it('sends every section on connect, then a section only when it changed, at most once a second', async () => {
    clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const page = await open();
    await eventually(() =>
      assert.match(page.text(), /event: section\ndata: \{"name":"counter","data":\{"value":1\}\}/),
    );
    value = 2;
    value = 3;
    clock.tick(1_000);
    await eventually(() => assert.match(page.text(), /"value":3/));
    assert.doesNotMatch(page.text(), /"value":2/, 'changes within a second are coalesced');
    const sends = () => page.text().split('"name":"counter"').length - 1;
    const before = sends();
    clock.tick(5_000);
    value = 4;
    clock.tick(1_000);
    await eventually(() => assert.match(page.text(), /"value":4/));
    assert.equal(sends(), before + 1, 'five unchanged seconds sent nothing');
    page.abort();
  });

  it(`refuses more than ${MAX_PAGES} open pages`, async () => {
    const pages = await Promise.all(Array.from({ length: MAX_PAGES }, () => open()));
    assert.ok(pages.every((p) => p.status === 200));
    const extra = await fetch(`${base}/console/stream`);
    assert.equal(extra.status, 503);
    assert.match(((await extra.json()) as { error: string }).error, /8 console pages/);
    for (const p of pages) p.abort();
  });

  it('says when no logrouter runs, and refuses a container id that is not one', async () => {
    assert.equal((await fetch(`${base}/console/logs`)).status, 404);
    hostConsole.setLogTail((_request, response) => response.end('tail'));
    const bad = await fetch(`${base}/console/logs?id=../../etc`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /id must be a container ID/);
  });
});

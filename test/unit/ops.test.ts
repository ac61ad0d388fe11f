import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Counter } from 'prom-client';
import sinon from 'sinon';
import type { IncomingMessage } from 'node:http';
import { AccessPolicy } from '../../shared/ops/access';
import { OpsServer } from '../../shared/ops/http-server';
import { Lifecycle } from '../../shared/ops/lifecycle';
import { silentLogger } from '../../shared/ops/logger';
import { createMetricsRegistry } from '../../shared/ops/metrics';
import { eventually } from '../support/eventually';

describe('OpsServer', () => {
  let server: OpsServer;
  let base: string;
  let dockerReady: boolean;

  beforeEach(async () => {
    const registry = createMetricsRegistry('1.2.3');
    new Counter({ name: 'quayside_test_things_total', help: 'Things.', registers: [registry] }).inc(3);
    server = new OpsServer(registry, silentLogger);
    dockerReady = true;
    server.addReadinessCheck('docker', () => ({
      ready: dockerReady,
      detail: dockerReady ? 'connected' : 'unreachable',
    }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(() => server.close());

  it('answers /healthz', async () => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  it('answers /readyz with 503 while a check fails, naming it', async () => {
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    dockerReady = false;
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      ready: false,
      checks: { docker: { ready: false, detail: 'unreachable' } },
    });
  });

  it('treats a check that throws as not ready', async () => {
    server.addReadinessCheck('consul', () => {
      throw new Error('consul down');
    });
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 503);
    assert.match(JSON.stringify(await response.json()), /consul down/);
  });

  it('serves metrics in the Prometheus text format 0.0.4 with process metrics', async () => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const body = await response.text();
    assert.match(body, /^quayside_test_things_total 3$/m);
    assert.match(body, /^quayside_build_info\{version="1\.2\.3",nodejs="[\d.]+"\} 1$/m);
    assert.match(body, /^process_cpu_seconds_total /m);
  });

  it('serves agent routes, 404 for unknown paths and 405 for writes', async () => {
    server.addRoute('/findings', (_req, res) => void res.end('[]'), { access: 'sensitive' });
    assert.equal(await (await fetch(`${base}/findings`)).text(), '[]');
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);
    assert.throws(() => server.addRoute('/metrics', () => undefined, { access: 'public' }), /already taken/);
  });
});

/** A request as the server sees it, from `remoteAddress`, with these headers. */
function requestFrom(remoteAddress: string, method = 'GET', headers: Record<string, string> = {}): IncomingMessage {
  return { method, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

describe('AccessPolicy', () => {
  const open = new AccessPolicy(undefined);
  const guarded = new AccessPolicy('s3cret');

  it('lets anyone read public routes but change nothing', () => {
    assert.equal(open.check(requestFrom('10.0.0.5'), 'public'), undefined);
    assert.equal(open.check(requestFrom('10.0.0.5', 'HEAD'), 'public'), undefined);
    assert.equal(open.check(requestFrom('10.0.0.5', 'POST'), 'public')?.status, 403);
    assert.equal(guarded.check(requestFrom('10.0.0.5', 'DELETE'), 'public')?.status, 401);
  });

  it('admits loopback clients to sensitive routes, and others only with the token', () => {
    for (const local of ['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1']) {
      assert.equal(open.check(requestFrom(local), 'sensitive'), undefined, local);
      assert.equal(guarded.check(requestFrom(local, 'POST'), 'sensitive'), undefined, local);
    }
    assert.match(open.check(requestFrom('10.0.0.5'), 'sensitive')?.error ?? '', /loopback.*--api-token/);
    assert.equal(
      open.check(requestFrom('10.0.0.5', 'GET', { authorization: 'Bearer anything' }), 'sensitive')?.status,
      403,
      'no token set: none is right',
    );
    assert.equal(
      guarded.check(requestFrom('10.0.0.5', 'GET', { authorization: 'Bearer s3cret' }), 'sensitive'),
      undefined,
    );
    assert.equal(
      guarded.check(requestFrom('10.0.0.5', 'GET', { authorization: 'Bearer s3cret2' }), 'sensitive')?.status,
      401,
      'a longer token is wrong',
    );
    assert.equal(
      guarded.check(requestFrom('10.0.0.5', 'GET', { authorization: 's3cret' }), 'sensitive')?.status,
      401,
      'not a bearer header',
    );
    assert.equal(guarded.check(requestFrom('::ffff:10.0.0.5'), 'sensitive')?.status, 401);
  });

  it('takes a loopback client that carries proxy headers for the remote client it is', () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via']) {
      assert.equal(
        open.check(requestFrom('127.0.0.1', 'GET', { [header]: '10.0.0.5' }), 'sensitive')?.status,
        403,
        header,
      );
      assert.equal(
        guarded.check(
          requestFrom('127.0.0.1', 'GET', { [header]: '10.0.0.5', authorization: 'Bearer s3cret' }),
          'sensitive',
        ),
        undefined,
        header,
      );
    }
  });
});

describe('AccessPolicy and a browser on the host (CSRF, DNS rebinding)', () => {
  const open = new AccessPolicy(undefined);
  const guarded = new AccessPolicy('s3cret');

  it('trusts a loopback client that names a loopback host, its own origin, or no site at all', () => {
    for (const host of ['127.0.0.1:9477', 'localhost:9477', 'LOCALHOST', '127.1.2.3', '[::1]:9477']) {
      assert.equal(open.check(requestFrom('127.0.0.1', 'POST', { host }), 'sensitive'), undefined, host);
    }
    const ownPage = { host: '127.0.0.1:9477', origin: 'http://127.0.0.1:9477', 'sec-fetch-site': 'same-origin' };
    assert.equal(open.check(requestFrom('127.0.0.1', 'POST', ownPage), 'sensitive'), undefined);
    const typedUrl = { host: 'localhost:9477', 'sec-fetch-site': 'none' };
    assert.equal(open.check(requestFrom('::1', 'GET', typedUrl), 'sensitive'), undefined);
  });

  it('refuses a rebinding page: a loopback client whose Host is another name', () => {
    for (const host of ['rebind.evil.example:9477', 'evil.example', '127.0.0.1.evil.example', '10.0.0.5:9477']) {
      assert.equal(open.check(requestFrom('127.0.0.1', 'GET', { host }), 'sensitive')?.status, 403, host);
      assert.equal(open.trusts(requestFrom('127.0.0.1', 'GET', { host })), false, `${host}: no readiness details`);
    }
  });

  it("refuses another site's page: a foreign Origin, or Sec-Fetch-Site cross-site or same-site", () => {
    const host = '127.0.0.1:9477';
    const pages: Array<Record<string, string>> = [
      { host, origin: 'https://evil.example' },
      { host, origin: 'http://localhost:8080' },
      { host, origin: 'null' },
      { host, 'sec-fetch-site': 'cross-site' },
      { host, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of pages) {
      const label = JSON.stringify(headers);
      assert.equal(open.check(requestFrom('127.0.0.1', 'POST', headers), 'sensitive')?.status, 403, label);
      assert.match(open.check(requestFrom('127.0.0.1', 'POST', headers), 'sensitive')?.error ?? '', /another site/);
      assert.equal(guarded.check(requestFrom('127.0.0.1', 'POST', headers), 'sensitive')?.status, 401, label);
      assert.equal(
        guarded.check(requestFrom('127.0.0.1', 'POST', { ...headers, authorization: 'Bearer s3cret' }), 'sensitive'),
        undefined,
        `${label} with the token`,
      );
    }
  });
});

describe('OpsServer connection cap', () => {
  it('closes connections beyond the cap at once, and serves again when one is freed', async () => {
    const server = new OpsServer(createMetricsRegistry('1.2.3'), silentLogger, { maxConnections: 3 });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const opened: Socket[] = [];
    try {
      // Clients that connect and send nothing, as a flood would.
      for (let i = 0; i < 3; i++) {
        const socket = connect(port, '127.0.0.1');
        opened.push(socket);
        await once(socket, 'connect');
      }
      const extra = connect(port, '127.0.0.1');
      opened.push(extra);
      await once(extra, 'close');
      opened[0]!.destroy();
      await eventually(
        async () => assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200),
        5_000,
        20,
      );
    } finally {
      for (const socket of opened) socket.destroy();
      await server.close();
    }
  });
});

describe('OpsServer access', () => {
  let server: OpsServer;
  let base: string;
  const seen: string[] = [];

  beforeEach(async () => {
    seen.length = 0;
    server = new OpsServer(createMetricsRegistry('1.2.3'), silentLogger, { apiToken: 't0ken' });
    server.addReadinessCheck('consul', () => ({ ready: false, detail: 'cannot reach http://user:pw@consul:8500' }));
    server.addRoute(
      '/secret',
      (request, response) => void (seen.push(request.method ?? ''), response.end('the secret')),
      { access: 'sensitive', methods: ['POST'] },
    );
    server.addRoute('/open', (request, response) => void (seen.push(request.method ?? ''), response.end('open')), {
      access: 'public',
      methods: ['DELETE'],
    });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(() => server.close());

  it('applies the route level before any handler runs, and never to /healthz or /metrics', async () => {
    const proxied = { 'X-Forwarded-For': '203.0.113.9' };
    const secret = await fetch(`${base}/secret`, { headers: proxied });
    assert.equal(secret.status, 401);
    assert.equal(secret.headers.get('www-authenticate'), 'Bearer');
    assert.doesNotMatch(await secret.text(), /the secret/);
    assert.equal(
      (await fetch(`${base}/open`, { method: 'DELETE', headers: proxied })).status,
      401,
      'a change to a public route',
    );
    assert.deepEqual(seen, [], 'no handler ran for a refused request');
    assert.equal(
      await (await fetch(`${base}/secret`, { headers: { ...proxied, Authorization: 'Bearer t0ken' } })).text(),
      'the secret',
    );
    assert.equal(await (await fetch(`${base}/open`, { headers: proxied })).text(), 'open');
    assert.equal((await fetch(`${base}/healthz`, { headers: proxied })).status, 200);
    assert.equal((await fetch(`${base}/metrics`, { headers: proxied })).status, 200);
  });

  it('shows readiness details only to trusted clients', async () => {
    const anyone = await fetch(`${base}/readyz`, { headers: { Via: '1.1 proxy' } });
    assert.equal(anyone.status, 503);
    assert.deepEqual(await anyone.json(), { ready: false, checks: { consul: { ready: false } } });
    const local = await (await fetch(`${base}/readyz`)).json();
    assert.deepEqual(local, {
      ready: false,
      checks: { consul: { ready: false, detail: 'cannot reach http://user:pw@consul:8500' } },
    });
  });
});

describe('Lifecycle', () => {
  afterEach(() => sinon.restore());

  it('runs stop hooks last-registered first and exits 0', async () => {
    const lifecycle = new Lifecycle(silentLogger, 1_000);
    const order: string[] = [];
    lifecycle.onShutdown('http', () => void order.push('http'));
    lifecycle.onShutdown('events', async () => void order.push('events'));
    lifecycle.onShutdown('agent', () => void order.push('agent'));
    assert.equal(await lifecycle.shutdown('SIGTERM'), 0);
    assert.deepEqual(order, ['agent', 'events', 'http']);
  });

  it('runs the hooks only once however often it is asked', async () => {
    const lifecycle = new Lifecycle(silentLogger, 1_000);
    const hook = sinon.spy();
    lifecycle.onShutdown('x', hook);
    await Promise.all([lifecycle.shutdown('SIGTERM'), lifecycle.shutdown('SIGINT')]);
    sinon.assert.calledOnce(hook);
  });

  it('exits 1 when a hook overruns the deadline', async () => {
    const clock = sinon.useFakeTimers();
    const lifecycle = new Lifecycle(silentLogger, 10_000);
    lifecycle.onShutdown('stuck', () => new Promise(() => undefined));
    const code = lifecycle.shutdown('SIGTERM');
    await clock.tickAsync(10_001);
    assert.equal(await code, 1);
  });

  it('goes on with the other hooks when one fails, and exits 1', async () => {
    const lifecycle = new Lifecycle(silentLogger, 1_000);
    const later = sinon.spy();
    lifecycle.onShutdown('later', later);
    lifecycle.onShutdown('broken', () => {
      throw new Error('flush failed');
    });
    assert.equal(await lifecycle.shutdown('SIGTERM'), 1);
    sinon.assert.calledOnce(later);
  });
});

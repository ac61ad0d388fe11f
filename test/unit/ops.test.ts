import { strict as assert } from 'node:assert';
import { Counter } from 'prom-client';
import sinon from 'sinon';
import { OpsServer } from '../../shared/ops/http-server';
import { Lifecycle } from '../../shared/ops/lifecycle';
import { silentLogger } from '../../shared/ops/logger';
import { createMetricsRegistry } from '../../shared/ops/metrics';

describe('OpsServer', () => {
  let server: OpsServer;
  let base: string;
  let dockerReady: boolean;

  beforeEach(async () => {
    const registry = createMetricsRegistry('1.2.3');
    new Counter({ name: 'quayside_test_things_total', help: 'Things.', registers: [registry] }).inc(3);
    server = new OpsServer(registry, silentLogger);
    dockerReady = true;
    server.addReadinessCheck('docker', () => ({ ready: dockerReady, detail: dockerReady ? 'connected' : 'unreachable' }));
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
    assert.deepEqual(await response.json(), { ready: false, checks: { docker: { ready: false, detail: 'unreachable' } } });
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
    server.addRoute('/findings', (_req, res) => void res.end('[]'));
    assert.equal(await (await fetch(`${base}/findings`)).text(), '[]');
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);
    assert.throws(() => server.addRoute('/metrics', () => undefined), /already taken/);
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

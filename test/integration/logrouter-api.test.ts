/**
 * TLS to rsyslog with a test CA made by openssl now (verified by default; a route trusting another
 * CA delivers nothing and shows on /readyz), the /routes API (persisted in the state folder), the
 * live /logs stream and the metrics.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../agents/logrouter/checkpoint-store';
import { eventually } from '../support/eventually';
import { HttpLogService } from '../support/http-log-service';
import { dockerLines, runScript, startRouter, waitExited, type RunningRouter } from '../support/logrouter';
import { PrivateRsyslog } from '../support/rsyslog';
import { makeTestCa } from '../support/test-ca';
import { removeTestContainers, startEngine, testDocker, uniqueTag } from '../support/test-env';

describe('quayside logrouter: TLS, /routes, /logs and metrics', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const run = uniqueTag('lra');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lra-'));
  const ca = makeTestCa(join(dir, 'ca'));
  const rsyslog = new PrivateRsyslog(join(dir, 'rsyslog'), ca);
  const service = new HttpLogService();
  let router: RunningRouter;
  let base: string;

  before(async () => {
    await startEngine();
    await rsyslog.start();
    await service.start();
    const tls = `syslog+tls://127.0.0.1:${rsyslog.port}?filter.name=${run}-tls&tls.servername=logs.test`;
    router = startRouter([`${tls}&tls.ca=${ca.ca}`, `${tls}&tls.ca=${ca.otherCa}`], join(dir, 'state'));
    base = `http://127.0.0.1:${await router.port()}`;
  });

  after(async () => {
    await router?.stop();
    await rsyslog.stop();
    await service.stop();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers over TLS to a server its CA signed, and nothing through the route trusting another CA', async () => {
    const container = await runScript(docker, `${run}-tls`, 'for i in 1 2 3 4 5; do echo "tls line $i"; done');
    await waitExited(container);
    const truth = (await dockerLines(container)).map((l) => l.data.toString());
    await eventually(
      () =>
        assert.deepEqual(
          rsyslog.received().map((r) => r.msg),
          truth,
        ),
      30_000,
      100,
    );
    const ready = await eventually(
      async () => {
        const response = await fetch(`${base}/readyz`);
        const body = (await response.json()) as { checks: Record<string, { detail?: string }> };
        assert.equal(response.status, 503);
        assert.match(body.checks.logrouter?.detail ?? '', /routes not delivering/);
        return body;
      },
      30_000,
      200,
    );
    assert.ok(ready);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /quayside_logrouter_lines_out_total\{route="[0-9a-f]{12}"\} 5/);
    assert.match(metrics, /quayside_logrouter_retries_total\{route="[0-9a-f]{12}"\} [1-9]/);
    assert.match(metrics, /quayside_logrouter_queue_depth\{route="[0-9a-f]{12}"\} 5/);
    // Sent once, while the other route still holds its five lines.
    assert.equal(rsyslog.received().length, 5);
  });

  it('adds, lists and deletes routes through /routes, persisting what the API added', async () => {
    const listed = (await (await fetch(`${base}/routes`)).json()) as Array<{ id: string; adapter: string }>;
    assert.deepEqual(
      listed.map((r) => r.adapter),
      ['syslog+tls', 'syslog+tls'],
    );
    const bad = await fetch(`${base}/routes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ adapter: 'kafka', address: 'x:1' }),
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Bad route: bad adapter: kafka/);
    const misspelt = await fetch(`${base}/routes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ adapter: 'syslog+tcp', address: 'x:1', options: { framming: 'octet-counted' } }),
    });
    assert.equal(misspelt.status, 400);
    assert.match(await misspelt.text(), /Bad route: unknown option framming for syslog\+tcp \(known: /);
    const created = await fetch(`${base}/routes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        adapter: 'http',
        address: `127.0.0.1:${service.port}`,
        path: '/api',
        filter_name: `${run}-api`,
      }),
    });
    assert.equal(created.status, 201);
    const route = (await created.json()) as { id: string };
    const file = join(dir, 'state', 'logrouter', 'routes', `${route.id}.json`);
    assert.ok(existsSync(file), 'the route is stored');
    const container = await runScript(docker, `${run}-api`, 'echo via api');
    await waitExited(container);
    await eventually(
      () =>
        assert.deepEqual(
          service.events().map((e) => e.message),
          ['via api'],
        ),
      30_000,
      100,
    );
    assert.equal((await fetch(`${base}/routes/${route.id}`, { method: 'DELETE' })).status, 200);
    assert.ok(!existsSync(file), 'the stored route is gone');
    assert.equal((await fetch(`${base}/routes/${route.id}`)).status, 404);
  });

  it('streams live logs on /logs as NDJSON, filtered by name', async () => {
    const container = await runScript(docker, `${run}-ticker`, 'while :; do echo tick; usleep 100000; done');
    await eventually(async () => assert.equal((await container.inspect()).State.Running, true));
    // The agent tracks the container once its start event arrived.
    const first = await eventually(() => readFirstLine(`${base}/logs/name:${run}-tick*?format=json`), 30_000, 200);
    const event = JSON.parse(first) as { container: string; source: string; data: string };
    assert.deepEqual([event.container, event.source, event.data], [`${run}-ticker`, 'stdout', 'tick']);
  });

  it('exits 0 on SIGTERM with the checkpoints of what it delivered on disk', async () => {
    const [tls] = await docker.listContainers({ all: true, filters: { name: [`${run}-tls`] } });
    assert.equal(await router.stop('SIGTERM'), 0);
    const store = new CheckpointStore(join(dir, 'state', 'logrouter'));
    const positions = store.all();
    store.close();
    const forTls = Object.values(positions).map((byContainer) => byContainer[tls!.Id]?.stdout);
    // The route that delivered is at the last line; the one that never connected is where it started.
    assert.ok(
      forTls.some((p) => p !== undefined && p.n === 1 && p.ts > '2000'),
      JSON.stringify(positions),
    );
  });
});

function readFirstLine(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, (response) => {
      let text = '';
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error('no line within 3 s'));
      }, 3_000);
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const newline = text.indexOf('\n');
        if (newline >= 0) {
          clearTimeout(timer);
          req.destroy();
          resolve(text.slice(0, newline));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The logrouter's HTTP API against a fake engine (/logs flow control and clean-up, route changes) and the HTTP route's answers. */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import { createAdapter } from '../../agents/logrouter/adapters';
import { RetryLater } from '../../agents/logrouter/adapters/adapter';
import { LiveLogs } from '../../agents/logrouter/live-logs';
import { addLogrouterApi } from '../../agents/logrouter/api';
import type { ContainerMeta, LogMessage } from '../../agents/logrouter/message';
import { parseRouteUri } from '../../agents/logrouter/route';
import type { LogRouter } from '../../agents/logrouter/router';
import { OpsServer } from '../../shared/ops/http-server';
import { silentLogger } from '../../shared/ops/logger';
import { eventually } from '../support/eventually';
import { HttpLogService } from '../support/http-log-service';

const container: ContainerMeta = {
  id: 'c0ffee'.padEnd(64, '0'),
  name: 'chatty',
  image: 'busybox',
  hostname: 'c0ffee',
  pid: 1,
  labels: {},
  tty: false,
};

function frames(lines: number, ts: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const body = Buffer.from(`${ts} ${'y'.repeat(200)} ${i}\n`);
    const header = Buffer.alloc(8);
    header[0] = 1;
    header.writeUInt32BE(body.length, 4);
    parts.push(header, body);
  }
  return Buffer.concat(parts);
}

/** The /routes API on loopback over a router with no routes, whose additions go to `addRoute`. */
async function routesApi(
  addRoute: (spec: unknown) => unknown,
  routesDir: string,
): Promise<{ server: OpsServer; port: number }> {
  const router = { routeSpecs: () => [], addRoute, removeRoute: () => false } as unknown as LogRouter;
  const server = new OpsServer(new Registry());
  const live = new LiveLogs({} as Pick<Dockerode, 'getContainer'>, silentLogger, 1, () => []);
  addLogrouterApi({ http: server, router, live, routesDir, logger: silentLogger });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port };
}

describe('logrouter /logs', () => {
  it('disconnects a client that does not read (memory stays bounded), and closes the engine stream when no client is left', async () => {
    const engine = new PassThrough({ highWaterMark: 64 * 1024 });
    const docker = { getContainer: () => ({ logs: async () => engine }) } as unknown as Pick<Dockerode, 'getContainer'>;
    const server = new OpsServer(new Registry());
    const live = new LiveLogs(docker, silentLogger, 10, () => [container]);
    addLogrouterApi({ http: server, router: {} as LogRouter, live, routesDir: '/nonexistent', logger: silentLogger });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = connect(port, '127.0.0.1');
    try {
      await once(client, 'connect');
      client.write(`GET /logs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`); // and then never reads
      await eventually(() => assert.ok(engine.listenerCount('data') > 0, 'the stream is followed'), 5_000, 10);
      // The engine writes as long as the stream takes bytes, like dockerd on a socket.
      const chunk = frames(300, '2026-11-27T20:20:15.620573110Z');
      let produced = 0;
      while (produced < 256 * 1024 * 1024 && !engine.destroyed) {
        produced += chunk.length;
        if (!engine.write(chunk)) {
          const drained = await Promise.race([
            once(engine, 'drain').then(() => true),
            new Promise((r) => setTimeout(() => r(false), 500)),
          ]);
          if (!drained) break;
        }
      }
      assert.ok(
        produced < 48 * 1024 * 1024,
        `the agent took ${(produced / 1048576).toFixed(0)} MiB for a client that reads nothing`,
      );
      await eventually(
        () => assert.ok(engine.destroyed, 'the engine stream is closed once its only client is gone'),
        5_000,
        10,
      );
      assert.equal(live.clientCount, 0);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('shares one engine stream per container among all clients, follows containers started later, and refuses clients over the limit', async () => {
    const engines = new Map<string, PassThrough[]>();
    const docker = {
      getContainer: (id: string) => ({
        logs: async () => {
          const stream = new PassThrough();
          engines.set(id, [...(engines.get(id) ?? []), stream]);
          return stream;
        },
      }),
    } as unknown as Pick<Dockerode, 'getContainer'>;
    const later = { ...container, id: 'cd34'.padEnd(64, '0'), name: 'later' };
    const server = new OpsServer(new Registry());
    const live = new LiveLogs(docker, silentLogger, 3, () => [container]);
    addLogrouterApi({ http: server, router: {} as LogRouter, live, routesDir: '/nonexistent', logger: silentLogger });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const controllers = [0, 1, 2].map(() => new AbortController());
    try {
      const responses = await Promise.all(
        controllers.map((c) => fetch(`http://127.0.0.1:${port}/logs`, { signal: c.signal })),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200],
      );
      const over = await fetch(`http://127.0.0.1:${port}/logs`);
      assert.equal(over.status, 503);
      assert.match(await over.text(), /--log-api-max-clients/);
      await eventually(
        () => assert.equal(engines.get(container.id)?.length, 1, 'one engine stream for three clients'),
        5_000,
        10,
      );
      live.started(later);
      await eventually(
        () => assert.equal(engines.get(later.id)?.length, 1, 'a container started later is followed'),
        5_000,
        10,
      );
      engines.get(later.id)![0]!.write(frames(1, '2026-11-27T20:20:15.620573110Z'));
      const readers = responses.map((r) => r.body!.getReader());
      for (const reader of readers) assert.match(new TextDecoder().decode((await reader.read()).value), /^later\|/);
      for (const c of controllers) c.abort();
      await eventually(
        () =>
          assert.ok(
            [...engines.values()].flat().every((s) => s.destroyed),
            'streams closed with the last client',
          ),
        5_000,
        10,
      );
    } finally {
      for (const c of controllers) c.abort();
      await server.close();
    }
  });

  it('refuses route changes that a reverse proxy on this host forwards, without a token', async () => {
    const { server, port } = await routesApi(() => undefined, '/nonexistent');
    try {
      const proxied = await fetch(`http://127.0.0.1:${port}/routes/abc`, {
        method: 'DELETE',
        headers: { 'X-Forwarded-For': '203.0.113.9' },
      });
      assert.equal(proxied.status, 403);
      const direct = await fetch(`http://127.0.0.1:${port}/routes/abc`, { method: 'DELETE' });
      assert.equal(direct.status, 404, 'a loopback client itself may (the route just does not exist)');
    } finally {
      await server.close();
    }
  });

  it("refuses a route that another site's page posts, as a form would (text/plain, foreign Origin or rebound Host)", async () => {
    const added: unknown[] = [];
    const { server, port } = await routesApi((spec) => added.push(spec), mkdtempSync(join(tmpdir(), 'qs-api-')));
    const url = `http://127.0.0.1:${port}/routes`;
    const body = JSON.stringify({ adapter: 'syslog', address: '203.0.113.9:514', options: {} });
    const post = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers, body });
    try {
      const crossSite = await post({
        'Content-Type': 'text/plain;charset=UTF-8',
        Origin: 'https://evil.example',
        'Sec-Fetch-Site': 'cross-site',
      });
      assert.equal(crossSite.status, 403);
      // fetch() sends the URL's host whatever it is told; a rebound page's browser sends its own name.
      const rebound = request(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Host: `rebind.evil.example:${port}` },
      });
      rebound.end(body);
      const [answer] = (await once(rebound, 'response')) as [IncomingMessage];
      answer.resume();
      assert.equal(answer.statusCode, 403);
      const plainText = await post({ 'Content-Type': 'text/plain;charset=UTF-8' });
      assert.equal(plainText.status, 415, 'a body that is not declared JSON, even from a local program');
      assert.match(await plainText.text(), /Content-Type: application\/json/);
      assert.equal(added.length, 0, 'no route added');
      const local = await post({
        'Content-Type': 'application/json; charset=utf-8',
        Origin: `http://127.0.0.1:${port}`,
      });
      assert.equal(local.status, 201, 'the host console or curl on the host');
      assert.equal(added.length, 1);
    } finally {
      await server.close();
    }
  });

  it('HTTP route: halves a batch the service finds too large (413) and waits out 401/403 instead of dropping', async () => {
    const service = new HttpLogService();
    await service.start();
    const adapter = createAdapter({
      spec: parseRouteUri(`http://127.0.0.1:${service.port}/in`),
      env: {},
      stdout: process.stdout,
    });
    const batch: LogMessage[] = ['a', 'b', 'c', 'd', 'e'].map((data) => ({
      container,
      source: 'stdout',
      ts: '2026-11-27T20:20:15.620573110Z',
      data: Buffer.from(data),
      done: () => undefined,
    }));
    try {
      service.answer(413); // a b c d e
      service.answer(200); // a b c
      service.answer(413); // d e
      service.answer(200); // d
      service.answer(401); // e: the key was rotated
      await assert.rejects(adapter.send(batch), RetryLater);
      service.answer(403);
      await assert.rejects(adapter.send(batch), RetryLater);
      assert.equal(await adapter.send(batch), undefined, 'then accepted');
      assert.deepEqual(
        service.events().map((e) => e.message),
        ['a', 'b', 'c', 'd', 'e'],
        'each line once, in order',
      );
      // A line the service refuses as such (400) is dropped and counted, the others still go.
      service.answer(413);
      service.answer(400);
      const outcome = await adapter.send(batch.slice(0, 2));
      assert.deepEqual(outcome, { rejected: { reason: `HTTP 400 from 127.0.0.1:${service.port}: `, count: 1 } });
      assert.deepEqual(
        service
          .events()
          .map((e) => e.message)
          .slice(5),
        ['b'],
      );
    } finally {
      await adapter.close();
      await service.stop();
    }
  });
});

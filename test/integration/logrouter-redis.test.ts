/**
 * The Redis route when the connection breaks in the middle of a batch: Redis runs every complete
 * command it received, so a plain pipeline that is sent again after the break duplicates its first
 * half. The batch must go in all or nothing.
 */
import { strict as assert } from 'node:assert';
import { createServer, connect, type Server, type Socket } from 'node:net';
import Redis from 'ioredis';
import { createAdapter } from '../../agents/logrouter/adapters';
import type { ContainerMeta, LogMessage } from '../../agents/logrouter/message';
import { parseRouteUri } from '../../agents/logrouter/route';
import { eventually } from '../support/eventually';
import { testEnv, uniqueTag } from '../support/test-env';

const container: ContainerMeta = {
  id: 'feed'.padEnd(64, '0'),
  name: 'web',
  image: 'busybox',
  hostname: 'feed',
  pid: 1,
  labels: {},
  tty: false,
};

/** A TCP proxy to Redis that can cut the connection after a given number of bytes of the next request. */
class CuttingProxy {
  private server: Server | undefined;
  private cutAfter: number | undefined;
  private readonly clients = new Set<Socket>();
  port = 0;

  async start(host: string, port: number): Promise<void> {
    this.server = createServer((client) => {
      this.clients.add(client);
      const upstream = connect(port, host);
      let forwarded = 0;
      upstream.on('data', (chunk) => client.write(chunk));
      client.on('data', (chunk: Buffer) => {
        if (this.cutAfter !== undefined && forwarded + chunk.length > this.cutAfter) {
          upstream.write(chunk.subarray(0, this.cutAfter - forwarded), () => {
            client.destroy();
            upstream.destroy();
          });
          this.cutAfter = undefined;
          return;
        }
        forwarded += chunk.length;
        upstream.write(chunk);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.clients.delete(client);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      // Counted from here: the bytes of the next request.
      this.armAt = () => forwarded;
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }

  private armAt: () => number = () => 0;

  /** The connection breaks once `bytes` more bytes went to Redis. */
  cutAfterNext(bytes: number): void {
    this.cutAfter = this.armAt() + bytes;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe('quayside logrouter: Redis batches across a broken connection', function () {
  this.timeout(60_000);
  const { host, port } = testEnv().redis;
  const redis = new Redis({ host, port, lazyConnect: true });
  const proxy = new CuttingProxy();

  before(async () => {
    await redis.connect();
    await proxy.start(host, port);
  });

  after(async () => {
    redis.disconnect();
    await proxy.stop();
  });

  for (const mode of ['xadd', 'rpush']) {
    it(`${mode}: a batch cut in the middle and sent again is stored exactly once`, async () => {
      const key = `${uniqueTag('lrx')}:${mode}`;
      const adapter = createAdapter({
        spec: parseRouteUri(`redis://127.0.0.1:${proxy.port}/${key}?mode=${mode}`),
        env: {},
        stdout: process.stdout,
      });
      try {
        await eventually(() => assert.ok(adapter.connected), 10_000, 20);
        const batch: LogMessage[] = Array.from({ length: 200 }, (_, i) => ({
          container,
          source: 'stdout',
          ts: '2026-11-27T20:20:15.620573110Z',
          data: Buffer.from(`line ${i} ${'z'.repeat(300)}`),
          done: () => undefined,
        }));
        proxy.cutAfterNext(40_000); // about half of the batch
        await assert.rejects(adapter.send(batch));
        // The route sends the batch again once Redis is back.
        await eventually(() => assert.ok(adapter.connected), 10_000, 20);
        await adapter.send(batch);
        const stored = mode === 'xadd' ? await redis.xlen(key) : await redis.llen(key);
        assert.equal(stored, 200, 'every line once, none twice');
      } finally {
        await adapter.close();
        await redis.del(key);
      }
    });
  }
});

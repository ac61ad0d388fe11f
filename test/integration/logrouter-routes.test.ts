/**
 * Redis and HTTP routes, filters and opt-outs against real Redis and an HTTP log-service double:
 * XADD and RPUSH with logstash-style JSON, NDJSON with gzip and an API-key header through 429
 * (Retry-After) and 503 answers, label/source filters, LOGSPOUT=ignore, quayside.logs=ignore and
 * EXCLUDE_LABELS.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { eventually } from '../support/eventually';
import { HttpLogService } from '../support/http-log-service';
import { runScript, startRouter, waitExited, type RunningRouter } from '../support/logrouter';
import { removeTestContainers, startEngine, testDocker, testEnv, uniqueTag } from '../support/test-env';

describe('quayside logrouter: Redis and HTTP routes, filters and opt-outs', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const run = uniqueTag('lrr');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrr-'));
  const redis = new Redis({ host: testEnv().redis.host, port: testEnv().redis.port, lazyConnect: true });
  const service = new HttpLogService();
  let router: RunningRouter;
  const stream = `${run}:stream`;
  const list = `${run}:list`;

  before(async () => {
    await startEngine();
    await redis.connect();
    await service.start();
    // The first two posts are refused for a while: 429 asking for 1 s, then 503.
    service.answer(429, { 'Retry-After': '1' }, '/ingest');
    service.answer(503, undefined, '/ingest');
    const { host, port } = testEnv().redis;
    router = startRouter(
      [
        `redis://${host}:${port}/${stream}?filter.labels=team:sh*&maxlen=1000`,
        `redis://${host}:${port}/${list}?mode=rpush&filter.name=${run}-*&filter.sources=stderr`,
        `http://127.0.0.1:${service.port}/ingest?filter.name=${run}-*&filter.labels=team&gzip=true&header.X-Api-Key=secret&json=true`,
        `http://127.0.0.1:${service.port}/multiline?filter.name=${run}-trace&format=json&multiline=true`,
      ],
      join(dir, 'state'),
      [],
      { EXCLUDE_LABELS: `${run}.skip:yes` },
    );
    await router.port();
    const script = `echo '{"level":"warn","message":"json line"}'; echo out; echo err >&2`;
    const started = await Promise.all([
      runScript(docker, `${run}-shop`, script, { labels: { team: 'shop' } }),
      runScript(docker, `${run}-other`, script, { labels: { team: 'other' } }),
      runScript(docker, `${run}-ignored-env`, script, { env: ['LOGSPOUT=ignore'], labels: { team: 'shop' } }),
      runScript(docker, `${run}-ignored-label`, script, { labels: { team: 'shop', 'quayside.logs': 'ignore' } }),
      runScript(docker, `${run}-excluded`, script, { labels: { team: 'shop', [`${run}.skip`]: 'YES' } }),
      runScript(docker, `${run}-trace`, "echo 'Exception: boom'; echo '    at a()'; echo '    at b()'; echo next"),
    ]);
    await Promise.all(started.map((c) => waitExited(c)));
  });

  after(async () => {
    await router?.stop();
    await service.stop();
    await redis.del(stream, list);
    redis.disconnect();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('XADDs logstash-style JSON for the containers the label filter takes', async () => {
    const entries = await eventually(
      async () => {
        const got = await redis.xrange(stream, '-', '+');
        assert.equal(got.length, 3, JSON.stringify(got));
        return got;
      },
      30_000,
      100,
    );
    const events = entries.map(([, fields]) => JSON.parse(fields[1]!) as Record<string, unknown>);
    for (const event of events) {
      assert.equal((event.docker as { name: string }).name, `${run}-shop`);
      assert.equal(event['@version'], '1');
      assert.match(String(event['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    }
    assert.deepEqual(
      new Set(events.map((e) => `${String(e.stream)} ${String(e.message)}`)),
      new Set(['stdout {"level":"warn","message":"json line"}', 'stdout out', 'stderr err']),
    );
  });

  it('RPUSHes only stderr with filter.sources=stderr, and skips opted-out containers', async () => {
    const items = await eventually(
      async () => {
        const got = await redis.lrange(list, 0, -1);
        assert.equal(got.length, 2, JSON.stringify(got));
        return got.map((item) => JSON.parse(item) as { stream: string; message: string; docker: { name: string } });
      },
      30_000,
      100,
    );
    assert.deepEqual(
      items.map((i) => i.stream),
      ['stderr', 'stderr'],
    );
    assert.deepEqual(new Set(items.map((i) => i.docker.name)), new Set([`${run}-shop`, `${run}-other`]));
  });

  it('POSTs gzipped NDJSON with the API key, waits out 429 and 503, and parses JSON lines', async () => {
    const events = await eventually(
      () => {
        const got = service.events().filter((e) => (e.docker as { name: string }).name !== `${run}-trace`);
        assert.equal(got.length, 6, JSON.stringify(service.requests.map((r) => r.status)));
        return got;
      },
      60_000,
      100,
    );
    const ingest = service.requests.filter((r) => r.path === '/ingest');
    assert.deepEqual(
      ingest.slice(0, 2).map((r) => r.status),
      [429, 503],
    );
    for (const request of ingest) {
      assert.equal(request.path, '/ingest');
      assert.equal(request.headers['x-api-key'], 'secret');
      assert.equal(request.headers['content-encoding'], 'gzip');
      assert.equal(request.headers['content-type'], 'application/x-ndjson');
    }
    const parsed = events.filter((e) => e.level === 'warn');
    assert.equal(parsed.length, 2, 'the JSON line of each container was parsed into fields');
    assert.equal(parsed[0]!.message, 'json line');
    assert.deepEqual(
      new Set(events.map((e) => (e.docker as { name: string }).name)),
      new Set([`${run}-shop`, `${run}-other`]),
    );
  });

  it('merges indented continuation lines into one message with multiline=true, sent as a JSON array', async () => {
    await eventually(
      () => {
        const requests = service.requests.filter((r) => r.path === '/multiline' && r.status === 200);
        assert.ok(requests.length > 0 && requests.every((r) => r.body.startsWith('[')));
        const messages = requests.flatMap((r) =>
          (JSON.parse(r.body) as Array<{ message: string }>).map((e) => e.message),
        );
        assert.deepEqual(messages, ['Exception: boom\n    at a()\n    at b()', 'next']);
      },
      30_000,
      100,
    );
  });
});

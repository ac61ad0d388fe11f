/** Route URIs and JSON, filters and opt-outs, syslog bytes, checkpoints, queues and retries. */
import { strict as assert } from 'node:assert';
import { createSocket } from 'node:dgram';
import sinon from 'sinon';
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryAfterMs } from '../../agents/logrouter/adapters/http';
import { datagram, frameForStream, syslogSettings } from '../../agents/logrouter/adapters/syslog-format';
import { checkRoute, createAdapter } from '../../agents/logrouter/adapters';
import { RetryLater, type Adapter } from '../../agents/logrouter/adapters/adapter';
import { CheckpointStore } from '../../agents/logrouter/checkpoint-store';
import { optOutReason, parseExcludeLabels, routeMatcher } from '../../agents/logrouter/container-filter';
import { DeliveryTracker } from '../../agents/logrouter/delivery-tracker';
import { tsMillis, type ContainerMeta, type LogMessage } from '../../agents/logrouter/message';
import { parseRouteUri, routeFromJson, routeToJson, splitRouteUris } from '../../agents/logrouter/route';
import { RouteRunner } from '../../agents/logrouter/route-runner';
import { compileTemplate } from '../../agents/logrouter/template';
import { Registry } from 'prom-client';
import { OpsServer } from '../../shared/ops/http-server';
import { silentLogger } from '../../shared/ops/logger';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';

const container: ContainerMeta = {
  id: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
  name: 'web-1',
  image: 'shop/web:1.2',
  hostname: 'abcdef012345',
  pid: 4242,
  labels: {
    team: 'shop',
    'com.docker.compose.project': 'store',
    'com.docker.compose.service': 'web',
    note: 'a "quoted" ]value\\',
  },
  tty: false,
};

function message(
  data: string,
  source: 'stdout' | 'stderr' = 'stdout',
  done: () => unknown = () => undefined,
): LogMessage {
  const finish = () => void done();
  return { container, source, ts: '2026-11-27T20:20:15.620573110Z', data: Buffer.from(data), done: finish };
}

describe('logrouter route URIs', () => {
  it('parses logspout URIs: adapter+transport, address, path, filters and adapter options', () => {
    const spec = parseRouteUri(
      'syslog+tcp://logs.example:5140?filter.name=web-*&filter.sources=stderr&filter.labels=team:sh*%2Cdebug&append_tag=.db',
    );
    assert.equal(spec.adapter, 'syslog+tcp');
    assert.equal(spec.address, 'logs.example:5140');
    assert.deepEqual(spec.filters, {
      name: 'web-*',
      sources: ['stderr'],
      labels: [{ key: 'team', value: 'sh*' }, { key: 'debug' }],
    });
    assert.deepEqual(spec.options, { append_tag: '.db' });
    assert.equal(
      spec.id,
      parseRouteUri(
        'syslog+tcp://logs.example:5140?filter.name=web-*&filter.sources=stderr&filter.labels=team:sh*%2Cdebug&append_tag=.db',
      ).id,
      'stable ID',
    );
    assert.equal(parseRouteUri('redis://127.0.0.1:6379/logs').path, '/logs');
    assert.equal(parseRouteUri('stdout://').address, '');
    assert.equal(parseRouteUri('syslog://[::1]:514').address, '[::1]:514');
  });

  it('takes the Redis password from the user part of the URI (redis://:secret@host/key)', () => {
    assert.equal(parseRouteUri('redis://:s%40cret@127.0.0.1:6379/logs').options.password, 's@cret');
    assert.equal(
      parseRouteUri('redis://:a@127.0.0.1:6379/logs?password=b').options.password,
      'b',
      'an explicit option wins',
    );
    assert.equal(parseRouteUri('redis://127.0.0.1:6379/logs').options.password, undefined);
  });

  it('splits ROUTE_URIS on commas like logspout', () => {
    assert.deepEqual(splitRouteUris('syslog://a:514, redis://b/k ,'), ['syslog://a:514', 'redis://b/k']);
  });

  it('names what is wrong in a bad route', () => {
    assert.throws(() => parseRouteUri('logs.example:514'), /expected adapter\[\+transport\]:\/\/host:port/);
    assert.throws(() => parseRouteUri('syslog://a?filter.nmae=x'), /unknown filter filter.nmae/);
    assert.throws(() => parseRouteUri('syslog://a?filter.sources=stdin'), /stdout and\/or stderr, not "stdin"/);
    assert.throws(
      () => checkRoute(parseRouteUri('kafka://a')),
      /bad adapter: kafka \(known: syslog, syslog\+udp, syslog\+tcp, syslog\+tls, relp/,
    );
    assert.throws(() => checkRoute(parseRouteUri('redis+tcp://a')), /takes no \+transport/);
    assert.throws(() => checkRoute(parseRouteUri('relp+udp://a')), /relp runs over tcp, tls/);
    assert.throws(
      () => checkRoute(parseRouteUri('syslog+tcp://a:1?format=rfc9999')),
      /format "rfc9999": expected one of rfc5424, rfc3164/,
    );
  });

  it("reads and writes logspout's /routes JSON", () => {
    const spec = routeFromJson(
      {
        adapter: 'syslog+tcp',
        address: 'logs:514',
        filter_name: 'web-*',
        filter_sources: ['stdout'],
        filter_labels: ['team:shop'],
        options: { append_tag: '.x' },
      },
      () => 'r1',
    );
    assert.equal(spec.id, 'r1');
    assert.deepEqual(routeToJson(spec), {
      id: 'r1',
      adapter: 'syslog+tcp',
      address: 'logs:514',
      filter_name: 'web-*',
      filter_sources: ['stdout'],
      filter_labels: ['team:shop'],
      options: { append_tag: '.x' },
    });
    assert.throws(() => routeFromJson({ address: 'x' }, () => 'r'), /adapter is required/);
    assert.throws(
      () => routeFromJson({ adapter: 'syslog', filter_labels: 'team' }, () => 'r'),
      /filter_labels must be an array of strings/,
    );
    assert.throws(() => routeFromJson([], () => 'r'), /JSON object/);
  });
});

describe('logrouter route IDs', () => {
  it('keeps the ID of a URI without secrets', () => {
    // IDs as earlier releases computed them (sha1 of the URI as written): metrics series continue.
    assert.equal(parseRouteUri('syslog+tls://logs.example:6514?filter.name=web-*').id, '94e67b9a5dec');
    assert.equal(
      parseRouteUri('redis://:${REDIS_PASSWORD}@127.0.0.1:6379/logs', { REDIS_PASSWORD: 'pw' }).id,
      '62dffd69f69c',
      'a variable reference is not the secret',
    );
  });

  it('computes the ID without passwords and secret options, so /metrics cannot confirm a guess', () => {
    const ids = (uris: string[]) => new Set(uris.map((uri) => parseRouteUri(uri).id));
    assert.equal(ids(['redis://:hunter2@127.0.0.1:6379/logs', 'redis://:letmein@127.0.0.1:6379/logs']).size, 1);
    assert.equal(ids(['https://bob:hunter2@logs.example/in', 'https://bob:letmein@logs.example/in']).size, 1);
    assert.equal(
      ids([
        'http://logs.example/in?apikey=k3y-one&filter.name=web',
        'http://logs.example/in?apikey=k3y-two&filter.name=web',
        'http://logs.example/in?apikey=%2A%2A%2A&filter.name=web',
      ]).size,
      1,
    );
    assert.equal(
      ids(['http://logs.example/in?header.Authorization=Bearer%20a', 'http://logs.example/in?header.Authorization=b'])
        .size,
      1,
    );
    assert.equal(
      ids(['https://bob:pw@logs.example/in', 'https://alice:pw@logs.example/in', 'https://bob:pw@logs.example/other'])
        .size,
      3,
      'what is not secret still tells routes apart',
    );
  });
});

describe('logrouter container filters and opt-outs', () => {
  it('matches name, ID prefix, image, labels (glob or presence) and compose project/service', () => {
    const match = (uri: string) => routeMatcher(parseRouteUri(uri).filters)(container);
    assert.ok(match('stdout://?filter.name=web-?&filter.id=abcdef&filter.image=shop/*'));
    assert.ok(match('stdout://?filter.labels=team:sh*%2Cnote'));
    assert.ok(!match('stdout://?filter.labels=missing'));
    assert.ok(match('stdout://?filter.compose_project=store&filter.compose_service=web'));
    assert.ok(!match('stdout://?filter.compose_service=db'));
    assert.ok(!match('stdout://?filter.name=db-*'));
  });

  it('honours LOGSPOUT=ignore, quayside.logs=ignore, EXCLUDE_LABELS and never reads itself', () => {
    assert.equal(optOutReason(container, ['LOGSPOUT=IGNORE'], [], undefined), 'env LOGSPOUT=ignore');
    assert.match(
      optOutReason({ ...container, labels: { 'quayside.logs': 'ignore' } }, [], [], undefined)!,
      /quayside.logs/,
    );
    assert.match(
      optOutReason(container, [], parseExcludeLabels('other:x;team:SHOP'), undefined)!,
      /excluded label team/,
    );
    assert.equal(optOutReason(container, [], parseExcludeLabels('team:other'), undefined), undefined);
    assert.equal(optOutReason(container, [], [], 'abcdef012345'), 'it is this agent');
  });
});

describe('logrouter syslog format', () => {
  const settings = (options: Record<string, string>, env: NodeJS.ProcessEnv = {}) => syslogSettings(options, env);

  it('writes RFC 5424 with microseconds, limits and escaped label SD, LF-framed', () => {
    const bytes = frameForStream(settings({ labels: 'note,team,absent' }), [
      message('hello'),
      message('oops', 'stderr'),
    ]);
    assert.equal(
      bytes.toString(),
      '<14>1 2026-11-27T20:20:15.620573Z abcdef012345 web-1 4242 - [labels@32473 note="a \\"quoted\\" \\]value\\\\" team="shop"] hello\n' +
        '<11>1 2026-11-27T20:20:15.620573Z abcdef012345 web-1 4242 - [labels@32473 note="a \\"quoted\\" \\]value\\\\" team="shop"] oops\n',
    );
  });

  it('writes RFC 3164 with octet counting (RFC 6587), the count in bytes', () => {
    const bytes = frameForStream(settings({ format: 'rfc3164', framing: 'octet-counted' }), [message('café')]);
    const msg = '<14>Nov 27 20:20:15 abcdef012345 web-1[4242]: café';
    assert.equal(bytes.toString(), `${Buffer.byteLength(msg)} ${msg}`);
  });

  it("takes logspout's SYSLOG_* variables, cuts APP-NAME to 48 and drops unprintable header bytes", () => {
    const s = settings(
      {},
      {
        SYSLOG_HOSTNAME: 'node 7',
        SYSLOG_TAG: '{{.ContainerName}}-' + 'x'.repeat(60),
        SYSLOG_STRUCTURED_DATA: 'token@41058 tag="x"',
        SYSLOG_FACILITY: 'local0',
      },
    );
    const text = frameForStream(s, [message('m')]).toString();
    assert.equal(
      text,
      `<134>1 2026-11-27T20:20:15.620573Z node7 web-1-${'x'.repeat(42)} 4242 - [token@41058 tag="x"] m\n`,
    );
  });

  it('cuts or drops datagrams longer than udp.max', () => {
    const s = settings({});
    const whole = datagram(s, message('x'.repeat(300)), 65_507, true)!;
    assert.equal(datagram(s, message('x'.repeat(300)), 200, true)!.toString(), whole.subarray(0, 200).toString());
    assert.equal(datagram(s, message('x'.repeat(300)), 200, false), undefined);
  });

  it('counts the lines udp.oversize=drop leaves out as dropped, and sends the others', async () => {
    const receiver = createSocket('udp4');
    const got: string[] = [];
    receiver.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const spec = parseRouteUri(`raw+udp://127.0.0.1:${receiver.address().port}?udp.max=100&udp.oversize=drop`);
    const adapter = createAdapter({ spec, env: {}, stdout: process.stdout });
    try {
      const outcome = await adapter.send([message('short'), message('y'.repeat(300)), message('also short')]);
      assert.deepEqual(outcome, { rejected: { reason: 'longer than udp.max (udp.oversize=drop)', count: 1 } });
      await eventually(() => assert.deepEqual(got, ['short\n', 'also short\n']), 5_000, 10);
    } finally {
      await adapter.close();
      receiver.close();
    }
  });

  it("sends logspout's tcp:// routes over TCP (they once went out as UDP datagrams)", async () => {
    const got: Buffer[] = [];
    const server = createServer((socket) => socket.on('data', (chunk) => got.push(chunk)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const adapter = createAdapter({
      spec: parseRouteUri(`tcp://127.0.0.1:${(server.address() as AddressInfo).port}`),
      env: {},
      stdout: process.stdout,
    });
    try {
      await adapter.send([message('over tcp')]);
      await eventually(() => assert.equal(Buffer.concat(got).toString(), 'over tcp\n'), 5_000, 10);
    } finally {
      await adapter.close();
      server.close();
    }
  });

  it('rejects unknown template fields with the list of known ones', () => {
    assert.throws(
      () => compileTemplate('{{.Nope}}', 'SYSLOG_TAG'),
      /SYSLOG_TAG: unknown template field \{\{\.Nope\}\} \(known: \.Data/,
    );
  });
});

describe('logrouter checkpoint store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'qs-cp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const P1 = {
    stdout: { ts: '2026-11-27T20:20:15.620573110Z', n: 2 },
    stderr: { ts: '2026-11-27T20:20:14.000000000Z', n: 0 },
  };
  const P2 = { stdout: { ts: '2026-11-27T20:20:16.000000000Z', n: 1 } };

  it('persists positions and forgets removed containers and routes', () => {
    const store = new CheckpointStore(dir);
    store.set('r1', 'c1', P1);
    store.set('r2', 'c2', P2);
    store.flush();
    const again = new CheckpointStore(dir);
    assert.deepEqual(again.get('r1', 'c1'), P1);
    assert.deepEqual(again.get('r2', 'c2'), P2);
    again.retain(new Set(['r1']), new Set(['c9']));
    again.flush();
    const third = new CheckpointStore(dir);
    assert.equal(third.get('r1', 'c1'), undefined);
    assert.equal(third.get('r2', 'c2'), undefined);
    for (const s of [store, again, third]) s.close();
  });

  it('writes a checkpoint in place, without a rename (which made the kill -9 window 100 times longer)', () => {
    const rename = sinon.spy(fs, 'renameSync');
    try {
      const store = new CheckpointStore(dir);
      for (let i = 0; i < 5; i++) {
        store.set('r1', 'c1', { stdout: { ts: P1.stdout.ts, n: i + 1 } });
        store.flush();
      }
      store.close();
    } finally {
      rename.restore();
    }
    assert.equal(rename.callCount, 0);
    assert.deepEqual(new CheckpointStore(dir).get('r1', 'c1'), { stdout: { ts: P1.stdout.ts, n: 5 } });
  });

  it("cuts a slot file only when its record shrank (not a system call per batch); a longer record's rest is never read", () => {
    const truncate = sinon.spy(fs, 'ftruncateSync');
    try {
      const store = new CheckpointStore(dir);
      store.set('r1', 'c1', P1);
      store.set('r1', 'c2', P1);
      for (let i = 0; i < 4; i++) {
        store.touch();
        store.flush();
      }
      assert.equal(truncate.callCount, 2, 'once per slot, whose length was not known');
      store.forget('r1', 'c2');
      store.flush();
      store.touch();
      store.flush();
      assert.equal(truncate.callCount, 4, 'each slot once more, for the shorter record');
      store.close();
    } finally {
      truncate.restore();
    }
    const again = new CheckpointStore(dir);
    assert.deepEqual(again.all(), { r1: { c1: P1 } });
    again.close();
  });

  it('falls back to the previous checkpoint when the newest write was cut short, and says so', () => {
    const store = new CheckpointStore(dir);
    store.set('r1', 'c1', P1);
    store.flush();
    store.set('r1', 'c1', P2);
    store.flush();
    store.close();
    // The newest record, torn by a power cut: half written.
    const slots = ['checkpoints.a', 'checkpoints.b'].map((name) => join(dir, name));
    const newest = slots.find((file) => readFileSync(file, 'utf8').includes(P2.stdout.ts))!;
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length - 20));
    const complaints: string[] = [];
    assert.deepEqual(
      new CheckpointStore(dir, (m) => complaints.push(m)).get('r1', 'c1'),
      P1,
      'one batch older: sent again, not lost',
    );
    assert.match(complaints[0]!, /unreadable \(a write cut short\); using the other one/);
  });

  it("starts without checkpoints, and says so, when every file is damaged; reads the first version's file", () => {
    writeFileSync(join(dir, 'checkpoints.json'), JSON.stringify({ version: 1, routes: { r1: { c1: P2 } } }));
    assert.deepEqual(new CheckpointStore(dir).get('r1', 'c1'), P2);
    writeFileSync(join(dir, 'checkpoints.json'), '{"version":1,"routes":');
    writeFileSync(join(dir, 'checkpoints.a'), 'garbage');
    const complaints: string[] = [];
    const store = new CheckpointStore(dir, (m) => complaints.push(m));
    assert.equal(store.get('r1', 'c1'), undefined);
    assert.match(complaints[0]!, /unreadable; starting without checkpoints/);
  });
});

describe('logrouter route queue', () => {
  function fakeAdapter(script: Array<'ok' | 'fail' | 'later'>): Adapter & { sent: string[][] } {
    const sent: string[][] = [];
    return {
      sent,
      connected: true,
      reconnects: 0,
      async send(batch) {
        const step = script.shift() ?? 'ok';
        if (step === 'fail') throw new Error('down');
        if (step === 'later') throw new RetryLater('429', 1);
        sent.push(batch.map((m) => m.data.toString()));
      },
      async close() {},
    };
  }

  const counters = () => ({ out: 0, dropped: 0, retries: 0 });

  function runner(adapter: Adapter, policy: 'block' | 'drop', queueSize: number, c = counters()) {
    return new RouteRunner({
      spec: parseRouteUri('stdout://'),
      adapter,
      queueSize,
      policy,
      batchSize: 2,
      logger: silentLogger,
      counters: {
        linesOut: (n) => (c.out += n),
        dropped: (n) => (c.dropped += n),
        retry: () => (c.retries += 1),
        lag: () => undefined,
      },
      afterBatch: () => undefined,
      random: () => 0,
    });
  }

  it('delivers in order in batches, retrying failures, and marks each message done once', async () => {
    const adapter = fakeAdapter(['fail', 'later', 'ok']);
    const c = counters();
    const route = runner(adapter, 'block', 100, c);
    const done: string[] = [];
    for (const text of ['a', 'b', 'c']) route.push(message(text, 'stdout', () => done.push(text)));
    await eventually(() => assert.deepEqual(done, ['a', 'b', 'c']), 5_000);
    assert.deepEqual(
      adapter.sent,
      [['a', 'b'], ['c']],
      'messages pushed together go in one batch of at most batchSize',
    );
    assert.equal(c.retries, 2);
    assert.equal(c.out, 3);
  });

  it('policy drop counts and completes what does not fit; block reports full and waits for room', async () => {
    const c = counters();
    const never: Adapter = {
      connected: false,
      reconnects: 0,
      send: () => new Promise(() => undefined),
      async close() {},
    };
    const dropping = runner(never, 'drop', 2, c);
    let doneCount = 0;
    for (let i = 0; i < 5; i++) dropping.push(message(String(i), 'stdout', () => (doneCount += 1)));
    assert.equal(c.dropped, 3);
    assert.equal(doneCount, 3);

    const adapter = fakeAdapter(['fail']);
    const blocking = runner(adapter, 'block', 2);
    blocking.push(message('a'));
    blocking.push(message('b'));
    assert.equal(blocking.full, true);
    await blocking.room();
    assert.deepEqual(adapter.sent, [['a', 'b']]);
  });

  it('writes the checkpoint in the same turn as the socket write the kernel took, before any other work (the kill -9 window)', async () => {
    const received: string[] = [];
    const server = createServer((socket) => socket.on('data', (chunk) => received.push(chunk.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const spec = parseRouteUri(`raw+tcp://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const adapter = createAdapter({ spec, env: {}, stdout: process.stdout });
    const events: string[] = [];
    const write = Socket.prototype.write;
    // Anything the event loop runs after the write call comes after this tick.
    const spy = sinon.stub(Socket.prototype, 'write').callsFake(function (
      this: Socket,
      ...args: Parameters<Socket['write']>
    ) {
      const result = write.apply(this, args);
      events.push('written');
      process.nextTick(() => events.push('next tick'));
      return result;
    });
    try {
      const route = new RouteRunner({
        spec,
        adapter,
        queueSize: 10,
        policy: 'block',
        batchSize: 10,
        logger: silentLogger,
        counters: {
          linesOut: () => undefined,
          dropped: () => undefined,
          retry: () => undefined,
          lag: (from) => events.push(`lag ${from.name}`),
        },
        afterBatch: () => events.push('checkpoint'),
      });
      route.push(message('one', 'stdout', () => events.push('done one')));
      route.push(message('two', 'stdout', () => events.push('done two')));
      route.push({
        ...message('three', 'stdout', () => events.push('done three')),
        container: { ...container, name: 'other' },
      });
      // The lag once per container of the batch, after the checkpoint.
      await eventually(
        () =>
          assert.deepEqual(events, [
            'written',
            'done one',
            'done two',
            'done three',
            'checkpoint',
            `lag ${container.name}`,
            'lag other',
            'next tick',
          ]),
        5_000,
      );
      await eventually(() => assert.equal(received.join(''), 'one\ntwo\nthree\n'), 5_000);
      await route.stop(1_000);
    } finally {
      spy.restore();
      await adapter.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives the checkpoint of the last done line while it caches positions for idle containers', () => {
    const tracker = new DeliveryTracker(undefined, () => undefined);
    const tickets = ['2026-11-27T20:20:15.000000001Z', '2026-11-27T20:20:15.000000002Z'].map((ts) => {
      const admission = tracker.admit({ source: 'stdout', ts, data: Buffer.from('x') });
      assert.ok(!admission.skip);
      return admission.ticket;
    });
    tracker.done(tickets[0]!);
    assert.equal(tracker.checkpoint.stdout?.ts, '2026-11-27T20:20:15.000000001Z');
    assert.equal(tracker.checkpoint, tracker.checkpoint, 'asked again without a change: the same positions');
    tracker.done(tickets[1]!);
    assert.equal(tracker.checkpoint.stdout?.ts, '2026-11-27T20:20:15.000000002Z');
  });

  it("reads Docker's timestamps to the millisecond as Date.parse does", () => {
    for (const ts of [
      '2026-11-27T20:20:15.620573110Z',
      '2026-11-27T20:20:15.999999999Z',
      '2026-11-27T20:20:16.000000001Z',
      '0001-01-01T00:00:00Z',
      '2026-11-27T20:20:15.620573110+01:00',
    ]) {
      assert.equal(tsMillis(ts), Date.parse(ts), ts);
    }
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4_000), 6_000);
    assert.equal(retryAfterMs('soon'), undefined);
  });
});

describe('logrouter start-up errors and HTTP routes', () => {
  it('exits 2 naming the bad route URI, the template field or the option', async function () {
    this.timeout(60_000); // eight starts of the CLI
    const bad = await runCli([
      'logrouter',
      'syslog+tcp://logs:514',
      'kafka://broker:9092',
      '--state-dir',
      mkdtempSync(join(tmpdir(), 'qs-lrcli-')),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad adapter: kafka/);
    const template = await runCli(
      ['logrouter', 'syslog://logs', '--state-dir', mkdtempSync(join(tmpdir(), 'qs-lrcli-'))],
      { SYSLOG_TAG: '{{.Labels}}', DOCKER_HOST: 'unix:///nonexistent.sock' },
    );
    assert.equal(template.code, 2);
    assert.match(template.stderr, /SYSLOG_TAG\): unknown template field \{\{\.Labels\}\}/);
    // Which of several routes is wrong, and exit 2 also for a route without host or with a bad option.
    for (const [uri, expected] of [
      ['syslog+tcp://?filter.name=x', /route syslog\+tcp:\/\/ \(id [0-9a-f]{12}\): expected host:port/],
      [
        'syslog+udp://logs:514?udp.max=9',
        /route syslog\+udp:\/\/logs:514 \(id [0-9a-f]{12}\): udp.max "9": must be at least 64/,
      ],
      [
        'http://logs:8080/in?header.X-Api-Key=secret&timeout=soon',
        /route http:\/\/logs:8080\/\*\*\* \(id [0-9a-f]{12}\): timeout "soon": expected a duration such as 500ms/,
      ],
      // A misspelt key was once ignored while a misspelt filter stopped the start.
      [
        'syslog+tcp://logs:514?framming=octet-counted&token=secret',
        /route syslog\+tcp:\/\/logs:514 \(id [0-9a-f]{12}\): unknown options framming, token for syslog\+tcp \(known: multiline, .*framing/,
      ],
      [
        'syslog+udp://logs:514?framing=octet-counted',
        /option framing is read only over tcp or tls, not by syslog\+udp/,
      ],
    ] as const) {
      const result = await runCli(
        ['logrouter', 'stdout://', uri, '--state-dir', mkdtempSync(join(tmpdir(), 'qs-lrcli-'))],
        { DOCKER_HOST: 'unix:///nonexistent.sock' },
      );
      assert.equal(result.code, 2, `${uri}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr, /secret/, 'the query (API keys) is not printed');
    }
    // Go durations as the other duration settings take them; a bare number stays milliseconds (logspout).
    for (const uri of ['http://logs:8080/in?timeout=5s', 'http://logs:8080/in?timeout=1m30s&multiline.timeout=1s'])
      assert.doesNotThrow(() => checkRoute(parseRouteUri(uri)), uri);
    assert.throws(
      () => checkRoute(parseRouteUri('http://logs:8080/in?timeout=2h')),
      /timeout "2h": must be at most 1h/,
    );
    const queue = await runCli(['logrouter', '--log-queue-policy', 'lose']);
    assert.equal(queue.code, 2);
    assert.match(queue.stderr, /--log-queue-policy.*expected one of block, drop/);
  });

  it('lets an agent route take POST and DELETE and paths below it; others still answer 405', async () => {
    const server = new OpsServer(new Registry());
    server.addRoute('/things', (request, response) => void response.end(`${request.method} ${request.url}`), {
      access: 'sensitive',
      methods: ['POST', 'DELETE'],
      prefix: true,
    });
    server.addRoute('/plain', (_request, response) => void response.end('plain'), { access: 'public' });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal(await (await fetch(`${base}/things/42`, { method: 'DELETE' })).text(), 'DELETE /things/42');
      assert.equal(await (await fetch(`${base}/things`, { method: 'POST', body: '{}' })).text(), 'POST /things');
      assert.equal((await fetch(`${base}/plain`, { method: 'POST' })).status, 405);
      assert.equal((await fetch(`${base}/plain/sub`)).status, 404);
      assert.equal((await fetch(`${base}/healthz`, { method: 'DELETE' })).status, 405);
    } finally {
      await server.close();
    }
  });
});

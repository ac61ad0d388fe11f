/**
 * quayside logrouter against the test engine and a real rsyslog: the exact fields rsyslog parses
 * from our RFC 5424 and RFC 3164 messages over TCP (LF and octet-counted framing) and UDP, partial
 * lines, a last line without newline, stderr, TTY, invalid UTF-8, and exact bytes over raw+tcp.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { eventually } from '../support/eventually';
import { dockerLines, runScript, startRouter, waitExited, type RunningRouter } from '../support/logrouter';
import { PrivateRsyslog, type Received } from '../support/rsyslog';
import { removeTestContainers, startEngine, testDocker, uniqueTag } from '../support/test-env';

// stdout lines, a UTF-8 line, invalid UTF-8, a 40,000-byte line (three Docker frames), stderr, and a
// last line without newline.
const SCRIPT = [
  "echo 'hello world'",
  "printf 'caf\\303\\251 \\342\\234\\223\\n'",
  "printf 'bad \\377\\376 bytes\\n'",
  'echo oops >&2',
  "head -c 40000 /dev/zero | tr '\\0' x; echo",
  "printf 'no newline'",
].join('; ');

describe('quayside logrouter: syslog wire formats with rsyslog', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const run = uniqueTag('lrw');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrw-'));
  const rsyslog = new PrivateRsyslog(join(dir, 'rsyslog'));
  let router: RunningRouter;
  let rawSink: Server;
  let rawBytes = Buffer.alloc(0);
  const containers: Record<string, Dockerode.Container> = {};

  before(async () => {
    await startEngine();
    await rsyslog.start();
    rawSink = createServer((socket) => socket.on('data', (c: Buffer) => (rawBytes = Buffer.concat([rawBytes, c]))));
    await new Promise<void>((resolve) => rawSink.listen(0, '127.0.0.1', resolve));
    const rawPort = (rawSink.address() as { port: number }).port;
    const p = rsyslog.port;
    router = startRouter(
      [
        `syslog+tcp://127.0.0.1:${p}?filter.name=${run}-5424&labels=app.tier%2Cabsent`,
        `syslog+tcp://127.0.0.1:${p}?filter.name=${run}-3164&format=rfc3164&framing=octet-counted`,
        `syslog+udp://127.0.0.1:${p}?filter.name=${run}-udp`,
        `syslog+tcp://127.0.0.1:${p}?filter.name=${run}-tty`,
        `raw+tcp://127.0.0.1:${rawPort}?filter.name=${run}-raw`,
      ],
      join(dir, 'state'),
    );
    await router.port();
    for (const kind of ['5424', '3164', 'udp']) {
      containers[kind] = await runScript(docker, `${run}-${kind}`, SCRIPT, { labels: { 'app.tier': 'web "front"' } });
    }
    // Plus a 1 MiB line (64 Docker frames), the agent's default maximum.
    containers.raw = await runScript(
      docker,
      `${run}-raw`,
      `${SCRIPT}; echo; head -c 1048576 /dev/zero | tr '\\0' y; echo`,
    );
    containers.tty = await runScript(docker, `${run}-tty`, "echo 'tty one'; echo 'tty two'", { tty: true });
    await Promise.all(Object.values(containers).map((c) => waitExited(c)));
  });

  after(async () => {
    await router?.stop();
    await rsyslog.stop();
    rawSink?.close();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  async function receivedFor(kind: string, count: number): Promise<Received[]> {
    const name = `${run}-${kind}`;
    return eventually(
      () => {
        const got = rsyslog
          .received()
          .filter((r) => r.app === name || r.raw.includes(` ${name}[`) || r.raw.includes(` ${name}:`));
        assert.equal(
          got.length,
          count,
          `received for ${name}: ${JSON.stringify(got.map((r) => r.msg.slice(0, 40)))}; agent: ${router.output.stderr().slice(-1500)}`,
        );
        return got;
      },
      30_000,
      100,
    );
  }

  it('sends RFC 5424 over TCP with Docker timestamps, container hostname, name, pid and label SD', async () => {
    const truth = await dockerLines(containers['5424']!);
    assert.equal(truth.length, 6);
    const got = await receivedFor('5424', 6);
    const info = await containers['5424']!.inspect();
    got.forEach((r, i) => {
      const line = truth[i]!;
      assert.equal(r.pri, line.source === 'stdout' ? 14 : 11, `pri of line ${i}`);
      assert.equal(r.host, info.Config.Hostname);
      assert.equal(r.app, `${run}-5424`);
      assert.equal(r.msgid, '-');
      // The pid is read when the container starts; a container that already exited has none.
      assert.match(r.procid, /^(\d+|-)$/);
      // TIME-SECFRAC: Docker's timestamp to the microsecond (the RFC's limit), not our read time.
      assert.equal(r.time.slice(0, 26), line.ts.slice(0, 26), `time of line ${i}`);
      assert.equal(r.sd, '[labels@32473 app.tier="web \\"front\\""]');
      assert.ok(
        r.raw.startsWith(
          `<${r.pri}>1 ${line.ts.slice(0, 26)}Z ${info.Config.Hostname} ${run}-5424 ${r.procid} - [labels@32473`,
        ),
        r.raw.slice(0, 120),
      );
    });
    // In the order the engine stored them (stdout and stderr are copied by separate goroutines).
    assert.deepEqual(
      got.map((r) => r.msg),
      truth.map((line) => line.data.toString('utf8')),
    );
    assert.deepEqual(
      new Set(got.map((r) => r.msg)),
      new Set(['hello world', 'café ✓', 'bad \ufffd\ufffd bytes', 'oops', 'x'.repeat(40_000), 'no newline']),
    );
  });

  it('sends RFC 3164 with octet-counting framing over TCP', async () => {
    const truth = await dockerLines(containers['3164']!);
    const got = await receivedFor('3164', 6);
    const info = await containers['3164']!.inspect();
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    got.forEach((r, i) => {
      const ts = truth[i]!.ts;
      const stamp = `${months[Number(ts.slice(5, 7)) - 1]} ${ts.slice(8, 10).replace(/^0/, ' ')} ${ts.slice(11, 19)}`;
      assert.ok(r.raw.startsWith(`<${r.pri}>${stamp} ${info.Config.Hostname} ${run}-3164`), r.raw.slice(0, 80));
      assert.match(r.raw, new RegExp(`^<\\d+>[^>]+ ${run}-3164(\\[\\d+\\])?: `));
      assert.equal(r.msg.trim(), truth[i]!.data.toString('utf8'));
      assert.equal(r.host, info.Config.Hostname);
    });
  });

  it('sends one datagram per line over UDP', async () => {
    const truth = await dockerLines(containers.udp!);
    const got = await receivedFor('udp', 6);
    assert.deepEqual(
      got.map((r) => r.msg),
      truth.map((line) => line.data.toString('utf8')),
    );
  });

  it('reads TTY containers as raw streams, without the carriage returns', async () => {
    const got = await receivedFor('tty', 2);
    assert.deepEqual(
      got.map((r) => r.msg),
      ['tty one', 'tty two'],
    );
  });

  it('keeps every byte Docker holds over raw+tcp (json-file itself turns invalid UTF-8 into U+FFFD)', async () => {
    const truth = await dockerLines(containers.raw!);
    assert.equal(truth.at(-1)!.data.length, 1_048_576);
    const expected = Buffer.concat(truth.flatMap((line) => [line.data, Buffer.from('\n')]));
    assert.ok(
      truth.some((line) => line.data.equals(Buffer.from('bad \ufffd\ufffd bytes'))),
      'the engine stored the invalid bytes as U+FFFD',
    );
    await eventually(() => assert.equal(rawBytes.length, expected.length), 30_000, 100);
    assert.ok(rawBytes.equals(expected), 'raw bytes differ');
  });
});

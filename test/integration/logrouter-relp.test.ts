/**
 * relp:// and relp+tls:// routes against a real rsyslog with imrelp: the fields rsyslog parses, TLS
 * with a verified server certificate and a client certificate (imrelp asks for one), and a receiver stopped for 20 s mid-stream — every line
 * exactly once, compared with what the engine holds for the container.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually';
import { dockerLines, runScript, startRouter, type RunningRouter } from '../support/logrouter';
import { PrivateRsyslog } from '../support/rsyslog';
import { makeTestCa } from '../support/test-ca';
import { removeTestContainers, startEngine, testDocker, testEnv, uniqueTag } from '../support/test-env';

/** Numbered lines, about one per millisecond. */
function generator(lines: number): string {
  return `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "line $i of ${lines}"; usleep 1000; done`;
}

describe('quayside logrouter: RELP routes with rsyslog imrelp', function () {
  this.timeout(300_000);
  const docker = testDocker();
  const run = uniqueTag('lrr');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrr-'));
  const ca = makeTestCa(join(dir, 'ca'), 'logs.test');
  const rsyslog = new PrivateRsyslog(join(dir, 'rsyslog'), undefined, { relp: true });
  const tlsRsyslog = new PrivateRsyslog(join(dir, 'rsyslog-tls'), ca, { relp: true });
  let router: RunningRouter;

  const received = (server: PrivateRsyslog, name: string): string[] =>
    server
      .received()
      .filter((r) => r.app === name)
      .map((r) => r.msg);

  before(async () => {
    await startEngine();
    await rsyslog.start();
    await tlsRsyslog.start();
    const env = testEnv().syslog;
    router = startRouter(
      [
        `relp://127.0.0.1:${env.relpPort}?filter.name=${run}-env`,
        `relp://127.0.0.1:${rsyslog.relpPort}?filter.name=${run}-fault`,
        `relp+tls://127.0.0.1:${tlsRsyslog.relpPort}?filter.name=${run}-tls&tls.ca=${ca.ca}&tls.servername=logs.test&tls.cert=${ca.cert}&tls.key=${ca.key}`,
      ],
      join(dir, 'state'),
    );
    await router.port();
  });

  after(async () => {
    await router?.stop();
    await rsyslog.stop();
    await tlsRsyslog.stop();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers RFC 5424 messages that the test environment's imrelp parses field by field", async () => {
    const name = `${run}-env`;
    await runScript(docker, name, 'echo "relp one"; echo "relp two" >&2');
    const file = testEnv().syslog.receivedFile;
    const got = await eventually(
      () => {
        const lines = readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line.includes(`"app":"${name}"`))
          .map((line) => JSON.parse(line) as { pri: number; app: string; msg: string });
        assert.equal(lines.length, 2, `received ${lines.length}; agent: ${router.output.stderr().slice(-1500)}`);
        return lines;
      },
      60_000,
      100,
    );
    assert.deepEqual(got.map((r) => [r.pri, r.msg]).sort(), [
      [11, 'relp two'],
      [14, 'relp one'],
    ]);
  });

  it('delivers over relp+tls, verifying the server certificate and showing a client certificate', async () => {
    const name = `${run}-tls`;
    await runScript(docker, name, 'for i in 1 2 3; do echo "tls $i"; done');
    await eventually(
      () =>
        assert.deepEqual(received(tlsRsyslog, name), ['tls 1', 'tls 2', 'tls 3'], router.output.stderr().slice(-1500)),
      60_000,
      100,
    );
  });

  it('loses and duplicates no line when rsyslog is stopped for 20 s mid-stream', async () => {
    const name = `${run}-fault`;
    const container = await runScript(docker, name, generator(4000));
    await eventually(() => assert.ok(received(rsyslog, name).length >= 300), 120_000, 100);
    await rsyslog.stop();
    await sleep(20_000); // the outage itself; nothing is asserted on time
    await rsyslog.start();
    let truth: string[] = [];
    await eventually(
      async () => {
        truth = (await dockerLines(container)).map((line) => line.data.toString('utf8'));
        assert.equal(truth.length, 4000, 'the container has not written everything yet');
        assert.ok(
          received(rsyslog, name).length >= truth.length,
          `received ${received(rsyslog, name).length} of ${truth.length}`,
        );
      },
      180_000,
      250,
    );
    const got = received(rsyslog, name);
    assert.equal(got.length - new Set(got).size, 0, 'no duplicates');
    assert.deepEqual(got, truth, 'every line, in order');
    console.log(`      rsyslog (RELP) stopped 20 s: 0 of 4000 lost, 0 duplicated`);
  });
});

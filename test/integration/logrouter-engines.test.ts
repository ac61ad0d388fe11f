/**
 * The logrouter on every engine of the test environment (issue #14.2): Podman stamps log lines with
 * whole seconds (a few hundred lines share one stamp here) and its `since` is exclusive, Docker's
 * inclusive. A container writes 3,000 numbered lines while the agent is stopped with SIGTERM and,
 * later, killed with SIGKILL and started again each time: rsyslog must hold every line, in order,
 * none lost; only the kill -9 may send one batch again. Waits poll, so CPU load slows the test
 * down but cannot fail it.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { runScript, startRouter, waitExited, type RunningRouter } from '../support/logrouter';
import { PrivateRsyslog } from '../support/rsyslog';
import { removeTestContainers, uniqueTag } from '../support/test-env';

const LINES = 3000;
/** About 200 lines a second: many lines share each of Podman's whole-second stamps. */
const generator = `i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "line $i"; usleep 5000; done`;
const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);

for (const engine of testEngines()) {
  describe(`quayside logrouter on ${engine.name}: every line, in order, across restarts of the agent`, function () {
    this.timeout(300_000);
    const docker = engine.docker();
    const run = uniqueTag(`lre${engine.name[0]}`);
    const dir = mkdtempSync(join(tmpdir(), 'qs-lre-'));
    const state = join(dir, 'state');
    const rsyslog = new PrivateRsyslog(join(dir, 'rsyslog'));
    let router: RunningRouter | undefined;
    let route: string;

    const received = (name: string): string[] =>
      rsyslog
        .received()
        .filter((r) => r.app === name)
        .map((r) => r.msg);
    const start = () => (router = startRouter([route], state, [], { DOCKER_HOST: engine.host }));
    const waitReceived = (name: string, atLeast: number) =>
      eventually(
        () =>
          assert.ok(
            received(name).length >= atLeast,
            `${received(name).length} of ${atLeast} lines; agent: ${router?.output.stderr().slice(-1500)}`,
          ),
        120_000,
        100,
      );

    before(async () => {
      await rsyslog.start();
      route = `syslog+tcp://127.0.0.1:${rsyslog.port}?filter.name=${run}-*`;
    });

    after(async () => {
      await router?.stop();
      await rsyslog.stop();
      await removeTestContainers(docker);
      rmSync(dir, { recursive: true, force: true });
    });

    it(`delivers ${LINES} lines in order, none lost, across a SIGTERM and a kill -9 (at most one batch again)`, async () => {
      const name = `${run}-lines`;
      start();
      await router!.port();
      const container = await runScript(docker, name, generator);
      await waitReceived(name, 300);
      assert.equal(await router!.stop('SIGTERM'), 0, 'graceful stop');
      const afterTerm = received(name).length;
      start();
      await waitReceived(name, afterTerm + 600);
      router!.child.kill('SIGKILL');
      await router!.stop();
      assert.ok(received(name).length < LINES, 'the kill came before the end of the stream');
      start();
      await waitExited(container, 120_000);
      await waitReceived(name, LINES);
      // A graceful stop sends whatever was still on its way: a line sent twice would be in now.
      assert.equal(await router!.stop('SIGTERM'), 0);
      // Every line, in order; the kill -9 may have sent one batch again (README: the kill -9
      // window, at most --log-batch-size lines), the SIGTERM nothing.
      const lines = received(name);
      assert.deepEqual([...new Set(lines)], expected);
      assert.ok(lines.length - expected.length <= 1_000, `${lines.length - expected.length} lines twice`);
      if (lines.length > expected.length)
        console.log(`      (${lines.length - expected.length} lines sent again after the kill -9)`);
    });
  });
}

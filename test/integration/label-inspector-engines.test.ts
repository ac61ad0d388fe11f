/**
 * The label-inspector on every engine of the test environment (issue #14): `docker run` through
 * Podman's Docker API (which sends an image `pull` event with an empty ID for every run), a
 * container's label findings opened live, and resolved when the container is removed.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, exited, startCli } from '../support/cli';
import { testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { removeTestContainers, TEST_LABEL, testEnv, uniqueTag } from '../support/test-env';

interface FindingJson {
  ruleId: string;
  subject: string;
  object: { id: string };
}

for (const engine of testEngines()) {
  describe(`label-inspector on ${engine.name}`, function () {
    this.timeout(90_000);
    const docker = engine.docker();
    const dir = mkdtempSync(join(tmpdir(), 'qs-lie-'));
    let agent: ChildProcess;
    let output: ReturnType<typeof capture>;
    let port: number;

    before(async () => {
      port = await freePort();
      agent = startCli(['label-inspector', '--listen', `127.0.0.1:${port}`, '--state-dir', join(dir, 'state'), '--log-format', 'json'], { DOCKER_HOST: engine.host });
      output = capture(agent);
      await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200), 20_000, 100);
    });

    after(async () => {
      agent.kill('SIGTERM');
      assert.equal(await exited(agent), 0, output.stderr().slice(-2000));
      await removeTestContainers(docker);
      rmSync(dir, { recursive: true, force: true });
    });

    async function about(id: string, state: 'open' | 'resolved'): Promise<string[]> {
      const body = (await (await fetch(`http://127.0.0.1:${port}/findings?state=${state}`)).json()) as { findings: FindingJson[] };
      return body.findings.filter((f) => f.object.id === id).map((f) => `${f.ruleId} ${f.subject}`).sort();
    }

    it("opens a run container's label findings, and resolves them when it is removed", async () => {
      const name = uniqueTag('qs-lie');
      const id = await engine.cli(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=1`, '--label', 'Runtime=yes', testEnv().images.busybox, 'sleep', '600']);
      const expected = ['label-key-format Runtime', 'label-shallow-prefix quayside.test', 'label-unprefixed-key Runtime'];
      await eventually(async () => assert.deepEqual(await about(id, 'open'), expected, `agent: ${output.stderr().slice(-1500)}`), 30_000, 250);
      assert.equal(agent.exitCode, null, 'still running');
      await engine.cli(['rm', '-f', id]);
      await eventually(async () => assert.deepEqual(await about(id, 'open'), []), 30_000, 250);
      assert.deepEqual(await about(id, 'resolved'), expected);
    });
  });
}

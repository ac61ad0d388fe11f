/**
 * The label-inspector on every engine of the test environment (issue #14): `docker run` through
 * Podman's Docker API (which sends an image `pull` event with an empty ID for every run), a
 * container's label findings opened live, and resolved when the container is removed.
 */
import { strict as assert } from 'node:assert';
import { agentOnEngine, testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { TEST_LABEL, testEnv, uniqueTag } from '../support/test-env';

interface FindingJson {
  ruleId: string;
  subject: string;
  object: { id: string };
}

for (const engine of testEngines()) {
  describe(`label-inspector on ${engine.name}`, function () {
    this.timeout(90_000);
    const agent = agentOnEngine('label-inspector', engine);

    async function about(id: string, state: 'open' | 'resolved'): Promise<string[]> {
      const body = (await (await fetch(agent.url(`/findings?state=${state}`))).json()) as { findings: FindingJson[] };
      return body.findings
        .filter((f) => f.object.id === id)
        .map((f) => `${f.ruleId} ${f.subject}`)
        .sort();
    }

    it("opens a run container's label findings, and resolves them when it is removed", async () => {
      const name = uniqueTag('qs-lie');
      const id = await engine.cli([
        'run',
        '-d',
        '--name',
        name,
        '--label',
        `${TEST_LABEL}=1`,
        '--label',
        'Runtime=yes',
        testEnv().images.busybox,
        'sleep',
        '600',
      ]);
      const expected = [
        'label-key-format Runtime',
        'label-shallow-prefix quayside.test',
        'label-unprefixed-key Runtime',
      ];
      await eventually(
        async () => assert.deepEqual(await about(id, 'open'), expected, `agent: ${agent.stderr().slice(-1500)}`),
        30_000,
        250,
      );
      assert.ok(agent.running(), 'still running');
      await engine.cli(['rm', '-f', id]);
      await eventually(async () => assert.deepEqual(await about(id, 'open'), []), 30_000, 250);
      assert.deepEqual(await about(id, 'resolved'), expected);
    });
  });
}

import { strict as assert } from 'node:assert';
import { testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { TEST_LABEL, removeTestContainers, uniqueTag } from '../support/test-env';

// The environment's engines, as every engine-parametrised test uses them (test/support/engines.ts).
for (const engine of testEngines()) {
  describe(`test engine: ${engine.name}`, function () {
    this.timeout(60_000);
    const docker = engine.docker();
    afterEach(() => removeTestContainers(docker));

    it('runs busybox:test through the docker CLI and the API', async () => {
      const out = await engine.cli([
        'run',
        '--rm',
        '--label',
        `${TEST_LABEL}=1`,
        'busybox:test',
        'sh',
        '-c',
        'echo hello; id -u',
      ]);
      assert.deepEqual(out.split('\n'), ['hello', '0']);
      const info = await docker.version();
      assert.equal(
        info.Components?.some((c) => c.Name === 'Podman Engine'),
        engine.name === 'podman',
      );
    });

    it('connects a container to a second network and disconnects it', async () => {
      const network = await engine.extraNetwork();
      const name = uniqueTag('qs-engines');
      await engine.cli(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=1`, 'busybox:test', 'sleep', '300']);
      await engine.cli(['network', 'connect', network, name]);
      const networks = async () => Object.keys((await docker.getContainer(name).inspect()).NetworkSettings.Networks);
      assert.ok((await networks()).includes(network), `connected to ${network}: ${(await networks()).join(', ')}`);
      await engine.cli(['network', 'disconnect', network, name]);
      assert.ok(!(await networks()).includes(network));
    });

    it('reports a health check result', async () => {
      const name = uniqueTag('qs-engines-health');
      await engine.cli([
        'run',
        '-d',
        '--name',
        name,
        '--label',
        `${TEST_LABEL}=1`,
        '--health-cmd',
        'test -e /tmp/ok',
        '--health-interval',
        '1s',
        'busybox:test',
        'sh',
        '-c',
        'touch /tmp/ok; exec sleep 300',
      ]);
      await eventually(
        async () => {
          await engine.runHealthcheck(name);
          assert.equal((await docker.getContainer(name).inspect()).State.Health?.Status, 'healthy');
        },
        20_000,
        200,
      );
    });
  });
}

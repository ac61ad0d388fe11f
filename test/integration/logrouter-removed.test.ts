/**
 * A container removed (docker run --rm) while the agent is still behind on its log: the engine
 * keeps sending the stream it opened, so every line must still arrive.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { startRouter, type RunningRouter } from '../support/logrouter';
import { removeTestContainers, startEngine, testDocker, testEnv, TEST_LABEL, uniqueTag } from '../support/test-env';
import { freePort } from '../support/free-port';

describe('quayside logrouter: a removed container', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const run = uniqueTag('lrm');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrm-'));
  let router: RunningRouter | undefined;
  let sink: Server | undefined;

  before(() => startEngine());

  after(async () => {
    await router?.stop();
    sink?.close();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('still delivers every line of a container removed while the route was down', async () => {
    // A free port for the destination, which comes up only after the container is gone.
    const port = await freePort();
    router = startRouter([`raw+tcp://127.0.0.1:${port}?filter.name=${run}`], join(dir, 'state'), [
      '--log-queue-size',
      '1000',
    ]);
    await router.port();
    const lines = 30_000;
    const container = await docker.createContainer({
      name: run,
      Image: testEnv().images.busybox,
      Cmd: ['sh', '-c', `sleep 1; seq 1 ${lines}`],
      Labels: { [TEST_LABEL]: '1' },
      HostConfig: { AutoRemove: true, NetworkMode: 'none' },
    });
    await container.start();
    await eventually(
      async () => {
        const gone = await container.inspect().then(
          () => false,
          (error: { statusCode?: number }) => error.statusCode === 404,
        );
        assert.ok(gone, 'container not removed yet');
      },
      60_000,
      100,
    );
    let text = '';
    sink = createServer((socket) => socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk)));
    await new Promise<void>((resolve) => sink!.listen(port, '127.0.0.1', resolve));
    const expected = Array.from({ length: lines }, (_, i) => String(i + 1));
    await eventually(
      () =>
        assert.ok(
          text.split('\n').length - 1 >= lines,
          `${text.split('\n').length - 1} of ${lines} lines; agent: ${router!.output.stderr().slice(-800)}`,
        ),
      60_000,
      200,
    );
    assert.deepEqual(text.split('\n').slice(0, -1), expected, 'every line once, in order');
  });
});

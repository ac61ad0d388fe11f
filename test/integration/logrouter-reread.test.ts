/**
 * Issue #16.1: a container that writes only to stdout kept its stderr checkpoint at the epoch, so
 * the agent asked the engine for the whole log again (`since=0`) at every re-attach (after a
 * kill -9) and after the container's exit, and held it in memory as one buffer. Here the agent is
 * killed with SIGKILL after 20,000 lines and restarted; the restarted agent must read only what
 * is new (and the tail around its checkpoint), also after the exit, and deliver every line once.
 *
 * Issue #16.3: the quiet stream's position follows the busy one's a second behind, and the read
 * after the exit started there: it read the burst's last second again (140,000 to 220,000 lines
 * in the benchmark), each skipped as delivered. A burst that ends with the container must cost
 * no more reading than the burst itself.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../agents/logrouter/checkpoint-store';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { dockerLines, runScript, startRouter, waitExited, type RunningRouter } from '../support/logrouter';
import { removeTestContainers, startEngine, testDocker, uniqueTag } from '../support/test-env';

const BURST = 20_000;

/** The sum of a metric's samples on the agent's /metrics. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(match[1]);
  return sum;
}

describe('quayside logrouter: a quiet stream does not make it read the whole log again', function () {
  this.timeout(180_000);
  const docker = testDocker();
  const run = uniqueTag('lrq');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrq-'));
  let router: RunningRouter | undefined;
  let sink: Server | undefined;
  let text = '';
  const received = () => text.split('\n').slice(0, -1);

  before(async () => {
    await startEngine();
    sink = createServer((socket) => socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk)));
  });

  after(async () => {
    await router?.stop();
    sink?.close();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-attaches after kill -9 and reads the log after the exit from the checkpoint, not from the start', async () => {
    const port = await freePort();
    await new Promise<void>((resolve) => sink!.listen(port, '127.0.0.1', resolve));
    const route = `raw+tcp://127.0.0.1:${port}?filter.name=${run}`;
    const state = join(dir, 'state');
    router = startRouter([route], state);
    await router.port();
    // stderr never writes; the pauses put the burst well behind the checkpoint before the kill.
    const container = await runScript(
      docker,
      run,
      `sleep 1; seq 1 ${BURST}; sleep 3; echo tail-1; sleep 10; echo tail-2`,
    );
    await eventually(
      () => assert.equal(received().at(-1), 'tail-1', `${received().length} lines so far`),
      120_000,
      100,
    );
    // Killed once its checkpoint holds tail-1 (the duplicate window is another test's subject).
    const tail1 = (await dockerLines(container)).find((line) => line.data.toString() === 'tail-1')!.ts;
    await eventually(
      () => {
        const positions = Object.values(new CheckpointStore(join(state, 'logrouter')).all()).flatMap((byContainer) =>
          Object.values(byContainer),
        );
        assert.ok(
          positions.some((p) => p.stdout?.ts === tail1),
          'checkpoint not at tail-1 yet',
        );
      },
      30_000,
      20,
    );
    router.child.kill('SIGKILL');
    await router.stop();

    router = startRouter([route], state);
    const agentPort = await router.port();
    await waitExited(container);
    const expected = [...Array.from({ length: BURST }, (_, i) => String(i + 1)), 'tail-1', 'tail-2'];
    await eventually(
      () => assert.equal(received().length, expected.length, `${received().length} of ${expected.length} lines`),
      60_000,
      100,
    );
    // The read after the exit has happened once the checkpoint sits at the last line (settled).
    await eventually(
      async () => {
        const skipped = await metric(agentPort, 'quayside_logrouter_skipped_total');
        assert.ok(
          skipped >= 2,
          `the restarted agent skipped ${skipped} lines so far (tail-1 at re-attach, tail-2 after the exit)`,
        );
      },
      30_000,
      100,
    );
    const read = await metric(agentPort, 'quayside_logrouter_lines_in_total');
    assert.ok(read <= 10, `the restarted agent read ${read} lines from Docker: it asked for the log from its start`);
    assert.deepEqual(received(), expected, 'every line once, in order');
  });

  it("reads after the exit from each stream's own checkpoint: the burst is not read again", async () => {
    const name = `${run}-exit`;
    let exitText = '';
    const exitSink = createServer((socket) =>
      socket.setEncoding('latin1').on('data', (chunk: string) => (exitText += chunk)),
    );
    const port = await freePort();
    await new Promise<void>((resolve) => exitSink.listen(port, '127.0.0.1', resolve));
    const state = join(dir, 'state-exit');
    const exitRouter = startRouter([`raw+tcp://127.0.0.1:${port}?filter.name=${name}`], state);
    try {
      const agentPort = await exitRouter.port();
      // stderr never writes; the container exits right after its last line.
      const container = await runScript(docker, name, `sleep 1; seq 1 ${BURST}`);
      await waitExited(container);
      const id = (await container.inspect()).Id;
      const last = (await dockerLines(container)).at(-1)!.ts;
      // Both streams' positions meet at the last line once the read after the exit ended. Not
      // merely equal: a new container's first checkpoint holds one start for both streams.
      await eventually(
        () => {
          const store = new CheckpointStore(join(state, 'logrouter'));
          const positions = Object.values(store.all()).map((byContainer) => byContainer[id]);
          store.close();
          assert.ok(
            positions.some((p) => p?.stdout?.ts === last && p.stderr?.ts === last),
            `the read after the exit has not ended yet (${exitText.split('\n').length - 1} lines so far)`,
          );
        },
        120_000,
        100,
      );
      const lines = exitText.split('\n').slice(0, -1);
      assert.deepEqual(
        lines,
        Array.from({ length: BURST }, (_, i) => String(i + 1)),
        'every line once, in order',
      );
      const read = await metric(agentPort, 'quayside_logrouter_lines_in_total');
      console.log(`      ${BURST} lines, then the exit: ${read - BURST} lines read again`);
      assert.ok(read - BURST <= 10, `${read - BURST} lines read again after the exit`);
    } finally {
      await exitRouter.stop();
      exitSink.close();
    }
  });
});

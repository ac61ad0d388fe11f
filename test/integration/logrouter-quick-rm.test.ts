/**
 * Issue #15.5: `docker run --rm` containers that live a few milliseconds were often gone before
 * the agent opened their log (16 of 60 lines delivered). Reading now starts on `create`: 100 such
 * containers, run with the docker CLI on the test engine, each print two lines on stdout and one
 * on stderr; every line must arrive exactly once. One loss is still open (README, logrouter):
 * now and then the engine ends a container's log stream at its exit without its lines and removes
 * it before it can be read again (0 to 3 containers of 100 a run here); that many missing lines
 * are tolerated and printed, a duplicate or a line from nowhere never.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachLimited } from '../../shared/for-each-limited';
import { dockerCli } from '../support/docker-cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { startRouter, type RunningRouter } from '../support/logrouter';
import { removeTestContainers, startEngine, testDocker, testEnv, TEST_LABEL, uniqueTag } from '../support/test-env';

const CONTAINERS = 100;
/** Five containers' lines: the open loss above, measured at 0 to 3 containers a run. */
const MAX_MISSING = 15;
const ENGINE_REMOVE_RACE =
  /exited 125: [\s\S]*unable to remove filesystem for [0-9a-f]+: unlinkat \S+: directory not empty/;

describe('quayside logrouter: short-lived docker run --rm containers', function () {
  this.timeout(300_000);
  const docker = testDocker();
  const run = uniqueTag('lrrm');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrrm-'));
  let router: RunningRouter | undefined;
  let sink: Server | undefined;
  let text = '';

  before(() => startEngine());

  after(async () => {
    await router?.stop();
    sink?.close();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`delivers the lines of ${CONTAINERS} quick docker run --rm containers at most once, within the open loss`, async () => {
    const port = await freePort();
    sink = createServer((socket) => socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk)));
    await new Promise<void>((resolve) => sink!.listen(port, '127.0.0.1', resolve));
    router = startRouter([`raw+tcp://127.0.0.1:${port}?filter.name=${run}-*`], join(dir, 'state'));
    await router.port();
    await eventually(
      async () => assert.equal((await fetch(`http://127.0.0.1:${await router!.port()}/readyz`)).status, 200),
      30_000,
      100,
    );
    const names = Array.from({ length: CONTAINERS }, (_, i) => `${run}-${i}`);
    const raced: string[] = [];
    await forEachLimited(names, 8, async (name) => {
      try {
        await dockerCli([
          'run',
          '--rm',
          '--name',
          name,
          '--label',
          `${TEST_LABEL}=1`,
          testEnv().images.busybox,
          'sh',
          '-c',
          `echo ${name} one; echo ${name} two >&2; echo ${name} three`,
        ]);
      } catch (error) {
        // The engine's own auto-remove race (moby/moby#40729, #52161: a file written into the
        // container's folder while it is being removed; seen about once in 300 runs here): the
        // container ran to its end, so its lines still count below. Anything else fails.
        if (!ENGINE_REMOVE_RACE.test(String(error))) throw error;
        raced.push(name);
      }
    });
    const expected = names.flatMap((name) => [`${name} one`, `${name} two`, `${name} three`]).sort();
    const received = () => text.split('\n').slice(0, -1).sort();
    const missing = () => expected.filter((line) => !received().includes(line));
    // Every line is waited for; what is still missing then is the open loss, within its bound.
    await eventually(() => assert.deepEqual(missing(), []), 60_000, 200).catch(() => undefined);
    // Stopped, so that whatever it still held is out too: each line once, and nothing else.
    assert.equal(await router.stop(), 0);
    await eventually(() => assert.ok(text.endsWith('\n')), 5_000, 50);
    const lost = missing();
    assert.ok(
      lost.length <= MAX_MISSING,
      `${lost.length} lines missing (${lost.slice(0, 10).join(', ')}); agent: ${router.output.stderr().slice(-1500)}`,
    );
    assert.deepEqual(
      received(),
      expected.filter((line) => !lost.includes(line)),
      'every line at most once, nothing else',
    );
    console.log(
      `      (${expected.length - lost.length} of ${expected.length} lines delivered once; ${raced.length} containers hit the engine's auto-remove race)`,
    );
  });
});

/**
 * Issue #15.5: `docker run --rm` containers that live a few milliseconds were often gone before
 * the agent opened their log (16 of 60 lines delivered). Reading now starts on `create`: 100 such
 * containers, run with the docker CLI on the test engine, each print two lines on stdout and one
 * on stderr; every line must arrive exactly once.
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
const ENGINE_REMOVE_RACE = /exited 125: [\s\S]*unable to remove filesystem for [0-9a-f]+: unlinkat \S+: directory not empty/;

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

  it(`delivers every line of ${CONTAINERS} quick docker run --rm containers exactly once`, async () => {
    const port = await freePort();
    sink = createServer((socket) => socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk)));
    await new Promise<void>((resolve) => sink!.listen(port, '127.0.0.1', resolve));
    router = startRouter([`raw+tcp://127.0.0.1:${port}?filter.name=${run}-*`], join(dir, 'state'));
    await router.port();
    await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${await router!.port()}/readyz`)).status, 200), 30_000, 100);
    const names = Array.from({ length: CONTAINERS }, (_, i) => `${run}-${i}`);
    const raced: string[] = [];
    await forEachLimited(names, 8, async (name) => {
      try {
        await dockerCli(['run', '--rm', '--name', name, '--label', `${TEST_LABEL}=1`, testEnv().images.busybox, 'sh', '-c', `echo ${name} one; echo ${name} two >&2; echo ${name} three`]);
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
    await eventually(() => assert.deepEqual(missing(), [], `${missing().length} lines missing (${missing().slice(0, 10).join(', ')}); agent: ${router!.output.stderr().slice(-1500)}`), 60_000, 200);
    // Stopped, so that whatever it still held is out too: each line once, and nothing else.
    assert.equal(await router.stop(), 0);
    await eventually(() => assert.ok(text.endsWith('\n')), 5_000, 50);
    assert.deepEqual(received(), expected, 'every line once, nothing else');
    if (raced.length > 0) console.log(`      (${raced.length} of them hit the engine's auto-remove race; their lines arrived too)`);
  });
});

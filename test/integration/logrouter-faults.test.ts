/**
 * No loss, no duplicates: a container writes numbered lines while the container restarts or the
 * test engine restarts. Where the README allows duplicates, they are counted and printed: the
 * agent killed with SIGKILL at a random line of a burst and restarted (no loss; at most the batch
 * it had written and not checkpointed yet comes again), and rsyslog stopped for 20 s (plain TCP
 * has no acknowledgements: no loss, and every duplicate counted as replayed). Each test ends by
 * comparing every line rsyslog received for the container, in order, with every line the engine
 * holds for it (all its runs). Only counts and contents are asserted; waits poll, so CPU load
 * slows the tests down but cannot fail them.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { eventually } from '../support/eventually';
import { dockerLines, runScript, startRouter, type RunningRouter } from '../support/logrouter';
import { PrivateRsyslog } from '../support/rsyslog';
import { removeTestContainers, startEngine, stopEngine, testDocker, uniqueTag } from '../support/test-env';

/** The agent's --log-batch-size: a kill -9 sends at most one batch again. */
const BATCH_SIZE = 1000;

/** Numbered lines in bursts of 1,000 (batches of hundreds of lines, as from a busy container). */
function bursts(lines: number): string {
  return `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) { print "line " i " of ${lines}"; if (i % 1000 == 0) { fflush(); system("usleep 100000") } } }'`;
}

/** Numbered lines, about one per millisecond, then (optionally) stay up. */
function generator(lines: number, thenSleep = false): string {
  return `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "line $i of ${lines}"; usleep 1000; done${thenSleep ? '; exec sleep 3600' : ''}`;
}

describe('quayside logrouter: every line exactly once through faults', function () {
  this.timeout(300_000);
  const docker = testDocker();
  const run = uniqueTag('lrf');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrf-'));
  const state = join(dir, 'state');
  const rsyslog = new PrivateRsyslog(join(dir, 'rsyslog'));
  let router: RunningRouter;
  let route: string;

  const received = (name: string): string[] =>
    rsyslog
      .received()
      .filter((r) => r.app === name)
      .map((r) => r.msg);

  async function waitReceived(name: string, atLeast: number): Promise<void> {
    await eventually(
      () => assert.ok(received(name).length >= atLeast, `${received(name).length} of ${atLeast} lines so far`),
      120_000,
      100,
    );
  }

  /** Waits until rsyslog holds exactly what the engine holds for the container, then compares. */
  async function assertExactlyOnce(
    container: Dockerode.Container,
    name: string,
    complete: (truth: string[]) => boolean,
  ): Promise<void> {
    let truth: string[] = [];
    await eventually(
      async () => {
        truth = (await dockerLines(container)).map((line) => line.data.toString('utf8'));
        assert.ok(complete(truth), `the container has not written everything yet (${truth.length} lines)`);
        assert.ok(
          received(name).length >= truth.length,
          `received ${received(name).length} of ${truth.length}; agent: ${router.output.stderr().slice(-1500)}`,
        );
      },
      180_000,
      250,
    );
    const got = received(name);
    assert.equal(got.length, truth.length, 'duplicates were delivered');
    assert.deepEqual(got, truth);
  }

  before(async () => {
    await startEngine();
    await rsyslog.start();
    route = `syslog+tcp://127.0.0.1:${rsyslog.port}?filter.name=${run}-*`;
    router = startRouter([route], state);
    await router.port();
  });

  after(async () => {
    await router?.stop();
    await rsyslog.stop();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no line through kill -9 of the agent at a random line of a burst (duplicates: at most one batch, counted)', async () => {
    const name = `${run}-kill`;
    const total = 60_000;
    const container = await runScript(docker, name, bursts(total));
    const target = 2_000 + Math.floor(Math.random() * 38_000);
    await waitReceived(name, target);
    router.child.kill('SIGKILL');
    await router.stop();
    const atKill = received(name).length;
    assert.ok(atKill < total, `the kill came before the end of the stream (${atKill} of ${total} received)`);
    router = startRouter([route], state);
    let truth: string[] = [];
    await eventually(
      async () => {
        truth = (await dockerLines(container)).map((line) => line.data.toString('utf8'));
        assert.equal(truth.length, total, 'the container has not written everything yet');
        const first = firstCopies(received(name));
        // Counts first: a diff of two 60,000-line arrays takes long to print while lines still come.
        assert.ok(
          first.length >= truth.length,
          `received ${first.length} of ${truth.length}; agent: ${router.output.stderr().slice(-1500)}`,
        );
        assert.deepEqual(first, truth, 'every line, in order');
      },
      180_000,
      500,
    );
    const duplicates = received(name).length - truth.length;
    console.log(
      `      kill -9 once ${target} lines had arrived (a random line; ${atKill} by the kill) of ${total}: 0 lost, ${duplicates} duplicated`,
    );
    assert.ok(duplicates <= BATCH_SIZE, `at most one batch (${BATCH_SIZE} lines) sent again, not ${duplicates}`);
    if (duplicates > 0) {
      const got = received(name);
      const seen = new Set<string>();
      const again = got.findIndex((line) => seen.has(line) || !seen.add(line));
      assert.deepEqual(
        got,
        [...truth.slice(0, again), ...truth.slice(again - duplicates)],
        'one run of lines sent again, where the agent was killed',
      );
    }
  });

  it('survives a container restart mid-stream', async () => {
    const name = `${run}-restart`;
    const container = await runScript(docker, name, generator(3000));
    await waitReceived(name, 300);
    await container.restart({ t: 0 });
    // The second run writes lines 1… again; the engine keeps both runs.
    await assertExactlyOnce(container, name, (truth) => truth.length > 3000 && truth.at(-1) === 'line 3000 of 3000');
  });

  it('survives a restart of the Docker engine mid-stream', async () => {
    const name = `${run}-engine`;
    const container = await runScript(docker, name, generator(3000, true), { restart: 'always' });
    await waitReceived(name, 300);
    await stopEngine();
    await startEngine();
    await assertExactlyOnce(container, name, (truth) => truth.length > 3000 && truth.at(-1) === 'line 3000 of 3000');
  });

  it('loses no line when rsyslog is stopped for 20 s mid-stream (TCP: at least once, replayed lines counted)', async () => {
    const name = `${run}-rsyslog`;
    const container = await runScript(docker, name, generator(4000));
    await waitReceived(name, 300);
    await rsyslog.stop();
    await sleep(20_000); // the outage itself; nothing is asserted on time
    await rsyslog.start();
    let truth: string[] = [];
    await eventually(
      async () => {
        truth = (await dockerLines(container)).map((line) => line.data.toString('utf8'));
        assert.equal(truth.length, 4000, 'the container has not written everything yet');
        assert.deepEqual(firstCopies(received(name)), truth);
      },
      180_000,
      250,
    );
    const duplicates = received(name).length - truth.length;
    const replayed = metric(
      await (await fetch(`http://127.0.0.1:${await router.port()}/metrics`)).text(),
      'quayside_logrouter_replayed_total',
    );
    assert.ok(
      replayed >= duplicates,
      `every duplicate was counted as replayed (${duplicates} duplicates, ${replayed} replayed)`,
    );
    console.log(`      rsyslog stopped 20 s: 0 of 4000 lost, ${duplicates} duplicated, ${replayed} replayed`);
  });
});

/** Each line once, at its first arrival (replayed lines come again later). */
function firstCopies(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((line) => !seen.has(line) && seen.add(line));
}

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

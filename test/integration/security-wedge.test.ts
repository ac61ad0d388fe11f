/**
 * The engine wedge of a pause that lands while an exec is starting (agents/security-watcher/freezer.ts),
 * on the test engine: enforcement on execs must not cause it, and when it happens anyway the
 * watcher keeps handling every other container, says which container does not answer, stops in
 * time, and starts again without stalling.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { thawContainer } from '../../agents/security-watcher/freezer';
import { applyRequestDeadlines, isDockerDeadline, withDockerDeadline } from '../../shared/docker/request-deadline';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { removeTestContainers, TEST_LABEL, testDocker, testEnv, uniqueTag } from '../support/test-env';

interface Readiness {
  ready: boolean;
  checks: Record<string, { ready: boolean; detail?: string }>;
}

describe('security-watcher and the pause-during-exec-start wedge (test engine)', function () {
  this.timeout(240_000);
  const docker = applyRequestDeadlines(testDocker(), 5_000);
  let dir: string;
  let agent: ChildProcess | undefined;
  let output: ReturnType<typeof capture>;
  let port: number;
  const wedged: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qs-sec-wedge-'));
  });
  afterEach(async () => {
    await stopWatcher();
    // Thawed, the engine answers for the container again and can remove it.
    for (const id of wedged.splice(0)) await thawContainer(id, '/sys/fs/cgroup').catch(() => undefined);
    await removeTestContainers(testDocker());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function startWatcher(policy: string, extra: string[] = []): Promise<void> {
    port = await freePort();
    const file = join(dir, `${uniqueTag('policy')}.yaml`);
    writeFileSync(file, policy);
    const args = agentArgs(
      'security-watcher',
      { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true },
      '--security-policy',
      file,
      ...extra,
    );
    agent = startCli(args, { DOCKER_HOST: testEnv().docker.host });
    output = capture(agent);
    await eventually(async () => assert.equal((await readiness()).checks.docker?.ready, true), 20_000, 100);
  }

  async function stopWatcher(): Promise<number> {
    if (!agent) return 0;
    const began = Date.now();
    agent.kill('SIGTERM');
    assert.equal(await exited(agent), 0, output.stderr());
    agent = undefined;
    return Date.now() - began;
  }

  async function readiness(): Promise<Readiness> {
    return (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as Readiness;
  }

  async function findings(id: string): Promise<string[]> {
    const body = (await (await fetch(`http://127.0.0.1:${port}/findings?agent=security-watcher`)).json()) as {
      findings: Array<{ ruleId: string; object: { id: string } }>;
    };
    return body.findings.filter((f) => f.object.id === id).map((f) => f.ruleId);
  }

  async function running(name: string, user = '1000', host: Dockerode.HostConfig = {}): Promise<Dockerode.Container> {
    const c = await docker.createContainer({
      name,
      Image: testEnv().images.busybox,
      Cmd: ['sleep', '300'],
      User: user,
      Labels: { [TEST_LABEL]: '1' },
      HostConfig: { RestartPolicy: { Name: 'no' }, NetworkMode: 'none', ...host },
    });
    await c.start();
    return c;
  }

  /** As `docker exec -d`; the engine's (empty) answer is a stream that would keep its socket open. */
  async function startDetached(exec: Dockerode.Exec): Promise<void> {
    const answer = (await exec.start({ Detach: true })) as unknown as { destroy(): void };
    answer.destroy();
  }

  /** Answers within the deadline: not wedged. */
  async function answers(c: Dockerode.Container): Promise<Dockerode.ContainerInspectInfo> {
    return withDockerDeadline(3_000, () => c.inspect());
  }

  it('enforce pause on root execs, repeated: every container is paused and the engine keeps answering', async () => {
    await startWatcher('rules:\n  root-exec: { mode: enforce, action: pause }\n');
    const rounds = 12;
    const records = (): Array<{ container: string; result: string; note?: string; error?: string }> =>
      output
        .stderr()
        .split('\n')
        .filter((l) => l.includes('"enforce'))
        .map((l) => JSON.parse(l) as { container: string; result: string; note?: string });
    for (let round = 0; round < rounds; round++) {
      const name = uniqueTag('qs-sec-race');
      const c = await running(name);
      const exec = await c.exec({ Cmd: ['true'], User: 'root' });
      // As `docker exec -d` does; a pause landing first makes the start fail, which is fine here.
      await startDetached(exec).catch(() => undefined);
      const record = await eventually(
        () => {
          const found = records().find((r) => r.container === name);
          assert.ok(
            found,
            `round ${round}: no enforcement yet\n${output
              .stderr()
              .split('\n')
              .filter((l) => !l.includes('finding opened'))
              .join('\n')}`,
          );
          return found;
        },
        20_000,
        20,
      );
      assert.deepEqual(
        { result: record.result, note: record.note, error: record.error },
        { result: 'ok', note: undefined, error: undefined },
        `round ${round}: the pause wedged the engine`,
      );
      assert.equal((await answers(c)).State.Paused, true, `round ${round}`);
      await c.remove({ force: true });
    }
  });

  it('a wedged container holds back no other, is named by /readyz, and neither shutdown nor a restart stalls on it', async () => {
    await startWatcher('rules: {}\n', ['--resync-interval', '2s']);
    const victim = await running(uniqueTag('qs-sec-wedged'), '1000');
    // Wedge it the way the engine wedges: pause while an exec is starting, until the engine stops answering.
    // The window is runc's start of the exec: sweep the delay across it.
    for (let attempt = 0; attempt < 90 && wedged.length === 0; attempt++) {
      const exec = await victim.exec({ Cmd: ['true'] });
      const starting = startDetached(exec).catch(() => undefined);
      await sleep(attempt % 30);
      await victim.pause().catch(() => undefined);
      try {
        await answers(victim);
        await starting;
        await victim.unpause();
      } catch (error) {
        if (!isDockerDeadline(error)) throw error;
        // Slow, or wedged? A wedged engine does not answer a second, longer wait either.
        const late = await withDockerDeadline(10_000, () => victim.inspect()).catch((e: unknown) =>
          isDockerDeadline(e) ? undefined : Promise.reject(e),
        );
        if (late) await victim.unpause().catch(() => undefined);
        else wedged.push(victim.id);
      }
    }
    assert.equal(wedged.length, 1, 'the engine wedged');

    // Other containers are still seen, within seconds.
    const other = await running(uniqueTag('qs-sec-other'), '1000', { CapAdd: ['NET_ADMIN'] });
    await eventually(async () => assert.ok((await findings(other.id)).includes('added-capabilities')), 8_000, 50);
    // A periodic sync sees the container paused; its check misses the deadline and /readyz names it.
    const name = (await docker.listContainers({ filters: { id: [victim.id] } }))[0]!.Names[0]!.slice(1);
    await eventually(
      async () => {
        const { checks } = await readiness();
        assert.equal(
          checks['security-watcher']?.ready,
          false,
          output
            .stderr()
            .split('\n')
            .filter((l) => !l.includes('finding'))
            .slice(-15)
            .join('\n'),
        );
        assert.match(
          checks['security-watcher']?.detail ?? '',
          new RegExp(`does not answer for 1 container.*${name} \\(GET /containers/${victim.id}/json`),
        );
      },
      40_000,
      200,
    );
    const later = await running(uniqueTag('qs-sec-later'), '1000', { CapAdd: ['NET_ADMIN'] });
    await eventually(async () => assert.ok((await findings(later.id)).includes('added-capabilities')), 8_000, 50);
    assert.equal((await readiness()).checks['docker-dispatch']?.ready, true, 'dispatch keeps up');

    // SIGTERM ends within the shutdown deadline (10 s) and cleanly.
    assert.ok((await stopWatcher()) < 10_000);

    // Restarted: its first sync does not stall on the wedged container.
    await startWatcher('rules: {}\n', ['--resync-interval', '2s']);
    const afterRestart = await running(uniqueTag('qs-sec-restarted'), '1000', { CapAdd: ['NET_ADMIN'] });
    await eventually(
      async () => assert.ok((await findings(afterRestart.id)).includes('added-capabilities')),
      8_000,
      50,
    );
    await eventually(
      async () => assert.match((await readiness()).checks['security-watcher']?.detail ?? '', new RegExp(name)),
      40_000,
      200,
    );

    // Thawed, the container answers again, and the next sync clears it.
    await thawContainer(victim.id, '/sys/fs/cgroup');
    await eventually(
      async () => assert.equal((await readiness()).checks['security-watcher']?.ready, true),
      40_000,
      200,
    );
  });
});

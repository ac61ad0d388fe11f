import { strict as assert } from 'node:assert';
import {
  HealthCheckClassifier,
  healthCheckCommandLine,
  probeEnvironment,
  type ExecFacts,
  type HealthCheckConfig,
  type HealthCheckSource,
} from '../../shared/docker/health-checks';
import type { DockerEvent } from '../../shared/docker/event';

describe('healthCheckCommandLine', () => {
  it('renders CMD-SHELL through the platform shell, as the engine reports it', () => {
    assert.equal(
      healthCheckCommandLine(['CMD-SHELL', 'curl -f http://localhost/ || exit 1']),
      '/bin/sh -c curl -f http://localhost/ || exit 1',
    );
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'exit 0'], 'windows'), 'cmd /S /C exit 0');
  });
  it("uses the container's SHELL for CMD-SHELL when it has one", () => {
    assert.equal(
      healthCheckCommandLine(['CMD-SHELL', 'curl -f localhost'], 'linux', ['/bin/bash', '-o', 'pipefail', '-c']),
      '/bin/bash -o pipefail -c curl -f localhost',
    );
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'exit 0'], 'linux', []), '/bin/sh -c exit 0');
  });
  it('joins CMD arguments with spaces', () => {
    assert.equal(healthCheckCommandLine(['CMD', 'test', '-f', '/tmp/healthy']), 'test -f /tmp/healthy');
  });
  it('has no command for NONE or no health check', () => {
    assert.equal(healthCheckCommandLine(['NONE']), undefined);
    assert.equal(healthCheckCommandLine(undefined), undefined);
    assert.equal(healthCheckCommandLine([]), undefined);
  });
});

describe('HealthCheckClassifier', () => {
  const START_MS = 1_700_000_000_000;
  const INTERVAL_MS = 5_000;
  const config: HealthCheckConfig = {
    entrypoint: '/bin/sh',
    arguments: ['-c', 'wget -q localhost'],
    user: 'app',
    intervalMs: INTERVAL_MS,
    env: ['PATH=/bin', 'HOSTNAME=h'],
    workingDir: '/srv',
  };
  /** What GET /exec/{id}/json shows for the engine's own probe (measured on the test engine). */
  const probe: ExecFacts = {
    tty: false,
    privileged: false,
    user: 'app',
    entrypoint: '/bin/sh',
    arguments: ['-c', 'wget -q localhost'],
    openStdin: false,
    openStdout: true,
    openStderr: true,
    running: true,
    pid: 42,
  };
  const event = (action: string, execID: string, atMs: number): DockerEvent => ({
    type: 'container',
    action,
    detail: action === 'exec_die' ? '' : '/bin/sh -c wget -q localhost',
    id: 'c1',
    name: 'web',
    image: 'x',
    attributes: { execID },
    scope: 'local',
    timeNano: `${BigInt(atMs) * 1_000_000n}`,
  });

  function classifier(
    overrides: Partial<HealthCheckSource> & {
      execFacts?: Partial<ExecFacts>;
      env?: string[];
      cwd?: string;
      log?: Array<{ startMs: number; endMs: number }>;
    } = {},
  ) {
    const calls = { healthCheck: 0 };
    const source: HealthCheckSource = {
      async healthCheck() {
        calls.healthCheck += 1;
        return config;
      },
      turn: async () => ({ startedAtMs: START_MS, log: overrides.log ?? [] }),
      exec: async () => ({ ...probe, ...overrides.execFacts }),
      process: async () => ({
        env: overrides.env ?? ['PATH=/bin', 'HOSTNAME=h', 'HOME=/home/app'],
        cwd: overrides.cwd ?? '/srv',
      }),
      ...overrides,
    };
    return { classifier: new HealthCheckClassifier(source), calls };
  }

  async function judge(c: HealthCheckClassifier, execId: string, atMs: number) {
    c.observe(event('exec_create', execId, atMs));
    return c.verdict(event('exec_create', execId, atMs));
  }

  it("hides the engine's probe: its settings, its environment and its turn", async () => {
    const { classifier: c } = classifier();
    assert.equal(await judge(c, 'p1', START_MS + INTERVAL_MS + 3), undefined);
    // exec_start and exec_die of the same exec share the verdict.
    assert.equal(await c.isHealthCheck(event('exec_die', 'p1', START_MS + INTERVAL_MS + 50)), true);
  });

  it('does not hide the health command run as root, privileged, with a TTY, with stdin, or detached (issue #13.2)', async () => {
    const differences: Array<[Partial<ExecFacts>, RegExp]> = [
      [{ user: '0' }, /user "0"/],
      [{ privileged: true }, /privileged/],
      [{ tty: true }, /TTY/],
      [{ openStdin: true }, /stdin/],
      [{ openStdout: false, openStderr: false }, /detached/],
      [{ arguments: ['-c', 'wget -q localhost', 'extra'] }, /arguments/],
    ];
    for (const [execFacts, why] of differences) {
      const { classifier: c } = classifier({ execFacts });
      assert.match((await judge(c, 'x', START_MS + INTERVAL_MS + 3)) ?? 'hidden', why);
    }
  });

  it('does not hide it with another environment (-e PATH=/tmp:/bin) or working directory (-w)', async () => {
    assert.match(
      (await judge(
        classifier({ env: ['PATH=/tmp:/bin', 'HOSTNAME=h'] }).classifier,
        'x',
        START_MS + INTERVAL_MS + 3,
      )) ?? 'hidden',
      /environment/,
    );
    assert.match(
      (await judge(
        classifier({ env: ['PATH=/bin', 'HOSTNAME=h', 'LD_PRELOAD=/tmp/x.so'] }).classifier,
        'x',
        START_MS + INTERVAL_MS + 3,
      )) ?? 'hidden',
      /environment/,
    );
    assert.match(
      (await judge(classifier({ cwd: '/tmp' }).classifier, 'x', START_MS + INTERVAL_MS + 3)) ?? 'hidden',
      /runs in \/tmp/,
    );
  });

  it("does not hide it off the engine's turn: too early, too late, or a second exec in one turn", async () => {
    assert.match((await judge(classifier().classifier, 'x', START_MS + 1_000)) ?? 'hidden', /not the engine's turn/);
    assert.match(
      (await judge(classifier().classifier, 'x', START_MS + 4 * INTERVAL_MS)) ?? 'hidden',
      /not the engine's turn/,
    );
    const { classifier: c } = classifier();
    assert.equal(await judge(c, 'p1', START_MS + INTERVAL_MS + 3), undefined);
    assert.match((await judge(c, 'x', START_MS + INTERVAL_MS + 400)) ?? 'hidden', /second exec/);
  });

  it('takes the turn from the last logged probe, and recognises a probe that already ended and was logged', async () => {
    const log = [{ startMs: START_MS + INTERVAL_MS, endMs: START_MS + INTERVAL_MS + 20 }];
    const next = START_MS + 2 * INTERVAL_MS + 20 + 4;
    assert.equal(await judge(classifier({ log }).classifier, 'p2', next), undefined);
    const ended = [...log, { startMs: next - 1, endMs: next + 10 }];
    assert.equal(
      await judge(classifier({ log: ended, execFacts: { running: false } }).classifier, 'p2', next),
      undefined,
    );
    // Right after a quick probe the engine logged, in what is still that probe's turn.
    assert.match(
      (await judge(classifier({ log }).classifier, 'x', START_MS + INTERVAL_MS + 2_000)) ?? 'hidden',
      /second exec/,
    );
  });

  it('never hides an exec whose exec_create it did not see, or a command that is not the health check', async () => {
    const { classifier: c } = classifier();
    assert.equal(await c.isHealthCheck(event('exec_start', 'unseen', START_MS + INTERVAL_MS)), false);
    c.observe({ ...event('exec_create', 'y', START_MS + INTERVAL_MS), detail: 'wget -q localhost' });
    assert.match(
      (await c.verdict({ ...event('exec_create', 'y', START_MS + INTERVAL_MS), detail: 'wget -q localhost' })) ??
        'hidden',
      /not the health-check command/,
    );
  });

  it('asks again after an inspect that failed for a reason other than a missing container; remembers a 404', async () => {
    let calls = 0;
    const flaky = classifier({
      async healthCheck() {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('engine busy'), { statusCode: 500 });
        return config;
      },
    }).classifier;
    assert.notEqual(await judge(flaky, 'a', START_MS + INTERVAL_MS), undefined);
    assert.equal(await judge(flaky, 'b', START_MS + INTERVAL_MS + 3), undefined);
    assert.equal(calls, 2);
    let gone = 0;
    const missing = classifier({
      async healthCheck() {
        gone += 1;
        throw Object.assign(new Error('no such container'), { statusCode: 404 });
      },
    }).classifier;
    await judge(missing, 'a', START_MS + INTERVAL_MS);
    await judge(missing, 'b', START_MS + INTERVAL_MS);
    assert.equal(gone, 1);
  });

  it("builds the probe's environment as the daemon does: its PATH and HOSTNAME, overridden by Config.Env", () => {
    assert.deepEqual(probeEnvironment('h', ['FOO=bar', 'PATH=/bin']), ['PATH=/bin', 'HOSTNAME=h', 'FOO=bar']);
  });
});

/** The runtime and `quayside events` end to end against the test engine and Prometheus. */
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import {
  createContainer,
  execIn,
  removeTestContainers,
  startEngine,
  stopEngine,
  testDocker,
  testEnv,
  uniqueTag,
} from '../support/test-env';

describe('quayside all against the test engine', function () {
  this.timeout(120_000);
  const docker = testDocker();
  let child: ReturnType<typeof startCli> | undefined;
  let base = '';

  before(() => startEngine());
  beforeEach(async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    child = startCli(agentArgs('all', { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true }), {
      DOCKER_HOST: testEnv().docker.host,
    });
    base = `http://127.0.0.1:${port}`;
    await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 10_000);
  });
  afterEach(async () => {
    await startEngine();
    child?.kill('SIGTERM');
    if (child) assert.equal(await exited(child), 0, 'graceful shutdown exits 0');
  });

  it('flips /readyz to 503 while the engine is down and back to 200 after', async () => {
    await stopEngine();
    await eventually(async () => {
      const response = await fetch(`${base}/readyz`);
      assert.equal(response.status, 503);
      assert.match(await response.text(), /cannot reach Docker/);
    }, 10_000);
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'alive while Docker is away');
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^quayside_docker_connected 0$/m);

    await startEngine();
    await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 30_000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^quayside_docker_connected 1$/m);
    const reconnects = Number(/^quayside_docker_reconnects_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(reconnects >= 1, `reconnects_total ${reconnects}`);
  });

  it('counts events by type and action, and Prometheus scrapes the metrics', async () => {
    const container = await createContainer(docker, { name: uniqueTag('qs-metrics'), cmd: ['true'] });
    await container.start();
    await container.wait();
    await eventually(async () => {
      assert.match(
        await (await fetch(`${base}/metrics`)).text(),
        /^quayside_docker_events_total\{type="container",action="die"\} [1-9]\d*$/m,
      );
    });

    const { targetsDir, url } = testEnv().prometheus;
    const job = uniqueTag('quayside-all');
    mkdirSync(targetsDir, { recursive: true });
    const targetFile = join(targetsDir, `${job}.json`);
    writeFileSync(targetFile, JSON.stringify([{ targets: [new URL(base).host], labels: { test_run: job } }]));
    try {
      await eventually(
        async () => {
          const query = encodeURIComponent(`quayside_docker_connected{test_run="${job}"}`);
          const answer = (await (await fetch(`${url}/api/v1/query?query=${query}`)).json()) as {
            data: { result: Array<{ value: [number, string] }> };
          };
          assert.equal(answer.data.result[0]?.value[1], '1');
        },
        30_000,
        500,
      );
    } finally {
      rmSync(targetFile, { force: true });
    }
  });
});

describe('quayside events', function () {
  this.timeout(60_000);
  const docker = testDocker();

  before(() => startEngine());
  afterEach(() => removeTestContainers(docker));

  it('prints live events as normalized JSON lines, filtered by the engine', async () => {
    const name = uniqueTag('qs-cli');
    const child = startCli(['events', '--filter', `container=${name}`, '--filter', 'type=container'], {
      DOCKER_HOST: testEnv().docker.host,
    });
    const output = capture(child);
    try {
      await eventually(() => assert.match(output.stderr(), /connected to Docker/), 10_000);
      const container = await createContainer(docker, { name, cmd: ['sleep', '30'] });
      await container.start();
      await execIn(container, ['echo', 'hi']);
      await container.remove({ force: true });
      await eventually(() => assert.match(output.stdout(), /"action":"destroy"/), 10_000);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited(child), 0);
    const lines = output
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.action).filter((a) => a !== 'kill'),
      ['create', 'start', 'exec_create', 'exec_start', 'exec_die', 'die', 'destroy'],
    );
    const execStart = lines.find((l) => l.action === 'exec_start')!;
    assert.equal(execStart.detail, 'echo hi');
    assert.equal(execStart.name, name);
    assert.equal(execStart.type, 'container');
    assert.match(String(execStart.timeNano), /^\d{19}$/);
    assert.match(String(execStart.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('replays earlier events with --since', async () => {
    const name = uniqueTag('qs-cli-since');
    const container = await createContainer(docker, { name, cmd: ['true'] });
    await container.start();
    await container.wait();
    const child = startCli(['events', '--since', '1m', '--filter', `container=${name}`], {
      DOCKER_HOST: testEnv().docker.host,
    });
    const output = capture(child);
    try {
      await eventually(() => assert.match(output.stdout(), /"action":"die"/), 10_000);
    } finally {
      child.kill('SIGTERM');
    }
    await exited(child);
    const actions = output
      .stdout()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { action: string }).action);
    assert.deepEqual(actions, ['create', 'start', 'die']);
  });
});

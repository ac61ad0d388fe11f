/**
 * The access model against a real client on another network: a container on the test engine's
 * bridge reaches the agent at the bridge gateway, as a neighbour on a shared network would.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { AGENTS } from '../../agents';
import { agentArgs, capture, exited, runCli, startCli } from '../support/cli';
import { dockerCli } from '../support/docker-cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { startEngine, testEnv, TEST_LABEL } from '../support/test-env';

/** Status line and body of `url` as busybox wget in a container sees them (`ERROR 403` etc. on failure). */
async function fromContainer(url: string, headers: string[] = [], postData?: string): Promise<string> {
  const post = postData === undefined ? '' : `--post-data '${postData}'`;
  const script = `wget -q -S -O- ${headers.map((h) => `--header '${h}'`).join(' ')} ${post} '${url}' 2>&1; true`;
  return dockerCli(['run', '--rm', '--label', `${TEST_LABEL}=1`, testEnv().images.busybox, 'sh', '-c', script]);
}

describe('HTTP access from another network', function () {
  this.timeout(60_000);
  before(() => startEngine());

  it('serves /healthz, /readyz and /metrics to anyone, /findings and readiness details only with the token', async () => {
    const port = await freePort();
    const agent = startCli(
      agentArgs(
        'label-inspector',
        { host: '0.0.0.0', port, stateDir: join(testEnv().root, 'state') },
        '--api-token',
        'n3ighbour-t0ken',
      ),
      { DOCKER_HOST: testEnv().docker.host },
    );
    const output = capture(agent);
    const remote = `http://${testEnv().docker.gateway}:${port}`;
    try {
      await eventually(
        async () => assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200),
        15_000,
        50,
      );
      assert.match(await fromContainer(`${remote}/healthz`), /HTTP\/1\.1 200 OK[\s\S]*"status":"ok"/);
      assert.match(await fromContainer(`${remote}/metrics`), /HTTP\/1\.1 200 OK[\s\S]*quayside_build_info/);
      const readiness = await fromContainer(`${remote}/readyz`);
      assert.match(readiness, /"checks":\{"docker":\{"ready":true\},"docker-dispatch":\{"ready":true\}\}/);
      assert.doesNotMatch(readiness, /detail/);

      const refused = await fromContainer(`${remote}/findings`);
      assert.match(refused, /401 Unauthorized/);
      assert.doesNotMatch(refused, /"findings"/);
      assert.match(await fromContainer(`${remote}/findings`, ['Authorization: Bearer wrong']), /401 Unauthorized/);
      assert.match(
        await fromContainer(`${remote}/findings`, ['Authorization: Bearer n3ighbour-t0ken']),
        /HTTP\/1\.1 200 OK[\s\S]*"findings"/,
      );
      assert.match(
        await fromContainer(`${remote}/readyz`, ['Authorization: Bearer n3ighbour-t0ken']),
        /"detail":"event stream connected"/,
      );
      // The same host, without the token: trusted.
      assert.equal((await fetch(`http://127.0.0.1:${port}/findings`)).status, 200);
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited(agent), 0, output.stderr());
  });

  it('refuses other networks everything sensitive when no token is set', async () => {
    const port = await freePort();
    const agent = startCli(
      agentArgs('label-inspector', { host: '0.0.0.0', port, stateDir: join(testEnv().root, 'state') }),
      { DOCKER_HOST: testEnv().docker.host },
    );
    const output = capture(agent);
    try {
      await eventually(
        async () => assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200),
        15_000,
        50,
      );
      const remote = `http://${testEnv().docker.gateway}:${port}`;
      assert.match(await fromContainer(`${remote}/findings`, ['Authorization: Bearer anything']), /403 Forbidden/);
      assert.match(await fromContainer(`${remote}/healthz`), /HTTP\/1\.1 200 OK/);
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited(agent), 0, output.stderr());
  });

  it("takes the logrouter's --log-api-token as the old name of --api-token, and refuses two different tokens", async () => {
    const port = await freePort();
    const agent = startCli(
      agentArgs(
        'logrouter',
        { host: '0.0.0.0', port, stateDir: join(testEnv().root, 'state') },
        '--log-api-token',
        'old-name',
      ),
      { DOCKER_HOST: testEnv().docker.host },
    );
    const output = capture(agent);
    try {
      await eventually(
        async () => assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200),
        15_000,
        50,
      );
      const remote = `http://${testEnv().docker.gateway}:${port}`;
      assert.match(await fromContainer(`${remote}/routes`), /401 Unauthorized/);
      assert.match(await fromContainer(`${remote}/routes`, ['Authorization: Bearer old-name']), /HTTP\/1\.1 200 OK/);
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited(agent), 0, output.stderr());
    const both = await runCli(agentArgs('logrouter', { port: 0 }, '--api-token', 'a', '--log-api-token', 'b'), {
      DOCKER_HOST: testEnv().docker.host,
    });
    assert.equal(both.code, 2, both.stderr);
    assert.match(
      both.stderr,
      /--api-token \(QUAYSIDE_API_TOKEN\) and its old name --log-api-token \(QUAYSIDE_LOG_API_TOKEN\) differ/,
    );
  });

  it("lets a client on another network change the logrouter's routes with --api-token", async () => {
    const port = await freePort();
    const agent = startCli(
      agentArgs(
        'logrouter',
        { host: '0.0.0.0', port, stateDir: join(testEnv().root, 'state') },
        '--api-token',
        'new-name',
      ),
      { DOCKER_HOST: testEnv().docker.host },
    );
    const output = capture(agent);
    try {
      await eventually(
        async () => assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200),
        15_000,
        50,
      );
      const routes = `http://${testEnv().docker.gateway}:${port}/routes`;
      // The server decides who may change routes; the route handler then judges the body.
      const badRoute = '{"address":"nowhere"}';
      assert.match(await fromContainer(routes, [], badRoute), /401 Unauthorized/);
      const json = 'Content-Type: application/json';
      assert.match(await fromContainer(routes, ['Authorization: Bearer new-name', json], badRoute), /400 Bad Request/);
      // busybox wget posts as a form (application/x-www-form-urlencoded), as a page of another site could.
      assert.match(
        await fromContainer(routes, ['Authorization: Bearer new-name'], badRoute),
        /415 Unsupported Media Type/,
      );
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited(agent), 0, output.stderr());
  });

  it('listens on loopback by default, every agent and `all`, except the stats-exporter Prometheus scrapes', async () => {
    const commands = [...AGENTS.map((agent) => agent.name), 'all'];
    assert.ok(commands.length >= 6, commands.join());
    for (const command of commands) {
      const help = await runCli([command, '--help']);
      assert.equal(help.code, 0, `${command} --help`);
      const expected = command === 'stats-exporter' ? '0.0.0.0:9612' : '127.0.0.1:9477';
      const listen = /--listen <host:port>[\s\S]*?\(default:\s+([\d.:]+)/.exec(help.stdout)?.[1];
      assert.equal(listen, expected, `${command} --listen default`);
    }
  });
});

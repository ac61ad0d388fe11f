/**
 * Route secrets never leave the agent: not through GET /routes (URI routes and routes POSTed as
 * JSON), not in /readyz, not in the warnings about a destination that cannot be reached.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { runScript, startRouter, type RunningRouter } from '../support/logrouter';
import { removeTestContainers, startEngine, testDocker, uniqueTag } from '../support/test-env';

// With a Loggly-style token in a path, a Sumo-style code in a path and a header named freely (Honeycomb).
const SECRETS = ['pa55word', 'k3yvalue', 'r3dispw', 'hunter2', 'b3arer', 'l0gglyt0ken', 'sum0c0de', 'hcteamkey'];

describe('quayside logrouter: route secrets are never shown', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const run = uniqueTag('lrs');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrs-'));
  const auth = { Authorization: 'Bearer api-token' };
  let router: RunningRouter;
  let base: string;
  let closed: number;

  before(async () => {
    await startEngine();
    closed = await freePort();
    router = startRouter(
      [
        `https://alice:pa55word@127.0.0.1:${closed}/inputs/l0gglyt0ken/tag/http/?header.X-Api-Key=k3yvalue&header.X-Honeycomb-Team=hcteamkey&filter.name=${run}-*`,
        `redis://:r3dispw@127.0.0.1:${closed}/logs?filter.name=${run}-*`,
      ],
      join(dir, 'state'),
      ['--log-api-token', 'api-token'],
    );
    base = `http://127.0.0.1:${await router.port()}`;
  });

  after(async () => {
    await router?.stop();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('masks them in /routes, and keeps them out of /readyz and the warnings', async () => {
    const posted = await fetch(`${base}/routes`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        adapter: 'http',
        address: `bob:hunter2@127.0.0.1:${closed}`,
        path: '/receiver/v1/http/sum0c0de',
        filter_name: `${run}-*`,
        options: { 'header.Authorization': 'Bearer b3arer' },
      }),
    });
    assert.equal(posted.status, 201);
    const answer = await posted.text();
    const listed = await (await fetch(`${base}/routes`, { headers: auth })).text();
    const routes = JSON.parse(listed) as Array<{
      adapter: string;
      address: string;
      path: string;
      options: Record<string, string>;
    }>;
    assert.equal(routes.length, 3);
    assert.deepEqual(routes.map((r) => r.address).sort(), [
      `127.0.0.1:${closed}`,
      `127.0.0.1:${closed}`,
      `127.0.0.1:${closed}`,
    ]);
    assert.ok(
      routes.every((r) => Object.values(r.options).some((v) => v === '***')),
      listed,
    );
    const httpPaths = routes.filter((r) => r.adapter.startsWith('http')).map((r) => r.path);
    assert.deepEqual(httpPaths, ['/***', '/***'], listed);
    // Every route fails to deliver: the warnings and /readyz are where a secret would show.
    await runScript(docker, `${run}-talk`, 'echo "a line to deliver"');
    await eventually(
      () =>
        assert.ok(
          (router.output.stderr().match(/route cannot deliver/g)?.length ?? 0) >= 3,
          router.output.stderr().slice(-2000),
        ),
      60_000,
      200,
    );
    const ready = await (await fetch(`${base}/readyz?verbose=1`, { headers: auth })).text();
    for (const secret of SECRETS) {
      for (const [where, text] of [
        ['POST answer', answer],
        ['GET /routes', listed],
        ['/readyz', ready],
        ['the agent log', router.output.stderr()],
      ] as const) {
        assert.ok(!text.includes(secret), `${secret} shown in ${where}: ${text.slice(0, 3000)}`);
      }
    }
  });
});

/**
 * Issue #15.2 and #16.4 on the real engine: many `/logs` clients share one engine stream per
 * container (1,500 clients took dockerd to 19,652 of its 20,000 fds before), clients over the
 * limit get 503, and a client also gets the containers that start after it connected.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { runScript, startRouter, type RunningRouter } from '../support/logrouter';
import { removeTestContainers, startEngine, testDocker, testEnv, uniqueTag } from '../support/test-env';

const CLIENTS = 150;

function dockerdFds(): number {
  const pid = readFileSync(testEnv().docker.pidfile, 'utf8').trim();
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Client {
  request: ClientRequest;
  response: Promise<IncomingMessage>;
  text: () => string;
}

function openClient(url: string): Client {
  let text = '';
  let req!: ClientRequest;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
  return { request: req, response, text: () => text };
}

describe('quayside logrouter: /logs clients share engine streams, within a limit', function () {
  this.timeout(180_000);
  const docker = testDocker();
  const run = uniqueTag('lrl');
  const dir = mkdtempSync(join(tmpdir(), 'qs-lrl-'));
  let router: RunningRouter | undefined;
  const clients: Client[] = [];

  before(() => startEngine());

  after(async () => {
    for (const client of clients) client.request.destroy();
    await router?.stop();
    await removeTestContainers(docker);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps dockerd's fd count flat with ${CLIENTS} clients, refuses one more, and follows a container started later`, async () => {
    router = startRouter([], join(dir, 'state'), ['--log-api-max-clients', String(CLIENTS)]);
    const base = `http://127.0.0.1:${await router.port()}`;
    const tickers = await Promise.all(
      [1, 2, 3].map((i) => runScript(docker, `${run}-tick-${i}`, 'while :; do echo tick; usleep 200000; done')),
    );
    // The agent tracks the tickers once their start events arrived.
    const first = openClient(`${base}/logs/name:${run}-tick-*`);
    clients.push(first);
    await eventually(
      () =>
        assert.equal(
          new Set(
            first
              .text()
              .split('\n')
              .filter(Boolean)
              .map((l) => l.split('|')[0]),
          ).size,
          tickers.length,
          `lines so far: ${first.text().slice(-300)}`,
        ),
      30_000,
      100,
    );
    const before = dockerdFds();

    const late = openClient(`${base}/logs/name:${run}-late`);
    clients.push(late);
    for (let i = clients.length; i < CLIENTS; i++) clients.push(openClient(`${base}/logs/name:${run}-tick-*`));
    const statuses = await Promise.all(clients.map(async (c) => (await c.response).statusCode));
    assert.deepEqual(new Set(statuses), new Set([200]));
    await eventually(
      () =>
        assert.ok(
          clients.every((c) => c === late || c.text().includes('tick')),
          'every client gets lines',
        ),
      60_000,
      200,
    );
    const after = dockerdFds();
    assert.ok(after - before <= 10, `dockerd went from ${before} to ${after} fds for ${CLIENTS} clients`);

    const over = await fetch(`${base}/logs`);
    assert.equal(over.status, 503);
    assert.match(await over.text(), /--log-api-max-clients/);

    await runScript(docker, `${run}-late`, 'sleep 1; echo late line; sleep 5');
    await eventually(() => assert.match(late.text(), new RegExp(`^${run}-late\\|late line$`, 'm')), 30_000, 100);
  });
});

/**
 * Issue #15: a web page in a browser on the host must not change the logrouter's routes. A page
 * served from another origin (another port on loopback) posts a route as a form and as a no-cors
 * fetch, in Debian's chromium; the agent refuses both. The agent's own origin still may.
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import { launchChromium } from '../support/console';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { startEngine, testEnv } from '../support/test-env';

const ATTACKER = '203.0.113.9:514';

/** The attacker's page: posts a route to `target` as a form (text/plain) and as a no-cors fetch. */
function attackPage(target: string): string {
  const route = JSON.stringify({ adapter: 'syslog', address: ATTACKER, options: {} });
  const [name, value] = [route.slice(0, -2), '"}'];
  return `<!doctype html><iframe name="sink"></iframe>
<form id="f" method="POST" action="${target}" enctype="text/plain" target="sink">
<input name='${name}' value='${value}'></form>
<script>
  document.getElementById('f').submit();
  fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', body: ${JSON.stringify(route)},
    headers: { 'Content-Type': 'text/plain' } }).finally(() => { document.title = 'sent'; });
</script>`;
}

describe('a browser on the host (#15)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let evil: Server;

  before(async () => {
    await startEngine();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    evil?.close();
  });

  it("refuses a route posted by another origin's page, and takes one from the agent's own origin", async () => {
    const port = await freePort();
    const agent = startCli(agentArgs('logrouter', { port, stateDir: join(testEnv().root, `state-csrf-${port}`) }), {
      DOCKER_HOST: testEnv().docker.host,
    });
    const output = capture(agent);
    const base = `http://127.0.0.1:${port}`;
    const requests: string[] = [];
    try {
      await eventually(async () => assert.equal((await fetch(`${base}/healthz`)).status, 200), 15_000, 50);
      evil = createServer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/html' });
        response.end(attackPage(`${base}/routes`));
      });
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      const page = await browser.newPage();
      page.on('request', (request) => {
        if (request.url().endsWith('/routes')) requests.push(request.method());
      });
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => document.title === 'sent', undefined, { timeout: 10_000 });
      await eventually(() => assert.equal(requests.length, 2, 'the form and the fetch were sent'), 10_000, 50);
      const routes = async () => (await (await fetch(`${base}/routes`)).json()) as Array<{ address: string }>;
      assert.deepEqual(
        (await routes()).map((r) => r.address),
        [],
        'no route added by the other page',
      );

      // The agent's own origin (where the host console lives) may still post JSON.
      await page.goto(`${base}/healthz`);
      const status = await page.evaluate(
        async (route) =>
          (
            await fetch('/routes', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify(route),
            })
          ).status,
        { adapter: 'syslog', address: '127.0.0.1:9', options: {} },
      );
      assert.equal(status, 201);
      assert.deepEqual(
        (await routes()).map((r) => r.address),
        ['127.0.0.1:9'],
      );
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited(agent), 0, output.stderr());
  });
});

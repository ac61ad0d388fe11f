/** `quayside all` with the Consul double and a token, and a headless Debian chromium pointed at its console. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ConsulDouble } from '../consul/double';
import { agentArgs, capture, exited, startCli } from './cli';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { testEnv } from './test-env';

export const CONSOLE_TOKEN = 'console-test-token-9f2c';
/** Debian's chromium (test/env/install.sh installs it); playwright downloads nothing. */
const CHROMIUM = process.env.QS_CHROMIUM ?? '/usr/bin/chromium';

export interface RunningAll {
  base: string;
  pid: number;
  consul: ConsulDouble;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startAllWithConsole(extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningAll> {
  const consul = await new ConsulDouble().start();
  const port = await freePort();
  const child = startCli(agentArgs('all', { port, stateDir: join(testEnv().root, 'state-console'), jsonLogs: true }), {
    DOCKER_HOST: testEnv().docker.host,
    QUAYSIDE_REGISTRY_URI: `consul://${consul.address}`,
    QUAYSIDE_API_TOKEN: CONSOLE_TOKEN,
    ...extraEnv,
  });
  const output = capture(child);
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 30_000, 100).catch(
    async (error: Error) => {
      child.kill('SIGKILL');
      await consul.close();
      throw new Error(`quayside all not ready: ${error.message}\n${output.stderr().slice(-3000)}`);
    },
  );
  return {
    base,
    pid: child.pid!,
    consul,
    stderr: output.stderr,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited(child);
      await consul.close();
      assert.equal(code, 0, `quayside all exits 0 on SIGTERM; stderr: ${output.stderr().slice(-2000)}`);
    },
  };
}

export function launchChromium(): Promise<Browser> {
  // As root, chromium needs --no-sandbox; the page is our own, on loopback.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

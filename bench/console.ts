/**
 * bench/console: what an open host console page costs the server. `quayside all` runs twice on
 * the test engine with the same containers, for the same time: once with no page (the baseline:
 * the console then only keeps its event ring and 5-second CPU/memory samples), once with one page
 * open (an SSE client that reads and parses every update as the browser does). Printed: the
 * process's CPU (utime+stime from /proc) and its peak RSS over its whole life (VmHWM), each run,
 * and the ratio; and the bytes the page received.
 *
 *   npm run bench:console              (brings up the test engine first)
 *   node dist/bench/console.js [--containers N] [--running N] [--seconds N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { forEachLimited } from '../shared/for-each-limited';
import { argValue } from './args';

const CONTAINERS = argValue('--containers', 500);
const RUNNING = argValue('--running', 20);
const SECONDS = argValue('--seconds', 60);
/** After /readyz, before measuring: the first sync and JIT settle. */
const WARMUP_MS = 10_000;
const LABEL = 'quayside.bench';
const CLI = join(__dirname, '..', 'cli', 'main.js');
const TICKS_PER_SECOND = 100;

const env = JSON.parse(
  readFileSync(join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json'), 'utf8'),
) as { root: string; docker: { host: string; socket: string }; images: { busybox: string } };
const docker = new Dockerode({ socketPath: env.docker.socket });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) the process used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Peak resident memory over the process's life, in MiB. */
function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function startAll(): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'all',
      '--listen',
      `127.0.0.1:${port}`,
      '--state-dir',
      join(env.root, 'state-bench-console'),
      '--log-level',
      'error',
    ],
    {
      env: { ...process.env, DOCKER_HOST: env.docker.host },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('quayside all did not become ready within 60 s');
  }
  return { child, base };
}

/** A page: the SSE stream read and every event parsed, as the browser does. */
function openPage(base: string): { bytes: () => number; events: () => number; close: () => void } {
  const abort = new AbortController();
  let bytes = 0;
  let events = 0;
  let pending = '';
  void fetch(`${base}/console/stream`, { signal: abort.signal })
    .then(async (response) => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        pending += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const data = /^data: (.*)$/m.exec(pending.slice(0, end))?.[1];
          if (data) {
            JSON.parse(data);
            events += 1;
          }
          pending = pending.slice(end + 2);
        }
      }
    })
    .catch(() => undefined);
  return { bytes: () => bytes, events: () => events, close: () => abort.abort() };
}

async function measure(
  withPage: boolean,
): Promise<{ cpuPercent: number; peakMiB: number; bytes: number; events: number }> {
  const { child, base } = await startAll();
  const pid = child.pid!;
  try {
    await sleep(WARMUP_MS);
    const page = withPage ? openPage(base) : undefined;
    const cpuBefore = cpuSeconds(pid);
    const started = Date.now();
    await sleep(SECONDS * 1000);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const elapsed = (Date.now() - started) / 1000;
    const peakMiB = peakRssMiB(pid);
    page?.close();
    return { cpuPercent: (100 * cpu) / elapsed, peakMiB, bytes: page?.bytes() ?? 0, events: page?.events() ?? 0 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function removeBenchContainers(): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL] } });
  await forEachLimited(containers, 8, async (c) => {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  });
}

async function main(): Promise<void> {
  await removeBenchContainers();
  const names = Array.from({ length: CONTAINERS }, (_, i) => ({ name: `qs-bench-console-${i}`, run: i < RUNNING }));
  await forEachLimited(names, 8, async ({ name, run }) => {
    const container = await docker.createContainer({
      name,
      Image: env.images.busybox,
      Cmd: ['sleep', '3600'],
      Labels: { [LABEL]: '1' },
      StopTimeout: 1,
    });
    if (run) await container.start();
  });
  try {
    console.log(
      `${CONTAINERS} containers (${RUNNING} running); each run: ${WARMUP_MS / 1000} s warm-up, then ${SECONDS} s measured`,
    );
    const none = await measure(false);
    const open = await measure(true);
    const fmt = (n: number) => n.toFixed(n < 10 ? 2 : 1);
    console.log(`no page (baseline): CPU ${fmt(none.cpuPercent)} % of one core, peak RSS ${fmt(none.peakMiB)} MiB`);
    console.log(
      `one page open:      CPU ${fmt(open.cpuPercent)} % of one core, peak RSS ${fmt(open.peakMiB)} MiB; page received ${fmt(open.bytes / 1024 / SECONDS)} KiB/s in ${open.events} events`,
    );
    console.log(
      `page open / no page: CPU ×${fmt(open.cpuPercent / none.cpuPercent)} (+${fmt(open.cpuPercent - none.cpuPercent)} points), peak RSS ×${fmt(open.peakMiB / none.peakMiB)} (+${fmt(open.peakMiB - none.peakMiB)} MiB)`,
    );
  } finally {
    await removeBenchContainers();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * bench/events: how fast the shared event stream normalizes and dispatches Docker events, and
 * how much latency it adds between dockerd and a subscriber, each against a plain reader of
 * GET /events (http + split2 + JSON.parse) measured in the same run.
 *
 *   npm run bench:events            (brings up the test engine first)
 *   node dist/bench/events.js [--events N] [--live N]
 *
 * 1. Throughput: a local server replays N recorded-shape events as fast as the socket takes them;
 *    both readers consume the same bytes.
 * 2. Latency: both readers follow the real test engine while the benchmark tags and untags an
 *    image; latency is the receive time minus the engine's timeNano (same host clock).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import split2 from 'split2';
import { EventStream } from '../shared/docker/event-stream';
import { argValue } from './args';

const SYNTHETIC_EVENTS = argValue('--events', 200_000);
const LIVE_OPERATIONS = argValue('--live', 1_000);

const nowNano = (): number => (performance.timeOrigin + performance.now()) * 1e6;

// ---- readers --------------------------------------------------------------------------------

/** The baseline: what any program following /events must do at least. */
function plainReader(socketPath: string, path: string, onEvent: (timeNano: number) => void): () => void {
  let response: IncomingMessage | undefined;
  const req = request({ socketPath, path }, (res) => {
    response = res;
    res.pipe(split2()).on('data', (line: string) => {
      const event = JSON.parse(line) as { timeNano: number };
      onEvent(event.timeNano);
    });
  });
  req.end();
  return () => {
    response?.destroy();
    req.destroy();
  };
}

function quaysideReader(socketPath: string, onEvent: (timeNano: string) => void): EventStream {
  const stream = new EventStream({ docker: new Dockerode({ socketPath }) });
  stream.subscribe({ name: 'bench', onEvent: (event) => onEvent(event.timeNano) });
  stream.start();
  return stream;
}

// ---- 1. throughput ---------------------------------------------------------------------------

/**
 * A busy host's mix: 50 long-lived containers whose health checks fire exec_create/exec_start/
 * exec_die, and short-lived containers going through create/start/die/destroy.
 */
function syntheticLines(count: number): { body: Buffer; nonHealthCheck: number } {
  const base = 1_800_000_000_000_000_000n;
  const healthCheck = '/bin/sh -c curl -f http://localhost/';
  const lines: string[] = [];
  const line = (i: number, id: string, action: string, attributes: Record<string, string>): string => {
    const time = base + BigInt(i) * 1000n;
    const all = JSON.stringify({
      'com.docker.compose.project': 'shop',
      'org.opencontainers.image.version': '1.2.3',
      ...attributes,
      image: 'registry.example/shop/web:1.2.3',
    });
    return `{"status":"${action}","id":"${id}","from":"registry.example/shop/web:1.2.3","Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":${all}},"scope":"local","time":${time / 1_000_000_000n},"timeNano":${time}}\n`;
  };
  const steps = ['exec_create', 'exec_start', 'exec_die', 'create', 'start', 'die', 'destroy'];
  for (let i = 0; i < count; i++) {
    const round = Math.floor(i / steps.length);
    const step = steps[i % steps.length]!;
    if (step.startsWith('exec')) {
      const id = `long${round % 50}`.padEnd(64, '0');
      const action = step === 'exec_die' ? step : `${step}: ${healthCheck}`;
      lines.push(line(i, id, action, { execID: `exec${round}`, name: `shop-web-${round % 50}` }));
    } else {
      lines.push(line(i, `short${round}`.padEnd(64, '0'), step, { name: `job-${round}` }));
    }
  }
  const nonHealthCheck = lines.filter((l) => !l.includes('"Action":"exec_')).length;
  return { body: Buffer.from(lines.join('')), nonHealthCheck };
}

/** Serves the lines once per /events request; answers the sync listing and inspects (with a health check). */
async function replayServer(body: Buffer): Promise<{ socketPath: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'qs-bench-'));
  const socketPath = join(dir, 'engine.sock');
  const server: Server = createServer((req, res) => {
    if (req.url?.includes('/containers/json'))
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]');
    if (/\/containers\/\w+\/json/.test(req.url ?? '')) {
      const inspect = {
        Config: { Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/'] } },
        Platform: 'linux',
      };
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(inspect));
    }
    if (!req.url?.includes('/events')) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = 64 * 1024;
    let offset = 0;
    const pump = (): void => {
      while (offset < body.length) {
        const ok = res.write(body.subarray(offset, offset + chunk));
        offset += chunk;
        if (!ok) return void res.once('drain', pump);
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measureThroughput(start: (done: () => void) => () => unknown, count: number): Promise<number> {
  const began = performance.now();
  await new Promise<void>((resolve) => {
    let stop: () => unknown = () => undefined;
    stop = start(() => {
      void stop();
      resolve();
    });
  });
  return count / ((performance.now() - began) / 1000);
}

async function throughput(): Promise<{ plain: number; quayside: number }> {
  const { body, nonHealthCheck } = syntheticLines(SYNTHETIC_EVENTS);
  const server = await replayServer(body);
  // The plain reader sees every line; quayside hides the health-check execs from its subscriber.
  const run = async (which: 'plain' | 'quayside'): Promise<number> =>
    measureThroughput((done) => {
      let seen = 0;
      const expected = which === 'plain' ? SYNTHETIC_EVENTS : nonHealthCheck;
      const count = (): void => {
        if (++seen === expected) done();
      };
      if (which === 'plain') return plainReader(server.socketPath, '/events', count);
      const stream = quaysideReader(server.socketPath, count);
      return () => stream.stop();
    }, SYNTHETIC_EVENTS);
  try {
    await run('plain'); // warm-up of both code paths
    await run('quayside');
    const plain = ((await run('plain')) + (await run('plain'))) / 2;
    const quayside = ((await run('quayside')) + (await run('quayside'))) / 2;
    return { plain, quayside };
  } finally {
    await server.close();
  }
}

// ---- 2. latency on the real engine -------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Follows the engine with one reader at a time (two readers in one process would delay each
 * other) while image tag/untag events are produced; returns the latencies in ms.
 */
async function latency(
  socketPath: string,
  image: string,
  which: 'plain' | 'quayside',
): Promise<{ latencies: number[]; rate: number }> {
  const docker = new Dockerode({ socketPath });
  const latencies: number[] = [];
  const record = (timeNano: number): void => void latencies.push((nowNano() - timeNano) / 1e6);
  let stop: () => unknown;
  if (which === 'plain') {
    stop = plainReader(socketPath, '/events?filters=' + encodeURIComponent('{"type":["image"]}'), record);
    await new Promise((resolve) => setTimeout(resolve, 300));
  } else {
    const stream = new EventStream({ docker, filters: { type: ['image'] } });
    stream.subscribe({ name: 'bench', onEvent: (e) => record(Number(e.timeNano)) });
    stream.start();
    await stream.waitUntilConnected(10_000);
    stop = () => stream.stop();
  }
  const began = performance.now();
  for (let i = 0; i < LIVE_OPERATIONS; i++) {
    await docker.getImage(image).tag({ repo: 'quayside-bench', tag: `t${i}` });
    await docker.getImage(`quayside-bench:t${i}`).remove({ noprune: true });
  }
  const seconds = (performance.now() - began) / 1000;
  const expected = LIVE_OPERATIONS * 2;
  const deadline = Date.now() + 10_000;
  while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await stop();
  return { latencies, rate: expected / seconds };
}

// ---- report --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const fmt = (n: number, digits = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(`bench/events  node ${process.version}`);

  const t = await throughput();
  console.log(`\n1. normalize + dispatch, ${fmt(SYNTHETIC_EVENTS)} events from a local socket`);
  console.log(`   plain reader (split2 + JSON.parse)  ${fmt(t.plain)} events/s`);
  console.log(
    `   quayside EventStream                ${fmt(t.quayside)} events/s   ratio ${fmt(t.quayside / t.plain, 2)}`,
  );

  const envFile = join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json');
  const env = JSON.parse(readFileSync(envFile, 'utf8')) as { docker: { socket: string }; images: { busybox: string } };
  const sorted = (xs: number[]) => xs.slice().sort((a, b) => a - b);
  const plain: number[] = [];
  const quayside: number[] = [];
  let rate = 0;
  for (const which of ['plain', 'quayside', 'plain', 'quayside'] as const) {
    const run = await latency(env.docker.socket, env.images.busybox, which);
    (which === 'plain' ? plain : quayside).push(...run.latencies);
    rate = Math.max(rate, run.rate);
  }
  const [p, q] = [sorted(plain), sorted(quayside)];
  console.log(
    `\n2. dockerd -> subscriber latency, image tag/untag events at up to ${fmt(rate)} events/s on the test engine (2 alternating runs each)`,
  );
  console.log(
    `   plain reader    received ${p.length}  p50 ${fmt(percentile(p, 50), 3)} ms  p99 ${fmt(percentile(p, 99), 3)} ms`,
  );
  console.log(
    `   quayside        received ${q.length}  p50 ${fmt(percentile(q, 50), 3)} ms  p99 ${fmt(percentile(q, 99), 3)} ms`,
  );
  console.log(
    `   added by quayside: p50 ${fmt(percentile(q, 50) - percentile(p, 50), 3)} ms, p99 ${fmt(percentile(q, 99) - percentile(p, 99), 3)} ms`,
  );
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`\nprocess RSS at the end: ${fmt(rss, 1)} MiB`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

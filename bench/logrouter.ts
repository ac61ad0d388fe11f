/**
 * bench/logrouter: lines/s from a container printing N short lines (`busybox seq`) to a
 * `syslog+tcp` route on loopback, against a plain reader of the same kind of container's log
 * stream (`follow=1&timestamps=1`, frames counted, nothing else) on the same engine in the same
 * run, printed as a ratio; plus the agent's CPU seconds per million lines and its peak RSS.
 *
 *   npm run bench:logrouter            (builds, brings up the test engine first)
 *   node dist/bench/logrouter.js [--lines N] [--runs N] [--route-query replay.window=0]
 *
 * Targets (issue #4): at least 0.5 of the plain reader's rate (logspout reaches about 0.2), RSS
 * under 150 MB.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { argValue } from './args';

const LINES = argValue('--lines', 1_000_000);
const RUNS = argValue('--runs', 3);
/** Appended to the route's query, e.g. `--route-query replay.window=0` to compare a route variant. */
const ROUTE_QUERY = process.argv.includes('--route-query') ? `&${process.argv[process.argv.indexOf('--route-query') + 1]}` : '';
const BENCH_LABEL = 'quayside.bench.logrouter';
const CLK_TCK = 100;

interface TestEnv {
  docker: { host: string; socket: string };
  images: { busybox: string };
}
const env = JSON.parse(readFileSync(join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json'), 'utf8')) as TestEnv;
const docker = new Dockerode({ socketPath: env.docker.socket });

async function startWriter(name: string): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name,
    Image: env.images.busybox,
    // The pause lets the reader attach before the first line, as for a live container.
    Cmd: ['sh', '-c', `sleep 2; busybox seq 1 ${LINES}`],
    Labels: { [BENCH_LABEL]: '1' },
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  return container;
}

/** The baseline: follow the log stream and count frames, from the first byte to the end. */
async function plainReader(run: number): Promise<number> {
  const container = await startWriter(`lrbench-plain-${process.pid}-${run}`);
  const stream = (await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true })) as unknown as NodeJS.ReadableStream;
  let frames = 0;
  let pending: Buffer = Buffer.alloc(0);
  let first = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      if (first === 0) first = performance.now();
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      while (buf.length - offset >= 8) {
        const size = buf.readUInt32BE(offset + 4);
        if (buf.length - offset - 8 < size) break;
        offset += 8 + size;
        frames += 1;
      }
      buf = buf.subarray(offset);
      pending = buf;
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const seconds = (performance.now() - first) / 1000;
  await container.remove({ force: true });
  if (frames !== LINES) throw new Error(`plain reader got ${frames} frames, expected ${LINES}`);
  return LINES / seconds;
}

function procStat(pid: number): { cpuSeconds: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuSeconds, peakRssMb: Number(hwm) / 1024 };
}

/** The agent with one syslog+tcp route to a counting sink in this process. */
async function routerRun(run: number): Promise<{ rate: number; cpuPerMillion: number; peakRssMb: number }> {
  let lines = 0;
  let first = 0;
  let last = 0;
  const sink = createServer((socket) =>
    socket.on('data', (chunk: Buffer) => {
      if (first === 0) first = performance.now();
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
      last = performance.now();
    }),
  );
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.address() as AddressInfo).port;
  const name = `lrbench-router-${process.pid}-${run}`;
  const state = mkdtempSync(join(tmpdir(), 'qs-lrbench-'));
  const agent = spawn(process.execPath, [join(__dirname, '..', 'cli', 'main.js'), 'logrouter', `syslog+tcp://127.0.0.1:${port}?filter.name=${name}${ROUTE_QUERY}`, '--state-dir', state, '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
    env: { ...process.env, DOCKER_HOST: env.docker.host },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await sleep(1500); // connected to the engine
  const before = procStat(agent.pid!);
  const container = await startWriter(name);
  const deadline = Date.now() + 600_000;
  while (lines < LINES && Date.now() < deadline) await sleep(50);
  const after = procStat(agent.pid!);
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.once('exit', resolve));
  sink.close();
  await container.remove({ force: true });
  rmSync(state, { recursive: true, force: true });
  if (lines !== LINES) throw new Error(`the sink got ${lines} lines, expected ${LINES}`);
  return { rate: LINES / ((last - first) / 1000), cpuPerMillion: ((after.cpuSeconds - before.cpuSeconds) * 1_000_000) / LINES, peakRssMb: after.peakRssMb };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  console.log(`bench/logrouter: ${LINES.toLocaleString('en')} short lines, ${RUNS} runs, plain reader and logrouter interleaved`);
  const plain: number[] = [];
  const router: Array<{ rate: number; cpuPerMillion: number; peakRssMb: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    plain.push(await plainReader(run));
    router.push(await routerRun(run));
    console.log(`  run ${run + 1}: plain reader ${Math.round(plain[run]!).toLocaleString('en')} lines/s, logrouter syslog+tcp ${Math.round(router[run]!.rate).toLocaleString('en')} lines/s, ${router[run]!.cpuPerMillion.toFixed(2)} CPU s per 1M lines, peak RSS ${router[run]!.peakRssMb.toFixed(0)} MB`);
  }
  const p = median(plain);
  const r = median(router.map((x) => x.rate));
  console.log(`plain reader (follow=1&timestamps=1): ${Math.round(p).toLocaleString('en')} lines/s (median)`);
  console.log(`logrouter syslog+tcp:                 ${Math.round(r).toLocaleString('en')} lines/s (median)`);
  console.log(`ratio: ${(r / p).toFixed(2)} (target >= 0.5; logspout about 0.2)`);
  console.log(`CPU: ${median(router.map((x) => x.cpuPerMillion)).toFixed(2)} s per million lines (median)`);
  console.log(`peak RSS: ${Math.max(...router.map((x) => x.peakRssMb)).toFixed(0)} MB (max; target < 150 MB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * bench/logrouter: lines/s from a container printing N short lines (`busybox seq`) to a
 * `syslog+tcp` route on loopback, against a plain reader of the same kind of container's log
 * stream (`follow=1&timestamps=1`, frames counted, nothing else) on the same engine in the same
 * run, printed as a ratio; plus the agent's CPU seconds per million lines, and its peak RSS
 * (VmHWM) over its whole work on the container: delivery, the container's exit (the agent reads
 * the log once more then), and the container's removal. Also printed: how many lines the agent
 * read again after the exit (each skipped as delivered).
 *
 *   npm run bench:logrouter            (builds, brings up the test engine first)
 *   node dist/bench/logrouter.js [--lines N[,N…]] [--runs N] [--route-query replay.window=0] [--window-only] [--tracer perf|strace] [--agent main.js]
 *   (default 1,000,000,3,000,000 lines, 3 runs)
 *
 * Then the kill -9 window: in one more run, `perf trace` (or strace, where perf cannot trace)
 * records for 8 s the agent's writes to the destination and its checkpoint writes (pwrite64); a
 * kill between the two sends that batch again. Printed: median, p99 and max of write →
 * checkpoint, from the start of one system call to the start of the other. perf reads kernel
 * tracepoints; strace stops the agent at every system call, so its figures are upper bounds.
 * perf also records the scheduler's switches of the agent's thread: printed is how many windows
 * had the agent switched out between the two calls (the write wakes the receiver, which may run
 * first on the agent's core), and their share of all window time.
 * `--agent path/to/cli/main.js` runs another build of the agent (to compare before and after).
 *
 * Targets (issues #4, #16): at least 0.5 of the plain reader's rate (logspout reaches about 0.2),
 * peak RSS under 150 MB at every log size.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { CheckpointStore } from '../agents/logrouter/checkpoint-store';
import { argValue } from './args';

const SIZES = linesArg(process.argv.slice(2)) ?? [1_000_000, 3_000_000];
const RUNS = argValue('--runs', 3);
/** Appended to the route's query, e.g. `--route-query replay.window=0` to compare a route variant. */
const ROUTE_QUERY = process.argv.includes('--route-query')
  ? `&${process.argv[process.argv.indexOf('--route-query') + 1]}`
  : '';
/** Only the kill -9 window (to compare a change to the checkpoint path quickly). */
const WINDOW_ONLY = process.argv.includes('--window-only');
const AGENT = stringArg('--agent') ?? join(__dirname, '..', 'cli', 'main.js');
const TRACER = stringArg('--tracer');
const BENCH_LABEL = 'quayside.bench.logrouter';
const CLK_TCK = 100;

interface TestEnv {
  docker: { host: string; socket: string };
  images: { busybox: string };
}
const env = JSON.parse(
  readFileSync(join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json'), 'utf8'),
) as TestEnv;
const docker = new Dockerode({ socketPath: env.docker.socket });

function stringArg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function linesArg(args: readonly string[]): number[] | undefined {
  const at = args.indexOf('--lines');
  return at >= 0
    ? String(args[at + 1])
        .split(',')
        .map(Number)
    : undefined;
}

async function startWriter(name: string, lines: number): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name,
    Image: env.images.busybox,
    // The pause lets the reader attach before the first line, as for a live container.
    Cmd: ['sh', '-c', `sleep 2; busybox seq 1 ${lines}`],
    Labels: { [BENCH_LABEL]: '1' },
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  return container;
}

/** The baseline: follow the log stream and count frames, from the first byte to the end. */
async function plainReader(run: number, lines: number): Promise<number> {
  const container = await startWriter(`lrbench-plain-${process.pid}-${run}`, lines);
  const stream = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    timestamps: true,
  })) as unknown as NodeJS.ReadableStream;
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
  if (frames !== lines) throw new Error(`plain reader got ${frames} frames, expected ${lines}`);
  return lines / seconds;
}

function procStat(pid: number): { cpuSeconds: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuSeconds, peakRssMb: Number(hwm) / 1024 };
}

interface RouterRun {
  pid: number;
  rate: number;
  cpuPerMillion: number;
  peakRssMb: number;
  /** Lines read from Docker again after the container exited (skipped as delivered). */
  rereadAfterExit: number;
}

/** The agent's own metric, summed over its labels. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(match[1]);
  return sum;
}

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The agent with one syslog+tcp route to a counting sink in this process. */
async function routerRun(run: number, total: number, trace?: { tracer: Tracer; file: string }): Promise<RouterRun> {
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
  const sinkPort = (sink.address() as AddressInfo).port;
  const name = `lrbench-router-${process.pid}-${run}`;
  const state = mkdtempSync(join(tmpdir(), 'qs-lrbench-'));
  const agent = spawn(
    process.execPath,
    [
      AGENT,
      'logrouter',
      `syslog+tcp://127.0.0.1:${sinkPort}?filter.name=${name}${ROUTE_QUERY}`,
      '--state-dir',
      state,
      '--listen',
      '127.0.0.1:0',
      '--log-format',
      'json',
    ],
    {
      env: { ...process.env, DOCKER_HOST: env.docker.host },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let agentLog = '';
  agent.stderr!.on('data', (chunk: Buffer) => (agentLog = (agentLog + chunk.toString()).slice(-8000)));
  try {
    const port = await until('the agent to listen', 30_000, async () => {
      const match = /"listen":"127\.0\.0\.1:(\d+)"/.exec(agentLog);
      return match ? Number(match[1]) : undefined;
    });
    await until('the agent to be ready', 30_000, async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined,
    );
    const before = procStat(agent.pid!);
    const container = await startWriter(name, total);
    const deadline = Date.now() + 900_000;
    let tracer: Promise<unknown> | undefined;
    while (lines < total && Date.now() < deadline) {
      await sleep(50);
      if (trace && !tracer && lines > total / 10) {
        // Not spawnSync: the sink runs in this process and must keep reading meanwhile, or the
        // agent's writes stop once the socket buffers are full.
        const child = spawn('timeout', ['8', ...TRACERS[trace.tracer].command(agent.pid!, trace.file)], {
          stdio: 'ignore',
        });
        tracer = new Promise((resolve) => child.once('exit', resolve));
      }
    }
    await tracer;
    const after = procStat(agent.pid!);
    if (lines !== total) throw new Error(`the sink got ${lines} lines, expected ${total}`);
    // The container exits: the agent reads its log once more (the engine first scans the file
    // up to `since`), then both streams' checkpoints meet at the last line.
    await container.wait();
    const id = (await container.inspect()).Id;
    await until('the read after the exit', 600_000, async () => {
      const store = new CheckpointStore(join(state, 'logrouter'));
      const positions = Object.values(store.all()).map((byContainer) => byContainer[id]);
      store.close();
      return positions.some((p) => p?.stdout !== undefined && p.stdout.ts === p.stderr?.ts) ? true : undefined;
    });
    const read = await metric(port, 'quayside_logrouter_lines_in_total');
    await container.remove({ force: true });
    await until('the agent to let go of the removed container', 60_000, async () =>
      (await metric(port, 'quayside_logrouter_containers')) === 0 ? true : undefined,
    );
    const peakRssMb = procStat(agent.pid!).peakRssMb;
    if (lines !== total)
      throw new Error(`the sink got ${lines} lines after the exit, expected ${total}: lines were sent twice`);
    return {
      pid: agent.pid!,
      rate: total / ((last - first) / 1000),
      cpuPerMillion: ((after.cpuSeconds - before.cpuSeconds) * 1_000_000) / total,
      peakRssMb,
      rereadAfterExit: read - total,
    };
  } catch (error) {
    throw new Error(`${errorText(error)}; agent log:\n${agentLog}`, { cause: error });
  } finally {
    agent.kill('SIGTERM');
    if (agent.exitCode === null) await new Promise((resolve) => agent.once('exit', resolve));
    sink.close();
    rmSync(state, { recursive: true, force: true });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function benchSize(total: number): Promise<void> {
  console.log(
    `bench/logrouter: ${total.toLocaleString('en')} short lines, ${RUNS} runs, plain reader and logrouter interleaved`,
  );
  const plain: number[] = [];
  const router: RouterRun[] = [];
  for (let run = 0; run < RUNS; run++) {
    plain.push(await plainReader(run, total));
    router.push(await routerRun(run, total));
    const r = router[run]!;
    console.log(
      `  run ${run + 1}: plain reader ${Math.round(plain[run]!).toLocaleString('en')} lines/s, logrouter syslog+tcp ${Math.round(r.rate).toLocaleString('en')} lines/s, ` +
        `${r.cpuPerMillion.toFixed(2)} CPU s per 1M lines, peak RSS ${r.peakRssMb.toFixed(0)} MB until removed, ${r.rereadAfterExit.toLocaleString('en')} lines read again after the exit`,
    );
  }
  const p = median(plain);
  const r = median(router.map((x) => x.rate));
  console.log(`  plain reader (follow=1&timestamps=1): ${Math.round(p).toLocaleString('en')} lines/s (median)`);
  console.log(`  logrouter syslog+tcp:                 ${Math.round(r).toLocaleString('en')} lines/s (median)`);
  console.log(`  ratio: ${(r / p).toFixed(2)} (target >= 0.5; logspout about 0.2)`);
  console.log(`  CPU: ${median(router.map((x) => x.cpuPerMillion)).toFixed(2)} s per million lines (median)`);
  console.log(
    `  peak RSS until the container is removed: ${Math.max(...router.map((x) => x.peakRssMb)).toFixed(0)} MB (max; target < 150 MB)`,
  );
  console.log(
    `  lines read again after the exit: ${Math.max(...router.map((x) => x.rereadAfterExit)).toLocaleString('en')} (max)`,
  );
}

type Tracer = 'perf' | 'strace';

/** How each tracer records the agent's writes, and how one of its lines reads: [ms, call, result]. */
const TRACERS: Record<Tracer, { command(pid: number, file: string): string[]; line: RegExp; msPerUnit: number }> = {
  // `   12.345 ( 0.020 ms): node/123 write(fd: 22, buf: …, count: 40000) = 40000`
  // `   12.400 (         ): node/123 sched:sched_switch(prev_comm: "node", prev_pid: 123 (node), …)`
  perf: {
    command: (pid, file) => [
      'perf',
      'trace',
      '-e',
      'write,writev,pwrite64,sched:sched_switch',
      '-o',
      file,
      '-p',
      String(pid),
    ],
    line: /^\s*([\d.]+) \(\s*[\d.]+ ms\):.*?\b(write|writev|pwrite64)\(.*\)\s+=\s+(\d+)$/,
    msPerUnit: 1,
  },
  // `123 1764760000.123456 write(22, "…", 40000) = 40000`
  strace: {
    command: (pid, file) => [
      'strace',
      '-f',
      '-ttt',
      '-e',
      'trace=write,writev,pwrite64',
      '-o',
      file,
      '-p',
      String(pid),
    ],
    line: /^\d+\s+([\d.]+)\s+(write|writev|pwrite64)\(.*\)\s+=\s+(\d+)$/,
    msPerUnit: 1000,
  },
};

interface KillWindow {
  ms: number;
  /** The agent's thread was switched out between the two calls (perf only). */
  switchedOut: boolean;
}

/** write → checkpoint windows from a trace: a write of a batch (> 2 KB), then the next pwrite64. */
function killWindows(trace: string, tracer: Tracer, agentPid: number): KillWindow[] {
  const { line: pattern, msPerUnit } = TRACERS[tracer];
  const switchOut = new RegExp(`sched:sched_switch\\(prev_comm: "[^"]*", prev_pid: ${agentPid}\\b`);
  const windows: KillWindow[] = [];
  let written: number | undefined;
  let switchedOut = false;
  for (const line of trace.split('\n')) {
    if (written !== undefined && switchOut.test(line)) switchedOut = true;
    const match = pattern.exec(line);
    if (!match) continue;
    const at = Number(match[1]) * msPerUnit;
    if (match[2] === 'pwrite64') {
      if (written !== undefined) windows.push({ ms: at - written, switchedOut });
      written = undefined;
    } else if (Number(match[3]) > 2048) {
      written = at;
      switchedOut = false;
    }
  }
  return windows.sort((a, b) => a.ms - b.ms);
}

/** perf when it can trace system calls here (it needs the kernel's tracepoints), else strace. */
function pickTracer(): Tracer | undefined {
  if (TRACER === 'perf' || TRACER === 'strace') return TRACER;
  if (spawnSync('perf', ['trace', '-e', 'write', '--', 'true'], { stdio: 'ignore' }).status === 0) return 'perf';
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0 ? 'strace' : undefined;
}

async function killWindow(): Promise<void> {
  const tracer = pickTracer();
  if (!tracer) {
    console.log('kill -9 window: neither perf trace nor strace works here; not measured');
    return;
  }
  const file = join(mkdtempSync(join(tmpdir(), 'qs-lrbench-trace-')), 'trace.log');
  const agentPid = await routerRun(RUNS, 400_000, { tracer, file }).then((run) => run.pid);
  const windows = killWindows(readFileSync(file, 'utf8'), tracer, agentPid);
  rmSync(join(file, '..'), { recursive: true, force: true });
  if (windows.length === 0) throw new Error(`${tracer} saw no batch followed by a checkpoint write`);
  const summary = (list: KillWindow[]) => {
    const at = (q: number) => list[Math.min(list.length - 1, Math.floor(list.length * q))]!.ms.toFixed(2);
    const mean = list.reduce((sum, w) => sum + w.ms, 0) / list.length;
    return `median ${at(0.5)} ms, mean ${mean.toFixed(2)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
  };
  console.log(
    `kill -9 window (destination write -> checkpoint write, ${tracer === 'perf' ? 'perf trace' : 'under strace'}, ${windows.length} batches): ${summary(windows)}`,
  );
  if (tracer !== 'perf') return;
  const switched = windows.filter((w) => w.switchedOut);
  const stayed = windows.filter((w) => !w.switchedOut);
  const total = (list: KillWindow[]) => list.reduce((sum, w) => sum + w.ms, 0);
  console.log(
    `  the agent was switched out between the two in ${switched.length} of ${windows.length} batches: ${((100 * total(switched)) / total(windows)).toFixed(0)} % of all window time`,
  );
  if (stayed.length > 0) console.log(`  windows without a switch: ${summary(stayed)}`);
}

async function main(): Promise<void> {
  if (!WINDOW_ONLY) for (const total of SIZES) await benchSize(total);
  await killWindow();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * bench/stats-exporter: how long a Prometheus scrape of `quayside stats-exporter` takes with 100
 * running containers, against the Docker stats API way (every container's one-shot stats in
 * parallel, what an API-based exporter must do per scrape) on the same engine in the same run;
 * and the exporter's resident memory.
 *
 *   npm run bench:stats-exporter        (builds, brings up the test engine first)
 *   node dist/bench/stats-exporter.js [--containers N] [--scrapes N] [--api-rounds N]
 *
 * The exporter runs twice on the same containers: as `node dist/cli/main.js` plain, and as deploy/
 * runs it, with the malloc setting and V8 flags the README recommends for it (a fixed mmap
 * threshold, a small young generation, heap sized for memory rather than speed). Its CPU time over
 * the timed scrapes is read from /proc/<pid>/stat, its RSS from /proc/<pid>/status: once it lists
 * every container (idle), after the scrapes, and its peak over its whole life (VmHWM), which is
 * what the target is about.
 *
 * The exporter runs with its default options (labels on: the containers carry Compose and
 * label-schema labels, as a Compose project's do), and Prometheus' Accept-Encoding (gzip).
 *
 * Targets (issues #5, #12): a scrape under 50 ms, at least 20× faster than the API way, RSS under 80 MB.
 */
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { STATS_EXPORTER_MALLOC_ENV, STATS_EXPORTER_NODE_FLAGS } from '../agents/stats-exporter/node-flags';
import { argValue } from './args';

const CONTAINERS = argValue('--containers', 100);
const SCRAPES = argValue('--scrapes', 300);
const API_ROUNDS = argValue('--api-rounds', 5);
const BENCH_LABEL = 'quayside.bench.stats';
interface ExporterSetup {
  flags: readonly string[];
  env: Readonly<Record<string, string>>;
}
const PLAIN: ExporterSetup = { flags: [], env: {} };
/** What the README recommends and deploy/ sets for a long-running exporter (see its stats-exporter section). */
const AS_DEPLOYED: ExporterSetup = { flags: STATS_EXPORTER_NODE_FLAGS, env: STATS_EXPORTER_MALLOC_ENV };

interface TestEnv {
  root: string;
  docker: { host: string; socket: string };
  images: { busybox: string };
}
const env = JSON.parse(
  readFileSync(join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json'), 'utf8'),
) as TestEnv;
const docker = new Dockerode({ socketPath: env.docker.socket });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function summary(samples: number[]): { median: number; p90: number; min: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p90: percentile(sorted, 90), min: sorted[0]! };
}
const ms = (n: number): string => `${n.toFixed(1)} ms`;

async function removeBenchContainers(): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [BENCH_LABEL] } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

async function startContainers(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
        const container = await docker.createContainer({
          name: `qs-bench-stats-${i + j}`,
          Image: env.images.busybox,
          Cmd: ['sleep', '3600'],
          // What a Compose project's containers carry; the default --stats-labels exports the first four.
          Labels: {
            [BENCH_LABEL]: '1',
            'quayside.test': '1',
            'com.docker.compose.project': 'bench',
            'com.docker.compose.service': `svc-${(i + j) % 10}`,
            'com.docker.compose.container-number': String(Math.floor((i + j) / 10) + 1),
            'org.label-schema.group': 'bench',
            'com.docker.compose.config-hash': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          },
        });
        await container.start();
        return container.id;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** The baseline: every container's one-shot stats in parallel, as an API exporter scrapes. */
async function apiRound(ids: string[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    ids.map((id) => docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false })),
  );
  return performance.now() - started;
}

/** One scrape as Prometheus makes it (fetch asks for gzip and unpacks it, as Prometheus does). */
async function scrape(url: string): Promise<{ ms: number; bytes: number; body: string }> {
  const started = performance.now();
  const body = await (await fetch(url)).text();
  return { ms: performance.now() - started, bytes: Buffer.byteLength(body), body };
}

/** Bytes on the wire of one gzip scrape. */
function gzipBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve(bytes));
    }).on('error', reject);
  });
}

/** CPU time the process has used so far (user + system, from /proc/<pid>/stat), in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after `(comm)`: state is the 3rd field, utime and stime the 14th and 15th, in clock ticks (100 Hz).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident memory now (VmRSS), or the peak over the process's whole life so far (VmHWM). */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024;
}

interface ExporterRun extends ExporterSetup {
  scrapes: number[];
  collects: number[];
  /** The exporter's CPU time per scrape (user + system), over all the timed scrapes. */
  cpuPerScrape: number;
  rssIdle: number;
  rssAfter: number;
  rssPeak: number;
  last: { ms: number; bytes: number; body: string };
  gzipBytes: number;
}

/** Starts the exporter with these node flags and environment, waits for every container, scrapes, reads its RSS. */
async function runExporter({ flags, env: extraEnv }: ExporterSetup): Promise<ExporterRun> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const exporter = spawn(
    process.execPath,
    [
      ...flags,
      join(__dirname, '..', 'cli', 'main.js'),
      'stats-exporter',
      '--listen',
      `127.0.0.1:${port}`,
      '--state-dir',
      join(env.root, 'state'),
      '--stats-include',
      `label=${BENCH_LABEL}`,
    ],
    { env: { ...process.env, ...extraEnv, DOCKER_HOST: env.docker.host }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let exporterLog = '';
  exporter.stderr!.on('data', (chunk: Buffer) => (exporterLog = (exporterLog + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    // Ready when the inventory has every container (observed also counts the machine, id="/").
    for (let tries = 0; ; tries++) {
      const text = await fetch(url)
        .then((r) => r.text())
        .catch(() => '');
      if (Number(/^quayside_stats_containers_observed (\d+)$/m.exec(text)?.[1]) >= CONTAINERS) break;
      if (tries > 300)
        throw new Error(
          `the exporter never saw all containers (${/^quayside_stats_containers_observed .*$/m.exec(text)?.[0]}); its log:\n${exporterLog}`,
        );
      await sleep(100);
    }
    await sleep(1000); // let start-up garbage settle
    const rssIdle = rssMb(exporter.pid!);
    for (let i = 0; i < 5; i++) await scrape(url); // warm-up
    const scrapes: number[] = [];
    const collects: number[] = [];
    const cpuBefore = cpuMs(exporter.pid!);
    let last = { ms: 0, bytes: 0, body: '' };
    for (let i = 0; i < SCRAPES; i++) {
      last = await scrape(url);
      scrapes.push(last.ms);
      collects.push(Number(/^quayside_stats_scrape_duration_seconds (\S+)$/m.exec(last.body)?.[1]) * 1000);
    }
    const cpuPerScrape = (cpuMs(exporter.pid!) - cpuBefore) / SCRAPES;
    const rssAfter = rssMb(exporter.pid!);
    const rssPeak = rssMb(exporter.pid!, 'VmHWM');
    return {
      flags,
      env: extraEnv,
      scrapes,
      collects,
      cpuPerScrape,
      rssIdle,
      rssAfter,
      rssPeak,
      last,
      gzipBytes: await gzipBytes(url),
    };
  } finally {
    exporter.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  await removeBenchContainers();
  process.stdout.write(`starting ${CONTAINERS} containers on ${env.docker.host} … `);
  const ids = await startContainers(CONTAINERS);
  process.stdout.write('done\n');
  try {
    const runs = [await runExporter(PLAIN), await runExporter(AS_DEPLOYED)];

    await apiRound(ids); // warm-up: wakes dockerd's stats collector
    const api: number[] = [];
    for (let i = 0; i < API_ROUNDS; i++) api.push(await apiRound(ids));
    const a = summary(api);

    const { last, gzipBytes: zipped } = runs[0]!;
    const series = last.body.split('\n').filter((l) => l.startsWith('container_')).length;
    console.log(
      `\nstats-exporter, ${CONTAINERS} running containers, default options (${series} container series; body ${(last.bytes / 1024).toFixed(0)} KiB, ${(zipped / 1024).toFixed(0)} KiB gzipped)`,
    );
    console.log(
      `  baseline, Docker stats API:         median ${ms(a.median)}, p90 ${ms(a.p90)}, min ${ms(a.min)}  (${API_ROUNDS} rounds, one-shot, all in parallel)`,
    );
    for (const run of runs) {
      const s = summary(run.scrapes);
      const c = summary(run.collects);
      const envText = Object.entries(run.env).map(([name, value]) => `${name}=${value} `);
      console.log(`\n  exporter as \`${envText.join('')}node ${[...run.flags, 'dist/cli/main.js'].join(' ')}\``);
      console.log(
        `    GET /metrics (whole scrape):     median ${ms(s.median)}, p90 ${ms(s.p90)}, min ${ms(s.min)}  (${SCRAPES} scrapes)`,
      );
      console.log(`      of which reading cgroups+proc: median ${ms(c.median)}, p90 ${ms(c.p90)}`);
      console.log(`      exporter CPU per scrape:        ${ms(run.cpuPerScrape)} (user + system)`);
      console.log(`    ratio (API / exporter, medians):  ${(a.median / s.median).toFixed(0)}×   target ≥ 20×`);
      console.log(`    scrape under 50 ms:               ${s.median < 50 ? 'yes' : 'NO'} (median ${ms(s.median)})`);
      console.log(`    RSS idle, all containers listed:  ${run.rssIdle.toFixed(1)} MB`);
      console.log(`    RSS after ${SCRAPES} scrapes:          ${run.rssAfter.toFixed(1)} MB`);
      console.log(
        `    RSS peak, whole life (VmHWM):     ${run.rssPeak.toFixed(1)} MB   target < 80 MB: ${run.rssPeak < 80 ? 'yes' : 'NO'}`,
      );
    }
  } finally {
    await removeBenchContainers();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

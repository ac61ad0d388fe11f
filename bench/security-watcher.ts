/**
 * bench/security-watcher: for 100 violating containers (CAP_NET_ADMIN added, rule in enforce mode
 * with pause), the time from the Docker event to the finding and to the completed enforcement,
 * p50 and p99. The baseline, measured in the same run on the same event stream, is a bare
 * subscriber that does nothing: the time the engine and the stream take to deliver the event at
 * all. What the watcher adds is the difference (inspect, rules, the action's API call).
 *
 *   npm run bench:security-watcher      (builds, brings up the test engine first)
 *   node dist/bench/security-watcher.js [--containers N]
 *
 * Findings open at `create` (the earliest warning, before the container runs), so the finding
 * latency is measured from the create event; enforcement acts at `start` and is measured from it.
 * Target (issue #7): enforcement within 100 ms of the start event.
 *
 * Reference (issue #13): a 20-line pauser (its own GET /events, POST /pause on each start) takes
 * every other container, interleaved in the same run; the watcher's policy exempts those. Both
 * are timed from the start event (engine clock) to the pause call's answer. Goal: median ≤ 1.3×.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import { SecurityWatcher } from '../agents/security-watcher/agent';
import { parsePolicy } from '../agents/security-watcher/policy';
import { EventStream } from '../shared/docker/event-stream';
import { silentLogger } from '../shared/ops/logger';
import { argValue } from './args';

const CONTAINERS = argValue('--containers', 100);
const BENCH_LABEL = 'quayside.bench.security';
const REFERENCE_LABEL = 'quayside.bench.reference';

interface TestEnv {
  docker: { host: string; socket: string };
  images: { busybox: string };
}
const env = JSON.parse(
  readFileSync(join(process.env.QS_TEST_ROOT ?? '/var/tmp/quayside-test', 'env.json'), 'utf8'),
) as TestEnv;
const docker = new Dockerode({ socketPath: env.docker.socket });

const millisOf = (timeNano: string): number => Number(BigInt(timeNano) / 1000n) / 1000;
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const line = (label: string, samples: number[]): string =>
  `  ${label.padEnd(44)} p50 ${percentile(samples, 50).toFixed(1).padStart(6)} ms   p99 ${percentile(samples, 99).toFixed(1).padStart(6)} ms   max ${Math.max(...samples).toFixed(1)} ms  (n=${samples.length})`;

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

/** The reference: the least a pauser can do. Records start event → pause answered (ms) per container; returns its stop. */
function referencePauser(socketPath: string, pausedAfter: Map<string, number>): () => void {
  const filters = encodeURIComponent(JSON.stringify({ event: ['start'], label: [REFERENCE_LABEL] }));
  const events = request({ socketPath, path: `/events?filters=${filters}` }, (response) => {
    let buffer = '';
    response.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const event = JSON.parse(buffer.slice(0, end)) as { id: string; timeNano: number | string };
        buffer = buffer.slice(end + 1);
        const startedAt = millisOf(String(event.timeNano));
        request({ socketPath, method: 'POST', path: `/containers/${event.id}/pause` }, (answer) => {
          answer.resume().on('end', () => pausedAfter.set(event.id, Date.now() - startedAt));
        }).end();
      }
    });
  });
  events.end();
  return () => events.destroy();
}

async function main(): Promise<void> {
  await removeBenchContainers();
  const events = new EventStream({ docker });
  /** Engine time of each container's create and start events, and when a bare subscriber got them. */
  const eventAt = new Map<string, { create?: number; start?: number; createSeen?: number; startSeen?: number }>();
  events.subscribe({
    name: 'baseline',
    types: ['container'],
    actions: ['create', 'start'],
    onEvent: (event) => {
      const entry = eventAt.get(event.id) ?? {};
      if (event.action === 'create') Object.assign(entry, { create: millisOf(event.timeNano), createSeen: Date.now() });
      else Object.assign(entry, { start: millisOf(event.timeNano), startSeen: Date.now() });
      eventAt.set(event.id, entry);
    },
  });
  const found = new Map<string, number>();
  const enforced = new Map<string, number>();
  const policy = parsePolicy(
    `rules:\n  added-capabilities: { mode: enforce, action: pause }\nexemptions:\n  - label: ${REFERENCE_LABEL}\n    reason: the reference pauser's\n`,
    'bench policy',
  );
  /** Start event → the pause call answered, as the enforcer times it (its confirmation comes after). */
  const pausedAfter = new Map<string, number>();
  const watcher = new SecurityWatcher(
    docker,
    { policy, hostRoot: '', engineSockets: [], dryRun: false },
    silentLogger,
    new Registry(),
    {
      enforced: (record) => {
        if (record.result === 'ok') enforced.set(record.containerId, Date.now());
        if (record.result === 'ok' && record.latencyMs !== undefined)
          pausedAfter.set(record.containerId, record.latencyMs);
      },
    },
  );
  const referencePaused = new Map<string, number>();
  const stopReference = referencePauser(env.docker.socket, referencePaused);
  watcher.store.listen({
    opened: (f) => f.ruleId === 'added-capabilities' && !found.has(f.object.id) && found.set(f.object.id, Date.now()),
  });
  events.subscribe({
    name: 'security-watcher',
    types: ['container'],
    onEvent: (e) => watcher.handleEvent(e),
    onSync: (s) => watcher.handleSync(s),
  });
  events.start();
  await events.waitUntilConnected(30_000);

  process.stdout.write(`running ${CONTAINERS} violating containers on ${env.docker.host}, one after another … `);
  const ids: string[] = [];
  const referenceIds: string[] = [];
  try {
    for (let i = 0; i < CONTAINERS * 2; i += 1) {
      const reference = i % 2 === 1;
      const container = await docker.createContainer({
        Image: env.images.busybox,
        Cmd: ['sleep', '3600'],
        Labels: { [BENCH_LABEL]: '1', 'quayside.test': '1', ...(reference ? { [REFERENCE_LABEL]: '1' } : {}) },
        HostConfig: { CapAdd: ['NET_ADMIN'] },
      });
      (reference ? referenceIds : ids).push(container.id);
      await container.start();
      const done = reference ? referencePaused : enforced;
      const deadline = Date.now() + 10_000;
      while (!done.has(container.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    }
    process.stdout.write('done\n');
  } finally {
    stopReference();
    await events.stop();
    await removeBenchContainers();
  }

  const sample = (pick: (id: string) => number | undefined): number[] =>
    ids.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const createDelivered = sample((id) => (eventAt.get(id)?.createSeen ?? NaN) - (eventAt.get(id)?.create ?? NaN));
  const startDelivered = sample((id) => (eventAt.get(id)?.startSeen ?? NaN) - (eventAt.get(id)?.start ?? NaN));
  const toFinding = sample((id) => (found.get(id) ?? NaN) - (eventAt.get(id)?.create ?? NaN));
  const toEnforced = sample((id) => (enforced.get(id) ?? NaN) - (eventAt.get(id)?.start ?? NaN));
  const missed = ids.filter((id) => !enforced.has(id)).length;

  console.log(`\nsecurity-watcher, ${ids.length} containers with an added capability, policy: enforce pause`);
  console.log(line('create event -> finding opened', toFinding));
  console.log(line('start event -> container paused (enforced)', toEnforced));
  console.log(line('baseline: create event delivered (no work)', createDelivered));
  console.log(line('baseline: start event delivered (no work)', startDelivered));
  console.log(
    `  added by the watcher (p50):                  finding ${(percentile(toFinding, 50) - percentile(createDelivered, 50)).toFixed(1)} ms, enforcement ${(percentile(toEnforced, 50) - percentile(startDelivered, 50)).toFixed(1)} ms`,
  );
  console.log(
    `  ratio to the baseline (p50):                 finding ${(percentile(toFinding, 50) / Math.max(percentile(createDelivered, 50), 0.1)).toFixed(1)}x, enforcement ${(percentile(toEnforced, 50) / Math.max(percentile(startDelivered, 50), 0.1)).toFixed(1)}x`,
  );
  const ours = sample((id) => pausedAfter.get(id));
  const theirs = referenceIds.map((id) => referencePaused.get(id)).filter((v): v is number => v !== undefined);
  console.log(line('start event -> pause answered: watcher', ours));
  console.log(line('start event -> pause answered: reference', theirs));
  console.log(
    `  median ratio watcher / 20-line reference pauser: ${(percentile(ours, 50) / Math.max(percentile(theirs, 50), 0.1)).toFixed(2)}x (goal <= 1.3x)`,
  );
  console.log(
    `  enforcement within 100 ms of start (p99):     ${percentile(toEnforced, 99) <= 100 ? 'yes' : 'NO'}; not enforced within 10 s: ${missed}`,
  );
  console.log(
    '  (engine timestamps have the engine clock; the benchmark runs on the same host. Other work on the machine inflates these.)',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

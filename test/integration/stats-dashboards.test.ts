/**
 * quayside stats-exporter as a cAdvisor drop-in: a real Prometheus scrapes it, with its default
 * options, and node-exporter beside it, as dockprom and swarmprom deploy them; then the PromQL of
 * the public dashboards and alert rules written for cAdvisor (test/fixtures/cadvisor-dashboards,
 * copied from the repositories it cites) is evaluated. Containers carry Compose, Swarm and
 * label-schema labels, and one was stopped over a minute before the ContainerKilled check.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { query, queryValue } from '../support/prometheus-api';
import { parseSampleLine } from '../support/prometheus-text';
import { removeTestContainers, startEngine, TEST_LABEL, testDocker, testEnv, uniqueTag } from '../support/test-env';

interface DashboardQuery {
  source: string;
  kind: 'panel' | 'variable' | 'alert';
  title: string;
  expr: string;
  input?: string;
  expect: 'filled' | 'any' | 'empty' | 'fires-for-stopped' | 'unfilled';
  why?: string;
}

const FIXTURE = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'cadvisor-dashboards', 'queries.json'), 'utf8'),
) as {
  queries: DashboardQuery[];
};

/** The names promtool flags in a scrape that are cAdvisor's own, which dashboards need as they are. */
const CADVISOR_NAMES_PROMTOOL_FLAGS = new Set([
  'container_memory_failcnt',
  'container_fs_inodes_total',
  'container_cpu_load_d_average_10s',
]);

describe('quayside stats-exporter with the public cAdvisor dashboards and alerts', function () {
  this.timeout(240_000);
  const docker = testDocker();
  const run = uniqueTag('dash');
  const targetFile = join(testEnv().prometheus.targetsDir, `${run}.json`);
  const names = {
    web: `${run}-web-1`,
    api: `${run}-api`,
    db: `${run}-db`,
    monitoring: `${run}-prometheus`,
    stopped: `${run}-stopped`,
  };
  let exporter: { child: ReturnType<typeof startCli>; output: ReturnType<typeof capture>; base: string };
  let cgroupParent = '';

  async function runContainer(
    name: string,
    cmd: string,
    labels: Record<string, string>,
    host: Dockerode.HostConfig = {},
  ): Promise<Dockerode.Container> {
    const container = await docker.createContainer({
      name,
      Image: testEnv().images.busybox,
      Cmd: ['sh', '-c', cmd],
      Labels: { [TEST_LABEL]: '1', ...labels },
      HostConfig: host,
    });
    await container.start();
    return container;
  }

  /** Grafana's variables as a dashboard with "All" selected would send them. */
  function substitute(expr: string): string {
    return expr
      .replace(/\$__rate_interval/g, '15s')
      .replace(/\$interval/g, '1m')
      .replace(/\$(job|instance|name|node_id)\b/g, '.+')
      .replace(/"\/docker\/\.\*"/g, `"${cgroupParent}/.*"`)
      .replace(/name="jenkins"/g, `name="${names.web}"`);
  }

  before(async () => {
    await startEngine();
    // Stopped first, so that by the ContainerKilled check it has been stopped for over a minute.
    const stopped = await runContainer(names.stopped, 'exit 0', {
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'migrate',
    });
    await stopped.wait();
    const compose = {
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
    };
    const swarm = (service: string, task: string) => ({
      'com.docker.stack.namespace': 'shop',
      'com.docker.swarm.node.id': 'node-a',
      'com.docker.swarm.service.id': `${service}-id`,
      'com.docker.swarm.service.name': `shop_${service}`,
      'com.docker.swarm.task.id': `${task}-id`,
      'com.docker.swarm.task.name': `shop_${service}.1.${task}`,
      'com.docker.swarm.task': '',
    });
    await Promise.all([
      // Writes to its layer and reads back with O_DIRECT, so the block I/O reaches the device under its cgroup.
      runContainer(
        names.web,
        'while :; do dd if=/dev/zero of=/tmp/io bs=64k count=16 oflag=direct 2>/dev/null; dd if=/tmp/io of=/dev/null bs=64k iflag=direct 2>/dev/null; sleep 1; done',
        { ...compose, 'com.example.build-secret': 'not-for-prometheus' },
        { Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000 },
      ),
      runContainer(names.api, 'exec sleep 600', swarm('api', 'a1')),
      runContainer(names.db, 'exec sleep 600', swarm('db', 'd1')),
      runContainer(names.monitoring, 'exec sleep 600', { 'org.label-schema.group': 'monitoring' }),
    ]);
    const port = await freePort();
    // Default options: only where to listen and keep state.
    const child = startCli(
      agentArgs('stats-exporter', { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true }),
      { DOCKER_HOST: testEnv().docker.host },
    );
    exporter = { child, output: capture(child), base: `http://127.0.0.1:${port}` };
    await eventually(async () => assert.equal((await fetch(`${exporter.base}/readyz`)).status, 200), 15_000, 100);
    mkdirSync(testEnv().prometheus.targetsDir, { recursive: true });
    writeFileSync(
      targetFile,
      JSON.stringify([
        { targets: [new URL(exporter.base).host], labels: { test_run: run } },
        { targets: [new URL(testEnv().nodeExporter.url).host], labels: { test_run: run } },
      ]),
    );
    await eventually(async () => assert.equal(await queryValue(`count(up{test_run="${run}"} == 1)`), 2), 30_000, 500);
    // The engine's cgroup parent (the test engine runs with --cgroup-parent), which swarmprom's id=~"/docker/.*" means.
    const [web] = await eventually(
      async () => {
        const found = await query(`container_last_seen{name="${names.web}"}`);
        assert.equal(found.length, 1);
        return found;
      },
      15_000,
      500,
    );
    cgroupParent = dirname(web!.metric.id!);
  });

  after(async () => {
    rmSync(targetFile, { force: true });
    exporter?.child.kill('SIGTERM');
    if (exporter)
      assert.equal(
        await exited(exporter.child),
        0,
        `graceful shutdown; stderr: ${exporter.output.stderr().slice(-2000)}`,
      );
    await removeTestContainers(docker);
  });

  it('exports the orchestration labels dashboards group by, by default, and no free-form label', async () => {
    const [web] = await eventually(
      async () => {
        const found = await query(`container_memory_usage_bytes{name="${names.web}"}`);
        assert.equal(found.length, 1);
        return found;
      },
      15_000,
      500,
    );
    assert.equal(web!.metric.container_label_com_docker_compose_service, 'web');
    assert.equal(web!.metric.container_label_com_docker_compose_project, 'shop');
    assert.equal(web!.metric.container_label_com_example_build_secret, undefined);
    const [api] = await query(`container_memory_usage_bytes{name="${names.api}"}`);
    assert.equal(api!.metric.container_label_com_docker_swarm_service_name, 'shop_api');
    assert.equal(api!.metric.container_label_com_docker_stack_namespace, 'shop');
  });

  it('groups as swarmprom does (nodes, stacks, services) and hides the monitoring stack as dockprom does', async () => {
    await eventually(
      async () => {
        assert.equal(await queryValue(substitute(fixtureExpr('swarmprom-services', 'Services'))), 2);
        assert.equal(await queryValue(substitute(fixtureExpr('swarmprom-services', 'Stacks'))), 1);
        assert.equal(await queryValue(substitute(fixtureExpr('swarmprom-services', 'Nodes'))), 1);
        const shown = (await query(fixtureExpr('dockprom-containers', 'Container Memory Usage'))).map(
          (s) => s.metric.name,
        );
        assert.ok(
          shown.includes(names.web) && !shown.includes(names.monitoring),
          `dockprom's container panels: ${shown.join(', ')}`,
        );
        const monitoring = (await query(fixtureExpr('dockprom-monitor', 'Container Memory Usage'))).map(
          (s) => s.metric.name,
        );
        assert.deepEqual(monitoring, [names.monitoring]);
      },
      30_000,
      1_000,
    );
  });

  it('matches the kernel for the machine (id="/") and the machine_* families', async () => {
    const meminfo = readFileSync('/proc/meminfo', 'utf8');
    assert.equal(await queryValue('machine_memory_bytes'), Number(/^MemTotal:\s+(\d+) kB$/m.exec(meminfo)![1]) * 1024);
    const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const cores = online.split(',').reduce((n, range) => {
      const [from, to = from] = range.split('-').map(Number);
      return n + to! - from! + 1;
    }, 0);
    assert.equal(await queryValue('machine_cpu_cores'), cores);
    const rootUsage = (file: string) => Number(readFileSync(file, 'utf8')) / 1e9;
    const cpuacct = '/sys/fs/cgroup/cpuacct/cpuacct.usage';
    const before = rootUsage(cpuacct);
    const text = await (await fetch(`${exporter.base}/metrics`)).text();
    const after = rootUsage(cpuacct);
    const exported = sampleValue(text, 'container_cpu_usage_seconds_total', { id: '/' });
    assert.ok(exported >= before && exported <= after, `root CPU ${exported} within the kernel's ${before}…${after}`);
  });

  it("reads the new families as the kernel's own files say, for a running container (cgroup v1)", async () => {
    const [series] = await query(`container_last_seen{name="${names.api}"}`);
    const id = series!.metric.id!;
    const memory = join('/sys/fs/cgroup/memory', id);
    const read = (file: string) => readFileSync(file, 'utf8');
    const statOf = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)![1]);
    const tasks = read(join('/sys/fs/cgroup/cpu', id, 'tasks'))
      .trim()
      .split('\n').length;
    const beforeStat = read(join(memory, 'memory.stat'));
    const beforeKmem = Number(read(join(memory, 'memory.kmem.usage_in_bytes')));
    const text = await (await fetch(`${exporter.base}/metrics`)).text();
    const afterStat = read(join(memory, 'memory.stat'));
    const afterKmem = Number(read(join(memory, 'memory.kmem.usage_in_bytes')));
    const labels = { name: names.api };
    const between = (value: number, a: number, b: number, what: string) =>
      assert.ok(value >= Math.min(a, b) && value <= Math.max(a, b), `${what}: ${value} not within ${a}…${b}`);
    between(sampleValue(text, 'container_memory_kernel_usage', labels), beforeKmem, afterKmem, 'kernel usage');
    between(
      sampleValue(text, 'container_memory_total_active_file_bytes', labels),
      statOf(beforeStat, 'total_active_file'),
      statOf(afterStat, 'total_active_file'),
      'active file',
    );
    between(
      sampleValue(text, 'container_memory_total_inactive_file_bytes', labels),
      statOf(beforeStat, 'total_inactive_file'),
      statOf(afterStat, 'total_inactive_file'),
      'inactive file',
    );
    between(
      sampleValue(text, 'container_memory_failures_total', { ...labels, failure_type: 'pgfault', scope: 'hierarchy' }),
      statOf(beforeStat, 'total_pgfault'),
      statOf(afterStat, 'total_pgfault'),
      'pgfault',
    );
    between(
      sampleValue(text, 'container_memory_workingset_refault_file_total', labels),
      statOf(beforeStat, 'total_workingset_refault_file'),
      statOf(afterStat, 'total_workingset_refault_file'),
      'refault file',
    );
    // `exec sleep`: one task, asleep.
    assert.equal(sampleValue(text, 'container_tasks_state', { ...labels, state: 'sleeping' }), tasks);
    assert.equal(sampleValue(text, 'container_tasks_state', { ...labels, state: 'running' }), 0);
    const pressure = read(join('/sys/fs/cgroup/unified', id, 'cpu.pressure'));
    assert.ok(
      sampleValue(text, 'container_pressure_cpu_waiting_seconds_total', labels) <=
        Number(/^some .*total=(\d+)$/m.exec(pressure)![1]) / 1e6,
    );

    // The writing container: its layer's usage as du counts it, and its block I/O as blkio counts it
    // (the kernel of this host charges no block I/O to cgroups at all: then 0 on the layer's device).
    const web = await docker.getContainer(names.web).inspect();
    const upper = (web.GraphDriver.Data as unknown as Record<string, string>).UpperDir!;
    const blkioFile = join('/sys/fs/cgroup/blkio', cgroupParent, web.Id, 'blkio.throttle.io_service_bytes_recursive');
    const kernelWrites = () =>
      [...read(blkioFile).matchAll(/^\d+:\d+ Write (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const {
      body: fsText,
      before: writesBefore,
      after: writesAfter,
    } = await eventually(
      async () => {
        const before = kernelWrites();
        const body = await (await fetch(`${exporter.base}/metrics`)).text();
        const after = kernelWrites();
        assert.ok(sampleValue(body, 'container_fs_usage_bytes', { name: names.web }) > 0, 'measured');
        return { body, before, after };
      },
      30_000,
      500,
    );
    const du = spawnSync('du', ['-s', '-B1', upper], { encoding: 'utf8' });
    if (du.status === 0) {
      const bytes = Number(du.stdout.split('\t')[0]);
      // The loop rewrites the same 1 MiB file; du and the background walk may see it mid-rewrite.
      assert.ok(
        Math.abs(sampleValue(fsText, 'container_fs_usage_bytes', { name: names.web }) - bytes) <= 2 * 1024 * 1024,
        `du ${bytes}`,
      );
    }
    const device = parseSampleLine(
      fsText.split('\n').find((l) => l.startsWith('container_fs_usage_bytes{') && l.includes(`name="${names.web}"`))!,
    ).labels.device!;
    assert.match(device, /^\/dev\/|^\d+:\d+$/);
    const exportedWrites = fsText
      .split('\n')
      .filter((l) => l.startsWith('container_fs_writes_bytes_total{') && l.includes(`name="${names.web}"`))
      .map(parseSampleLine);
    assert.ok(
      exportedWrites.some((sample) => sample.labels.device === device),
      "a series for the layer's device",
    );
    between(
      exportedWrites.reduce((sum, sample) => sum + sample.value, 0),
      writesBefore,
      writesAfter,
      'bytes written',
    );
  });

  it('fills every panel, template variable and alert input that a default cAdvisor fills', async () => {
    const expected = FIXTURE.queries.filter((q) => q.expect !== 'unfilled' && q.expect !== 'fires-for-stopped');
    // ContainerHighLowChangeCpuUsage compares with a minute ago: it needs over a minute of samples.
    await eventually(
      async () => {
        const missing: string[] = [];
        for (const q of expected) {
          const label = `${q.source} ${q.kind} "${q.title}"`;
          if (q.expect === 'filled' && (await query(substitute(q.input ?? q.expr))).length === 0) missing.push(label);
          if (q.expect === 'any' && (await query(substitute(q.input!))).length === 0) missing.push(`${label} (input)`);
          if (q.expect === 'empty') {
            if ((await query(substitute(q.input!))).length === 0) missing.push(`${label} (input)`);
            if ((await query(substitute(q.expr))).length > 0) missing.push(`${label} fires`);
          }
        }
        assert.deepEqual(missing, [], `not filled: ${missing.join('; ')}`);
      },
      150_000,
      2_000,
    );
  });

  it('fires ContainerKilled for the container stopped over a minute ago, and for no running one', async () => {
    const killed = FIXTURE.queries.find((q) => q.title === 'ContainerKilled')!;
    const ours = [names.stopped, names.web, names.api, names.db, names.monitoring];
    await eventually(
      async () => {
        const firing = (await query(killed.expr)).map((s) => s.metric.name).filter((name) => ours.includes(name ?? ''));
        assert.deepEqual(firing, [names.stopped]);
      },
      120_000,
      2_000,
    );
    // It stays visible (holding the time it stopped) only for --stats-last-seen-window, 5 minutes by default.
    const [stopped] = await query(`container_last_seen{name="${names.stopped}"}`);
    const finished = Date.parse((await docker.getContainer(names.stopped).inspect()).State.FinishedAt) / 1000;
    assert.ok(Math.abs(Number(stopped!.value[1]) - finished) < 0.001);
    assert.deepEqual(
      await query(`container_start_time_seconds{name="${names.stopped}"}`),
      [],
      'cAdvisor has no start time for a stopped container',
    );
  });

  it('lints clean with promtool but for the names cAdvisor itself uses', async function () {
    if (spawnSync('promtool', ['--version']).status !== 0) this.skip();
    const text = await (await fetch(`${exporter.base}/metrics`)).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const flagged = `${check.stdout}${check.stderr}`.split('\n').filter((l) => l.trim() !== '');
    assert.deepEqual(
      flagged.filter((l) => !CADVISOR_NAMES_PROMTOOL_FLAGS.has(l.split(' ')[0]!)),
      [],
    );
  });

  function fixtureExpr(source: string, title: string): string {
    const found = FIXTURE.queries.find((q) => q.source === source && q.title === title);
    assert.ok(found, `${source} "${title}" in the fixture`);
    return found.input ?? found.expr;
  }
});

/** The value of the one sample of `name` whose labels include `labels`. */
function sampleValue(text: string, name: string, labels: Record<string, string>): number {
  const matches = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map(parseSampleLine)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(matches.length, 1, `${name} ${JSON.stringify(labels)}: ${matches.length} samples`);
  return matches[0]!.value;
}

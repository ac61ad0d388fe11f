/** /metrics as Prometheus reads it: names, label scheme, filters, disabled families, removed containers. */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import { OpsServer } from '../../shared/ops/http-server';
import type { CollectTarget, StatsCollector } from '../../agents/stats-exporter/collectors/collector';
import type { ContainerStats } from '../../agents/stats-exporter/collectors/stats';
import { containerFromInspect, machineContainer, type TrackedContainer } from '../../agents/stats-exporter/container';
import { parseContainerFilter } from '../../agents/stats-exporter/container-filter';
import { ContainerExposition } from '../../agents/stats-exporter/exposition';
import { enabledFamilies, FAMILIES } from '../../agents/stats-exporter/families';
import type { WritableLayerUsage } from '../../agents/stats-exporter/fs-usage';
import { containerLabelName, labelNameClash, ORCHESTRATION_LABEL_KEYS } from '../../agents/stats-exporter/labels';
import { registerScrapeMetrics } from '../../agents/stats-exporter/self-metrics';

function tracked(id: string, change: Partial<TrackedContainer> = {}): TrackedContainer {
  return {
    id,
    pid: 10,
    configuredSpec: {},
    name: `c-${id}`,
    image: 'busybox:test',
    labels: { 'com.docker.compose.service': `svc-${id}`, secret: 'x' },
    state: 'running',
    cgroupPath: `/docker/${id}`,
    cgroupPathProvisional: false,
    cgroupParent: '',
    createdAt: 1_800_000_000,
    startedAt: 1_800_000_010,
    restartCount: 0,
    restarts: 0,
    oomEvents: 0,
    ...change,
  };
}

const STATS: ContainerStats = {
  cpu: { usageSeconds: 12.5, userSeconds: 10, systemSeconds: 2.5 },
  memory: { usageBytes: 1000, workingSetBytes: 800, pgfault: { container: 3, hierarchy: 4 } },
  network: [
    {
      interface: 'eth0',
      receiveBytes: 5,
      receivePackets: 1,
      receiveErrors: 0,
      receiveDropped: 0,
      transmitBytes: 6,
      transmitPackets: 1,
      transmitErrors: 0,
      transmitDropped: 0,
    },
  ],
  blockIo: [
    {
      device: '/dev/vda',
      majorMinor: '254:0',
      readBytes: 7,
      writeBytes: 8,
      reads: 1,
      writes: 2,
      bytesByOperation: [
        ['Read', 7],
        ['Write', 8],
      ],
    },
  ],
  tasks: { running: 1, sleeping: 2, stopped: 0, uninterruptible: 0 },
};

const NOW = 1_800_000_100;

/** A collector that returns STATS for every container except those named broken (counted as the real ones do). */
class FakeCollector implements StatsCollector {
  readonly name = 'fake';
  calls = 0;
  asked: string[] = [];
  async collect(targets: readonly CollectTarget[]): Promise<Map<string, ContainerStats>> {
    this.calls += 1;
    this.asked = targets.map((t) => t.id);
    return new Map(targets.filter((t) => t.id !== 'broken').map((t) => [t.id, STATS]));
  }
}

interface SetupOptions {
  disable?: string[];
  include?: string[];
  exclude?: string[];
  labels?: string[];
  machine?: TrackedContainer;
  machineText?: string;
  lastSeenWindowMs?: number;
}

function setup(containers: TrackedContainer[], options: SetupOptions = {}) {
  const registry = new Registry();
  const collector = new FakeCollector();
  const exposition = new ContainerExposition({
    families: enabledFamilies(options.disable ?? []),
    containers: () => containers,
    collector,
    include: (options.include ?? []).map(parseContainerFilter),
    exclude: (options.exclude ?? []).map(parseContainerFilter),
    labels: options.labels ?? [],
    machine: options.machine,
    machineText: options.machineText,
    lastSeenWindowMs: options.lastSeenWindowMs ?? 300_000,
    clock: () => NOW * 1000,
  });
  registerScrapeMetrics(registry, {
    up: () => true,
    tracked: () => containers.length,
    currentScrape: () => exposition.scrape(),
  });
  const server = new OpsServer(registry);
  /** Each text render() handed out, in order. */
  const rendered: Buffer[] = [];
  server.addMetricsSource(
    async () => {
      const text = await exposition.render();
      rendered.push(text);
      return text;
    },
    (text) => exposition.release(text as Buffer),
  );
  servers.push(server);
  const address = server.listen({ host: '127.0.0.1', port: 0 });
  /** GET /metrics as Prometheus does: the registry's families and the container families written directly. */
  const metrics = async (): Promise<string> => {
    const { host, port } = await address;
    const response = await fetch(`http://${host}:${port}/metrics`);
    assert.equal(response.headers.get('content-type'), Registry.PROMETHEUS_CONTENT_TYPE);
    return response.text();
  };
  /** GET /metrics with a chosen Accept-Encoding, the body as sent. */
  const raw = async (acceptEncoding: string): Promise<{ encoding: string | undefined; body: Buffer }> => {
    const { host, port } = await address;
    return new Promise((resolve, reject) => {
      request({ host, port, path: '/metrics', headers: { 'Accept-Encoding': acceptEncoding } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ encoding: response.headers['content-encoding'], body: Buffer.concat(chunks) }),
        );
      })
        .on('error', reject)
        .end();
    });
  };
  return { registry: { metrics, raw }, collector, exposition, rendered };
}

const servers: OpsServer[] = [];

/** Sample lines of one metric name. */
function lines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('stats-exporter exposition', () => {
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('escapes label values (quotes, backslashes, newlines) as the text format wants', async () => {
    const { registry } = setup([tracked('a', { name: 'we"ird\\na\nme', labels: { note: 'x"y' } })], {
      labels: ['note'],
    });
    const text = await registry.metrics();
    assert.deepEqual(lines(text, 'container_memory_usage_bytes'), [
      'container_memory_usage_bytes{id="/docker/a",name="we\\"ird\\\\na\\nme",image="busybox:test",container_label_note="x\\"y"} 1000',
    ]);
  });

  it('writes each family once, HELP and TYPE before all its samples, after the registry’s own families', async () => {
    const { registry } = setup([tracked('a'), tracked('b')]);
    const text = await registry.metrics();
    assert.ok(text.endsWith('\n'));
    assert.ok(text.indexOf('quayside_stats_up') < text.indexOf('# TYPE container_'), 'registry first');
    const typed: string[] = [];
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) /.exec(line);
      if (type) typed.push(type[1]!);
      else if (line.startsWith('container_')) assert.equal(/^[a-z_]+/.exec(line)![0], typed.at(-1), line);
    }
    assert.equal(new Set(typed).size, typed.length, 'no family twice');
    assert.deepEqual(
      typed.filter((name) => name.startsWith('container_')),
      FAMILIES.map((f) => f.name),
    );
  });

  it("uses cAdvisor's names and labels: id is the cgroup path, then name, image, and the extra label", async () => {
    const { registry } = setup([tracked('a')]);
    const text = await registry.metrics();
    assert.deepEqual(lines(text, 'container_cpu_usage_seconds_total'), [
      'container_cpu_usage_seconds_total{id="/docker/a",name="c-a",image="busybox:test",cpu="total"} 12.5',
    ]);
    assert.deepEqual(lines(text, 'container_network_receive_bytes_total'), [
      'container_network_receive_bytes_total{id="/docker/a",name="c-a",image="busybox:test",interface="eth0"} 5',
    ]);
    assert.deepEqual(lines(text, 'container_fs_writes_total'), [
      'container_fs_writes_total{id="/docker/a",name="c-a",image="busybox:test",device="/dev/vda"} 2',
    ]);
    assert.match(text, /^# TYPE container_cpu_usage_seconds_total counter$/m);
    assert.match(text, /^# TYPE container_memory_working_set_bytes gauge$/m);
  });

  it("gives a container that joined another's network namespace no network series (its interfaces are the other's), as cAdvisor", async () => {
    const { registry } = setup([tracked('pod'), tracked('app', { sharesNetworkOf: 'pod' })]);
    const text = await registry.metrics();
    assert.deepEqual(lines(text, 'container_network_receive_bytes_total'), [
      'container_network_receive_bytes_total{id="/docker/pod",name="c-pod",image="busybox:test",interface="eth0"} 5',
    ]);
    assert.equal(lines(text, 'container_network_transmit_packets_dropped_total').length, 1);
    assert.equal(lines(text, 'container_cpu_usage_seconds_total').length, 2, 'its other series stay');
  });

  it('knows from inspect which container joined which network namespace (not the host network, as cAdvisor)', () => {
    const inspect = (networkMode: string) =>
      containerFromInspect(
        {
          Id: 'c1',
          Name: '/app',
          Created: '2026-11-27T10:00:00Z',
          RestartCount: 0,
          State: {
            Status: 'running',
            Pid: 42,
            StartedAt: '2026-11-27T10:00:01Z',
            FinishedAt: '0001-01-01T00:00:00Z',
            ExitCode: 0,
          },
          HostConfig: { NetworkMode: networkMode },
          Config: { Image: 'busybox:test', Labels: {} },
        } as unknown as Dockerode.ContainerInspectInfo,
        () => ({ path: '/docker/c1' }),
      ).sharesNetworkOf;
    assert.equal(inspect('container:0123abcd'), '0123abcd');
    assert.equal(inspect('host'), undefined);
    assert.equal(inspect('bridge'), undefined);
    assert.equal(inspect('my-net'), undefined);
  });

  it('puts no timestamps on samples (so Prometheus marks removed series stale at once)', async () => {
    const { registry } = setup([tracked('a')]);
    for (const line of (await registry.metrics()).split('\n')) {
      if (line.startsWith('container_')) assert.match(line, /^\S+(\{.*\})? -?[\d.e+]+$/, line);
    }
  });

  it('names every counter with _total, and no gauge, except cAdvisor’s own container_memory_failcnt and container_fs_inodes_total', () => {
    const counters = FAMILIES.filter((f) => f.type === 'counter').map((f) => f.name);
    assert.deepEqual(
      counters.filter((name) => !name.endsWith('_total')),
      ['container_memory_failcnt'],
    );
    assert.deepEqual(
      FAMILIES.filter((f) => f.type === 'gauge' && f.name.endsWith('_total')).map((f) => f.name),
      ['container_fs_inodes_total'],
    );
  });

  it('exports the chosen Docker labels only, leaving out those a container lacks (Prometheus reads them as "")', async () => {
    const { registry } = setup([tracked('a'), tracked('b', { labels: {} })], {
      labels: ['com.docker.compose.service'],
    });
    const text = await registry.metrics();
    assert.deepEqual(lines(text, 'container_memory_usage_bytes'), [
      'container_memory_usage_bytes{id="/docker/a",name="c-a",image="busybox:test",container_label_com_docker_compose_service="svc-a"} 1000',
      'container_memory_usage_bytes{id="/docker/b",name="c-b",image="busybox:test"} 1000',
    ]);
    assert.doesNotMatch(text, /container_label_secret/);
    assert.equal(
      containerLabelName('org.opencontainers.image-version'),
      'container_label_org_opencontainers_image_version',
    );
  });

  it('by default exports the Compose, Swarm, stack and label-schema keys dashboards group by, and no free-form label', async () => {
    const labels = {
      'com.docker.compose.project': 'shop',
      'com.docker.swarm.service.name': 'shop_web',
      'com.docker.swarm.task.name': 'shop_web.1.abc',
      'com.docker.swarm.node.id': 'node1',
      'com.docker.stack.namespace': 'shop',
      'org.label-schema.group': 'monitoring',
      'com.example.api-token': 'hunter2',
    };
    const { registry } = setup([tracked('a', { labels })], { labels: [...ORCHESTRATION_LABEL_KEYS] });
    const [line] = lines(await registry.metrics(), 'container_memory_usage_bytes');
    assert.equal(
      line,
      'container_memory_usage_bytes{id="/docker/a",name="c-a",image="busybox:test",container_label_com_docker_compose_project="shop",container_label_com_docker_stack_namespace="shop",container_label_com_docker_swarm_node_id="node1",container_label_com_docker_swarm_service_name="shop_web",container_label_com_docker_swarm_task_name="shop_web.1.abc",container_label_org_label_schema_group="monitoring"} 1000',
    );
  });

  it('exports every label with *, as cAdvisor, in key order, the first of two keys that share a label name winning', async () => {
    const { registry } = setup(
      [tracked('a', { labels: { 'z.last': '1', 'a-b': 'dash', 'a.b': 'dot', 'com.docker.compose.service': 'web' } })],
      { labels: ['*'] },
    );
    const [line] = lines(await registry.metrics(), 'container_memory_usage_bytes');
    assert.equal(
      line,
      'container_memory_usage_bytes{id="/docker/a",name="c-a",image="busybox:test",container_label_a_b="dash",container_label_com_docker_compose_service="web",container_label_z_last="1"} 1000',
    );
  });

  it('writes the extra labels of families with several (memory failures, blkio device usage)', async () => {
    const { registry } = setup([tracked('a')]);
    const text = await registry.metrics();
    assert.deepEqual(lines(text, 'container_memory_failures_total'), [
      'container_memory_failures_total{id="/docker/a",name="c-a",image="busybox:test",failure_type="pgfault",scope="container"} 3',
      'container_memory_failures_total{id="/docker/a",name="c-a",image="busybox:test",failure_type="pgfault",scope="hierarchy"} 4',
    ]);
    assert.deepEqual(lines(text, 'container_blkio_device_usage_total'), [
      'container_blkio_device_usage_total{id="/docker/a",name="c-a",image="busybox:test",device="/dev/vda",major="254",minor="0",operation="Read"} 7',
      'container_blkio_device_usage_total{id="/docker/a",name="c-a",image="busybox:test",device="/dev/vda",major="254",minor="0",operation="Write"} 8',
    ]);
    assert.ok(
      lines(text, 'container_tasks_state').includes(
        'container_tasks_state{id="/docker/a",name="c-a",image="busybox:test",state="sleeping"} 2',
      ),
    );
  });

  it('exports the machine as id="/" (no name, image or Docker lifecycle) before the containers, and the machine_* families after them', async () => {
    const machineText =
      '# HELP machine_cpu_cores Number of logical CPU cores.\n# TYPE machine_cpu_cores gauge\nmachine_cpu_cores 2\n';
    const { registry, collector } = setup([tracked('a')], { machine: machineContainer(undefined), machineText });
    const text = await registry.metrics();
    assert.deepEqual(collector.asked, ['/', 'a']);
    assert.deepEqual(lines(text, 'container_memory_usage_bytes'), [
      'container_memory_usage_bytes{id="/"} 1000',
      'container_memory_usage_bytes{id="/docker/a",name="c-a",image="busybox:test"} 1000',
    ]);
    assert.deepEqual(
      lines(text, 'container_last_seen').map((l) => l.split('{')[1]?.split('}')[0]),
      ['id="/"', 'id="/docker/a",name="c-a",image="busybox:test"'],
    );
    for (const family of [
      'container_start_time_seconds',
      'container_state',
      'container_restarts_total',
      'container_health_state',
    ]) {
      assert.ok(
        lines(text, family).every((l) => !l.includes('id="/"}') && !l.includes('id="/",')),
        family,
      );
    }
    assert.ok(text.indexOf('machine_cpu_cores 2') > text.lastIndexOf('container_state{'), 'machine families last');
  });

  it("keeps a stopped container's container_last_seen at the time it stopped for the window, so ContainerKilled fires, then drops it", async () => {
    const stoppedAgo = (seconds: number, id: string) =>
      tracked(id, { state: 'exited', pid: 0, finishedAt: NOW - seconds, lastExitCode: 0 });
    const { registry } = setup(
      [
        tracked('up'),
        stoppedAgo(70, 'killed'),
        stoppedAgo(400, 'long-gone'),
        tracked('never', { state: 'created', pid: 0 }),
      ],
      { lastSeenWindowMs: 300_000 },
    );
    const seen = lines(await registry.metrics(), 'container_last_seen').map(
      (l) => [/name="([^"]+)"/.exec(l)![1], Number(l.split(' ')[1])] as const,
    );
    assert.deepEqual(seen, [
      ['c-up', NOW],
      ['c-killed', NOW - 70],
    ]);
    // The alert: time() - container_last_seen > 60.
    assert.deepEqual(
      seen.filter(([, value]) => NOW - value > 60).map(([name]) => name),
      ['c-killed'],
    );
    const { registry: noWindow } = setup([stoppedAgo(1, 'just-stopped')], { lastSeenWindowMs: 0 });
    assert.deepEqual(lines(await noWindow.metrics(), 'container_last_seen'), [], '0 drops it at once');
  });

  it('reports the device of the writable layer at 0 I/O while the kernel lists no I/O on it for the container, as cAdvisor', async () => {
    const fsUsage = {
      get: (id: string) =>
        id === 'a'
          ? { device: '/dev/vdb', usageBytes: 4096, limitBytes: 10_000, inodesFree: 9, inodesTotal: 10 }
          : undefined,
      track: () => undefined,
    };
    const exposition = new ContainerExposition({
      families: enabledFamilies([]),
      containers: () => [tracked('a')],
      collector: new FakeCollector(),
      include: [],
      exclude: [],
      labels: [],
      fsUsage: fsUsage as unknown as WritableLayerUsage,
      lastSeenWindowMs: 300_000,
      clock: () => NOW * 1000,
    });
    const text = (await exposition.render()).toString('utf8');
    assert.deepEqual(lines(text, 'container_fs_reads_total'), [
      'container_fs_reads_total{id="/docker/a",name="c-a",image="busybox:test",device="/dev/vda"} 1',
      'container_fs_reads_total{id="/docker/a",name="c-a",image="busybox:test",device="/dev/vdb"} 0',
    ]);
    assert.deepEqual(lines(text, 'container_fs_usage_bytes'), [
      'container_fs_usage_bytes{id="/docker/a",name="c-a",image="busybox:test",device="/dev/vdb"} 4096',
    ]);
  });

  it('serves gzip when Prometheus asks for it, and plain text otherwise', async () => {
    const { registry } = setup([tracked('a')]);
    const zipped = await registry.raw('gzip');
    assert.equal(zipped.encoding, 'gzip');
    const text = gunzipSync(zipped.body).toString('utf8');
    assert.match(text, /^container_memory_usage_bytes\{id="\/docker\/a".* 1000$/m);
    const plain = await registry.raw('identity');
    assert.equal(plain.encoding, undefined);
    assert.match(plain.body.toString('utf8'), /^container_memory_usage_bytes\{id="\/docker\/a".* 1000$/m);
    assert.equal((await registry.raw('gzip;q=0, identity')).encoding, undefined, 'gzip refused with q=0');
  });

  it('collects once per scrape for all families and self-metrics', async () => {
    const { registry, collector } = setup([tracked('a'), tracked('b')]);
    const text = await registry.metrics();
    assert.equal(collector.calls, 1);
    assert.match(text, /^quayside_stats_containers_observed 2$/m);
    assert.match(text, /^quayside_stats_scrape_duration_seconds \d/m);
    await registry.metrics();
    assert.equal(collector.calls, 2, 'a new scrape collects anew');
  });

  it('writes a scrape into the buffer of one whose response has closed, never into one still being sent', async () => {
    const { exposition } = setup([tracked('a'), tracked('b')]);
    const first = await exposition.render();
    const firstText = first.toString('utf8');
    const second = await exposition.render();
    assert.notEqual(second.buffer, first.buffer, 'the first is still being sent: the second gets its own buffer');
    assert.equal(first.toString('utf8'), firstText);
    exposition.release(first);
    const third = await exposition.render();
    assert.equal(third.buffer, first.buffer, 'the first was released: its buffer is reused');
    assert.equal(third.toString('utf8'), firstText);
    assert.notEqual(third.buffer, second.buffer);
  });

  it('reuses a text that two requests share only once both have released it', async () => {
    const { exposition } = setup([tracked('a')]);
    const [one, two] = await Promise.all([exposition.render(), exposition.render()]);
    assert.equal(one, two, 'overlapping requests share one collection');
    exposition.release(one);
    const next = await exposition.render();
    assert.notEqual(next.buffer, one.buffer, 'one request still sends it');
    exposition.release(two);
    assert.equal((await exposition.render()).buffer, one.buffer, 'both requests have released it: reused');
  });

  it('gives the text back when the /metrics response has closed, so the next scrape reuses its buffer', async () => {
    const { registry, rendered } = setup([tracked('a'), tracked('b')]);
    const first = await registry.metrics();
    await registry.raw('gzip');
    const third = await registry.metrics();
    assert.equal(rendered.length, 3);
    assert.equal(rendered[1]!.buffer, rendered[0]!.buffer);
    assert.equal(rendered[2]!.buffer, rendered[0]!.buffer);
    const containerLines = (text: string) => text.split('\n').filter((line) => line.startsWith('container_'));
    assert.deepEqual(containerLines(third), containerLines(first));
    assert.ok(containerLines(first).length > 50);
  });

  it('serves every other container when one cannot be read', async () => {
    const { registry } = setup([tracked('a'), tracked('broken'), tracked('c')]);
    const text = await registry.metrics();
    assert.deepEqual(
      lines(text, 'container_memory_usage_bytes').map((l) => /name="([^"]+)"/.exec(l)?.[1]),
      ['c-a', 'c-c'],
    );
    // Its lifecycle series remain: Docker still knows it.
    assert.equal(lines(text, 'container_start_time_seconds').length, 3);
    assert.match(text, /^quayside_stats_containers_observed 2$/m);
  });

  it('drops a removed container’s series at the next scrape', async () => {
    const containers = [tracked('a'), tracked('b')];
    const { registry } = setup(containers);
    assert.equal(lines(await registry.metrics(), 'container_cpu_usage_seconds_total').length, 2);
    containers.pop();
    assert.equal(lines(await registry.metrics(), 'container_cpu_usage_seconds_total').length, 1);
  });

  it('reads stats only of running containers, keeps state, exit code and restarts of stopped ones, and counts only running ones in cAdvisor’s families', async () => {
    const { registry, collector } = setup([
      tracked('a'),
      tracked('b', { state: 'exited', lastExitCode: 137, restarts: 2, pid: 0 }),
    ]);
    const text = await registry.metrics();
    assert.deepEqual(collector.asked, ['a']);
    assert.deepEqual(lines(text, 'container_last_exit_code'), [
      'container_last_exit_code{id="/docker/b",name="c-b",image="busybox:test"} 137',
    ]);
    assert.ok(
      lines(text, 'container_restarts_total').includes(
        'container_restarts_total{id="/docker/b",name="c-b",image="busybox:test"} 2',
      ),
    );
    assert.ok(
      lines(text, 'container_state').includes(
        'container_state{id="/docker/b",name="c-b",image="busybox:test",state="exited"} 1',
      ),
    );
    assert.ok(
      lines(text, 'container_state').includes(
        'container_state{id="/docker/b",name="c-b",image="busybox:test",state="running"} 0',
      ),
    );
    assert.deepEqual(lines(text, 'container_last_seen'), [
      'container_last_seen{id="/docker/a",name="c-a",image="busybox:test"} 1800000100',
    ]);
    assert.deepEqual(
      lines(text, 'container_health_state').map((l) => l.split(' ')[1]),
      ['-1'],
      'no health check; the stopped one not counted',
    );
    for (const family of [
      'container_start_time_seconds',
      'container_creation_time_seconds',
      'container_oom_events_total',
    ]) {
      assert.deepEqual(
        lines(text, family).map((l) => /name="([^"]+)"/.exec(l)?.[1]),
        ['c-a'],
        `${family}: cAdvisor has it for running containers only`,
      );
    }
  });

  it('leaves out disabled groups and single families entirely', async () => {
    const { registry } = setup([tracked('a')], { disable: ['network', 'container_memory_cache'] });
    const text = await registry.metrics();
    assert.doesNotMatch(text, /container_network_/);
    assert.doesNotMatch(text, /container_memory_cache/);
    assert.match(text, /^container_memory_rss|^# HELP container_memory_rss/m);
  });

  it('exports only included containers that are not excluded', async () => {
    const containers = [tracked('a'), tracked('b'), tracked('web-1', { labels: { tier: 'front' } })];
    const { registry, collector } = setup(containers, {
      include: ['name=c-web-*', 'label=com.docker.compose.service=svc-a'],
      exclude: ['name=c-a'],
    });
    const text = await registry.metrics();
    assert.deepEqual(collector.asked, ['web-1']);
    assert.deepEqual(
      lines(text, 'container_start_time_seconds').map((l) => /name="([^"]+)"/.exec(l)?.[1]),
      ['c-web-1'],
    );
  });
});

describe('labelNameClash', () => {
  it('finds two Docker label keys that would share one Prometheus label', () => {
    assert.deepEqual(labelNameClash(['com.x.a-b', 'com.x.team', 'com.x.a.b']), ['com.x.a-b', 'com.x.a.b']);
    assert.equal(labelNameClash(['com.x.a', 'com.x.b', 'com.x.a']), undefined);
  });
});

/**
 * quayside stats-exporter against the test engine (cgroup v1, cgroupfs) with a real Prometheus
 * scraping it every second: CPU under a quota, memory against the cgroup, network, removal and
 * restart as Prometheus sees them, and the Docker API fallback.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { eventually } from '../support/eventually';
import { query, queryValue } from '../support/prometheus-api';
import { expositionProblems, parseSampleLine } from '../support/prometheus-text';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import { removeTestContainers, startEngine, TEST_LABEL, testDocker, testEnv, uniqueTag } from '../support/test-env';

/** CPU seconds the kernel counted for a cgroup (cAdvisor's `id`), cgroup v1 or v2. */
function kernelCpuSeconds(cgroupPath: string): number {
  const v1 = join('/sys/fs/cgroup/cpuacct', cgroupPath, 'cpuacct.usage');
  if (existsSync(v1)) return Number(readFileSync(v1, 'utf8')) / 1e9;
  const stat = readFileSync(join('/sys/fs/cgroup', cgroupPath, 'cpu.stat'), 'utf8');
  return Number(/^usage_usec (\d+)$/m.exec(stat)![1]) / 1e6;
}

/** The value of one sample line in a /metrics text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function startExporter(port: number, run: string, extra: string[] = []) {
  const child = startCli(
    agentArgs(
      'stats-exporter',
      { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true },
      '--stats-include',
      `label=qs.stats.run=${run}`,
      '--stats-labels',
      'qs.stats.run',
      ...extra,
    ),
    { DOCKER_HOST: testEnv().docker.host },
  );
  return { child, output: capture(child), base: `http://127.0.0.1:${port}` };
}

const randomPort = (): number => 20_000 + Math.floor(Math.random() * 20_000);

describe('quayside stats-exporter with Prometheus', function () {
  this.timeout(180_000);
  const docker = testDocker();
  const run = uniqueTag('stats');
  const job = `${run}-job`;
  const targetFile = join(testEnv().prometheus.targetsDir, `${job}.json`);
  let exporter: ReturnType<typeof startExporter>;
  const names = {
    cpu: `${run}-cpu`,
    memory: `${run}-memory`,
    self: `${run}-self`,
    peer: `${run}-peer`,
    restart: `${run}-restart`,
    doomed: `${run}-doomed`,
  };

  async function runContainer(
    name: string,
    cmd: string,
    host: Dockerode.HostConfig = {},
  ): Promise<Dockerode.Container> {
    const container = await docker.createContainer({
      name,
      Image: testEnv().images.busybox,
      Cmd: ['sh', '-c', cmd],
      Labels: { [TEST_LABEL]: '1', 'qs.stats.run': run },
      HostConfig: host,
    });
    await container.start();
    return container;
  }

  before(async () => {
    await startEngine();
    await Promise.all([
      runContainer(names.cpu, 'while :; do :; done', { NanoCpus: 500_000_000 }),
      runContainer(names.memory, 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=64 2>/dev/null; exec sleep 600', {
        ShmSize: 128 * 1024 * 1024,
      }),
      // Traffic a container sends to its own address travels over lo.
      runContainer(names.self, 'exec ping -q -i 0.2 $(hostname -i)'),
      runContainer(names.restart, 'while :; do :; done', { NanoCpus: 300_000_000 }),
      runContainer(names.doomed, 'exec sleep 600'),
    ]);
    // Keep lo, which cAdvisor's default list leaves out, to see the self-traffic.
    exporter = startExporter(randomPort(), run, ['--stats-network-ignore', 'veth,docker,nerdctl']);
    await eventually(async () => assert.equal((await fetch(`${exporter.base}/readyz`)).status, 200), 15_000, 100);
    mkdirSync(testEnv().prometheus.targetsDir, { recursive: true });
    writeFileSync(targetFile, JSON.stringify([{ targets: [new URL(exporter.base).host], labels: { test_run: job } }]));
    await eventually(async () => assert.equal(await queryValue(`up{test_run="${job}"}`), 1), 30_000, 500);
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

  it('is up, tracks the containers and counts no collector errors', async () => {
    await eventually(
      async () => {
        assert.equal(await queryValue(`quayside_stats_up{test_run="${job}"}`), 1);
        assert.ok((await queryValue(`quayside_stats_containers_observed{test_run="${job}"}`)) >= 5);
      },
      10_000,
      500,
    );
    assert.equal(await queryValue(`sum(quayside_stats_collector_errors_total{test_run="${job}"})`), 0);
  });

  it('shows a container burning CPU under --cpus 0.5 at the rate its cgroup counts, near 0.5 when the host has CPU to give', async () => {
    const series = `container_cpu_usage_seconds_total{test_run="${job}",name="${names.cpu}"}`;
    const cgroupPath = await eventually(
      async () => {
        const [found] = await query(series);
        assert.ok(found?.metric.id, 'series present');
        return found.metric.id;
      },
      30_000,
      500,
    );
    // The kernel's count over the same window is the truth: on a saturated host (other work on the
    // 2 cores) the container gets less than its quota, and the exporter must say so.
    const kernelRate = await eventually(
      async () => {
        const started = { at: Date.now() / 1000, cpu: kernelCpuSeconds(cgroupPath) };
        await sleep(10_000);
        const ended = { at: Date.now() / 1000, cpu: kernelCpuSeconds(cgroupPath) };
        const counted = (ended.cpu - started.cpu) / (ended.at - started.at);
        const rate = await queryValue(`rate(${series}[10s])`, ended.at);
        assert.ok(Math.abs(rate - counted) < 0.1, `rate ${rate}, the cgroup's ${counted}`);
        assert.ok(rate < 0.6, `rate ${rate} above the quota`);
        if (counted >= 0.4) assert.ok(rate > 0.4, `rate ${rate}`);
        return counted;
      },
      90_000,
      0,
    );
    assert.equal(await queryValue(`container_spec_cpu_quota{test_run="${job}",name="${names.cpu}"}`), 50_000);
    assert.ok(
      (await queryValue(`container_cpu_cfs_periods_total{test_run="${job}",name="${names.cpu}"}`)) > 0,
      'CFS periods',
    );
    // A container that got less than its quota (saturated host) may never have been throttled.
    if (kernelRate >= 0.4)
      assert.ok(
        (await queryValue(`container_cpu_cfs_throttled_periods_total{test_run="${job}",name="${names.cpu}"}`)) > 0,
        'throttled',
      );
  });

  it('reports the memory of a container holding 64 MiB as its cgroup does', async () => {
    const text = await eventually(
      async () => {
        const metrics = await (await fetch(`${exporter.base}/metrics`)).text();
        assert.ok((sample(metrics, 'container_memory_usage_bytes', { name: names.memory }) ?? 0) >= 64 * 1024 * 1024);
        return metrics;
      },
      20_000,
      200,
    );
    const id = /container_memory_usage_bytes\{id="([^"]+)",name="[^"]*-memory"/.exec(text)?.[1];
    assert.ok(id, 'the id label is the cgroup path');
    const fromCgroup = Number(readFileSync(`/sys/fs/cgroup/memory${id}/memory.usage_in_bytes`, 'utf8'));
    const exported = sample(text, 'container_memory_usage_bytes', { name: names.memory })!;
    // An idle sleeper's usage barely moves between the scrape and our read.
    assert.ok(Math.abs(exported - fromCgroup) < 1024 * 1024, `exported ${exported}, cgroup ${fromCgroup}`);
    // /dev/shm is shared memory, not reclaimable file cache: it stays in the working set.
    assert.ok(sample(text, 'container_memory_working_set_bytes', { name: names.memory })! >= 64 * 1024 * 1024);
    await eventually(
      async () =>
        assert.ok(
          (await queryValue(`container_memory_working_set_bytes{test_run="${job}",name="${names.memory}"}`)) >=
            64 * 1024 * 1024,
        ),
      10_000,
      500,
    );
  });

  it('counts the traffic of a container sending to itself (lo) and of one reached by a peer (eth0)', async () => {
    const self = await docker.getContainer(names.self).inspect();
    const address = Object.values(self.NetworkSettings.Networks)[0]?.IPAddress;
    assert.ok(address, 'the container has an address on the bridge');
    await runContainer(names.peer, `exec ping -q -i 0.2 ${address}`);
    await eventually(
      async () => {
        assert.ok(
          (await queryValue(
            `increase(container_network_transmit_packets_total{test_run="${job}",name="${names.self}",interface="lo"}[5s])`,
          )) > 0,
          'lo transmit',
        );
        assert.ok(
          (await queryValue(
            `increase(container_network_receive_bytes_total{test_run="${job}",name="${names.self}",interface="lo"}[5s])`,
          )) > 0,
          'lo receive',
        );
        assert.ok(
          (await queryValue(
            `increase(container_network_receive_bytes_total{test_run="${job}",name="${names.self}",interface="eth0"}[5s])`,
          )) > 0,
          'eth0 receive from the peer',
        );
        assert.ok(
          (await queryValue(
            `increase(container_network_transmit_bytes_total{test_run="${job}",name="${names.peer}",interface="eth0"}[5s])`,
          )) > 0,
          'peer eth0 transmit',
        );
      },
      30_000,
      1_000,
    );
  });

  it('drops the series of a removed container at the next scrape', async () => {
    const selector = `container_memory_usage_bytes{test_run="${job}",name="${names.doomed}"}`;
    await eventually(async () => assert.equal((await query(selector)).length, 1), 15_000, 500);
    await docker.getContainer(names.doomed).remove({ force: true });
    // Usage series go when it stops running; the state series when its destroy event is handled and scraped.
    await eventually(
      async () => {
        assert.deepEqual(await query(selector), []);
        assert.deepEqual(await query(`container_state{test_run="${job}",name="${names.doomed}"}`), []);
      },
      10_000,
      250,
    );
  });

  it('keeps one series per container across a restart, with the counter reset', async () => {
    const cpu = `container_cpu_usage_seconds_total{test_run="${job}",name="${names.restart}"}`;
    await eventually(async () => assert.ok((await queryValue(cpu)) > 1, 'has burned a second'), 30_000, 1_000);
    const startedBefore = await queryValue(`container_start_time_seconds{test_run="${job}",name="${names.restart}"}`);
    await docker.getContainer(names.restart).restart({ t: 1 });
    await eventually(
      async () => {
        assert.ok((await queryValue(`resets(${cpu}[2m])`)) >= 1, 'counter reset seen by Prometheus');
        assert.equal(
          await queryValue(`count(count_over_time(${cpu}[2m]))`),
          1,
          'same series identity (id, name, image)',
        );
        assert.equal(await queryValue(`container_restarts_total{test_run="${job}",name="${names.restart}"}`), 1);
        assert.ok(
          (await queryValue(`container_start_time_seconds{test_run="${job}",name="${names.restart}"}`)) > startedBefore,
        );
      },
      30_000,
      1_000,
    );
  });

  it('reports the exit code and state of a container that died', async () => {
    const name = `${run}-exit`;
    await runContainer(name, 'exit 3');
    await eventually(
      async () => {
        assert.equal(await queryValue(`container_last_exit_code{test_run="${job}",name="${name}"}`), 3);
        assert.equal(await queryValue(`container_state{test_run="${job}",name="${name}",state="exited"}`), 1);
      },
      15_000,
      500,
    );
  });

  it('serves valid text format 0.0.4 on a live scrape: promtool parses it, every family whole with one HELP and TYPE, every series once, label values escaped', async () => {
    const note = 'back\\slash "quoted"\nsecond line';
    const noted = await docker.createContainer({
      name: `${run}-noted`,
      Image: testEnv().images.busybox,
      Cmd: ['sh', '-c', 'exec sleep 600'],
      Labels: { [TEST_LABEL]: '1', 'qs.stats.run': run, 'qs.stats.note': note },
    });
    await noted.start();
    await runContainer(`${run}-quit`, 'exit 4');
    // In the noted container's network namespace, as a Kubernetes pod's app containers are.
    await runContainer(`${run}-joined`, 'exec sleep 600', { NetworkMode: `container:${noted.id}` });
    const labelled = startExporter(randomPort(), run, ['--stats-labels', 'qs.stats.run,qs.stats.note']);
    try {
      const text = await eventually(
        async () => {
          const body = await (await fetch(`${labelled.base}/metrics`)).text();
          assert.ok(
            body.includes(`name="${run}-noted"`) &&
              body.includes(`name="${run}-joined"`) &&
              body.includes(`container_last_exit_code{`),
            'the containers listed',
          );
          return body;
        },
        15_000,
        250,
      );
      assert.deepEqual(expositionProblems(text), []);
      const lines = text.split('\n');
      const line = lines.find(
        (l) => l.startsWith('container_memory_usage_bytes{') && l.includes(`name="${run}-noted"`),
      );
      assert.ok(line, 'memory of the labelled container');
      assert.equal(
        parseSampleLine(line).labels.container_label_qs_stats_note,
        note,
        'the label value comes back as Docker has it',
      );
      // The joined container's interfaces are the noted one's: its series only, not counted twice.
      const network = lines.filter((l) => l.startsWith('container_network_receive_bytes_total{'));
      assert.ok(
        network.some((l) => l.includes(`name="${run}-noted"`)),
        'the namespace owner has network series',
      );
      assert.deepEqual(
        network.filter((l) => l.includes(`name="${run}-joined"`)),
        [],
      );
      // Registry families (self-metrics) and the container families each appear once, in one piece.
      for (const family of ['quayside_stats_up', 'container_cpu_usage_seconds_total', 'container_state']) {
        assert.equal(lines.filter((l) => l.startsWith(`# TYPE ${family} `)).length, 1, family);
      }
      if (spawnSync('promtool', ['--version']).status === 0) {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        // 0: clean; 3: lint remarks only (cAdvisor's container_memory_failcnt, prom-client's nodejs_*_total gauges).
        assert.ok(check.status === 0 || check.status === 3, `promtool: ${check.status} ${check.stderr}${check.stdout}`);
        assert.doesNotMatch(`${check.stderr}${check.stdout}`, /error|pars/i);
      }
    } finally {
      labelled.child.kill('SIGTERM');
      await exited(labelled.child);
    }
  });

  it('gives the same memory through the Docker API fallback', async () => {
    const api = startExporter(randomPort(), run, ['--stats-collector', 'docker-api']);
    try {
      await eventually(async () => assert.equal((await fetch(`${api.base}/readyz`)).status, 200), 15_000, 100);
      const [viaApi, viaCgroup] = await Promise.all([
        (await fetch(`${api.base}/metrics`)).text(),
        (await fetch(`${exporter.base}/metrics`)).text(),
      ]);
      const apiUsage = sample(viaApi, 'container_memory_usage_bytes', { name: names.memory });
      const cgroupUsage = sample(viaCgroup, 'container_memory_usage_bytes', { name: names.memory });
      assert.ok(apiUsage !== undefined && cgroupUsage !== undefined);
      assert.ok(Math.abs(apiUsage - cgroupUsage) < 1024 * 1024, `api ${apiUsage}, cgroup ${cgroupUsage}`);
      assert.equal(sample(viaApi, 'quayside_stats_collector_errors_total', { collector: 'docker-api' }), 0);
      assert.ok(sample(viaApi, 'container_network_receive_bytes_total', { name: names.self, interface: 'eth0' })! > 0);
    } finally {
      api.child.kill('SIGTERM');
      await exited(api.child);
    }
  });
});

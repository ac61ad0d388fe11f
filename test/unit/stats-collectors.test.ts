/** The collectors around the readers: error counting, network, the Docker API fallback and auto. */
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { AutoCollector } from '../../agents/stats-exporter/collectors';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import { CgroupCollector } from '../../agents/stats-exporter/collectors/cgroup';
import { resolveCgroup } from '../../agents/stats-exporter/collectors/cgroup-location';
import type { CollectTarget, StatsCollector } from '../../agents/stats-exporter/collectors/collector';
import {
  DockerApiCollector,
  statsFromApi,
  type StatsResponse,
} from '../../agents/stats-exporter/collectors/docker-api';
import type { ErrorReporter, ErrorSink } from '../../agents/stats-exporter/collectors/errors';
import { DEFAULT_IGNORED_INTERFACE_PREFIXES, parseNetDev } from '../../agents/stats-exporter/collectors/proc-net-dev';
import { forgetAbsentFiles } from '../../agents/stats-exporter/collectors/files';
import type { ContainerStats } from '../../agents/stats-exporter/collectors/stats';

const FIXTURES = join(__dirname, '..', 'fixtures', 'cgroup');
const V1_ID = '1'.repeat(64);

class RecordingErrors implements ErrorSink {
  readonly counted: Array<{ collector: string; kind: string; id: string }> = [];
  count<K extends string>(reporter: ErrorReporter<K>, kind: K, id: string): void {
    this.counted.push({ collector: reporter.name, kind, id });
  }
  kinds(): string[] {
    return this.counted.map((c) => c.kind);
  }
}

/** A writable copy of the v1 fixture, so a test can break files. */
function v1Copy(): { root: string; target: CollectTarget } {
  const root = mkdtempSync(join(tmpdir(), 'qs-stats-'));
  cpSync(join(FIXTURES, 'v1'), root, { recursive: true });
  const cgroup = resolveCgroup(
    { cgroupRoot: join(root, 'sys', 'fs', 'cgroup'), procRoot: join(root, 'proc') },
    { id: V1_ID, pid: 4242, cgroupParent: '' },
  );
  return { root, target: { id: V1_ID, pid: 4242, cgroup, configuredSpec: {} } };
}

function cgroupCollector(root: string, errors: ErrorSink): CgroupCollector {
  return new CgroupCollector({
    procRoot: join(root, 'proc'),
    ignoredInterfacePrefixes: DEFAULT_IGNORED_INTERFACE_PREFIXES,
    devices: new BlockDeviceNames(join(root, 'sys', 'dev', 'block')),
    errors,
  });
}

describe('stats-exporter collectors', () => {
  describe('/proc/<pid>/net/dev', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     504       6    0    0    0     0          0         0      504       6    0    0    0     0       0          0',
      '  eth0:12345678901  9876543    2    5    0     0          0         0  4096000    3000    1    4    0     0       0          0',
      'veth1a2b:     1       1    0    0    0     0          0         0        1       1    0    0    0     0       0          0',
      '',
    ].join('\n');

    it('reads every column we export, also when a large counter touches the colon', () => {
      assert.deepEqual(parseNetDev(text, DEFAULT_IGNORED_INTERFACE_PREFIXES), [
        {
          interface: 'eth0',
          receiveBytes: 12345678901,
          receivePackets: 9876543,
          receiveErrors: 2,
          receiveDropped: 5,
          transmitBytes: 4096000,
          transmitPackets: 3000,
          transmitErrors: 1,
          transmitDropped: 4,
        },
      ]);
    });

    it('keeps lo when it is not in the ignore list (traffic a container sends to itself)', () => {
      assert.deepEqual(
        parseNetDev(text, ['veth']).map((n) => n.interface),
        ['lo', 'eth0'],
      );
    });
  });

  describe('cgroup collector', () => {
    let root = '';
    afterEach(() => {
      rmSync(root, { recursive: true, force: true });
      forgetAbsentFiles();
    });

    it('adds the network of the container init process to the cgroup stats', async () => {
      const copy = v1Copy();
      root = copy.root;
      const errors = new RecordingErrors();
      const stats = (await cgroupCollector(root, errors).collect([copy.target])).get(V1_ID);
      assert.deepEqual(
        stats?.network?.map((n) => [n.interface, n.receiveBytes]),
        [['eth0', 12345678901]],
      );
      assert.ok(stats?.cpu && stats.memory && stats.blockIo && stats.processes && stats.spec);
      assert.deepEqual(errors.counted, []);
    });

    it('reads the limits once per located cgroup, not at every scrape', async () => {
      const copy = v1Copy();
      root = copy.root;
      const collector = cgroupCollector(root, new RecordingErrors());
      assert.equal((await collector.collect([copy.target])).get(V1_ID)?.spec?.memoryLimitBytes, 64 * 1024 * 1024);
      writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'memory', 'docker', V1_ID, 'memory.limit_in_bytes'), '1048576\n');
      assert.equal(
        (await collector.collect([copy.target])).get(V1_ID)?.spec?.memoryLimitBytes,
        64 * 1024 * 1024,
        'cached',
      );
      // A `docker update` makes the inventory locate the container again: a new location, read afresh.
      const relocated = { ...copy.target, cgroup: structuredClone(copy.target.cgroup) };
      assert.equal((await collector.collect([relocated])).get(V1_ID)?.spec?.memoryLimitBytes, 1024 * 1024);
    });

    it('counts a container whose cgroup vanished once, as gone, and leaves it out', async () => {
      const copy = v1Copy();
      root = copy.root;
      for (const controller of ['cpu,cpuacct', 'memory', 'blkio', 'pids'])
        rmSync(join(root, 'sys', 'fs', 'cgroup', controller, 'docker'), { recursive: true });
      const errors = new RecordingErrors();
      const results = await cgroupCollector(root, errors).collect([copy.target]);
      assert.equal(results.size, 0);
      assert.deepEqual(errors.kinds(), ['container_gone']);
    });

    it('keeps the other groups when one file is garbage, and counts a parse error', async () => {
      const copy = v1Copy();
      root = copy.root;
      writeFileSync(
        join(root, 'sys', 'fs', 'cgroup', 'memory', 'docker', V1_ID, 'memory.usage_in_bytes'),
        'not a number\n',
      );
      const errors = new RecordingErrors();
      const stats = (await cgroupCollector(root, errors).collect([copy.target])).get(V1_ID);
      assert.equal(stats?.memory, undefined);
      assert.ok(stats?.cpu, 'CPU still read');
      assert.deepEqual(errors.kinds(), ['parse']);
    });

    it('counts an unreadable cgroup file as a read error', async () => {
      const copy = v1Copy();
      root = copy.root;
      rmSync(join(root, 'sys', 'fs', 'cgroup', 'pids', 'docker', V1_ID, 'pids.current'));
      const errors = new RecordingErrors();
      const stats = (await cgroupCollector(root, errors).collect([copy.target])).get(V1_ID);
      assert.equal(stats?.processes, undefined);
      assert.deepEqual(errors.kinds(), ['cgroup_read']);
    });

    it('counts a missing /proc/<pid>/net/dev as a network error and keeps the rest', async () => {
      const copy = v1Copy();
      root = copy.root;
      rmSync(join(root, 'proc', '4242', 'net'), { recursive: true });
      const errors = new RecordingErrors();
      const stats = (await cgroupCollector(root, errors).collect([copy.target])).get(V1_ID);
      assert.equal(stats?.network, undefined);
      assert.ok(stats?.memory);
      assert.deepEqual(errors.kinds(), ['network']);
    });

    it('counts a container whose cgroup was never found', async () => {
      const errors = new RecordingErrors();
      const results = await cgroupCollector('/nonexistent', errors).collect([
        { id: 'abc', pid: 1, configuredSpec: {} },
      ]);
      assert.equal(results.size, 0);
      assert.deepEqual(errors.kinds(), ['cgroup_read']);
    });
  });

  describe('Docker stats API', () => {
    const devices = new BlockDeviceNames('/nonexistent');
    const options = { devices, ignoredInterfacePrefixes: DEFAULT_IGNORED_INTERFACE_PREFIXES };
    const v1Response: StatsResponse = {
      cpu_stats: {
        cpu_usage: { total_usage: 290866541, usage_in_kernelmode: 160000000, usage_in_usermode: 120000000 },
        throttling_data: { periods: 317, throttled_periods: 284, throttled_time: 2_500_000_000 },
      },
      memory_stats: {
        usage: 71069696,
        max_usage: 80000000,
        failcnt: 2,
        stats: {
          total_inactive_file: 29745152,
          total_rss: 41000000,
          rss: 40000000,
          total_cache: 30000000,
          total_mapped_file: 4096,
          total_swap: 0,
        },
      },
      networks: {
        eth0: {
          rx_bytes: 100,
          rx_packets: 2,
          rx_errors: 0,
          rx_dropped: 1,
          tx_bytes: 50,
          tx_packets: 1,
          tx_errors: 0,
          tx_dropped: 0,
        },
      },
      blkio_stats: {
        io_service_bytes_recursive: [
          { major: 8, minor: 0, op: 'Read', value: 4096 },
          { major: 8, minor: 0, op: 'Write', value: 8192 },
          { major: 8, minor: 0, op: 'Total', value: 12288 },
        ],
        io_serviced_recursive: [
          { major: 8, minor: 0, op: 'Read', value: 1 },
          { major: 8, minor: 0, op: 'Write', value: 2 },
        ],
      },
      pids_stats: { current: 3 },
    };

    it('maps a cgroup v1 engine response to the same model as the cgroup readers', () => {
      const stats = statsFromApi(
        v1Response,
        { configuredSpec: { cpuQuotaMicros: 10_000, cpuPeriodMicros: 100_000 } },
        options,
      )!;
      assert.deepEqual(stats.cpu, {
        usageSeconds: 0.290866541,
        userSeconds: 0.12,
        systemSeconds: 0.16,
        cfs: { periods: 317, throttledPeriods: 284, throttledSeconds: 2.5 },
      });
      assert.equal(stats.memory?.workingSetBytes, 71069696 - 29745152);
      assert.equal(stats.memory?.rssBytes, 41000000);
      assert.equal(stats.memory?.failcnt, 2);
      assert.deepEqual(stats.blockIo, [
        {
          device: '8:0',
          majorMinor: '8:0',
          readBytes: 4096,
          writeBytes: 8192,
          reads: 1,
          writes: 2,
          bytesByOperation: [
            ['Read', 4096],
            ['Write', 8192],
            ['Total', 12288],
          ],
        },
      ]);
      assert.deepEqual(stats.processes, { threads: 3, threadsMax: 0 });
      assert.equal(stats.network?.[0]?.receiveDropped, 1);
    });

    it('maps a cgroup v2 engine response (anon, file, inactive_file; lower-case ops)', () => {
      const stats = statsFromApi(
        {
          cpu_stats: { cpu_usage: { total_usage: 1e9 } },
          memory_stats: { usage: 5000, stats: { anon: 3000, file: 2000, inactive_file: 1500, file_mapped: 100 } },
          blkio_stats: {
            io_service_bytes_recursive: [{ major: 254, minor: 0, op: 'read', value: 10 }],
            io_serviced_recursive: null,
          },
        },
        { configuredSpec: {} },
        options,
      )!;
      assert.equal(stats.cpu?.cfs, undefined, 'no quota, no CFS counters');
      assert.deepEqual(
        [
          stats.memory?.workingSetBytes,
          stats.memory?.rssBytes,
          stats.memory?.cacheBytes,
          stats.memory?.mappedFileBytes,
          stats.memory?.failcnt,
        ],
        [3500, 3000, 2000, 100, undefined],
      );
      assert.deepEqual(stats.blockIo, [
        {
          device: '254:0',
          majorMinor: '254:0',
          readBytes: 10,
          writeBytes: 0,
          reads: 0,
          writes: 0,
          bytesByOperation: [['Read', 10]],
        },
      ]);
    });

    it('treats the answer for a stopped container (name and id only) as no stats', () => {
      assert.equal(statsFromApi({}, { configuredSpec: {} }, options), undefined);
    });

    /** A dockerode stand-in whose stats calls the test controls. */
    function fakeDocker(answer: (id: string) => Promise<StatsResponse>): { docker: Dockerode; calls: string[] } {
      const calls: string[] = [];
      const docker = {
        getContainer: (id: string) => ({
          stats: (opts: { stream: boolean; 'one-shot': boolean }) => {
            assert.deepEqual([opts.stream, opts['one-shot']], [false, true], 'one-shot, not streamed');
            calls.push(id);
            return answer(id);
          },
        }),
      } as unknown as Dockerode;
      return { docker, calls };
    }

    it('asks for every container in parallel, counts one failure, and serves the others', async () => {
      let concurrent = 0;
      let peak = 0;
      const { docker } = fakeDocker(async (id) => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 5));
        concurrent -= 1;
        if (id === 'broken') throw Object.assign(new Error('server error'), { statusCode: 500 });
        return v1Response;
      });
      const errors = new RecordingErrors();
      const collector = new DockerApiCollector({
        docker,
        errors,
        devices,
        ignoredInterfacePrefixes: [],
        cacheTtlMs: 0,
        timeoutMs: 1000,
      });
      const targets = ['a', 'broken', 'c'].map((id) => ({ id, pid: 0, configuredSpec: {} }));
      const results = await collector.collect(targets);
      assert.deepEqual([...results.keys()], ['a', 'c']);
      assert.equal(peak, 3);
      assert.deepEqual(errors.counted, [{ collector: 'docker-api', kind: 'docker_api', id: 'broken' }]);
    });

    it('reuses stats younger than the cache time, and asks again after it', async () => {
      let now = 1_000;
      const { docker, calls } = fakeDocker(async () => v1Response);
      const collector = new DockerApiCollector({
        docker,
        errors: new RecordingErrors(),
        devices,
        ignoredInterfacePrefixes: [],
        cacheTtlMs: 5_000,
        timeoutMs: 1000,
        clock: () => now,
      });
      const target = [{ id: 'a', pid: 0, configuredSpec: {} }];
      await collector.collect(target);
      now += 4_000;
      await collector.collect(target);
      assert.equal(calls.length, 1);
      now += 2_000;
      await collector.collect(target);
      assert.equal(calls.length, 2);
    });

    it('gives up on a container that does not answer in time', async () => {
      const { docker } = fakeDocker(() => new Promise(() => undefined));
      const errors = new RecordingErrors();
      const collector = new DockerApiCollector({
        docker,
        errors,
        devices,
        ignoredInterfacePrefixes: [],
        cacheTtlMs: 0,
        timeoutMs: 20,
      });
      const results = await collector.collect([{ id: 'slow', pid: 0, configuredSpec: {} }]);
      assert.equal(results.size, 0);
      assert.deepEqual(errors.kinds(), ['docker_api']);
    });
  });

  describe('auto', () => {
    it('reads cgroups where the cgroup was found and asks the API for the others', async () => {
      const seen: Record<string, string[]> = {};
      const fake = (name: string): StatsCollector => ({
        async collect(targets) {
          seen[name] = targets.map((t) => t.id);
          return new Map<string, ContainerStats>(targets.map((t) => [t.id, { processes: { threads: name.length } }]));
        },
      });
      const auto = new AutoCollector(fake('cgroup'), fake('docker-api'));
      const located = { id: 'a', pid: 1, configuredSpec: {}, cgroup: { version: 2 as const, path: '/a', dir: '/x/a' } };
      const results = await auto.collect([located, { id: 'b', pid: 0, configuredSpec: {} }]);
      assert.deepEqual(seen, { cgroup: ['a'], 'docker-api': ['b'] });
      assert.deepEqual([...results.keys()].sort(), ['a', 'b']);
    });
  });
});

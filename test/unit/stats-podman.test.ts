/** Podman's dialect (issue #14.4): its compat stats answer, and where its cgroups live. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import { resolveCgroup } from '../../agents/stats-exporter/collectors/cgroup-location';
import {
  DockerApiCollector,
  statsFromApi,
  type StatsResponse,
} from '../../agents/stats-exporter/collectors/docker-api';
import type { ErrorSink } from '../../agents/stats-exporter/collectors/errors';
import { FAMILIES } from '../../agents/stats-exporter/families';
import { DEFAULT_IGNORED_INTERFACE_PREFIXES } from '../../agents/stats-exporter/collectors/proc-net-dev';

const options = {
  devices: new BlockDeviceNames('/nonexistent'),
  ignoredInterfacePrefixes: DEFAULT_IGNORED_INTERFACE_PREFIXES,
};

/**
 * Podman 4.3's answer for a container under --cpus 0.2 --pids-limit 100 --memory 64m that its
 * cgroup had throttled 10 times in 33 periods, and whose eth0 had received 63,228 bytes (92
 * packets) and sent 61,132 (68 packets) shortly before.
 */
const podmanAnswer: StatsResponse = {
  pids_stats: { current: 1 },
  blkio_stats: { io_service_bytes_recursive: [], io_serviced_recursive: null },
  cpu_stats: {
    cpu_usage: { total_usage: 42573677, usage_in_kernelmode: 24000000, usage_in_usermode: 18573677 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  memory_stats: { usage: 258048 },
  networks: {
    network: {
      rx_bytes: 61132,
      rx_packets: 0,
      rx_errors: 0,
      rx_dropped: 0,
      tx_bytes: 63228,
      tx_packets: 0,
      tx_errors: 0,
      tx_dropped: 0,
    },
  },
};

describe('stats-exporter on Podman', () => {
  it("reads Podman's stats answer as the container sees itself: eth0 unswapped, and no zero for what Podman does not report", () => {
    const stats = statsFromApi(
      podmanAnswer,
      { configuredSpec: { cpuQuotaMicros: 20_000, cpuPeriodMicros: 100_000 } },
      options,
    )!;
    const eth0 = stats.network?.map((n) => [n.interface, n.receiveBytes, n.transmitBytes]);
    assert.deepEqual(
      eth0,
      [['eth0', 63228, 61132]],
      'received and transmitted as /proc/net/dev inside the container counts them',
    );
    assert.equal(stats.cpu?.cfs, undefined, 'throttling unknown, not "never throttled"');
    assert.equal(stats.cpu?.usageSeconds, 0.042573677);
    assert.deepEqual(
      stats.processes,
      { threads: 1, threadsMax: undefined },
      'the pids limit is unknown, not "unlimited"',
    );
    assert.deepEqual(
      [
        stats.memory?.usageBytes,
        stats.memory?.rssBytes,
        stats.memory?.cacheBytes,
        stats.memory?.failcnt,
        stats.memory?.maxUsageBytes,
      ],
      [258048, undefined, undefined, undefined, undefined],
    );
  });

  it("leaves out the packet, error and drop counts Podman's answer lacks instead of exporting 0", () => {
    const stats = statsFromApi(podmanAnswer, { configuredSpec: {} }, options)!;
    assert.deepEqual(stats.network, [
      {
        interface: 'eth0',
        receiveBytes: 63228,
        transmitBytes: 61132,
        receivePackets: undefined,
        receiveErrors: undefined,
        receiveDropped: undefined,
        transmitPackets: undefined,
        transmitErrors: undefined,
        transmitDropped: undefined,
      },
    ]);
    const exported: string[] = [];
    const container = { id: 'a' } as Parameters<(typeof FAMILIES)[number]['samples']>[0]['container'];
    for (const family of FAMILIES.filter((f) => f.group === 'network'))
      family.samples({ container, stats, now: 0, lastSeenWindow: 0 }, () => exported.push(family.name));
    assert.deepEqual(exported, ['container_network_receive_bytes_total', 'container_network_transmit_bytes_total']);
  });

  describe("the container's own counters where Podman's answer lacks them", () => {
    const ID = 'c0ffee'.padEnd(64, '0');
    let proc: string;
    const counted: string[] = [];
    const errors: ErrorSink = { count: (_reporter, kind) => counted.push(kind) };
    const docker = { getContainer: () => ({ stats: async () => podmanAnswer }) } as unknown as ConstructorParameters<
      typeof DockerApiCollector
    >[0]['docker'];
    const collector = () =>
      new DockerApiCollector({ docker, errors, ...options, cacheTtlMs: 0, timeoutMs: 1000, procRoot: proc });
    beforeEach(() => {
      proc = mkdtempSync(join(tmpdir(), 'qs-proc-'));
      mkdirSync(join(proc, '4242', 'net'), { recursive: true });
      writeFileSync(
        join(proc, '4242', 'net', 'dev'),
        'Inter-|   Receive                                                |  Transmit\n' +
          ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
          '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n' +
          '  eth0:   63228      92    1    2    0     0          0         0    61132      68    3    4    0     0       0          0\n',
      );
    });
    afterEach(() => rmSync(proc, { recursive: true, force: true }));

    it('reads packets, errors and drops from /proc/<pid>/net/dev of a process in the container', async () => {
      writeFileSync(join(proc, '4242', 'cgroup'), `4:memory:/libpod_parent/libpod-${ID}\n`);
      const stats = (await collector().collect([{ id: ID, pid: 4242, configuredSpec: {} }])).get(ID)!;
      assert.deepEqual(stats.network, [
        {
          interface: 'eth0',
          receiveBytes: 63228,
          receivePackets: 92,
          receiveErrors: 1,
          receiveDropped: 2,
          transmitBytes: 61132,
          transmitPackets: 68,
          transmitErrors: 3,
          transmitDropped: 4,
        },
      ]);
    });

    it("keeps the API's bytes alone when that pid is not the container's (another pid namespace)", async () => {
      writeFileSync(join(proc, '4242', 'cgroup'), '0::/init.scope\n');
      const stats = (await collector().collect([{ id: ID, pid: 4242, configuredSpec: {} }])).get(ID)!;
      assert.deepEqual(
        stats.network?.map((n) => [n.receiveBytes, n.receivePackets, n.transmitBytes, n.transmitPackets]),
        [[63228, undefined, 61132, undefined]],
      );
      assert.deepEqual(counted, []);
    });
  });

  it("keeps Docker's answers as they are, whatever the interface's counts", () => {
    const docker: StatsResponse = {
      ...podmanAnswer,
      cpu_stats: {
        ...podmanAnswer.cpu_stats,
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      memory_stats: { usage: 258048, stats: { anon: 1000, file: 0, inactive_file: 0 } },
      networks: { eth0: { rx_bytes: 486, rx_packets: 5, tx_bytes: 0, tx_packets: 0 } },
      pids_stats: { current: 2 },
    };
    const stats = statsFromApi(docker, { configuredSpec: { cpuQuotaMicros: 20_000 } }, options)!;
    assert.deepEqual(
      stats.network?.map((n) => [n.interface, n.receiveBytes, n.receivePackets, n.transmitBytes]),
      [['eth0', 486, 5, 0]],
    );
    assert.deepEqual(stats.cpu?.cfs, { periods: 0, throttledPeriods: 0, throttledSeconds: 0 });
    assert.deepEqual(stats.processes, { threads: 2, threadsMax: 0 });
  });

  describe('cgroups of Podman containers when /proc is not visible', () => {
    const ID = 'effa07ce39abc1636d9ad128cba29102efd69b830f81ab3c978ad12f435f2a95';
    let root: string;
    beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'qs-libpod-'))));
    afterEach(() => rmSync(root, { recursive: true, force: true }));
    const noProc = (cgroupRoot: string, driver?: 'cgroupfs' | 'systemd', cgroupParent = '') =>
      resolveCgroup({ cgroupRoot, procRoot: '/nonexistent' }, { id: ID, pid: 4242, cgroupParent, driver });

    it('finds /libpod_parent/libpod-<id> (cgroupfs, v1), whether or not the driver is known', () => {
      for (const controller of ['memory', 'cpuacct', 'pids'])
        mkdirSync(join(root, controller, 'libpod_parent', `libpod-${ID}`), { recursive: true });
      for (const driver of [undefined, 'cgroupfs'] as const) {
        const location = noProc(root, driver);
        assert.equal(location?.path, `/libpod_parent/libpod-${ID}`, `driver ${driver}`);
        assert.equal(
          location?.version === 1 && location.dirs.memory,
          join(root, 'memory', 'libpod_parent', `libpod-${ID}`),
        );
      }
    });

    it('finds machine.slice/libpod-<id>.scope (systemd, v2), and under a --cgroup-parent slice', () => {
      writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
      mkdirSync(join(root, 'machine.slice', `libpod-${ID}.scope`), { recursive: true });
      assert.equal(noProc(root)?.path, `/machine.slice/libpod-${ID}.scope`);
      assert.equal(noProc(root, 'systemd')?.path, `/machine.slice/libpod-${ID}.scope`);
      mkdirSync(join(root, 'tenant.slice', 'tenant-a.slice', `libpod-${ID}.scope`), { recursive: true });
      assert.equal(noProc(root, 'systemd', 'tenant-a.slice')?.path, `/tenant.slice/tenant-a.slice/libpod-${ID}.scope`);
    });

    it('takes no directory that is not there', () => {
      writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
      assert.equal(noProc(root), undefined);
    });
  });
});

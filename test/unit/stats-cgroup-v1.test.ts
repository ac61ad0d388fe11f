/** cgroup v1 (cgroupfs driver, cpu and cpuacct co-mounted) read from fixture files. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import {
  locateFromProcCgroup,
  resolveCgroup,
  rootCgroupLocation,
  type CgroupLocation,
} from '../../agents/stats-exporter/collectors/cgroup-location';
import { LoadAverager, readTaskStates } from '../../agents/stats-exporter/collectors/tasks';
import {
  parseBlkioOps,
  readCgroupV1,
  readSpecV1,
  type GroupReader,
} from '../../agents/stats-exporter/collectors/cgroup-v1';
import { parseDiskstats } from '../../agents/stats-exporter/collectors/diskstats';

const ROOT = join(__dirname, '..', 'fixtures', 'cgroup', 'v1');
const CGROUP_ROOT = join(ROOT, 'sys', 'fs', 'cgroup');
const ID = '1'.repeat(64);
const PID = 4242;
const devices = new BlockDeviceNames(join(ROOT, 'sys', 'dev', 'block'));

/** Reads a fixture file's integer, so expectations come from the fixture rather than being typed twice. */
function fixture(relative: string): number {
  return Number(readFileSync(join(CGROUP_ROOT, relative), 'utf8').trim());
}
function memoryStat(key: string): number {
  const line = readFileSync(join(CGROUP_ROOT, 'memory', 'docker', ID, 'memory.stat'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key} `));
  return Number(line!.split(' ')[1]);
}

const failOnError: GroupReader = (_group, dir, read) => (dir === undefined ? undefined : read(dir));

function locate(): Extract<CgroupLocation, { version: 1 }> {
  const location = resolveCgroup(
    { cgroupRoot: CGROUP_ROOT, procRoot: join(ROOT, 'proc') },
    { id: ID, pid: PID, cgroupParent: '' },
  );
  assert.equal(location?.version, 1);
  return location as Extract<CgroupLocation, { version: 1 }>;
}

/** Limits first (the collector caches them), then everything else. */
function read() {
  const location = locate();
  return readCgroupV1(location, devices, failOnError, readSpecV1(location, failOnError)!);
}

describe('stats-exporter cgroup v1', () => {
  it('finds every controller from /proc/<pid>/cgroup, including co-mounted cpu,cpuacct', () => {
    const location = locate();
    assert.equal(location.path, `/docker/${ID}`);
    assert.equal(location.dirs.cpu, join(CGROUP_ROOT, 'cpu,cpuacct', 'docker', ID));
    assert.equal(location.dirs.cpuacct, join(CGROUP_ROOT, 'cpu,cpuacct', 'docker', ID));
    assert.equal(location.dirs.memory, join(CGROUP_ROOT, 'memory', 'docker', ID));
    assert.equal(location.dirs.blkio, join(CGROUP_ROOT, 'blkio', 'docker', ID));
    assert.equal(location.dirs.pids, join(CGROUP_ROOT, 'pids', 'docker', ID));
    assert.equal(
      location.unifiedDir,
      join(CGROUP_ROOT, 'unified', 'docker', ID),
      "the hybrid host's cgroup2 twin, for pressure",
    );
  });

  it('guesses the cgroupfs path from the container id when /proc is not visible', () => {
    const location = resolveCgroup(
      { cgroupRoot: CGROUP_ROOT, procRoot: '/nonexistent' },
      { id: ID, pid: PID, cgroupParent: '', driver: 'cgroupfs' },
    );
    assert.equal(location?.path, `/docker/${ID}`);
    assert.equal(location?.version === 1 && location.dirs.memory, join(CGROUP_ROOT, 'memory', 'docker', ID));
  });

  it('refuses paths relative to a private cgroup namespace', () => {
    assert.equal(locateFromProcCgroup(`4:memory:/../../docker/${ID}\n`, CGROUP_ROOT), undefined);
  });

  it('reads CPU in seconds, with CFS counters because a quota is set', () => {
    const cpu = read().cpu!;
    const dir = `cpu,cpuacct/docker/${ID}`;
    assert.equal(cpu.usageSeconds, fixture(`${dir}/cpuacct.usage`) / 1e9);
    // cpuacct.stat is in USER_HZ (1/100 s): user 38, system 1.
    assert.equal(cpu.userSeconds, 0.38);
    assert.equal(cpu.systemSeconds, 0.01);
    assert.deepEqual(cpu.cfs, {
      periods: 13,
      throttledPeriods: 7,
      throttledSeconds: 327310285 / 1e9,
      burstPeriods: 2,
      burstSeconds: 0.15,
    });
  });

  it('reads memory with the working set as usage minus total_inactive_file', () => {
    const memory = read().memory!;
    const usage = fixture(`memory/docker/${ID}/memory.usage_in_bytes`);
    assert.equal(memory.usageBytes, usage);
    assert.equal(memory.workingSetBytes, usage - memoryStat('total_inactive_file'));
    assert.equal(memory.rssBytes, memoryStat('total_rss'));
    assert.equal(memory.cacheBytes, memoryStat('total_cache'));
    assert.equal(memory.swapBytes, memoryStat('total_swap'));
    assert.equal(memory.mappedFileBytes, memoryStat('total_mapped_file'));
    assert.equal(memory.failcnt, fixture(`memory/docker/${ID}/memory.failcnt`));
    assert.equal(memory.maxUsageBytes, fixture(`memory/docker/${ID}/memory.max_usage_in_bytes`));
  });

  it('reads the memory details cAdvisor exports: kernel memory, file LRUs, dirty, faults of the cgroup and of its subtree, refaults', () => {
    const memory = read().memory!;
    assert.equal(memory.kernelBytes, fixture(`memory/docker/${ID}/memory.kmem.usage_in_bytes`));
    assert.equal(memory.activeFileBytes, memoryStat('total_active_file'));
    assert.equal(memory.inactiveFileBytes, memoryStat('total_inactive_file'));
    assert.equal(memory.dirtyBytes, memoryStat('total_dirty'));
    assert.equal(memory.writebackBytes, memoryStat('total_writeback'));
    assert.deepEqual(memory.pgfault, { container: memoryStat('pgfault'), hierarchy: memoryStat('total_pgfault') });
    assert.deepEqual(memory.pgmajfault, {
      container: memoryStat('pgmajfault'),
      hierarchy: memoryStat('total_pgmajfault'),
    });
    assert.equal(memory.refaultFile, memoryStat('total_workingset_refault_file'));
    assert.equal(memory.refaultAnon, memoryStat('total_workingset_refault_anon'));
    // v1 has no pgscan/pgsteal keys and no memory.events.
    assert.equal(memory.pgscan, undefined);
    assert.equal(memory.eventsHigh, undefined);
  });

  it("reads pressure from the hybrid host's cgroup2 twin of the cgroup", () => {
    assert.deepEqual(read().pressure, {
      cpu: { some: 0.004298, full: 0.001104 },
      memory: { some: 2.5, full: 1.5 },
      io: { some: 0.000011, full: 0.000007 },
    });
  });

  it('counts the tasks of the cgroup by state, whatever the process names hold, leaving zombies out', () => {
    const location = locate();
    assert.deepEqual(readTaskStates(join(location.dirs.cpu!, 'tasks'), join(ROOT, 'proc')), {
      running: 1,
      sleeping: 1,
      stopped: 0,
      uninterruptible: 1,
    });
  });

  it('reads the root cgroup (id="/") from the controllers\' top directories, co-mounted cpu,cpuacct included, without pids', () => {
    const root = rootCgroupLocation(CGROUP_ROOT) as Extract<CgroupLocation, { version: 1 }>;
    assert.equal(root.path, '/');
    assert.equal(root.dirs.cpuacct, join(CGROUP_ROOT, 'cpu,cpuacct'));
    assert.equal(root.dirs.pids, undefined);
    const stats = readCgroupV1(root, devices, failOnError, readSpecV1(root, failOnError)!);
    assert.equal(stats.cpu?.usageSeconds, fixture('cpu,cpuacct/cpuacct.usage') / 1e9);
    assert.equal(stats.memory?.usageBytes, fixture('memory/memory.usage_in_bytes'));
    assert.equal(stats.processes, undefined);
    assert.equal(stats.spec?.memoryLimitBytes, 0, 'unlimited');
  });

  it('reads block I/O from the throttle files when the BFQ ones are empty, naming devices from sysfs', () => {
    const io = read().blockIo!;
    const operations = (read: number, write: number, sync: number, async: number, total: number) => [
      ['Read', read],
      ['Write', write],
      ['Sync', sync],
      ['Async', async],
      ['Discard', 0],
      ['Total', total],
    ];
    assert.deepEqual(io, [
      {
        device: '/dev/vda',
        majorMinor: '254:0',
        readBytes: 1052672,
        writeBytes: 8388608,
        reads: 21,
        writes: 64,
        bytesByOperation: operations(1052672, 8388608, 8392704, 1048576, 9441280),
      },
      // 7:1 has no uevent in the fixture's sysfs: named by its numbers.
      {
        device: '7:1',
        majorMinor: '7:1',
        readBytes: 4096,
        writeBytes: 0,
        reads: 1,
        writes: 0,
        bytesByOperation: operations(4096, 0, 0, 4096, 4096),
      },
    ]);
  });

  it('parses blkio lines and skips the Total line', () => {
    const parsed = parseBlkioOps('8:0 Read 10\n8:0 Write 20\nTotal 30\n');
    assert.deepEqual([...parsed.keys()], ['8:0']);
    assert.equal(parsed.get('8:0')?.get('Write'), 20);
  });

  it('reads threads, their limit and processes, counting those of sub-cgroups as cAdvisor does', () => {
    // Two in the container's cgroup.procs, one in the sub-cgroup `sub/`.
    assert.deepEqual(read().processes, { threads: 2, threadsMax: 100, processes: 3 });
  });

  it('reads the limits the kernel enforces', () => {
    assert.deepEqual(read().spec, {
      memoryLimitBytes: 64 * 1024 * 1024,
      memorySwapLimitBytes: 128 * 1024 * 1024,
      memoryReservationBytes: 32 * 1024 * 1024,
      cpuQuotaMicros: 50_000,
      cpuPeriodMicros: 100_000,
      cpuShares: 512,
    });
  });
});

describe('stats-exporter /proc/diskstats (the machine, id="/")', () => {
  it('reads the disks, not loop or zram devices, with sectors as bytes and milliseconds as seconds', () => {
    const stats = parseDiskstats(readFileSync(join(ROOT, 'proc', 'diskstats'), 'utf8'), devices);
    assert.deepEqual(
      stats.map((d) => d.device),
      ['/dev/vda', '254:1'],
    );
    assert.deepEqual(stats[0], {
      device: '/dev/vda',
      majorMinor: '254:0',
      readBytes: 230164 * 512,
      writeBytes: 1907000 * 512,
      reads: 77767,
      writes: 67260,
      disk: {
        readsMerged: 1200,
        sectorsRead: 230164,
        readSeconds: 45,
        writesMerged: 3400,
        sectorsWritten: 1907000,
        writeSeconds: 98,
        ioInProgress: 2,
        ioSeconds: 120,
        weightedIoSeconds: 143,
      },
    });
  });
});

describe('stats-exporter load averages', () => {
  it('start at the first count and decay toward new counts with e^(-elapsed/10 s), as cAdvisor', () => {
    const load = new LoadAverager();
    const busy = { running: 4, sleeping: 0, stopped: 0, uninterruptible: 2 };
    const idle = { running: 0, sleeping: 4, stopped: 0, uninterruptible: 0 };
    assert.deepEqual(load.update('a', busy, 100), { running: 4, uninterruptible: 2 });
    const after = load.update('a', idle, 110);
    assert.ok(Math.abs(after.running - 4 * Math.exp(-1)) < 1e-9);
    assert.ok(Math.abs(after.uninterruptible - 2 * Math.exp(-1)) < 1e-9);
    load.retain(new Set());
    assert.deepEqual(
      load.update('a', idle, 120),
      { running: 0, uninterruptible: 0 },
      'forgotten once stopped: starts again',
    );
  });
});

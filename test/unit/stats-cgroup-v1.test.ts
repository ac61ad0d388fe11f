/** cgroup v1 (cgroupfs driver, cpu and cpuacct co-mounted) read from fixture files. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import { locateFromProcCgroup, resolveCgroup, type CgroupLocation } from '../../agents/stats-exporter/collectors/cgroup-location';
import { parseBlkioOps, readCgroupV1, readSpecV1, type GroupReader } from '../../agents/stats-exporter/collectors/cgroup-v1';

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
  const line = readFileSync(join(CGROUP_ROOT, 'memory', 'docker', ID, 'memory.stat'), 'utf8').split('\n').find((l) => l.startsWith(`${key} `));
  return Number(line!.split(' ')[1]);
}

const failOnError: GroupReader = (_group, dir, read) => (dir === undefined ? undefined : read(dir));

function locate(): Extract<CgroupLocation, { version: 1 }> {
  const location = resolveCgroup({ cgroupRoot: CGROUP_ROOT, procRoot: join(ROOT, 'proc') }, { id: ID, pid: PID, cgroupParent: '' });
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
  });

  it('guesses the cgroupfs path from the container id when /proc is not visible', () => {
    const location = resolveCgroup({ cgroupRoot: CGROUP_ROOT, procRoot: '/nonexistent' }, { id: ID, pid: PID, cgroupParent: '', driver: 'cgroupfs' });
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
    assert.deepEqual(cpu.cfs, { periods: 13, throttledPeriods: 7, throttledSeconds: 327310285 / 1e9 });
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

  it('reads block I/O from the throttle files when the BFQ ones are empty, naming devices from sysfs', () => {
    const io = read().blockIo!;
    assert.deepEqual(io, [
      { device: '/dev/vda', readBytes: 1052672, writeBytes: 8388608, reads: 21, writes: 64 },
      // 7:1 has no uevent in the fixture's sysfs: named by its numbers.
      { device: '7:1', readBytes: 4096, writeBytes: 0, reads: 1, writes: 0 },
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

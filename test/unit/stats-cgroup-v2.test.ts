/** cgroup v2 (unified hierarchy, systemd driver) read from hand-written fixture files. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  containerCgroupPath,
  expandSlice,
  locateFromProcCgroup,
  resolveCgroup,
  rootCgroupLocation,
  type CgroupLocation,
} from '../../agents/stats-exporter/collectors/cgroup-location';
import { readTaskStates } from '../../agents/stats-exporter/collectors/tasks';
import { closeUnreadFiles, readOptionalText, readText } from '../../agents/stats-exporter/collectors/files';
import type { GroupReader } from '../../agents/stats-exporter/collectors/cgroup-v1';
import {
  parseCpuMax,
  readCgroupV2,
  readProcesses,
  readSpecV2,
  sharesFromWeight,
} from '../../agents/stats-exporter/collectors/cgroup-v2';

const ROOT = join(__dirname, '..', 'fixtures', 'cgroup', 'v2');
const CGROUP_ROOT = join(ROOT, 'sys', 'fs', 'cgroup');
const ID = '2'.repeat(64);
const SCOPE = `/system.slice/docker-${ID}.scope`;
// No sysfs in this fixture: devices are named by their numbers.
const devices = new BlockDeviceNames(join(ROOT, 'sys', 'dev', 'block'));
const failOnError: GroupReader = (_group, dir, read) => (dir === undefined ? undefined : read(dir));

function locate(): Extract<CgroupLocation, { version: 2 }> {
  const location = resolveCgroup(
    { cgroupRoot: CGROUP_ROOT, procRoot: join(ROOT, 'proc') },
    { id: ID, pid: 4343, cgroupParent: '' },
  );
  assert.equal(location?.version, 2);
  return location as Extract<CgroupLocation, { version: 2 }>;
}

/** Limits first (the collector caches them), then everything else. */
function read() {
  const location = locate();
  return readCgroupV2(location, devices, failOnError, readSpecV2(location, failOnError)!);
}

describe('stats-exporter cgroup v2', () => {
  it('finds the unified cgroup from the 0:: line of /proc/<pid>/cgroup', () => {
    assert.deepEqual(locate(), { version: 2, path: SCOPE, dir: join(CGROUP_ROOT, SCOPE) });
  });

  it("reads the container's own cgroup when its init moved into a sub-cgroup (systemd, dind)", () => {
    assert.deepEqual(locateFromProcCgroup(`0::${SCOPE}/init.scope\n`, CGROUP_ROOT, ID), {
      version: 2,
      path: SCOPE,
      dir: join(CGROUP_ROOT, SCOPE),
    });
    assert.equal(containerCgroupPath(`/docker/${ID}/init`, ID), `/docker/${ID}`);
    assert.equal(containerCgroupPath('/system.slice/other.scope', ID), '/system.slice/other.scope');
  });

  it('does not take a controller file missing from one cgroup for missing from all', () => {
    const root = mkdtempSync(join(tmpdir(), 'qs-cgroup-'));
    for (const dir of ['leaf', 'scope']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'scope', 'cpu.max'), '50000 100000\n');
    assert.equal(readOptionalText(join(root, 'leaf', 'cpu.max')), undefined);
    assert.equal(readOptionalText(join(root, 'scope', 'cpu.max')), '50000 100000\n');
  });

  it('keeps files open between scrapes, reads them afresh from the start, and closes those a scrape did not read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-open-'));
    const file = join(dir, 'memory.current');
    // Descriptors of this process open on the file.
    const openFds = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(join('/proc/self/fd', fd)) === file;
        } catch {
          return false; // the descriptor readdir itself used
        }
      }).length;
    writeFileSync(file, '1000\n');
    const before = 0;
    assert.equal(readText(file), '1000\n');
    writeFileSync(file, '2048\n');
    assert.equal(readText(file), '2048\n', 'the new content, read again from offset 0');
    assert.equal(openFds(), before + 1, 'one descriptor, kept');
    closeUnreadFiles(); // the scrape that read it
    assert.equal(openFds(), before + 1);
    closeUnreadFiles(); // a scrape that did not
    assert.equal(openFds(), before);
    rmSync(file);
    assert.throws(() => readText(file), /ENOENT/);
  });

  it('reads a kernel file that spans pages whole, though one read stops at a page and a short read ends the file', () => {
    // /proc/self/maps is a seq_file of one ~80-byte record per mapping: Node.js has some 90 (over
    // 4 KiB), so the kernel hands it out a page at a time, and a stop after one read would cut it.
    const file = '/proc/self/maps';
    for (let attempt = 0; ; attempt++) {
      const expected = readFileSync(file, 'utf8');
      assert.ok(expected.length > 4096, `${file} is ${expected.length} bytes: too short to test this`);
      const read = readText(file);
      const again = readFileSync(file, 'utf8');
      // A mapping made between the reads (the heap growing) changes the file: read it again.
      if (expected !== again && attempt < 5) continue;
      assert.equal(read, expected);
      break;
    }
    closeUnreadFiles();
    closeUnreadFiles();
  });
  it('guesses the systemd scope when /proc is not visible', () => {
    const location = resolveCgroup(
      { cgroupRoot: CGROUP_ROOT, procRoot: '/nonexistent' },
      { id: ID, pid: 4343, cgroupParent: '', driver: 'systemd' },
    );
    assert.equal(location?.path, SCOPE);
  });

  it('expands nested systemd slices', () => {
    assert.equal(expandSlice('system.slice'), '/system.slice');
    assert.equal(expandSlice('machine-tenant-a.slice'), '/machine.slice/machine-tenant.slice/machine-tenant-a.slice');
  });

  it('reads CPU from cpu.stat microseconds, with CFS counters because cpu.max has a quota', () => {
    assert.deepEqual(read().cpu, {
      usageSeconds: 2.5,
      userSeconds: 2,
      systemSeconds: 0.5,
      cfs: { periods: 40, throttledPeriods: 10, throttledSeconds: 0.75, burstPeriods: 3, burstSeconds: 0.2 },
    });
  });

  it('reads memory with anon as RSS, file as cache and the working set as current minus inactive_file', () => {
    const memory = read().memory!;
    assert.equal(memory.usageBytes, 52428800);
    assert.equal(memory.workingSetBytes, 52428800 - 12582912);
    assert.equal(memory.rssBytes, 31457280);
    assert.equal(memory.cacheBytes, 20971520);
    assert.equal(memory.mappedFileBytes, 2097152);
    assert.equal(memory.swapBytes, 1048576);
    assert.equal(memory.maxUsageBytes, 60817408);
    assert.equal(memory.failcnt, undefined, 'cgroup v2 has no failcnt');
  });

  it('reads the memory.stat details and memory.events cAdvisor exports', () => {
    const memory = read().memory!;
    assert.equal(memory.kernelBytes, 262144);
    assert.equal(memory.activeFileBytes, 8388608);
    assert.equal(memory.inactiveFileBytes, 12582912);
    assert.equal(memory.dirtyBytes, 4096);
    assert.equal(memory.writebackBytes, 0);
    // memory.stat is hierarchical on v2: the same count for both scopes.
    assert.deepEqual(memory.pgfault, { container: 23456, hierarchy: 23456 });
    assert.deepEqual(memory.pgmajfault, { container: 12, hierarchy: 12 });
    assert.equal(memory.pgscan, 640);
    assert.equal(memory.pgsteal, 512);
    assert.equal(memory.refaultFile, 12);
    assert.equal(memory.refaultAnon, 7);
    assert.equal(memory.eventsHigh, 5);
    assert.equal(memory.eventsMax, 2);
  });

  it('reads io.stat per device, with the v1 operation names and the iocost counters', () => {
    assert.deepEqual(read().blockIo, [
      {
        device: '254:0',
        majorMinor: '254:0',
        readBytes: 2097152,
        writeBytes: 1048576,
        reads: 32,
        writes: 8,
        bytesByOperation: [
          ['Read', 2097152],
          ['Write', 1048576],
          ['Discard', 8192],
        ],
        cost: { usage: 1.5, wait: 0.25, indebt: 0, indelay: 0.001 },
      },
    ]);
  });

  it('reads pressure (PSI) totals in seconds', () => {
    assert.deepEqual(read().pressure, {
      cpu: { some: 0.3, full: 0.1 },
      memory: { some: 0, full: 0 },
      io: { some: 0.00002, full: 0.00001 },
    });
  });

  it('counts the tasks listed in cgroup.threads by their state in /proc/<tid>/stat', () => {
    assert.deepEqual(readTaskStates(join(locate().dir, 'cgroup.threads'), join(ROOT, 'proc')), {
      running: 1,
      sleeping: 1,
      stopped: 0,
      uninterruptible: 0,
    });
  });

  it('reads the root cgroup (id="/") with the memory of /proc/meminfo, which the root has no memory.current for', () => {
    const root = rootCgroupLocation(CGROUP_ROOT);
    assert.deepEqual(root, { version: 2, path: '/', dir: CGROUP_ROOT });
    const stats = readCgroupV2(
      root as Extract<CgroupLocation, { version: 2 }>,
      devices,
      failOnError,
      {},
      join(ROOT, 'proc'),
    );
    assert.equal(stats.cpu?.usageSeconds, 987.654321);
    // MemTotal − MemFree, in bytes; working set without Inactive(file).
    assert.equal(stats.memory?.usageBytes, 3_000_000 * 1024);
    assert.equal(stats.memory?.workingSetBytes, (3_000_000 - 450_000) * 1024);
    assert.equal(stats.memory?.swapBytes, 524288 * 1024);
    assert.equal(stats.memory?.kernelBytes, 181796864, 'the root memory.stat where the kernel has one');
    assert.equal(stats.processes, undefined, 'no pids counters at the root');
  });

  it('reads threads and processes', () => {
    assert.deepEqual(read().processes, { threads: 7, threadsMax: 4096, processes: 3 });
  });

  it('counts the processes of sub-cgroups too, as cAdvisor: systemd as init leaves its own cgroup.procs empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-v2-procs-'));
    writeFileSync(join(dir, 'pids.current'), '9\n');
    writeFileSync(join(dir, 'pids.max'), 'max\n');
    writeFileSync(join(dir, 'cgroup.procs'), '');
    mkdirSync(join(dir, 'init.scope'));
    writeFileSync(join(dir, 'init.scope', 'cgroup.procs'), '1\n');
    mkdirSync(join(dir, 'system.slice', 'nginx.service'), { recursive: true });
    writeFileSync(join(dir, 'system.slice', 'cgroup.procs'), '');
    writeFileSync(join(dir, 'system.slice', 'nginx.service', 'cgroup.procs'), '40\n41\n42\n');
    assert.deepEqual(readProcesses(dir), { threads: 9, threadsMax: 0, processes: 4 });
  });

  it('reads limits: unlimited memory as 0, cpu.max quota and period, cpu.weight back to shares', () => {
    assert.deepEqual(read().spec, {
      memoryLimitBytes: 0,
      memorySwapLimitBytes: 0,
      // memory.min as cAdvisor reads it, not memory.low (16 MiB in the fixture), where runc puts --memory-reservation.
      memoryReservationBytes: 8388608,
      cpuQuotaMicros: 25_000,
      cpuPeriodMicros: 100_000,
      cpuShares: sharesFromWeight(39),
    });
  });

  it('converts cpu.weight back to the shares Docker was given', () => {
    // runc maps shares to weight as 1 + (shares - 2) * 9999 / 262142; the default 1024 shares is weight 39.
    const weightOf = (shares: number): number => Math.floor(1 + ((shares - 2) * 9999) / 262142);
    // One weight step is about 26 shares, so the round trip is exact only to within a step.
    for (const shares of [2, 1024, 262144])
      assert.ok(Math.abs(sharesFromWeight(weightOf(shares)) - shares) <= 27, `shares ${shares}`);
    assert.equal(sharesFromWeight(1), 2);
    assert.equal(sharesFromWeight(10000), 262144);
  });

  it('parses cpu.max with and without a quota', () => {
    assert.deepEqual(parseCpuMax('max 100000\n'), { quota: undefined, period: 100000 });
    assert.deepEqual(parseCpuMax('50000 100000\n'), { quota: 50000, period: 100000 });
  });
});

/** Writable-layer usage measured in the background, and the machine_* facts, from temporary files. */
import { strict as assert } from 'node:assert';
import { linkSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import type { ErrorSink } from '../../agents/stats-exporter/collectors/errors';
import { diskUsage, majorMinor, WritableLayerUsage } from '../../agents/stats-exporter/fs-usage';
import { machineFamilies, readMachineInfo } from '../../agents/stats-exporter/machine';
import { eventually } from '../support/eventually';

function layer(): { dir: string; allocated: number } {
  const dir = mkdtempSync(join(tmpdir(), 'qs-layer-'));
  mkdirSync(join(dir, 'etc', 'nginx'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'nginx', 'nginx.conf'), 'x'.repeat(10_000));
  writeFileSync(join(dir, 'big'), Buffer.alloc(100_000, 1));
  // A hard link takes no more space: counted once, as du does.
  linkSync(join(dir, 'big'), join(dir, 'big-again'));
  const blocks = (path: string) => statSync(path).blocks * 512;
  const allocated = [
    dir,
    join(dir, 'etc'),
    join(dir, 'etc', 'nginx'),
    join(dir, 'etc', 'nginx', 'nginx.conf'),
    join(dir, 'big'),
  ].reduce((sum, p) => sum + blocks(p), 0);
  return { dir, allocated };
}

function errorSink() {
  const counted: string[] = [];
  const sink: ErrorSink = { count: (reporter, kind, id) => counted.push(`${reporter.name}/${kind}/${id}`) };
  return { counted, sink };
}

describe('stats-exporter writable-layer usage', () => {
  it('adds up allocated blocks as du does, hard links once', async () => {
    const { dir, allocated } = layer();
    assert.equal(await diskUsage(dir), allocated);
  });

  it('names dev_t numbers as major:minor', () => {
    assert.equal(majorMinor(BigInt((254 << 8) | 1)), '254:1');
    // glibc's encoding of large numbers: major 259, minor 300.
    assert.equal(
      majorMinor(BigInt(300 & 0xff) | (BigInt(259 & 0xfff) << 8n) | (BigInt(300 & ~0xff) << 12n)),
      '259:300',
    );
  });

  it('measures in the background, never more often than the interval, and forgets stopped containers', async () => {
    const { dir, allocated } = layer();
    let now = 1_000_000;
    const { counted, sink } = errorSink();
    const usage = new WritableLayerUsage({
      intervalMs: 60_000,
      devices: new BlockDeviceNames('/nonexistent'),
      errors: sink,
      pauseMs: 1,
      clock: () => now,
    });
    usage.track([{ id: 'a', writableLayer: dir }, { id: 'no-layer' }]);
    assert.equal(usage.get('a'), undefined, 'a scrape never waits for a walk');
    const first = await eventually(
      () => {
        const measured = usage.get('a');
        assert.ok(measured);
        return measured;
      },
      5_000,
      5,
    );
    assert.equal(first.usageBytes, allocated);
    assert.ok(first.limitBytes > 0 && first.inodesTotal >= first.inodesFree);
    assert.match(first.device, /^\d+:\d+$/, 'no sysfs here: named by its numbers');

    writeFileSync(join(dir, 'more'), Buffer.alloc(50_000, 2));
    usage.track([{ id: 'a', writableLayer: dir }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(usage.get('a')?.usageBytes, allocated, 'not measured again within the interval');
    now += 60_000;
    usage.track([{ id: 'a', writableLayer: dir }]);
    await eventually(() => assert.ok(usage.get('a')!.usageBytes > allocated), 5_000, 5);

    usage.track([]);
    assert.equal(usage.get('a'), undefined, 'stopped: forgotten');
    assert.deepEqual(counted, []);
    usage.stop();
  });

  it('counts a layer it cannot see (the Docker data root not mounted where the engine says)', async () => {
    const { counted, sink } = errorSink();
    const usage = new WritableLayerUsage({
      intervalMs: 60_000,
      devices: new BlockDeviceNames('/nonexistent'),
      errors: sink,
      pauseMs: 1,
    });
    usage.track([{ id: 'b', writableLayer: '/nonexistent/overlay2/abc/diff' }]);
    await eventually(() => assert.deepEqual(counted, ['fs_usage/fs_usage/b']), 5_000, 5);
    assert.equal(usage.get('b'), undefined);
    usage.stop();
  });
});

describe('stats-exporter machine_* families', () => {
  it('counts logical and physical cores and sockets from sysfs, memory and swap from meminfo', () => {
    const root = mkdtempSync(join(tmpdir(), 'qs-machine-'));
    const cpu = join(root, 'sys', 'devices', 'system', 'cpu');
    // Two sockets of one core with two threads each, and one offline CPU.
    const topology = [
      [0, 0],
      [0, 0],
      [1, 0],
      [1, 0],
    ];
    topology.forEach(([pkg, core], i) => {
      mkdirSync(join(cpu, `cpu${i}`, 'topology'), { recursive: true });
      writeFileSync(join(cpu, `cpu${i}`, 'topology', 'physical_package_id'), `${pkg}\n`);
      writeFileSync(join(cpu, `cpu${i}`, 'topology', 'core_id'), `${core}\n`);
    });
    mkdirSync(join(cpu, 'cpu4'));
    writeFileSync(join(cpu, 'cpu4', 'online'), '0\n');
    mkdirSync(join(root, 'proc', 'sys', 'kernel', 'random'), { recursive: true });
    writeFileSync(
      join(root, 'proc', 'meminfo'),
      'MemTotal:        2048000 kB\nMemFree:  1000 kB\nSwapTotal:       1024 kB\n',
    );
    writeFileSync(join(root, 'proc', 'sys', 'kernel', 'random', 'boot_id'), 'b00t\n');
    const info = readMachineInfo({ procRoot: join(root, 'proc'), sysRoot: join(root, 'sys') });
    assert.deepEqual(info, {
      logicalCores: 4,
      physicalCores: 2,
      sockets: 2,
      memoryBytes: 2048000 * 1024,
      swapBytes: 1024 * 1024,
      bootId: 'b00t',
      systemUuid: undefined,
      error: false,
    });
    const text = machineFamilies(info);
    assert.match(text, /^machine_cpu_cores\{boot_id="b00t"\} 4$/m);
    assert.match(text, /^machine_memory_bytes\{boot_id="b00t"\} 2097152000$/m);
    assert.match(text, /^machine_scrape_error 0$/m);
  });

  it('says machine_scrape_error 1 when it cannot read the machine', () => {
    const info = readMachineInfo({ procRoot: '/nonexistent', sysRoot: '/nonexistent' });
    assert.equal(info.error, true);
    assert.match(machineFamilies(info), /^machine_scrape_error 1$/m);
  });
});

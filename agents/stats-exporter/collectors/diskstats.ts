/**
 * The machine's block I/O (cAdvisor's id="/") from /proc/diskstats, as cAdvisor reads it for the
 * root: besides operations and bytes, the merged, sector, time and queue counters that per-cgroup
 * files do not have on current kernels.
 */
import { join } from 'node:path';
import type { BlockDeviceNames } from './block-devices';
import { ParseError } from './errors';
import { readText } from './files';
import type { DeviceIoStats } from './stats';

const SECTOR_BYTES = 512;
const MS_PER_S = 1000;
/** Pseudo devices that hold no filesystem of the machine's. */
const IGNORED = /^(loop|ram|zram)\d/;

export function readDiskstats(procRoot: string, devices: BlockDeviceNames): DeviceIoStats[] {
  const file = join(procRoot, 'diskstats');
  return parseDiskstats(readText(file), devices, file);
}

/** `major minor name reads merged sectors ms writes merged sectors ms in-flight ms weighted-ms …`. */
export function parseDiskstats(text: string, devices: BlockDeviceNames, file = 'diskstats'): DeviceIoStats[] {
  const stats: DeviceIoStats[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 14) continue;
    const [major, minor, name, ...rest] = fields as [string, string, string, ...string[]];
    const n = rest.slice(0, 11).map(Number);
    if (n.some((v) => !Number.isFinite(v))) throw new ParseError(file, `bad line for ${name}`);
    const [
      reads,
      readsMerged,
      sectorsRead,
      readMs,
      writes,
      writesMerged,
      sectorsWritten,
      writeMs,
      inFlight,
      ioMs,
      weightedMs,
    ] = n as number[];
    if (IGNORED.test(name) || (reads === 0 && writes === 0)) continue;
    const majorMinor = `${major}:${minor}`;
    stats.push({
      device: devices.nameOf(majorMinor),
      majorMinor,
      readBytes: sectorsRead! * SECTOR_BYTES,
      writeBytes: sectorsWritten! * SECTOR_BYTES,
      reads: reads!,
      writes: writes!,
      disk: {
        readsMerged: readsMerged!,
        sectorsRead: sectorsRead!,
        readSeconds: readMs! / MS_PER_S,
        writesMerged: writesMerged!,
        sectorsWritten: sectorsWritten!,
        writeSeconds: writeMs! / MS_PER_S,
        ioInProgress: inFlight!,
        ioSeconds: ioMs! / MS_PER_S,
        weightedIoSeconds: weightedMs! / MS_PER_S,
      },
    });
  }
  return stats;
}

/**
 * container_fs_usage_bytes and its kin: how much the container has written into its writable
 * layer (overlay2's UpperDir), as cAdvisor measures it, by walking the layer like `du`. Walking a
 * filesystem is slow, so it never happens during a scrape: a background loop measures one
 * container at a time, one file at a time, each container at most once per interval, and a
 * scrape reports the latest measurement.
 */
import { lstat, opendir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlockDeviceNames } from './collectors/block-devices';
import { isMissingFile, type ErrorReporter, type ErrorSink } from './collectors/errors';

export const FS_USAGE_ERRORS = {
  name: 'fs_usage',
  /** Measuring a writable layer failed (no permission, or the Docker data root not mounted where the engine says). */
  errorKinds: ['fs_usage'],
} as const satisfies ErrorReporter;

export interface FilesystemUsage {
  /** The device holding the layer (`/dev/vda1`), cAdvisor's `device` label. */
  device: string;
  /** Bytes the layer's files take on disk (allocated blocks, hard links counted once). */
  usageBytes: number;
  /** Size of the filesystem holding the layer. */
  limitBytes: number;
  inodesFree: number;
  inodesTotal: number;
}

export interface LayerTarget {
  id: string;
  writableLayer?: string;
}

export interface WritableLayerUsageOptions {
  /** Measure each container at most this often. */
  intervalMs: number;
  devices: BlockDeviceNames;
  errors: ErrorSink;
  /** Pause between two containers, so a host with many containers is walked at a bounded rate. */
  pauseMs?: number;
  clock?: () => number;
}

interface Entry {
  dir: string;
  usage?: FilesystemUsage;
  measuredAt?: number;
}

export class WritableLayerUsage {
  private readonly entries = new Map<string, Entry>();
  private walking = false;
  private stopped = false;
  private readonly clock: () => number;

  constructor(private readonly options: WritableLayerUsageOptions) {
    this.clock = options.clock ?? Date.now;
  }

  get(id: string): FilesystemUsage | undefined {
    return this.entries.get(id)?.usage;
  }

  /** The running containers now: new ones are queued, gone ones forgotten. Never waits for a walk. */
  track(targets: Iterable<LayerTarget>): void {
    const wanted = new Set<string>();
    for (const { id, writableLayer } of targets) {
      if (!writableLayer) continue;
      wanted.add(id);
      const entry = this.entries.get(id);
      // A restart keeps the layer; a re-created container with the same id cannot happen.
      if (!entry || entry.dir !== writableLayer) this.entries.set(id, { dir: writableLayer });
    }
    for (const id of this.entries.keys()) if (!wanted.has(id)) this.entries.delete(id);
    if (!this.walking && !this.stopped) void this.walkDue();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Measures every container that is due, one after the other, then rests until `track` is called again. */
  private async walkDue(): Promise<void> {
    this.walking = true;
    try {
      for (let next = this.nextDue(); next && !this.stopped; next = this.nextDue()) {
        const [id, entry] = next;
        entry.measuredAt = this.clock();
        const usage = await this.measure(id, entry.dir);
        // Forgotten (stopped) while we walked: do not bring it back.
        if (usage && this.entries.get(id) === entry) entry.usage = usage;
        await sleep(this.options.pauseMs ?? 100, undefined, { ref: false });
      }
    } finally {
      this.walking = false;
    }
  }

  private nextDue(): [string, Entry] | undefined {
    const due = this.clock() - this.options.intervalMs;
    for (const pair of this.entries) if (pair[1].measuredAt === undefined || pair[1].measuredAt <= due) return pair;
    return undefined;
  }

  private async measure(id: string, dir: string): Promise<FilesystemUsage | undefined> {
    try {
      const [usageBytes, fs, info] = await Promise.all([diskUsage(dir), statfs(dir), lstat(dir, { bigint: true })]);
      return {
        device: this.options.devices.nameOf(majorMinor(info.dev)),
        usageBytes,
        limitBytes: fs.blocks * fs.bsize,
        inodesFree: fs.ffree,
        inodesTotal: fs.files,
      };
    } catch (error) {
      // Unless the container went away meanwhile: the layer not visible here (the exporter in a
      // container without the Docker data root mounted), no permission.
      if (this.entries.get(id)?.dir === dir) this.options.errors.count(FS_USAGE_ERRORS, 'fs_usage', id, error);
      return undefined;
    }
  }
}

/**
 * Bytes allocated to the files under `dir`, as `du -s` counts them: 512-byte blocks, hard links
 * once, not following symlinks nor crossing into other filesystems (mounts inside the layer).
 */
export async function diskUsage(dir: string): Promise<number> {
  const top = await lstat(dir, { bigint: true });
  const seenLinks = new Set<bigint>();
  let bytes = 0;
  const pending = [dir];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    let handle;
    try {
      handle = await opendir(path);
    } catch (error) {
      if (isMissingFile(error)) continue; // deleted while we walked
      throw error;
    }
    for await (const dirent of handle) {
      const child = join(path, dirent.name);
      let info;
      try {
        info = await lstat(child, { bigint: true });
      } catch (error) {
        if (isMissingFile(error)) continue;
        throw error;
      }
      if (info.dev !== top.dev) continue;
      if (info.nlink > 1n && !info.isDirectory()) {
        if (seenLinks.has(info.ino)) continue;
        seenLinks.add(info.ino);
      }
      bytes += Number(info.blocks) * 512;
      if (info.isDirectory()) pending.push(child);
    }
  }
  return bytes + Number(top.blocks) * 512;
}

/** Linux's dev_t (glibc encoding) as `major:minor`. */
export function majorMinor(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

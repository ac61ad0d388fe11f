/**
 * Where a container's cgroup lives. Found from `/proc/<pid>/cgroup` of its init process (works for
 * cgroupfs and systemd drivers, v1 and v2, and any `--cgroup-parent`), or, when the host's /proc
 * is not visible, guessed from the engine's cgroup driver and the container's cgroup parent.
 * Resolved again on every start: a restarted container gets a new cgroup and a new pid.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readOptionalText } from './files';

/** The v1 controllers we read. */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'] as const;
type V1Controller = (typeof V1_CONTROLLERS)[number];

export type CgroupLocation =
  | {
      version: 1;
      /** The cgroup path, e.g. `/docker/<id>`: cAdvisor's `id` label. */
      path: string;
      /** Absolute directory of each controller that is mounted. */
      dirs: Partial<Record<V1Controller, string>>;
      /** The same cgroup in a hybrid host's cgroup2 mount (`<root>/unified`): pressure (PSI) files only. */
      unifiedDir?: string;
    }
  | { version: 2; path: string; dir: string };

export interface CgroupRoots {
  /** Where the host's cgroup filesystem is mounted, normally /sys/fs/cgroup. */
  cgroupRoot: string;
  /** Where the host's /proc is mounted, normally /proc. */
  procRoot: string;
}

export interface ContainerCgroupHints {
  id: string;
  /** Init process on the host; 0 when not running. */
  pid: number;
  /** HostConfig.CgroupParent; empty for the engine's default. */
  cgroupParent: string;
  /** The engine's cgroup driver (docker info), when known. */
  driver?: 'cgroupfs' | 'systemd';
}

export function resolveCgroup(roots: CgroupRoots, hints: ContainerCgroupHints): CgroupLocation | undefined {
  const fromProc = hints.pid > 0 ? readOptionalSafe(join(roots.procRoot, String(hints.pid), 'cgroup')) : undefined;
  return (
    (fromProc !== undefined ? locateFromProcCgroup(fromProc, roots.cgroupRoot, hints.id) : undefined) ??
    guessLocation(roots.cgroupRoot, hints)
  );
}

/**
 * The container's own cgroup from a path its init process reports: systemd as PID 1 moves itself
 * to `…/docker-<id>.scope/init.scope`, docker:dind to `…/<id>/init`. The container's cgroup is
 * the segment naming its ID; below it are sub-cgroups (with no limits of their own).
 */
export function containerCgroupPath(path: string, containerId: string | undefined): string {
  if (!containerId) return path;
  const segments = path.split('/');
  const own = segments.findIndex((segment) => segment.includes(containerId));
  return own < 0 ? path : segments.slice(0, own + 1).join('/');
}

/** Parses `/proc/<pid>/cgroup` (`hierarchy:controllers:path` lines) into a location that exists. */
export function locateFromProcCgroup(
  text: string,
  cgroupRoot: string,
  containerId?: string,
): CgroupLocation | undefined {
  const dirs: Partial<Record<V1Controller, string>> = {};
  let v1Path: string | undefined;
  let unifiedPath: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, hierarchy, controllerList, reported] = match as unknown as [string, string, string, string];
    const path = containerCgroupPath(reported, containerId);
    // A private cgroup namespace shows paths relative to our own cgroup (`/..`): not usable.
    if (path.includes('/..')) return undefined;
    if (hierarchy === '0' && controllerList === '') {
      unifiedPath = path;
      continue;
    }
    const controllers = controllerList.split(',');
    for (const controller of controllers) {
      if (!isV1Controller(controller)) continue;
      // Co-mounted controllers live under their joined name (cpu,cpuacct); most hosts add a symlink per name.
      const dir = [join(cgroupRoot, controllerList, path), join(cgroupRoot, controller, path)].find((d) =>
        existsSync(d),
      );
      if (dir) {
        dirs[controller] = dir;
        v1Path ??= path;
      }
    }
  }
  if (v1Path !== undefined) {
    const unifiedDir = unifiedPath === undefined ? undefined : join(cgroupRoot, 'unified', unifiedPath);
    return {
      version: 1,
      path: v1Path,
      dirs,
      unifiedDir: unifiedDir && existsSync(unifiedDir) ? unifiedDir : undefined,
    };
  }
  if (unifiedPath !== undefined && isUnifiedRoot(cgroupRoot) && existsSync(join(cgroupRoot, unifiedPath))) {
    return { version: 2, path: unifiedPath, dir: join(cgroupRoot, unifiedPath) };
  }
  return undefined;
}

/**
 * The engine's naming: Docker's `<parent or /docker>/<id>` with cgroupfs, `…/docker-<id>.scope` with
 * systemd; Podman's `<parent or /libpod_parent>/libpod-<id>`, `…/machine.slice/libpod-<id>.scope`.
 * Only a directory that exists is taken, and it is named by the container's full ID.
 */
function guessLocation(cgroupRoot: string, hints: ContainerCgroupHints): CgroupLocation | undefined {
  const drivers = hints.driver ? [hints.driver] : (['cgroupfs', 'systemd'] as const);
  const candidates = drivers.flatMap((driver) => [candidatePath(driver, hints), libpodCandidatePath(driver, hints)]);
  for (const path of candidates) {
    if (isUnifiedRoot(cgroupRoot)) {
      if (existsSync(join(cgroupRoot, path))) return { version: 2, path, dir: join(cgroupRoot, path) };
      continue;
    }
    const dirs: Partial<Record<V1Controller, string>> = {};
    for (const controller of V1_CONTROLLERS) {
      const dir = join(cgroupRoot, controller, path);
      if (existsSync(dir)) dirs[controller] = dir;
    }
    if (Object.keys(dirs).length > 0) return { version: 1, path, dirs };
  }
  return undefined;
}

/**
 * The root cgroup, cAdvisor's `id="/"`: the whole machine. Without pids (its pids controller has no
 * counters, and counting every process of the host is not a container metric).
 */
export function rootCgroupLocation(cgroupRoot: string): CgroupLocation | undefined {
  if (isUnifiedRoot(cgroupRoot)) return { version: 2, path: '/', dir: cgroupRoot };
  const dirs: Partial<Record<V1Controller, string>> = {};
  for (const controller of V1_CONTROLLERS) {
    if (controller === 'pids') continue;
    // Co-mounted cpu and cpuacct live under their joined name where no per-name symlink exists.
    const candidates =
      controller === 'cpu' || controller === 'cpuacct' ? [controller, 'cpu,cpuacct', 'cpuacct,cpu'] : [controller];
    const dir = candidates.map((name) => join(cgroupRoot, name)).find((d) => existsSync(d));
    if (dir) dirs[controller] = dir;
  }
  return Object.keys(dirs).length > 0 ? { version: 1, path: '/', dirs } : undefined;
}

/** The cgroup path Docker gives a container: what we label it with when the cgroup is not visible. */
export function dockerCgroupPath(
  driver: 'cgroupfs' | 'systemd',
  hints: Pick<ContainerCgroupHints, 'id' | 'cgroupParent'>,
): string {
  return candidatePath(driver, hints);
}

function candidatePath(
  driver: 'cgroupfs' | 'systemd',
  { id, cgroupParent }: Pick<ContainerCgroupHints, 'id' | 'cgroupParent'>,
): string {
  if (driver === 'cgroupfs') return `${(cgroupParent || '/docker').replace(/\/+$/, '')}/${id}`;
  return `${expandSlice(cgroupParent || 'system.slice')}/docker-${id}.scope`;
}

function libpodCandidatePath(
  driver: 'cgroupfs' | 'systemd',
  { id, cgroupParent }: Pick<ContainerCgroupHints, 'id' | 'cgroupParent'>,
): string {
  if (driver === 'cgroupfs') return `${(cgroupParent || '/libpod_parent').replace(/\/+$/, '')}/libpod-${id}`;
  return `${expandSlice(cgroupParent || 'machine.slice')}/libpod-${id}.scope`;
}

/** systemd nests `a-b-c.slice` as `/a.slice/a-b.slice/a-b-c.slice`. */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice')) return slice.startsWith('/') ? slice : `/${slice}`;
  const parts = slice.slice(0, -'.slice'.length).split('-');
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('-')}.slice`).join('');
}

/** A cgroup v2 (unified) hierarchy is mounted at the root itself. */
function isUnifiedRoot(cgroupRoot: string): boolean {
  return existsSync(join(cgroupRoot, 'cgroup.controllers'));
}

function isV1Controller(name: string): name is V1Controller {
  return (V1_CONTROLLERS as readonly string[]).includes(name);
}

function readOptionalSafe(path: string): string | undefined {
  try {
    return readOptionalText(path);
  } catch {
    return undefined; // no permission on another namespace's /proc: fall back to guessing
  }
}

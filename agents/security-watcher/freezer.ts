/**
 * Thaws a container's cgroup freezer directly, bypassing the engine.
 *
 * Why: a pause that lands while an exec's `runc init` is starting freezes runc itself; the engine
 * then waits for that exec forever while holding the container's locks, so inspect, unpause and
 * exec never answer for that container (moby 20.10 with runc 1.1, reproduced by
 * test/integration/security-wedge.test.ts). Only thawing the cgroup lets the exec finish and the
 * engine answer again. Needs the host's cgroup filesystem writable (at `<host root>/sys/fs/cgroup`).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_DEPTH = 4;

/** Where the cgroup filesystem is, given the security-watcher's host root ('' when on the host). */
export function cgroupRootFor(hostRoot: string): string {
  return join(hostRoot || '/', 'sys/fs/cgroup');
}

/** Thaws the container's freezer; returns the file written, or throws saying why it could not. */
export async function thawContainer(containerId: string, cgroupRoot: string): Promise<string> {
  const unified = await readdir(cgroupRoot).then(
    (names) => names.includes('cgroup.controllers'),
    () => false,
  );
  const file = unified
    ? await findFreezerFile(cgroupRoot, containerId, 'cgroup.freeze')
    : await findFreezerFile(join(cgroupRoot, 'freezer'), containerId, 'freezer.state');
  if (!file)
    throw new Error(
      `no freezer cgroup of ${containerId.slice(0, 12)} under ${cgroupRoot} (is the host's /sys/fs/cgroup mounted there?)`,
    );
  await writeFile(file, file.endsWith('freezer.state') ? 'THAWED' : '0');
  return file;
}

/** The container's cgroup is a folder named by its ID (cgroupfs driver) or docker-<id>.scope (systemd), a few levels down. */
async function findFreezerFile(
  dir: string,
  containerId: string,
  fileName: string,
  depth = 0,
): Promise<string | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const own = folders.find((name) => name === containerId || name === `docker-${containerId}.scope`);
  if (own) return join(dir, own, fileName);
  if (depth >= MAX_DEPTH) return undefined;
  for (const name of folders) {
    const found = await findFreezerFile(join(dir, name), containerId, fileName, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * The watcher's own container, when it runs in one, so that enforcement never acts on it: it
 * holds the Docker socket, so it trips docker-socket and sensitive-mount itself, and a policy that
 * enforces those must not stop the watcher (which would then enforce nothing).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

type Read = (path: string) => string;

const readText: Read = (path) => readFileSync(path, 'utf8');

/**
 * Our container ID (64 hex digits, or 12 when only the hostname tells), or undefined on a host.
 * The hostname is the short ID only by default: `--hostname`, compose `hostname:` and
 * `--network host` change it, so the engine's own mounts and cgroups are asked first.
 */
export function ownContainerId(read: Read = readText, host: string = hostname()): string | undefined {
  // Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from <data-root>/containers/<id>/.
  const mounts = attempt(() => read('/proc/self/mountinfo'));
  const fromMounts = /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)\s/.exec(mounts ?? '');
  if (fromMounts) return fromMounts[1];
  // cgroup v1 (`/docker/<id>`) and the systemd driver (`docker-<id>.scope`).
  const cgroups = attempt(() => read('/proc/self/cgroup'));
  const fromCgroup = /(?:\/docker\/|docker-)([0-9a-f]{64})(?:\.scope)?\s*$/m.exec(cgroups ?? '');
  if (fromCgroup) return fromCgroup[1];
  return /^[0-9a-f]{12}$/.test(host) ? host : undefined;
}

function attempt(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

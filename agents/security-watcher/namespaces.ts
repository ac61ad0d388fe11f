/**
 * Whether a container shares the host's IPC namespace, asked of the kernel. Podman 4.3 reports
 * HostConfig.IpcMode `shareable` for `--ipc host` as for its private default, and no other field of
 * its inspect (Docker or libpod API) tells the two apart; the namespace of the container's init
 * process does. Readable where the watcher sees the host's processes (on the host, or --pid host).
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** The kernel's initial IPC namespace (PROC_IPC_INIT_INO): the host's, unless the host is itself nested. */
const INITIAL_IPC_NAMESPACE = 'ipc:[4026531839]';

/** True or false when the kernel says; undefined when the container's init process cannot be seen. */
export function sharesHostIpc(pid: number | undefined, containerId: string, procRoot = '/proc'): boolean | undefined {
  if (!pid || pid <= 0) return undefined;
  // Outside the host's PID namespace, this pid is some other process: it must be in the container's cgroup.
  const cgroups = attempt(() => readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8'));
  if (!containerId || !cgroups?.includes(containerId)) return undefined;
  const namespace = attempt(() => readlinkSync(`${procRoot}/${pid}/ns/ipc`));
  if (namespace === undefined) return undefined;
  return namespace === INITIAL_IPC_NAMESPACE || namespace === attempt(() => readlinkSync(`${procRoot}/1/ns/ipc`));
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined; // gone, or not ours to read
  }
}

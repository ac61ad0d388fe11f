/** Docker objects as rule targets: inspect results, host facts, resolved bind sources. */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import { withDockerDeadline } from '../../shared/docker/request-deadline';
import { errorMessage } from '../../shared/ops/logger';
import type { FindingObject } from '../../shared/findings/finding';
import type { ExemptionSubject } from './exemptions';
import { sharesHostIpc } from './namespaces';
import type { ContainerContext, ContainerTarget, HostFacts, ImageTarget, JoinedNamespace } from './target';

/**
 * API sockets of container engines on a host: Docker's, and Podman's (its Docker-compatible API
 * gives the same control; rootless Podman listens in $XDG_RUNTIME_DIR/podman/, matched by name).
 */
export const DEFAULT_DOCKER_SOCKETS = [
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/run/podman/podman.sock',
  '/var/run/podman/podman.sock',
];

/** What the engine tells about its confinement (GET /info), plus the sockets it listens on and those the operator named. */
export async function hostFacts(docker: Dockerode, extraSockets: readonly string[] = []): Promise<HostFacts> {
  const info = (await docker.info()) as { SecurityOptions?: string[] };
  const options = info.SecurityOptions ?? [];
  const sockets = [...DEFAULT_DOCKER_SOCKETS, ...extraSockets];
  // The engine we talk to may listen elsewhere (as the test engine does).
  const socketPath = (docker.modem as { socketPath?: unknown }).socketPath;
  if (typeof socketPath === 'string' && socketPath !== '') sockets.push(socketPath);
  return {
    apparmor: options.some((o) => o.includes('name=apparmor')),
    selinux: options.some((o) => o.includes('name=selinux')),
    dockerSockets: [...new Set(sockets)],
  };
}

/**
 * Bind sources with symlinks resolved, as the host sees them. `hostRoot` is where the host's
 * filesystem is mounted when the watcher runs in a container ('' when it runs on the host).
 * A source that cannot be resolved stays as inspect shows it. In a container without a host root
 * nothing is resolved: the watcher's own filesystem is not the host's (its `/bin` may link to
 * `/usr/bin` where the host's does not).
 */
export async function resolveBindSources(
  info: Dockerode.ContainerInspectInfo,
  hostRoot: string,
  inContainer = false,
): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  if (inContainer && !hostRoot) return resolved;
  for (const mount of (info.Mounts ?? []) as Array<{ Type?: string; Source?: string }>) {
    if (mount.Type !== 'bind' || !mount.Source || resolved.has(mount.Source)) continue;
    try {
      resolved.set(mount.Source, await resolveUnder(hostRoot || '/', mount.Source));
    } catch {
      // Gone, not visible from here, or a link loop: judge the path as given.
    }
  }
  return resolved;
}

const MAX_LINKS = 40; // as the kernel's ELOOP limit

/**
 * `realpath` of a host path inside `root`, one component at a time: an absolute link target
 * (`/var/run` -> `/run`, as hosts have them) starts again at `root`, not at the watcher's own `/`.
 */
async function resolveUnder(root: string, path: string): Promise<string> {
  let pending = path.split('/').filter(Boolean);
  let done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const onDisk = join(root, ...done, part);
    if (!(await lstat(onDisk)).isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many symbolic links: ${path}`);
    const target = await readlink(onDisk);
    if (target.startsWith('/')) done = [];
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return `/${done.join('/')}`;
}

function containerObject(info: Dockerode.ContainerInspectInfo): FindingObject {
  return { kind: 'container', id: info.Id, name: containerName(info.Name), image: info.Config.Image ?? '' };
}

function imageObject(info: Pick<Dockerode.ImageInspectInfo, 'Id' | 'RepoTags'>): FindingObject {
  const tag = (info.RepoTags ?? []).find((t) => t !== '<none>:<none>');
  return { kind: 'image', id: info.Id, name: tag ?? info.Id.replace(/^sha256:/, '').slice(0, 12), image: '' };
}

export function containerTarget(
  info: Dockerode.ContainerInspectInfo,
  host: HostFacts,
  resolvedSources: ReadonlyMap<string, string>,
  allowedImages: (image: string) => boolean,
  hasImageAllowList: boolean,
  aliases: readonly string[] = [],
  context: ContainerContext = {},
): ContainerTarget {
  const hostIpc = sharesHostIpc(info.State?.Pid, info.Id);
  return {
    object: containerObject(info),
    info,
    host,
    resolvedSources,
    hostIpc,
    allowedImages,
    hasImageAllowList,
    imageAliases: aliases,
    ...context,
  };
}

/** Each request for the context of a container has this deadline: one container that does not answer delays its own check only. */
const CONTEXT_DEADLINE_MS = 5_000;
/** `--network container:a` where a joins b, which joins c…: followed this far. */
const MAX_JOINS = 4;
const JOINABLE = ['NetworkMode', 'PidMode', 'IpcMode'] as const;

/**
 * What the rules need beyond the container's own inspect, asked of the engine with deadlines:
 * the modes of namespaces joined from other containers, the host directories behind local
 * volumes created with `o=bind`, and the processes of a running container. A question the engine
 * does not answer is recorded as such, never thrown: the rest of the check goes on.
 */
export async function containerContext(
  docker: Dockerode,
  info: Dockerode.ContainerInspectInfo,
  options: { processes: boolean } = { processes: true },
): Promise<ContainerContext> {
  const ask = <T>(call: () => Promise<T>): Promise<T> => withDockerDeadline(CONTEXT_DEADLINE_MS, call);
  const [joined, volumeDevices, processes] = await Promise.all([
    joinedNamespaces(info, ask, docker),
    bindVolumeDevices(info, ask, docker),
    options.processes ? runningProcesses(info, ask, docker) : undefined,
  ]);
  return { joined, volumeDevices, processes };
}

type Ask = <T>(call: () => Promise<T>) => Promise<T>;

async function joinedNamespaces(
  info: Dockerode.ContainerInspectInfo,
  ask: Ask,
  docker: Dockerode,
): Promise<ContainerContext['joined']> {
  const joined: Partial<Record<(typeof JOINABLE)[number], JoinedNamespace>> = {};
  const hostConfig = (info.HostConfig ?? {}) as Partial<Record<(typeof JOINABLE)[number], string>>;
  for (const field of JOINABLE) {
    let mode = hostConfig[field] ?? '';
    const via: string[] = [];
    try {
      while (mode.startsWith('container:') && via.length < MAX_JOINS) {
        const other = await ask(() => docker.getContainer(mode.slice('container:'.length)).inspect());
        via.push(containerName(other.Name));
        mode = ((other.HostConfig ?? {}) as Partial<Record<string, string>>)[field] ?? '';
      }
      if (via.length > 0) joined[field] = { via, mode };
    } catch (error) {
      joined[field] = { via, mode, error: errorMessage(error) };
    }
  }
  return joined;
}

async function bindVolumeDevices(
  info: Dockerode.ContainerInspectInfo,
  ask: Ask,
  docker: Dockerode,
): Promise<Map<string, string>> {
  const devices = new Map<string, string>();
  for (const mount of (info.Mounts ?? []) as Array<{ Type?: string; Name?: string; Driver?: string }>) {
    if (mount.Type !== 'volume' || mount.Driver !== 'local' || !mount.Name || devices.has(mount.Name)) continue;
    try {
      const volume = (await ask(() => docker.getVolume(mount.Name!).inspect())) as {
        Options?: Record<string, string> | null;
      };
      const options = volume.Options ?? {};
      // `--opt type=none --opt o=bind --opt device=/etc` mounts the host's /etc, as -v /etc:… would.
      if ((options.o ?? '').split(',').some((o) => o === 'bind' || o === 'rbind') && options.device)
        devices.set(mount.Name, options.device);
    } catch {
      // Gone, or not answered: judged as the volume it appears to be.
    }
  }
  return devices;
}

async function runningProcesses(
  info: Dockerode.ContainerInspectInfo,
  ask: Ask,
  docker: Dockerode,
): Promise<ContainerContext['processes']> {
  if (!info.State.Running) return undefined;
  try {
    // comm is the executable's (or script's) own name, which argv[0] can hide.
    const top = (await ask(() => docker.getContainer(info.Id).top({ ps_args: '-o pid,comm,args' }))) as {
      Processes?: string[][] | null;
    };
    return { list: (top.Processes ?? []).map(([, comm = '', args = '']) => ({ comm, args })) };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

export function containerExemptionSubject(
  info: Dockerode.ContainerInspectInfo,
  aliases: readonly string[] = [],
): ExemptionSubject {
  return {
    names: [containerName(info.Name)],
    images: [info.Config.Image ?? '', ...aliases],
    labels: info.Config.Labels ?? {},
  };
}

/** An image ID (`sha256:…`, or a prefix of one), which names no repository. */
const IMAGE_ID = /^(?:sha256:)?[0-9a-f]{12,64}$/;

/**
 * The tags and digests of a container's image, when its own reference names no tag: run by ID
 * (`docker run 4e5021d210f6`) or pinned by digest (`nginx@sha256:…`, as compose files pin
 * images). An allow-list or exemption of `nginx:*` means those too; asked only then, so the
 * common case costs no extra call.
 */
export async function imageAliases(docker: Dockerode, info: Dockerode.ContainerInspectInfo): Promise<string[]> {
  const reference = info.Config.Image ?? '';
  const pinnedOnly = reference.includes('@') && !/:[^/@]*@/.test(reference);
  if (!IMAGE_ID.test(reference) && !pinnedOnly) return [];
  try {
    const image = await docker.getImage(info.Image).inspect();
    return [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter((r) => !r.startsWith('<none>'));
  } catch {
    return []; // gone or unreadable: judged by the reference alone
  }
}

export function imageTarget(info: Dockerode.ImageInspectInfo, history?: readonly string[]): ImageTarget {
  return { object: imageObject(info), info, history };
}

export function imageExemptionSubject(info: Dockerode.ImageInspectInfo): ExemptionSubject {
  const tags = (info.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  return { names: tags, images: tags, labels: info.Config?.Labels ?? {} };
}

/** `CreatedBy` of each layer, newest first; undefined when the history cannot be read. */
export async function imageHistory(docker: Dockerode, id: string): Promise<string[] | undefined> {
  try {
    const layers = (await docker.getImage(id).history()) as Array<{ CreatedBy?: string }>;
    return layers.map((layer) => layer.CreatedBy ?? '');
  } catch {
    return undefined;
  }
}

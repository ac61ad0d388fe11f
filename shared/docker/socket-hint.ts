/**
 * What to do when the engine's socket is missing or not ours to open: the two mistakes of almost
 * every first run (the socket not mounted or DOCKER_HOST elsewhere; the container's user without
 * the socket's group). Said once, in words, instead of a connect error at every retry.
 */
import { statSync } from 'node:fs';

/** The hint for a connection error, or undefined when the error is not one of those two. */
export function socketProblemHint(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const match = /connect (ENOENT|EACCES) (\/\S+)/.exec(text);
  const kind = match?.[1] ?? (code === 'ENOENT' || code === 'EACCES' ? code : undefined);
  const socket = match?.[2] ?? (error as { address?: string } | undefined)?.address ?? 'the socket';
  if (kind === 'ENOENT') {
    return `no engine socket at ${socket}: start the engine, mount its socket into this container (-v ${socket}:${socket}), or point DOCKER_HOST (--docker-host) at where it is (Podman: unix:///run/podman/podman.sock)`;
  }
  if (kind === 'EACCES') {
    const group = socketGroup(socket);
    return `permission denied on ${socket}: run the agent in the group that owns it${group === undefined ? '' : ` (gid ${group})`}, e.g. docker run --group-add ${group ?? '<gid>'}, Compose group_add, Kubernetes supplementalGroups`;
  }
  return undefined;
}

function socketGroup(socket: string): number | undefined {
  try {
    return statSync(socket).gid;
  } catch {
    return undefined;
  }
}

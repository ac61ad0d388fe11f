/**
 * Which engine answers on the Docker API: Docker itself, or Podman on its Docker-compatible socket.
 * They speak dialects (event names, stats and log details); the shared layers that read them turn
 * each into the same normalized form, so agents never ask this themselves.
 *
 * Podman says so on every answer (`Server: Libpod/4.3.1 (linux)`, a `Libpod-Api-Version` header)
 * and in GET /version (a component named "Podman Engine").
 */
import type { IncomingHttpHeaders } from 'node:http';
import type Dockerode from 'dockerode';

export type EngineKind = 'docker' | 'podman';

/** From the headers of any answer of the engine. */
export function engineFromHeaders(headers: IncomingHttpHeaders): EngineKind {
  if (headers['libpod-api-version'] !== undefined) return 'podman';
  return /^libpod\//i.test(String(headers.server ?? '')) ? 'podman' : 'docker';
}

/** From the body of GET /version. */
export function engineFromVersion(version: Pick<Dockerode.DockerVersion, 'Components'> | undefined): EngineKind {
  const components = Array.isArray(version?.Components) ? version.Components : [];
  return components.some((c) => /podman/i.test(String(c?.Name ?? ''))) ? 'podman' : 'docker';
}

/** Asks the engine (GET /version). */
export async function detectEngine(docker: Dockerode): Promise<EngineKind> {
  return engineFromVersion(await docker.version());
}

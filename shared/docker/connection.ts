/**
 * Reaches the Docker engine the way the docker CLI does: DOCKER_HOST (unix://, tcp://, ssh://),
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import './lazy-dockerode-parts'; // before dockerode: see there
import Dockerode from 'dockerode';
import { isHostName, withoutPassword } from '../config/uri';
import { applyRequestDeadlines, DEFAULT_REQUEST_DEADLINE_MS } from './request-deadline';
import { guardRequests } from './request-guard';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface DockerConnectionSettings {
  /** unix:///path, tcp://host:port, ssh://user@host[:port] */
  host: string;
  /** Verify the engine with TLS, using the certificates in certPath. */
  tlsVerify: boolean;
  /** Folder with ca.pem, cert.pem and key.pem; defaults to ~/.docker. */
  certPath?: string;
}

export class DockerConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DockerConnectionError';
  }
}

/** Settings from the docker CLI's environment variables. */
export function connectionSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DockerConnectionSettings {
  return {
    host: env.DOCKER_HOST || DEFAULT_DOCKER_HOST,
    tlsVerify: isTruthyEnv(env.DOCKER_TLS_VERIFY),
    certPath: env.DOCKER_CERT_PATH || undefined,
  };
}

/** The docker CLI treats any non-empty DOCKER_TLS_VERIFY as on; we also accept 0/false as off. */
export function isTruthyEnv(value: string | undefined): boolean {
  return value !== undefined && value !== '' && !/^(0|false|no)$/i.test(value);
}

/** dockerode options for the settings; throws DockerConnectionError naming what is wrong. */
export function dockerOptions(settings: DockerConnectionSettings): Dockerode.DockerOptions {
  const host = settings.host.trim();
  // Messages quote the value without its password: stderr is a container log the logrouter ships.
  const shown = withoutPassword(host);
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/'))
      throw new DockerConnectionError(
        `DOCKER_HOST '${shown}': a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock`,
      );
    return { socketPath };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new DockerConnectionError(
      `DOCKER_HOST '${shown}' is not a URL: expected unix:///path, tcp://host:port or ssh://user@host`,
    );
  }
  const remote = ['tcp:', 'http:', 'https:', 'ssh:'].includes(url.protocol);
  if (remote && url.hostname === '')
    throw new DockerConnectionError(
      `DOCKER_HOST '${shown}' names no host: expected tcp://host:port or ssh://user@host`,
    );
  // `tcp://%00:2375` would connect to 127.0.0.1:80, `tcp://a%20b` fail at every retry.
  if (remote && !isHostName(stripBrackets(url.hostname)))
    throw new DockerConnectionError(`DOCKER_HOST '${shown}': '${url.hostname}' is not a host name or an IP address`);
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = settings.tlsVerify || url.protocol === 'https:';
    const port = url.port || (tls ? '2376' : '2375');
    const options: Dockerode.DockerOptions = {
      host: stripBrackets(url.hostname),
      port,
      protocol: tls ? 'https' : 'http',
    };
    return tls ? { ...options, ...readTlsFiles(settings.certPath ?? join(homedir(), '.docker')) } : options;
  }
  if (url.protocol === 'ssh:') {
    return {
      protocol: 'ssh',
      host: stripBrackets(url.hostname),
      port: url.port || '22',
      username: url.username || undefined,
    };
  }
  throw new DockerConnectionError(
    `DOCKER_HOST '${shown}': unsupported scheme '${url.protocol}', expected unix://, tcp:// or ssh://`,
  );
}

/** A client whose every request has a deadline (request-deadline.ts) and is checked, as its answer is (request-guard.ts). */
export function createDockerClient(
  settings: DockerConnectionSettings,
  requestDeadlineMs = DEFAULT_REQUEST_DEADLINE_MS,
): Dockerode {
  return applyRequestDeadlines(guardRequests(new Dockerode(dockerOptions(settings))), requestDeadlineMs);
}

function readTlsFiles(certPath: string): Pick<Dockerode.DockerOptions, 'ca' | 'cert' | 'key'> {
  const read = (file: string): Buffer => {
    const path = join(certPath, file);
    try {
      return readFileSync(path);
    } catch (error) {
      throw new DockerConnectionError(`DOCKER_CERT_PATH: cannot read ${path} for TLS: ${(error as Error).message}`);
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

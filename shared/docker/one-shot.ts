/**
 * The Docker client of a one-shot command (`label-inspector check`, `security-watcher audit`):
 * a bad setup or an unreachable engine is a usage error (exit 2) naming what was asked, with the
 * same socket hint (DOCKER_HOST, the socket's group) as a long-running agent logs.
 */
import type Dockerode from 'dockerode';
import { ConfigError } from '../config/errors';
import { inHelpGroup } from '../config/options';
import { withoutPassword } from '../config/uri';
import { dockerOptions } from '../runtime/common-options';
import { createDockerClient, DockerConnectionError } from './connection';
import { socketProblemHint } from './socket-hint';

/** The agents' Docker connection options, under their own heading in a one-shot command's --help. */
export const oneShotDockerOptions = inHelpGroup('Docker options:', dockerOptions);

export interface OneShotDocker {
  docker: Dockerode;
  /** Runs one call; a 404 becomes "<what>: not found", any other failure names the engine. */
  reach<T>(what: string, call: () => Promise<T>): Promise<T>;
}

export function oneShotDocker(values: {
  dockerHost: string;
  dockerTlsVerify: boolean;
  dockerCertPath: string;
}): OneShotDocker {
  let docker: Dockerode;
  try {
    docker = createDockerClient({
      host: values.dockerHost,
      tlsVerify: values.dockerTlsVerify,
      certPath: values.dockerCertPath,
    });
  } catch (error) {
    throw error instanceof DockerConnectionError ? new ConfigError(error.message) : error;
  }
  const reach = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    call().catch((error: { statusCode?: number; message?: string }) => {
      if (error.statusCode === 404) throw new ConfigError(`${what}: not found`);
      const hint = socketProblemHint(error);
      const problem = `${what}: cannot ask Docker at ${withoutPassword(values.dockerHost)}: ${error.message ?? String(error)}`;
      throw new ConfigError(hint === undefined ? problem : `${problem}\nhint: ${hint}`);
    });
  return { docker, reach };
}

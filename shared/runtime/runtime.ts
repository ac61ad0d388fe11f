/**
 * Starts agents in one process around one Docker event stream, one metrics registry and one
 * HTTP server, and stops them gracefully.
 */
import type { AgentDefinition } from '../agent';
import { ConfigError } from '../config/errors';
import { formatHostPort, type HostPort, type OptionValues } from '../config/options';
import { withoutPassword } from '../config/uri';
import { createDockerClient, DockerConnectionError } from '../docker/connection';
import { EventStream } from '../docker/event-stream';
import { eventStreamMetrics } from '../docker/metrics';
import { HostConsole } from '../ops/console/host-console';
import { OpsServer } from '../ops/http-server';
import { Lifecycle } from '../ops/lifecycle';
import { createLogger, type Logger } from '../ops/logger';
import { createMetricsRegistry } from '../ops/metrics';
import { packageVersion } from '../version';
import type { agentRuntimeOptions } from './common-options';
import { prepareStateDir } from './state-dir';

export type RuntimeSettings = OptionValues<typeof agentRuntimeOptions> & {
  /** The logrouter's `--log-api-token` (QUAYSIDE_LOG_API_TOKEN): the old name of `--api-token`. */
  logApiToken?: string;
};

/** An agent to start, with its own parsed options. */
export interface AgentLaunch {
  definition: AgentDefinition;
  options: Record<string, unknown>;
}

export interface Runtime {
  /** Where the HTTP server listens (the real port when 0 was asked for). */
  address: HostPort;
  events: EventStream;
  logger: Logger;
  lifecycle: Lifecycle;
}

const PING_INTERVAL_MS = 15_000;

export async function startRuntime(
  settings: RuntimeSettings,
  launches: AgentLaunch[],
  logStream?: NodeJS.WritableStream,
): Promise<Runtime> {
  const logger = createLogger({ level: settings.logLevel, format: settings.logFormat, stream: logStream });
  const docker = (() => {
    try {
      return createDockerClient({
        host: settings.dockerHost,
        tlsVerify: settings.dockerTlsVerify,
        certPath: settings.dockerCertPath,
      });
    } catch (error) {
      throw error instanceof DockerConnectionError ? new ConfigError(error.message) : error;
    }
  })();
  const stateDir = launches.length > 0 ? prepareStateDir(settings.stateDir) : settings.stateDir;

  const metrics = createMetricsRegistry(packageVersion());
  const streamMetrics = eventStreamMetrics(metrics);
  const events = new EventStream({
    docker,
    logger: logger.child({ component: 'docker-events' }),
    observer: streamMetrics.observer,
    resyncIntervalMs: settings.resyncInterval,
    pingIntervalMs: PING_INTERVAL_MS,
  });
  streamMetrics.watch(events);

  const http = new OpsServer(metrics, logger.child({ component: 'http' }), { apiToken: apiTokenOf(settings) });
  http.addReadinessCheck('docker', () =>
    events.connected
      ? { ready: true, detail: 'event stream connected' }
      : { ready: false, detail: `cannot reach Docker at ${withoutPassword(settings.dockerHost)}` },
  );
  http.addReadinessCheck('docker-dispatch', () => events.dispatchReadiness());
  const address = await http.listen(settings.listen).catch((error: Error) => {
    throw new ConfigError(`--listen (QUAYSIDE_LISTEN) ${formatHostPort(settings.listen)}: ${error.message}`);
  });

  const lifecycle = new Lifecycle(logger, settings.shutdownTimeout);
  lifecycle.onShutdown('http server', () => http.close());
  const hostConsole = new HostConsole({
    http,
    events,
    logger: logger.child({ component: 'console' }),
    agents: launches.map((l) => l.definition.name),
  });
  lifecycle.onShutdown('console', () => hostConsole.close());
  try {
    for (const { definition, options } of launches) {
      const agentLogger = logger.child({ agent: definition.name });
      const running = await definition.start!(
        { docker, events, logger: agentLogger, metrics, http, stateDir },
        options as never,
      );
      lifecycle.onShutdown(definition.name, () => running.stop());
    }
  } catch (error) {
    // A bad agent setting must end the process (exit 2), not leave the HTTP server holding it open.
    await lifecycle.shutdown('an agent could not start');
    throw error;
  }
  // Stopped first: no new events, and every subscriber's queue drained, before agents flush.
  lifecycle.onShutdown('docker event stream', () => events.stop());
  events.start();
  logger.info('quayside started', {
    agents: launches.map((l) => l.definition.name),
    listen: formatHostPort(address),
    docker: withoutPassword(settings.dockerHost),
  });
  return { address, events, logger, lifecycle };
}

/** The one token of the process, by its name or its old name; two different tokens are an error. */
function apiTokenOf(settings: RuntimeSettings): string | undefined {
  const { apiToken, logApiToken } = settings;
  if (apiToken !== undefined && logApiToken !== undefined && apiToken !== logApiToken) {
    throw new ConfigError(
      '--api-token (QUAYSIDE_API_TOKEN) and its old name --log-api-token (QUAYSIDE_LOG_API_TOKEN) differ: give one token',
    );
  }
  return apiToken ?? logApiToken;
}

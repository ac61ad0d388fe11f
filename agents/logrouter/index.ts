/**
 * logrouter: ships every container's stdout and stderr to syslog, Redis, HTTP log services and
 * stdout, logspout-compatible, with per-route checkpoints so nothing is lost or sent twice.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defineAgent } from '../../shared/agent';
import { ConfigError } from '../../shared/config/errors';
import { addToConsole, consoleOf } from '../../shared/ops/console/host-console';
import { addLogrouterApi, loadPersistedRoutes } from './api';
import { CheckpointStore } from './checkpoint-store';
import { liveTail, RoutesSection } from './console-section';
import { LiveLogs } from './live-logs';
import { parseExcludeLabels } from './container-filter';
import { logrouterOptions, refuseLogspoutListenVariables } from './options';
import { describeRoute, RouteError } from './route';
import { LogRouter } from './router';
import { registerLogrouterMetrics } from './stats';

export const logrouterAgent = defineAgent({
  name: 'logrouter',
  summary: "Ships every container's stdout and stderr to syslog, Redis and HTTP log services",
  options: logrouterOptions,
  operands: {
    name: 'route-uri',
    description: 'route URIs (logspout syntax), e.g. syslog+tcp://logs:514',
    option: 'logRoutes',
    variadic: true,
  },
  async start({ docker, events, logger, metrics, http, stateDir }, options) {
    refuseLogspoutListenVariables(process.env);
    const store = new CheckpointStore(join(stateDir, 'logrouter'), (message) => logger.warn(message));
    const excludeLabels = [...options.logExcludeLabels];
    if (excludeLabels.length === 0 && process.env.EXCLUDE_LABEL)
      excludeLabels.push(...parseExcludeLabels(process.env.EXCLUDE_LABEL));
    const host = hostname();
    const router = new LogRouter({
      docker,
      store,
      logger,
      env: process.env,
      stdout: process.stdout,
      queueSize: options.logQueueSize,
      policy: options.logQueuePolicy,
      batchSize: options.logBatchSize,
      maxLineBytes: options.logMaxLine,
      backlog: options.logBacklog,
      excludeLabels,
      // In a container the hostname is the short container ID: never ship our own logs in a loop.
      selfId: /^[0-9a-f]{12,64}$/.test(host) ? host : undefined,
    });
    for (const spec of options.logRoutes) {
      try {
        router.addRoute(spec);
      } catch (error) {
        // The router's message names the route with its path; ours masks an HTTP path (a token).
        if (error instanceof RouteError)
          throw new ConfigError(`--log-routes (ROUTE_URIS): route ${describeRoute(spec)}: ${error.reason}`);
        throw error;
      }
    }
    // Routes added through POST /routes before (not the URI routes: those come from the command line).
    const routesDir = join(stateDir, 'logrouter', 'routes');
    for (const spec of loadPersistedRoutes(routesDir, logger)) {
      try {
        router.addRoute(spec);
      } catch (error) {
        logger.warn('ignoring a stored route that is no longer valid', {
          route: spec.id,
          error: error instanceof RouteError ? error.reason : (error as Error).message,
        });
      }
    }
    const live = new LiveLogs(docker, logger, options.logApiMaxClients, () => router.runningContainers());
    router.onContainerRunning((container) => live.started(container));
    addLogrouterApi({ http, router, live, routesDir, logger });
    if (addToConsole(http, new RoutesSection(() => router.views()))) consoleOf(http)!.setLogTail(liveTail(live));
    registerLogrouterMetrics(metrics, {
      routes: () => router.views(),
      lag: () => router.lag,
      checkpointAgeSeconds: () => (store.lastWriteMs ? (Date.now() - store.lastWriteMs) / 1000 : undefined),
      containers: () => router.pipeCount(),
    });
    const unsubscribe = events.subscribe({
      name: 'logrouter',
      types: ['container'],
      actions: ['create', 'start', 'destroy', 'rename'],
      onEvent: (event) => router.onEvent(event),
      onSync: (snapshot) => router.onSync(snapshot),
    });
    http.addReadinessCheck('logrouter', () => {
      if (!router.synced) return { ready: false, detail: 'waiting for the first container list' };
      const down = router
        .views()
        .filter((r) => !r.connected)
        .map((r) => r.id);
      return down.length === 0
        ? { ready: true, detail: `${router.pipeCount()} streams` }
        : { ready: false, detail: `routes not delivering: ${down.join(', ')}` };
    });
    if (router.routeSpecs().length === 0)
      logger.warn('logrouter has no routes: give route URIs as arguments, --log-routes or ROUTE_URIS');
    logger.info('logrouter ready', { routes: router.routeSpecs().map((r) => `${r.adapter}://${r.address}`) });
    return {
      async stop() {
        unsubscribe();
        live.close();
        await router.stop(5_000);
      },
    };
  },
});

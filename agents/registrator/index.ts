/**
 * registrator: registers each container's services in Consul (agent API or KV) and removes them
 * when they go; a drop-in for gliderlabs/registrator that reconciles instead of trusting events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defineAgent } from '../../shared/agent';
import { FatalError } from '../../shared/config/errors';
import { addToConsole } from '../../shared/ops/console/host-console';
import { sendJson } from '../../shared/ops/http-server';
import { errorMessage } from '../../shared/ops/logger';
import { detectHostAddress } from './addresses';
import type { RegistryBackend } from './backends/backend';
import { servicesSection } from './console-section';
import { registratorMetrics } from './metrics';
import { registryUriForms } from './backends';
import { registratorOptions, rewriteRegistratorArgs } from './options';
import { Registrator } from './registrator';

export const registratorAgent = defineAgent({
  name: 'registrator',
  summary: "Registers each container's services in Consul and removes them when they go",
  options: registratorOptions,
  operands: { name: 'registry-uri', description: registryUriForms(), option: 'registryUri' },
  rewriteArgs: (args) => rewriteRegistratorArgs(args),
  async start({ docker, events, logger, metrics, http }, options) {
    const uri = options.registryUri;
    if (!uri) {
      // Under `quayside all` the registrator is optional: without a URI it stays out of the way.
      logger.info('registrator not started: no registry URI (give --registry-uri or QUAYSIDE_REGISTRY_URI)');
      return { stop: async () => undefined };
    }
    if (!uri.tls && (options.consulCacert || options.consulClientCert)) {
      logger.warn('TLS files are given but the registry URI is not consul-tls://; they are not used', { uri: uri.raw });
    }
    const backend = uri.connect({
      token: options.consulToken,
      caFile: options.consulCacert,
      certFile: options.consulClientCert,
      keyFile: options.consulClientKey,
      serverName: options.consulTlsServerName,
    });
    if (options.retryAttempts >= 0) await pingAtStart(backend, options.retryAttempts, options.retryInterval, logger);

    let registrator: Registrator | undefined = undefined;
    const sources = {
      desired: () => registrator?.desiredCount() ?? 0,
      registered: () => registrator?.registeredCount() ?? 0,
      up: () => registrator?.up ?? false,
    };
    registrator = new Registrator(
      {
        internal: options.internal,
        ip: options.ip,
        tags: options.tags,
        explicit: options.explicit,
        useIpFromLabel: options.useIpFromLabel,
        healthTtlMs: options.healthTtl,
        pausedServices: options.pausedServices,
        nodeName: options.nodeName,
        deregister: options.deregister,
        cleanup: options.cleanup,
        resyncMs: options.resync,
        retryIntervalMs: options.retryInterval,
        deregisterOnShutdown: options.deregisterOnShutdown,
      },
      {
        docker,
        backend,
        logger,
        metrics: registratorMetrics(metrics, sources),
        detectHostAddress: (info) => detectHostAddress(info),
      },
    );
    const running = registrator;
    const unsubscribe = running.subscribe(events);
    running.startTimers();
    http.addReadinessCheck('registrator', () => running.readiness());
    http.addRoute('/services', (_request, response) => sendJson(response, 200, running.report()), {
      access: 'sensitive',
    });
    addToConsole(http, servicesSection(running));
    logger.info('registrator ready', { registry: backend.description });
    return {
      async stop() {
        unsubscribe();
        await running.stop();
      },
    };
  },
});

/** registrator's -retry-attempts: ping until it answers, then give up with an error (exit 1). */
async function pingAtStart(
  backend: RegistryBackend,
  attempts: number,
  intervalMs: number,
  logger: { info(m: string, meta?: object): unknown },
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    logger.info('connecting to the registry', { attempt, of: attempts, registry: backend.description });
    try {
      await backend.ping();
      return;
    } catch (error) {
      if (attempt >= attempts) {
        backend.close();
        throw new FatalError(
          `cannot reach ${backend.description} after ${attempts + 1} attempts (--retry-attempts): ${errorMessage(error)}`,
        );
      }
    }
    await sleep(intervalMs);
  }
}

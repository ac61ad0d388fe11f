/**
 * stats-exporter: per-container CPU, memory, network, block I/O and process metrics for
 * Prometheus under cAdvisor's names, read from cgroup files at scrape time, for the containers
 * the shared event stream knows about; plus restarts, health, exit codes and state.
 */
import type Dockerode from 'dockerode';
import { defineAgent } from '../../shared/agent';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import type { CgroupLocator } from './container';
import { createCollector } from './collectors';
import { dockerCgroupPath, resolveCgroup, type CgroupRoots } from './collectors/cgroup-location';
import { ConfigError } from '../../shared/config/errors';
import { ContainerExposition, containerLabelName, labelNameClash } from './exposition';
import { enabledFamilies } from './families';
import { ContainerInventory } from './inventory';
import { STATS_EXPORTER_PORT, statsExporterOptions } from './options';
import { collectorErrorSink, registerScrapeMetrics } from './self-metrics';

export const statsExporterAgent = defineAgent({
  name: 'stats-exporter',
  summary: 'Exposes per-container CPU, memory, network and I/O metrics to Prometheus',
  options: statsExporterOptions,
  listenPort: STATS_EXPORTER_PORT,
  async start({ docker, events, logger, metrics, http }, options) {
    const clash = labelNameClash(options.statsLabels);
    if (clash) throw new ConfigError(`--stats-labels: ${clash[0]} and ${clash[1]} would both be exported as ${containerLabelName(clash[0])}`);
    const roots: CgroupRoots = { cgroupRoot: options.statsCgroupRoot, procRoot: options.statsProcRoot };
    const cgroupDriver = engineCgroupDriver(docker, logger);
    const locate: CgroupLocator = (hints) => {
      const driver = cgroupDriver.value;
      const location = hints.pid > 0 ? resolveCgroup(roots, { ...hints, driver }) : undefined;
      return { location, path: location?.path ?? dockerCgroupPath(driver ?? 'cgroupfs', hints) };
    };

    const collectorNames = options.statsCollector === 'auto' ? ['cgroup', 'docker-api'] : [options.statsCollector];
    const errors = collectorErrorSink(metrics, [...collectorNames, 'inventory'], logger);
    const inventory = new ContainerInventory({ docker, locate, errors, logger });
    const collector = createCollector(options.statsCollector, {
      docker,
      errors,
      procRoot: options.statsProcRoot,
      ignoredInterfacePrefixes: options.statsNetworkIgnore,
      apiCacheTtlMs: options.statsApiCache,
      apiTimeoutMs: options.statsApiTimeout,
    });
    const exposition = new ContainerExposition({
      families: enabledFamilies(options.statsDisable),
      containers: () => inventory.all(),
      collector,
      include: options.statsInclude,
      exclude: options.statsExclude,
      labels: options.statsLabels,
    });
    exposition.register(metrics);
    registerScrapeMetrics(metrics, {
      up: () => events.connected && inventory.synced,
      tracked: () => inventory.size,
      currentScrape: () => exposition.scrape(),
    });

    const unsubscribe = inventory.subscribe(events);
    http.addReadinessCheck('stats-exporter', () =>
      inventory.synced ? { ready: true, detail: `${inventory.size} containers tracked` } : { ready: false, detail: 'waiting for the first container list' },
    );
    logger.info('stats-exporter ready', { collector: options.statsCollector, cgroupRoot: roots.cgroupRoot, procRoot: roots.procRoot });
    return {
      async stop() {
        unsubscribe();
      },
    };
  },
});

/**
 * The engine's cgroup driver, asked once in the background; only needed to guess cgroup paths
 * when the host's /proc is not visible, so start-up never waits for it.
 */
function engineCgroupDriver(docker: Dockerode, logger: Logger): { value?: 'cgroupfs' | 'systemd' } {
  const holder: { value?: 'cgroupfs' | 'systemd' } = {};
  docker
    .info()
    .then((info: { CgroupDriver?: string }) => {
      if (info.CgroupDriver === 'cgroupfs' || info.CgroupDriver === 'systemd') holder.value = info.CgroupDriver;
    })
    .catch((error: unknown) => logger.debug('cannot read the cgroup driver', { error: errorMessage(error) }));
  return holder;
}

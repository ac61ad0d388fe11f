/**
 * stats-exporter: per-container CPU, memory, network, block I/O and process metrics for
 * Prometheus under cAdvisor's names, read from cgroup files at scrape time, for the containers
 * the shared event stream knows about; plus restarts, health, exit codes and state.
 */
import { defineAgent } from '../../shared/agent';
import { EngineCgroupDriver } from './cgroup-driver';
import { machineContainer, type CgroupLocator } from './container';
import { collectorsOf, createCollector } from './collectors';
import { BlockDeviceNames } from './collectors/block-devices';
import { dockerCgroupPath, resolveCgroup, rootCgroupLocation, type CgroupRoots } from './collectors/cgroup-location';
import { ConfigError } from '../../shared/config/errors';
import { addToConsole } from '../../shared/ops/console/host-console';
import { ContainersSection } from './console-section';
import { ContainerExposition } from './exposition';
import { enabledFamilies, MACHINE } from './families';
import { FS_USAGE_ERRORS, WritableLayerUsage } from './fs-usage';
import { containerLabelName, labelNameClash } from './labels';
import { machineFamilies, readMachineInfo } from './machine';
import { ContainerInventory, INVENTORY_ERRORS } from './inventory';
import { STATS_EXPORTER_PORT, statsExporterOptions } from './options';
import { collectorErrorSink, registerScrapeMetrics } from './self-metrics';

export const statsExporterAgent = defineAgent({
  name: 'stats-exporter',
  summary: 'Exposes per-container CPU, memory, network and I/O metrics to Prometheus',
  options: statsExporterOptions,
  listenPort: STATS_EXPORTER_PORT,
  async start({ docker, events, logger, metrics, http }, options) {
    const clash = labelNameClash(options.statsLabels);
    if (clash)
      throw new ConfigError(
        `--stats-labels: ${clash[0]} and ${clash[1]} would both be exported as ${containerLabelName(clash[0])}`,
      );
    const roots: CgroupRoots = { cgroupRoot: options.statsCgroupRoot, procRoot: options.statsProcRoot };
    const cgroupDriver = new EngineCgroupDriver(docker, logger);
    void cgroupDriver.refresh();
    const locate: CgroupLocator = (hints) => {
      const driver = cgroupDriver.value;
      const location = hints.pid > 0 ? resolveCgroup(roots, { ...hints, driver }) : undefined;
      if (location) return { location, path: location.path };
      // A guess without the driver is provisional: named again once the engine tells its driver.
      return { path: dockerCgroupPath(driver ?? 'cgroupfs', hints), provisional: driver === undefined };
    };

    const disabled = new Set(options.statsDisable);
    const measureLayers = options.statsFsInterval > 0 && !disabled.has('disk');
    const reporters = [
      ...collectorsOf(options.statsCollector),
      INVENTORY_ERRORS,
      ...(measureLayers ? [FS_USAGE_ERRORS] : []),
    ];
    const errors = collectorErrorSink(metrics, reporters, logger);
    const devices = new BlockDeviceNames();
    const inventory = new ContainerInventory({
      docker,
      locate,
      errors,
      logger,
      beforeSync: () => cgroupDriver.refresh(),
    });
    const collector = createCollector(options.statsCollector, {
      docker,
      errors,
      procRoot: options.statsProcRoot,
      ignoredInterfacePrefixes: options.statsNetworkIgnore,
      apiCacheTtlMs: options.statsApiCache,
      apiTimeoutMs: options.statsApiTimeout,
      devices,
    });
    // The machine (cAdvisor's id="/") is read from the root cgroup: not through the Docker API.
    const rootCgroup =
      options.statsCollector === 'docker-api' || disabled.has(MACHINE)
        ? undefined
        : rootCgroupLocation(roots.cgroupRoot);
    const fsUsage = measureLayers
      ? new WritableLayerUsage({ intervalMs: options.statsFsInterval, devices, errors })
      : undefined;
    const exposition = new ContainerExposition({
      families: enabledFamilies(options.statsDisable),
      containers: () => inventory.all(),
      collector,
      include: options.statsInclude,
      exclude: options.statsExclude,
      labels: options.statsLabels,
      machine: rootCgroup && machineContainer(rootCgroup),
      machineText: disabled.has(MACHINE)
        ? undefined
        : machineFamilies(readMachineInfo({ procRoot: roots.procRoot, sysRoot: '/sys' })),
      fsUsage,
      lastSeenWindowMs: options.statsLastSeenWindow,
    });
    http.addMetricsSource(
      () => exposition.render(),
      (text) => exposition.release(text as Buffer),
    );
    registerScrapeMetrics(metrics, {
      up: () => events.connected && inventory.inStep,
      tracked: () => inventory.size,
      currentScrape: () => exposition.scrape(),
    });

    const unsubscribe = inventory.subscribe(events);
    const containersView = new ContainersSection({ containers: () => inventory.all(), collector, logger });
    if (addToConsole(http, containersView)) containersView.start();
    http.addReadinessCheck('stats-exporter', () =>
      inventory.synced
        ? { ready: true, detail: `${inventory.size} containers tracked` }
        : { ready: false, detail: 'waiting for the first container list' },
    );
    logger.info('stats-exporter ready', {
      collector: options.statsCollector,
      cgroupRoot: roots.cgroupRoot,
      procRoot: roots.procRoot,
    });
    return {
      async stop() {
        unsubscribe();
        containersView.stop();
        fsUsage?.stop();
      },
    };
  },
});

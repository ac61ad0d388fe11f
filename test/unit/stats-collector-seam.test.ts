/**
 * The collector seam (#17.2): a collector is one file (its defineCollector) and one line in
 * COLLECTORS. Its name becomes a --stats-collector choice and its declared error kinds start at 0;
 * a collector without declared kinds, or counting a kind it did not declare, does not compile.
 */
import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { COLLECTOR_CHOICES, COLLECTORS, collectorsOf, createCollector } from '../../agents/stats-exporter/collectors';
import { BlockDeviceNames } from '../../agents/stats-exporter/collectors/block-devices';
import { defineCollector, type CollectorDependencies } from '../../agents/stats-exporter/collectors/collector';
import { INVENTORY_ERRORS } from '../../agents/stats-exporter/inventory';
import { statsExporterOptions } from '../../agents/stats-exporter/options';
import { collectorErrorSink } from '../../agents/stats-exporter/self-metrics';
import { silentLogger } from '../../shared/ops/logger';

const empty = {
  async collect() {
    return new Map();
  },
};

describe('stats-exporter collector seam', () => {
  it('offers every declared collector as a --stats-collector choice, besides auto', () => {
    assert.deepEqual([...COLLECTOR_CHOICES], ['auto', ...COLLECTORS.map((c) => c.name)]);
    assert.equal(statsExporterOptions.statsCollector.placeholder, `<${COLLECTOR_CHOICES.join('|')}>`);
    assert.deepEqual(
      collectorsOf('auto').map((c) => c.name),
      ['cgroup', 'docker-api'],
    );
    assert.deepEqual(
      collectorsOf('docker-api').map((c) => c.name),
      ['docker-api'],
    );
  });

  it('starts the error metric at 0 for exactly the kinds each reporter declares, and counts under its name', async () => {
    const registry = new Registry();
    const example = defineCollector({ name: 'example', errorKinds: ['timeout', 'refused'], create: () => empty });
    const sink = collectorErrorSink(registry, [...collectorsOf('auto'), example, INVENTORY_ERRORS], silentLogger);
    sink.count(example, 'refused', 'c1', new Error('connection refused'));
    const [metric] = (await registry.getMetricsAsJSON()).filter(
      (m) => m.name === 'quayside_stats_collector_errors_total',
    );
    const series = Object.fromEntries(metric!.values.map((v) => [`${v.labels.collector}/${v.labels.kind}`, v.value]));
    assert.deepEqual(series, {
      'cgroup/container_gone': 0,
      'cgroup/cgroup_read': 0,
      'cgroup/parse': 0,
      'cgroup/network': 0,
      'docker-api/docker_api': 0,
      'example/timeout': 0,
      'example/refused': 1,
      'inventory/inspect': 0,
    });
  });

  it('refuses at compile time a collector without error kinds, or a kind it did not declare (npm run typecheck)', async () => {
    // @ts-expect-error errorKinds is required: a collector without it would silently have no series.
    defineCollector({ name: 'undeclared', create: () => empty });
    const registry = new Registry();
    const example = defineCollector({ name: 'example', errorKinds: ['timeout'], create: () => empty });
    const sink = collectorErrorSink(registry, [example], silentLogger);
    // @ts-expect-error 'refused' is not one of example's declared kinds: it would have no 0 before it is first counted.
    sink.count(example, 'refused', 'c1', new Error('connection refused'));
    const [metric] = (await registry.getMetricsAsJSON()).filter(
      (m) => m.name === 'quayside_stats_collector_errors_total',
    );
    assert.deepEqual(
      metric!.values.map((v) => [v.labels.kind, v.value]),
      [
        ['timeout', 0],
        ['refused', 1],
      ],
    );
  });

  it('creates the collector a choice names', () => {
    const deps: CollectorDependencies = {
      docker: {} as CollectorDependencies['docker'],
      errors: { count: () => undefined },
      procRoot: '/proc',
      ignoredInterfacePrefixes: [],
      apiCacheTtlMs: 0,
      apiTimeoutMs: 1000,
      devices: new BlockDeviceNames(),
    };
    for (const definition of COLLECTORS)
      assert.equal(createCollector(definition.name, deps).constructor, definition.create(deps).constructor);
  });
});

/** The stats-exporter's options, filters and its README section. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { statsExporterAgent } from '../../agents/stats-exporter';
import { isSelected, parseContainerFilter } from '../../agents/stats-exporter/container-filter';
import { FAMILIES } from '../../agents/stats-exporter/families';
import { ORCHESTRATION_LABEL_KEYS } from '../../agents/stats-exporter/labels';
import { STATS_EXPORTER_PORT } from '../../agents/stats-exporter/options';
import { addOptions } from '../../shared/config/options';
import { runtimeOptionsFor } from '../../shared/runtime/common-options';

function parse(argv: string[]): Record<string, unknown> {
  const command = addOptions(new Command('stats-exporter'), {
    ...runtimeOptionsFor(statsExporterAgent.listenPort),
    ...statsExporterAgent.options,
  })
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action(() => undefined);
  command.parse(argv, { from: 'user' });
  return command.opts();
}

describe('stats-exporter options', () => {
  it('listens on its own port by default and reads cgroups where it can', () => {
    const values = parse([]);
    assert.deepEqual(values.listen, { host: '0.0.0.0', port: STATS_EXPORTER_PORT });
    assert.equal(values.statsCollector, 'auto');
    assert.deepEqual(values.statsLabels, [...ORCHESTRATION_LABEL_KEYS]);
    assert.deepEqual(values.statsNetworkIgnore, ['lo', 'veth', 'docker', 'nerdctl']);
    assert.equal(values.statsLastSeenWindow, 300_000);
    assert.equal(values.statsFsInterval, 60_000);
  });

  it('turns labels off with an empty list and all on with *', () => {
    assert.deepEqual(parse(['--stats-labels', '']).statsLabels, []);
    assert.deepEqual(parse(['--stats-labels', '*']).statsLabels, ['*']);
    assert.throws(() => parse(['--stats-labels', 'a b']), /label key "a b": expected a Docker label key/);
  });

  it('takes comma-separated lists', () => {
    const values = parse([
      '--stats-labels',
      'com.docker.compose.service, com.docker.compose.project',
      '--stats-disable',
      'network,container_memory_cache',
    ]);
    assert.deepEqual(values.statsLabels, ['com.docker.compose.service', 'com.docker.compose.project']);
    assert.deepEqual(values.statsDisable, ['network', 'container_memory_cache']);
  });

  it('rejects a metric name it does not export, naming the groups', () => {
    assert.throws(
      () => parse(['--stats-disable', 'container_cpu_percent']),
      /neither a metric group \(cpu, cpuLoad, memory, network, diskIO, disk, pressure, process, spec, lifecycle\), machine, nor an exported metric/,
    );
  });

  it('rejects a malformed filter', () => {
    assert.throws(
      () => parse(['--stats-include', 'image=nginx']),
      /expected name=<glob>, label=<key> or label=<key>=<value>/,
    );
  });

  it('matches filters by name glob, label presence and label value', () => {
    const web = { name: 'shop-web-1', labels: { 'com.docker.compose.project': 'shop', tier: 'front' } };
    const filters = (...texts: string[]) => texts.map(parseContainerFilter);
    assert.equal(isSelected(web, filters('name=shop-*'), []), true);
    assert.equal(isSelected(web, filters('name=shop'), []), false, 'the whole name must match');
    assert.equal(isSelected(web, filters('label=tier'), []), true);
    assert.equal(isSelected(web, filters('label=tier=back'), []), false);
    assert.equal(isSelected(web, [], filters('label=com.docker.compose.project=shop')), false);
    assert.equal(isSelected(web, filters('name=/shop-web-?'), []), true, "docker's leading slash is accepted");
  });
});

describe('stats-exporter documentation (docs/stats-exporter.md)', () => {
  const section = readFileSync(join(__dirname, '..', '..', 'docs', 'stats-exporter.md'), 'utf8');

  it('documents every exported metric', () => {
    for (const family of FAMILIES)
      assert.ok(section.includes(`\`${family.name}\``), `${family.name} is in the metric table`);
  });

  it('names the default port', () => {
    assert.ok(section.includes(String(STATS_EXPORTER_PORT)));
  });
});

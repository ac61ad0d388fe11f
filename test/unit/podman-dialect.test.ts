/** Podman's event dialect, engine detection and filters, from lines a real Podman 4.3 sent. */
import { strict as assert } from 'node:assert';
import { engineFromHeaders, engineFromVersion } from '../../shared/docker/engine-kind';
import { orderingKey, parseEventLine } from '../../shared/docker/event';
import { matchesFilters, planFilters } from '../../shared/docker/event-filters';

const ID = 'fc101e4f41d14f012806b44487404b5712548fa27a48507f67ef700c8172d823';
const ATTRS = `{"a":"b","containerExitCode":"0","image":"localhost/busybox:test","name":"evt","podId":""}`;
const container = (action: string, extra = ''): string =>
  `{"status":"${action}","id":"${ID}","from":"localhost/busybox:test","Type":"container","Action":"${action}","Actor":{"ID":"${ID}","Attributes":${ATTRS}},"scope":"local","time":1796303042,"timeNano":1796303042067552105${extra}}`;

describe('Podman events, normalized', () => {
  for (const [podman, docker] of [
    ['remove', 'destroy'],
    ['died', 'die'],
    ['exec', 'exec_start'],
    ['exec_died', 'exec_die'],
    ['die', 'die'],
    ['init', 'init'],
    ['cleanup', 'cleanup'],
  ]) {
    it(`container ${podman} -> ${docker}`, () => {
      const event = parseEventLine(container(podman!), 'podman');
      assert.equal(event.action, docker);
      assert.equal(event.id, ID);
      assert.equal(event.name, 'evt');
      assert.deepEqual(
        event.attributes,
        { a: 'b', image: 'localhost/busybox:test', name: 'evt' },
        'no containerExitCode/podId noise',
      );
    });
  }

  it('the same lines from Docker keep their names (Docker has no remove or exec action)', () => {
    assert.equal(parseEventLine(container('remove')).action, 'remove');
    assert.equal(parseEventLine(container('exec')).action, 'exec');
  });

  it('health_status takes its status from the top-level HealthStatus', () => {
    const event = parseEventLine(container('health_status', ',"HealthStatus":"unhealthy"'), 'podman');
    assert.equal(event.action, 'health_status');
    assert.equal(event.detail, 'unhealthy');
  });

  it('network events name their container in attributes.container, as Docker does', () => {
    const line = `{"status":"connect","id":"${ID}","Type":"network","Action":"connect","Actor":{"ID":"${ID}","Attributes":{"containerExitCode":"0","image":"","name":"evt","podId":""}},"scope":"local","time":1796303043,"timeNano":1796303043114911989}`;
    const event = parseEventLine(line, 'podman');
    assert.equal(event.type, 'network');
    assert.equal(event.action, 'connect');
    assert.equal(event.attributes.container, ID);
    assert.equal(event.id, '', 'Podman does not say which network');
    assert.equal(orderingKey(event), `container:${ID}`, 'ordered with the container');
  });

  it('an image pull with an empty Actor.ID is named by its reference, as Docker names it', () => {
    const line =
      '{"status":"pull","Type":"image","Action":"pull","Actor":{"ID":"","Attributes":{"containerExitCode":"0","image":"","name":"busybox:test","podId":""}},"scope":"local","time":1796303053,"timeNano":1796303053964665635}';
    const event = parseEventLine(line, 'podman');
    assert.equal(event.action, 'pull');
    assert.equal(event.id, 'busybox:test');
  });

  it('image remove -> delete', () => {
    const line =
      '{"status":"remove","id":"fea07a91794a","Type":"image","Action":"remove","Actor":{"ID":"fea07a91794a","Attributes":{"name":"docker.io/library/foo:bar"}},"time":1796303044,"timeNano":1796303044089111932}';
    assert.equal(parseEventLine(line, 'podman').action, 'delete');
  });
});

describe('engine detection', () => {
  it('knows Podman by its headers', () => {
    assert.equal(engineFromHeaders({ server: 'Libpod/4.3.1 (linux)' }), 'podman');
    assert.equal(engineFromHeaders({ 'libpod-api-version': '4.3.1', server: 'Docker/28.2.2 (linux)' }), 'podman');
    assert.equal(engineFromHeaders({ server: 'Docker/28.2.2 (linux)' }), 'docker');
    assert.equal(engineFromHeaders({}), 'docker');
  });

  it('knows Podman by GET /version', () => {
    assert.equal(engineFromVersion({ Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] } as never), 'podman');
    assert.equal(
      engineFromVersion({
        Components: [
          { Name: 'Engine', Version: '28.2.2' },
          { Name: 'containerd', Version: '1.7' },
        ],
      } as never),
      'docker',
    );
    assert.equal(engineFromVersion({ Components: 'odd' } as never), 'docker');
    assert.equal(engineFromVersion(undefined), 'docker');
  });
});

describe('event filters for each engine', () => {
  it('sends Docker every filter as given', () => {
    const filters = { event: ['die', 'destroy'], network: ['n1'], scope: ['local'] };
    assert.deepEqual(planFilters(filters, 'docker'), { server: filters, client: {} });
  });

  it('translates event names for Podman and checks the normalized name here (its remove is destroy and delete)', () => {
    const plan = planFilters(
      { event: ['die', 'destroy', 'exec_start', 'exec_die', 'start'], type: ['container'] },
      'podman',
    );
    assert.deepEqual(plan.server, { event: ['died', 'remove', 'exec', 'exec_died', 'start'], type: ['container'] });
    assert.deepEqual(plan.client, { event: ['die', 'destroy', 'exec_start', 'exec_die', 'start'] });
  });

  it('filters here what Podman would answer with nothing at all (unknown keys, names it lacks)', () => {
    const plan = planFilters({ network: ['n1'], scope: ['local'], event: ['exec_create'], label: ['a=b'] }, 'podman');
    assert.deepEqual(plan.server, { label: ['a=b'] });
    assert.deepEqual(plan.client, { network: ['n1'], scope: ['local'], event: ['exec_create'] });
  });

  it('matches normalized events with Docker semantics', () => {
    const die = parseEventLine(container('died'), 'podman');
    assert.ok(matchesFilters(die, { event: ['start', 'die'], label: ['a=b'], container: ['evt'] }));
    assert.ok(matchesFilters(die, { label: ['a'], image: ['localhost/busybox:test'], scope: ['local'] }));
    assert.ok(!matchesFilters(die, { event: ['destroy'] }));
    assert.ok(!matchesFilters(die, { label: ['a=c'] }));
    assert.ok(!matchesFilters(die, { network: ['evt'] }), 'a container event is not about a network');
    assert.ok(matchesFilters(die, {}));
  });
});

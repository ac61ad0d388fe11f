import { strict as assert } from 'node:assert';
import type { DockerEvent } from '../../shared/docker/event';
import { EventStream, type SyncSnapshot } from '../../shared/docker/event-stream';
import { eventually } from '../support/eventually';
import { createContainer, execIn, removeTestContainers, startEngine, testDocker, uniqueTag } from '../support/test-env';

describe('EventStream on the test engine', function () {
  this.timeout(60_000);
  const docker = testDocker();
  let stream: EventStream | undefined;

  before(() => startEngine());
  afterEach(async () => {
    await stream?.stop();
    stream = undefined;
    await removeTestContainers(docker);
  });

  function follow(options: { healthChecks?: boolean } = {}) {
    const events: DockerEvent[] = [];
    const syncs: SyncSnapshot[] = [];
    stream = new EventStream({ docker });
    stream.subscribe({
      name: 'test',
      ...options,
      onEvent: (e) => void events.push(e),
      onSync: (s) => void syncs.push(s),
    });
    stream.start();
    return { events, syncs, stream };
  }

  it('delivers create, start, exec, rename, die and destroy normalized, in order', async () => {
    const { events, syncs, stream: s } = follow();
    await s.waitUntilConnected(10_000);
    assert.equal(syncs[0]?.reason, 'connect');

    const name = uniqueTag('qs-events');
    const container = await createContainer(docker, { name, cmd: ['sleep', '300'] });
    await container.start();
    const execId = await execIn(container, ['cat', '/etc/passwd']);
    await container.rename({ name: `${name}-renamed` });
    await container.stop({ t: 1 });
    await container.remove();

    const mine = (): DockerEvent[] => events.filter((e) => e.type === 'container' && e.id === container.id);
    await eventually(() => assert.ok(mine().some((e) => e.action === 'destroy')), 10_000);
    const actions = mine().map((e) => e.action);
    const expected = ['create', 'start', 'exec_create', 'exec_start', 'exec_die', 'rename', 'die', 'destroy'];
    assert.deepEqual(
      actions.filter((a) => expected.includes(a)),
      expected,
    );

    const byAction = new Map(mine().map((e) => [e.action, e]));
    assert.equal(byAction.get('create')!.name, name);
    assert.equal(byAction.get('create')!.image, 'busybox:test');
    assert.equal(byAction.get('create')!.attributes['quayside.test'], '1', 'labels arrive as attributes');
    assert.equal(byAction.get('exec_create')!.detail, 'cat /etc/passwd');
    assert.equal(byAction.get('exec_die')!.attributes.execID, execId);
    assert.equal(byAction.get('rename')!.name, `${name}-renamed`);
    assert.equal(byAction.get('rename')!.attributes.oldName, `/${name}`);
    assert.match(byAction.get('die')!.attributes.exitCode!, /^\d+$/);
    for (const event of mine()) assert.match(event.timeNano, /^\d{19}$/);
  });

  it('hides health-check execs by default and shows them when asked', async () => {
    const quiet = follow();
    const loudEvents: DockerEvent[] = [];
    quiet.stream.subscribe({ name: 'loud', healthChecks: true, onEvent: (e) => void loudEvents.push(e) });
    await quiet.stream.waitUntilConnected(10_000);

    const container = await createContainer(docker, {
      name: uniqueTag('qs-health'),
      cmd: ['sleep', '300'],
      healthcheck: { Test: ['CMD-SHELL', 'exit 0'], Interval: 300_000_000, Timeout: 1_000_000_000, Retries: 1 },
    });
    await container.start();
    const isExec = (e: DockerEvent) => e.id === container.id && e.action.startsWith('exec_');
    await eventually(() => assert.ok(loudEvents.filter(isExec).length >= 6, 'two health checks ran'), 10_000);
    await execIn(container, ['/bin/sh', '-c', 'echo by hand']);
    await eventually(() => assert.equal(quiet.events.filter(isExec).length, 3), 10_000);
    assert.deepEqual(
      quiet.events.filter(isExec).map((e) => e.action),
      ['exec_create', 'exec_start', 'exec_die'],
    );
    assert.equal(quiet.events.filter(isExec)[0]!.detail, '/bin/sh -c echo by hand');
    assert.ok(loudEvents.some((e) => isExec(e) && e.detail === '/bin/sh -c exit 0'));
  });

  it('replays events from a point in the past with since', async () => {
    const before = `${BigInt(Date.now() - 1_000) * 1_000_000n}`;
    const container = await createContainer(docker, { name: uniqueTag('qs-since'), cmd: ['true'] });
    await container.start();
    await container.wait();
    const events: DockerEvent[] = [];
    stream = new EventStream({ docker, since: before, filters: { container: [container.id] } });
    stream.subscribe({ name: 'replay', onEvent: (e) => void events.push(e) });
    stream.start();
    await eventually(() =>
      assert.deepEqual(
        events.map((e) => e.action).filter((a) => ['create', 'start', 'die'].includes(a)),
        ['create', 'start', 'die'],
      ),
    );
  });
});

/** The container inventory kept from Docker events and sync snapshots. */
import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import type { CgroupLocator } from '../../agents/stats-exporter/container';
import type { ErrorSink } from '../../agents/stats-exporter/collectors/errors';
import { EventEmitter } from 'node:events';
import { EngineCgroupDriver, type CgroupDriver } from '../../agents/stats-exporter/cgroup-driver';
import { ContainerInventory } from '../../agents/stats-exporter/inventory';
import type { DockerEvent } from '../../shared/docker/event';
import type { EventStream, EventSubscription, SyncSnapshot } from '../../shared/docker/event-stream';

type Inspect = Dockerode.ContainerInspectInfo;

/** An engine double: containers by id, as inspect would return them. */
class FakeEngine {
  readonly inspected: string[] = [];
  readonly containers = new Map<string, Inspect>();
  failing = false;

  readonly docker = {
    getContainer: (id: string) => ({
      inspect: async () => {
        this.inspected.push(id);
        if (this.failing) throw Object.assign(new Error('engine busy'), { statusCode: 500 });
        const info = this.containers.get(id);
        if (!info) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return structuredClone(info);
      },
    }),
  } as unknown as Pick<Dockerode, 'getContainer'>;

  put(
    id: string,
    change: {
      name?: string;
      status?: string;
      pid?: number;
      startedAt?: string;
      finishedAt?: string;
      exitCode?: number;
      restartCount?: number;
      health?: string;
      memory?: number;
    },
  ): void {
    const previous = this.containers.get(id);
    this.containers.set(id, {
      Id: id,
      Name: `/${change.name ?? previous?.Name.slice(1) ?? id}`,
      Created: '2026-11-27T10:00:00Z',
      RestartCount: change.restartCount ?? previous?.RestartCount ?? 0,
      Config: { Image: 'busybox:test', Labels: { team: 'shop' } },
      HostConfig: { CgroupParent: '', Memory: change.memory ?? 0, NanoCpus: 500_000_000 },
      State: {
        Status: change.status ?? 'running',
        Pid: change.pid ?? 100,
        StartedAt: change.startedAt ?? previous?.State.StartedAt ?? '2026-11-27T10:00:01Z',
        FinishedAt: change.finishedAt ?? '0001-01-01T00:00:00Z',
        ExitCode: change.exitCode ?? 0,
        Health: change.health ? { Status: change.health } : undefined,
      },
    } as unknown as Inspect);
  }

  list(): Dockerode.ContainerInfo[] {
    return [...this.containers.values()].map(
      (c) => ({ Id: c.Id, Names: [c.Name], State: c.State.Status }) as Dockerode.ContainerInfo,
    );
  }
}

const locate: CgroupLocator = ({ id, pid }) => ({
  location: pid > 0 ? { version: 2, path: `/docker/${id}`, dir: `/x/${id}` } : undefined,
  path: `/docker/${id}`,
});

function event(id: string, action: string, detail = '', attributes: Record<string, string> = {}): DockerEvent {
  return { type: 'container', action, detail, id, name: '', image: '', attributes, scope: 'local', timeNano: '1' };
}
function sync(engine: FakeEngine): SyncSnapshot {
  return { reason: 'connect', containers: engine.list(), at: new Date() };
}

/** The part of the event stream the inventory uses: subscribe, and the connection events. */
class FakeStream extends EventEmitter {
  subscription: EventSubscription | undefined;
  subscribe(subscription: EventSubscription): () => void {
    this.subscription = subscription;
    return () => (this.subscription = undefined);
  }
}

describe('stats-exporter inventory after a reconnect', () => {
  it('is out of step from a disconnect until the sync after the reconnect is applied', async () => {
    const engine = new FakeEngine();
    const stream = new FakeStream();
    const inventory = new ContainerInventory({ docker: engine.docker, locate, errors: { count: () => undefined } });
    const unsubscribe = inventory.subscribe(stream as unknown as EventStream);
    engine.put('a', { name: 'web' });
    assert.equal(inventory.inStep, false);
    await stream.subscription!.onSync!(sync(engine));
    assert.equal(inventory.inStep, true);
    stream.emit('disconnected');
    stream.emit('connected'); // reconnected, but events of the gap are not known yet
    assert.equal(inventory.inStep, false);
    assert.equal(inventory.synced, true, 'readiness: it did list the containers once');
    await stream.subscription!.onSync!({ ...sync(engine), reason: 'reconnect' });
    assert.equal(inventory.inStep, true);
    unsubscribe();
    assert.equal(stream.listenerCount('disconnected'), 0);
  });

  it('re-inspects running containers: a restart whose events were lost changes nothing the listing shows', async () => {
    const engine = new FakeEngine();
    const inventory = new ContainerInventory({ docker: engine.docker, locate, errors: { count: () => undefined } });
    engine.put('a', { name: 'web', pid: 100, startedAt: '2026-11-27T10:00:01Z' });
    await inventory.handleSync(sync(engine));
    engine.put('a', { pid: 200, startedAt: '2026-11-27T12:00:00Z' }); // died and started while we were away
    await inventory.handleSync({ ...sync(engine), reason: 'periodic' });
    assert.equal(inventory.get('a')!.restarts, 0, 'a periodic sync trusts the events');
    await inventory.handleSync({ ...sync(engine), reason: 'reconnect' });
    assert.equal(inventory.get('a')!.restarts, 1);
    assert.equal(inventory.get('a')!.startedAt, Date.parse('2026-11-27T12:00:00Z') / 1000);
  });
});

describe('stats-exporter inventory and the cgroup driver', () => {
  it("names a stopped container's cgroup again once the engine tells its driver (systemd here)", async () => {
    const engine = new FakeEngine();
    let driver: CgroupDriver | undefined;
    const guessing: CgroupLocator = ({ id }) =>
      driver === 'systemd'
        ? { path: `/system.slice/docker-${id}.scope` }
        : { path: `/docker/${id}`, provisional: driver === undefined };
    let asked = 0;
    const beforeSync = async (): Promise<void> => {
      asked += 1;
      if (asked === 2) driver = 'systemd'; // the engine was down at the first question
    };
    const inventory = new ContainerInventory({
      docker: engine.docker,
      locate: guessing,
      errors: { count: () => undefined },
      beforeSync,
    });
    engine.put('s', { name: 'stopped', status: 'exited', pid: 0 });
    await inventory.handleSync(sync(engine));
    assert.equal(inventory.get('s')!.cgroupPath, '/docker/s');
    await inventory.handleSync({ ...sync(engine), reason: 'periodic' });
    assert.equal(inventory.get('s')!.cgroupPath, '/system.slice/docker-s.scope');
    assert.equal(asked, 2);
  });

  it('asks the engine for its driver again while it did not answer, and never once it did', async () => {
    let calls = 0;
    const answers: Array<() => Promise<{ CgroupDriver?: string }>> = [
      () => Promise.reject(new Error('connect ECONNREFUSED')),
      () => Promise.resolve({ CgroupDriver: 'systemd' }),
    ];
    const driver = new EngineCgroupDriver({ info: () => answers[Math.min(calls++, 1)]!() } as never);
    await driver.refresh();
    assert.equal(driver.value, undefined);
    await driver.refresh();
    assert.equal(driver.value, 'systemd');
    await driver.refresh();
    assert.equal(calls, 2);
  });

  it('does not hold a sync up when the engine does not answer', async () => {
    const driver = new EngineCgroupDriver({ info: () => new Promise(() => undefined) } as never);
    const started = Date.now();
    await driver.refresh(50);
    assert.ok(Date.now() - started < 2_000);
    assert.equal(driver.value, undefined);
  });
});

describe('stats-exporter inventory', () => {
  let engine: FakeEngine;
  let errors: string[];
  let inventory: ContainerInventory;
  beforeEach(() => {
    engine = new FakeEngine();
    errors = [];
    const sink: ErrorSink = { count: (_c, kind) => errors.push(kind) };
    inventory = new ContainerInventory({ docker: engine.docker, locate, errors: sink });
  });

  it('learns every container from the first sync and is synced after it', async () => {
    engine.put('a', { name: 'web' });
    engine.put('b', { name: 'old', status: 'exited', pid: 0, finishedAt: '2026-11-27T11:00:00Z', exitCode: 3 });
    assert.equal(inventory.synced, false);
    await inventory.handleSync(sync(engine));
    assert.equal(inventory.synced, true);
    const web = inventory.get('a')!;
    assert.deepEqual(
      [web.name, web.image, web.labels.team, web.state, web.pid, web.cgroup?.path],
      ['web', 'busybox:test', 'shop', 'running', 100, '/docker/a'],
    );
    assert.equal(web.configuredSpec.cpuQuotaMicros, 50_000, '--cpus 0.5 is half of each 100 ms period');
    const old = inventory.get('b')!;
    assert.deepEqual([old.state, old.cgroup, old.lastExitCode], ['exited', undefined, 3]);
  });

  it('inspects again only what changed at the next sync, and drops what is gone', async () => {
    engine.put('a', {});
    engine.put('b', {});
    await inventory.handleSync(sync(engine));
    engine.inspected.length = 0;
    engine.put('b', { status: 'exited', pid: 0 });
    engine.containers.delete('a');
    await inventory.handleSync(sync(engine));
    assert.deepEqual(engine.inspected, ['b']);
    assert.equal(inventory.get('a'), undefined);
    assert.equal(inventory.get('b')?.state, 'exited');
  });

  it('on start takes the new pid and cgroup and counts a restart; the id label stays', async () => {
    engine.put('a', { pid: 100 });
    await inventory.handleSync(sync(engine));
    engine.put('a', { pid: 0, status: 'exited', finishedAt: '2026-11-27T10:05:00Z', exitCode: 137 });
    await inventory.handleEvent(event('a', 'die', '', { exitCode: '137' }));
    assert.deepEqual(
      [inventory.get('a')?.state, inventory.get('a')?.lastExitCode, inventory.get('a')?.cgroup],
      ['exited', 137, undefined],
    );
    engine.put('a', { pid: 200, startedAt: '2026-11-27T10:05:01Z' });
    await inventory.handleEvent(event('a', 'start'));
    const record = inventory.get('a')!;
    assert.deepEqual([record.pid, record.restarts, record.cgroupPath, record.lastExitCode], [200, 1, '/docker/a', 137]);
    // The same start seen again (a replay after a reconnect) is not a second restart.
    await inventory.handleEvent(event('a', 'start'));
    assert.equal(inventory.get('a')?.restarts, 1);
  });

  it('counts restart-policy restarts it missed from RestartCount', async () => {
    engine.put('a', { restartCount: 2 });
    await inventory.handleSync(sync(engine));
    assert.equal(inventory.get('a')?.restarts, 2, 'restarts before we watched');
    engine.put('a', { restartCount: 5, startedAt: '2026-11-27T10:09:00Z', status: 'restarting' });
    await inventory.handleSync(sync(engine));
    assert.equal(inventory.get('a')?.restarts, 5);
  });

  it('takes the exit code from the die event when the container restarts before the inspect', async () => {
    engine.put('a', {});
    await inventory.handleSync(sync(engine));
    engine.put('a', { startedAt: '2026-11-27T10:06:00Z' }); // already running again
    await inventory.handleEvent(event('a', 'die', '', { exitCode: '2' }));
    assert.equal(inventory.get('a')?.lastExitCode, 2);
  });

  it('follows renames, updates, health and OOM events, and forgets destroyed containers', async () => {
    engine.put('a', { name: 'web' });
    await inventory.handleSync(sync(engine));
    engine.put('a', { name: 'web-2' });
    await inventory.handleEvent(event('a', 'rename'));
    assert.equal(inventory.get('a')?.name, 'web-2');
    engine.put('a', { memory: 64 * 1024 * 1024 });
    await inventory.handleEvent(event('a', 'update'));
    assert.equal(inventory.get('a')?.configuredSpec.memoryLimitBytes, 64 * 1024 * 1024);
    await inventory.handleEvent(event('a', 'health_status', 'unhealthy'));
    await inventory.handleEvent(event('a', 'oom'));
    await inventory.handleEvent(event('a', 'oom'));
    assert.deepEqual([inventory.get('a')?.health, inventory.get('a')?.oomEvents], ['unhealthy', 2]);
    await inventory.handleEvent(event('a', 'destroy'));
    assert.equal(inventory.size, 0);
  });

  it('counts a failed inspect and keeps what it knew', async () => {
    engine.put('a', { name: 'web' });
    await inventory.handleSync(sync(engine));
    engine.failing = true;
    await inventory.handleEvent(event('a', 'rename'));
    assert.deepEqual(errors, ['inspect']);
    assert.equal(inventory.get('a')?.name, 'web');
  });
});

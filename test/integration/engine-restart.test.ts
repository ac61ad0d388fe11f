/**
 * The promise of the event core: restart dockerd while containers change state, and every
 * subscriber still ends up agreeing with the engine, without any event delivered twice.
 */
import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import type { DockerEvent } from '../../shared/docker/event';
import { EventStream, type SyncSnapshot } from '../../shared/docker/event-stream';
import { eventually } from '../support/eventually';
import {
  createContainer,
  removeTestContainers,
  startEngine,
  stopEngine,
  testDocker,
  uniqueTag,
} from '../support/test-env';

const RUN_LABEL = 'quayside.test.run';

/** What a subscriber believes about the containers of one test run: id → running. */
class ContainerModel {
  readonly running = new Map<string, boolean>();
  readonly delivered: string[] = [];

  constructor(private readonly run: string) {}

  onEvent(event: DockerEvent): void {
    if (event.attributes[RUN_LABEL] !== this.run) return;
    this.delivered.push(`${event.timeNano}|${event.action}|${event.id}`);
    if (event.action === 'create') this.running.set(event.id, false);
    if (event.action === 'start') this.running.set(event.id, true);
    if (event.action === 'die') this.running.set(event.id, false);
    if (event.action === 'destroy') this.running.delete(event.id);
  }

  onSync(snapshot: SyncSnapshot): void {
    this.running.clear();
    for (const container of snapshot.containers) {
      if (container.Labels[RUN_LABEL] === this.run) this.running.set(container.Id, container.State === 'running');
    }
  }
}

async function engineTruth(docker: Dockerode, run: string): Promise<Map<string, boolean>> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${run}`] } });
  return new Map(containers.map((c) => [c.Id, c.State === 'running']));
}

describe('surviving a restart of the test engine', function () {
  this.timeout(180_000);
  const docker = testDocker();
  let stream: EventStream | undefined;

  afterEach(async () => {
    await startEngine(); // a failed test must not leave the engine down for the next one
    await stream?.stop();
    await removeTestContainers(docker);
  });

  it('converges on the engine state and delivers no event twice', async () => {
    await startEngine();
    const run = uniqueTag('restart');
    const labels = { [RUN_LABEL]: run };
    const model = new ContainerModel(run);
    stream = new EventStream({ docker, backoff: { initialMs: 100, maxMs: 1_000, factor: 2 } });
    stream.subscribe({
      name: 'model',
      types: ['container'],
      onEvent: (e) => model.onEvent(e),
      onSync: (s) => model.onSync(s),
    });
    stream.start();
    await stream.waitUntilConnected(10_000);

    const start = async (name: string, cmd: string[], restartPolicy: 'no' | 'always' = 'no') => {
      const container = await createContainer(docker, { name: uniqueTag(name), cmd, labels, restartPolicy });
      await container.start();
      return container;
    };
    const steady = await start('qs-steady', ['sleep', '300']); // stops with the engine, stays stopped
    const comeback = await start('qs-comeback', ['sleep', '300'], 'always'); // restarted by the engine
    const flapper = await start('qs-flapper', ['sh', '-c', 'sleep 1; exit 3'], 'always'); // keeps changing
    await eventually(() => assert.equal(model.running.get(steady.id), true));

    // Changes right before the engine goes down.
    const doomed = await start('qs-doomed', ['sleep', '300']);
    await doomed.remove({ force: true });
    const latecomer = await createContainer(docker, { name: uniqueTag('qs-latecomer'), cmd: ['sleep', '300'], labels });

    await stopEngine();
    await eventually(() => assert.equal(stream!.connected, false));
    await startEngine();
    // A change the moment the engine is back, most likely before the stream has reconnected.
    const fresh = await start('qs-fresh', ['sleep', '300']);
    await stream.waitUntilConnected(30_000);

    await eventually(
      async () =>
        assert.deepEqual(new Map([...model.running].sort()), new Map([...(await engineTruth(docker, run))].sort())),
      20_000,
      100,
    );
    assert.equal(model.running.get(steady.id), false, 'steady stopped with the engine');
    assert.equal(model.running.has(doomed.id), false, 'doomed is gone');
    assert.equal(model.running.get(latecomer.id), false, 'latecomer was created, never started');
    assert.equal(model.running.get(fresh.id), true);
    assert.ok(model.running.has(comeback.id) && model.running.has(flapper.id));

    // The events of `fresh` arrived as events (replayed with since or live), not only through the sync.
    const freshActions = model.delivered.filter((d) => d.endsWith(`|${fresh.id}`)).map((d) => d.split('|')[1]);
    assert.deepEqual(freshActions.slice(0, 2), ['create', 'start']);
    assert.equal(new Set(model.delivered).size, model.delivered.length, 'an event was delivered twice');
    assert.ok(stream.stats.reconnects >= 1);
  });
});

import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../shared/docker/keyed-queue';
import { eventually } from '../support/eventually';

const failOnError = (error: unknown): never => assert.fail(error instanceof Error ? error : String(error));

describe('KeyedQueue', () => {
  it('runs one key in order even when earlier tasks are slower', async () => {
    const queue = new KeyedQueue(failOnError);
    const order: string[] = [];
    void queue.push('c1', async () => {
      await sleep(30);
      order.push('die');
    });
    void queue.push('c1', () => {
      order.push('start');
    });
    await queue.idle();
    assert.deepEqual(order, ['die', 'start']);
  });

  it('runs different keys concurrently', async () => {
    const queue = new KeyedQueue(failOnError);
    const order: string[] = [];
    void queue.push('slow', async () => {
      await sleep(30);
      order.push('slow');
    });
    void queue.push('fast', () => {
      order.push('fast');
    });
    await queue.idle();
    assert.deepEqual(order, ['fast', 'slow']);
  });

  it('runs an exclusive task after everything before it and before everything after it', async () => {
    const queue = new KeyedQueue(failOnError);
    const order: string[] = [];
    void queue.push('a', async () => {
      await sleep(20);
      order.push('a1');
    });
    void queue.push('b', () => {
      order.push('b1');
    });
    void queue.exclusive(async () => {
      await sleep(10);
      order.push('sync');
    });
    void queue.push('c', () => {
      order.push('c1');
    });
    void queue.push('a', () => {
      order.push('a2');
    });
    await queue.idle();
    assert.deepEqual(order, ['b1', 'a1', 'sync', 'c1', 'a2']);
  });

  it('reports a failing task and goes on with the next one of the same key', async () => {
    const errors: unknown[] = [];
    const queue = new KeyedQueue((error) => errors.push(error));
    let ran = false;
    void queue.push('k', () => {
      throw new Error('handler broke');
    });
    void queue.push('k', () => {
      ran = true;
    });
    await queue.idle();
    assert.equal(ran, true);
    assert.equal((errors[0] as Error).message, 'handler broke');
    assert.equal(queue.pending, 0);
  });
});

describe('KeyedQueue isolation of a key that does not finish', () => {
  const never = (): Promise<void> => new Promise<void>(() => undefined);

  it('lets an exclusive task pass a keyed task that has run past isolateAfterMs, and reports the key', async () => {
    const isolated: string[] = [];
    const queue = new KeyedQueue({ onError: failOnError, isolateAfterMs: 50, onIsolated: (key) => isolated.push(key) });
    const order: string[] = [];
    void queue.push('wedged', never);
    void queue.push('other', () => void order.push('other'));
    void queue.exclusive(() => void order.push('sync'));
    void queue.push('later', () => void order.push('later'));
    await eventually(() => assert.deepEqual(order, ['other', 'sync', 'later']));
    assert.deepEqual(isolated, ['wedged']);
  });

  it('keeps the isolated key in order: its next task still waits for it', async () => {
    const queue = new KeyedQueue({ onError: failOnError, isolateAfterMs: 30 });
    const order: string[] = [];
    let finish!: () => void;
    void queue.push('slow', () =>
      new Promise<void>((resolve) => (finish = resolve)).then(() => void order.push('slow-1')),
    );
    void queue.exclusive(() => void order.push('sync'));
    void queue.push('slow', () => void order.push('slow-2'));
    await eventually(() => assert.deepEqual(order, ['sync']));
    await sleep(50);
    assert.deepEqual(order, ['sync']);
    finish();
    await eventually(() => assert.deepEqual(order, ['sync', 'slow-1', 'slow-2']));
  });

  it('does not hold idle() (shutdown) for an isolated key', async () => {
    const queue = new KeyedQueue({ onError: failOnError, isolateAfterMs: 40 });
    void queue.push('wedged', never);
    const began = Date.now();
    await queue.idle();
    assert.ok(Date.now() - began < 1_000);
    assert.equal(queue.pending, 1);
  });

  it('tells the oldest waiting task and the keys running longest', async () => {
    let now = 1_000;
    const queue = new KeyedQueue({ onError: failOnError, clock: () => now });
    void queue.push('wedged', never);
    await sleep(5); // started
    now = 2_000;
    void queue.push('wedged', () => undefined);
    await sleep(5);
    now = 9_000;
    assert.deepEqual(queue.oldest(), { key: 'wedged', queuedAt: 1_000, startedAt: 1_000 });
    assert.deepEqual(queue.slowKeys(5_000), [{ key: 'wedged', runningMs: 8_000 }]);
    assert.deepEqual(queue.slowKeys(10_000), []);
    assert.equal(queue.pending, 2);
  });
});

import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../shared/docker/keyed-queue';

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

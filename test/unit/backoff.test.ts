import { strict as assert } from 'node:assert';
import { backoffDelay } from '../../shared/docker/backoff';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1_000, factor: 2 };

  it('grows exponentially between half and all of each step', () => {
    assert.equal(
      backoffDelay(0, policy, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(0, policy, () => 0.999999),
      100,
    );
    assert.equal(
      backoffDelay(2, policy, () => 0),
      200,
    );
    assert.equal(
      backoffDelay(2, policy, () => 0.999999),
      400,
    );
  });

  it('is capped, even after very many attempts', () => {
    assert.equal(
      backoffDelay(3, policy, () => 0.999999),
      800,
    );
    assert.equal(
      backoffDelay(4, policy, () => 0.999999),
      1_000,
    );
    assert.equal(
      backoffDelay(10_000, policy, () => 0.999999),
      1_000,
    );
    assert.equal(
      backoffDelay(10_000, policy, () => 0),
      500,
    );
  });

  it('spreads retries with jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, policy)));
    assert.ok(delays.size > 10, `expected varied delays, got ${[...delays].join(',')}`);
    for (const delay of delays) assert.ok(delay >= 500 && delay <= 1_000);
  });
});

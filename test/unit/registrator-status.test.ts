/**
 * The registry status on its own, with fake timers: what readiness says, and the full reconcile
 * tried again after an outage with a delay that grows, is capped, restarts after a recovery, and
 * is never pending twice or after shutdown.
 */
import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import { RegistryStatus } from '../../agents/registrator/registry-status';

const WHERE = 'consul agent at http://127.0.0.1:8500';
const INTERVAL_MS = 1_000;
/** The cap of the delay between retries. */
const MAX_MS = 30_000;

describe('registrator registry status', () => {
  let clock: sinon.SinonFakeTimers;
  let stopping: AbortController;
  let retry: sinon.SinonSpy;
  let status: RegistryStatus;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
    stopping = new AbortController();
    retry = sinon.spy();
    status = new RegistryStatus({ retryIntervalMs: INTERVAL_MS, retry, signal: stopping.signal });
  });
  afterEach(() => clock.restore());

  /** Fails once, and checks that the retry runs after half of `step` and by its end (the jitter's range). */
  function retryDelayAfterFailure(step: number): void {
    const before = retry.callCount;
    status.failed('connect ECONNREFUSED');
    clock.tick(Math.floor(step / 2) - 1);
    assert.equal(retry.callCount, before, `no retry before half of the ${step} ms step`);
    clock.tick(step - Math.floor(step / 2) + 1);
    assert.equal(retry.callCount, before + 1, `one retry by the end of the ${step} ms step`);
  }

  it('says why it is not ready: no answer yet, then the error and when it tries again', () => {
    assert.equal(status.up, false);
    assert.equal(status.outage(WHERE), `waiting for the first reconcile with ${WHERE}`);
    status.failed('503 Service Unavailable');
    assert.equal(status.error, '503 Service Unavailable');
    // The first delay is 0.5–1 s, shown rounded.
    assert.equal(status.outage(WHERE), `cannot reach ${WHERE}: 503 Service Unavailable; retrying in 1s`);
    status.answered();
    assert.deepEqual([status.up, status.error, status.outage(WHERE)], [true, undefined, undefined]);
  });

  it('doubles the delay with each outage in a row, up to 30 s', () => {
    for (let step = INTERVAL_MS; step < MAX_MS; step *= 2) retryDelayAfterFailure(step);
    retryDelayAfterFailure(MAX_MS);
    retryDelayAfterFailure(MAX_MS);
  });

  it('starts again from the first delay once a full reconcile wrote everything', () => {
    retryDelayAfterFailure(INTERVAL_MS);
    retryDelayAfterFailure(2 * INTERVAL_MS);
    retryDelayAfterFailure(4 * INTERVAL_MS);
    status.recovered();
    retryDelayAfterFailure(INTERVAL_MS);
  });

  it('keeps one retry pending however many calls fail meanwhile', () => {
    status.failed('a');
    status.failed('b');
    status.failed('c');
    assert.equal(status.error, 'c');
    clock.tick(MAX_MS);
    assert.equal(retry.callCount, 1);
    // The failures while one was pending did not grow the delay.
    retryDelayAfterFailure(2 * INTERVAL_MS);
  });

  it('after shutdown, drops the pending retry and schedules none', () => {
    status.failed('a');
    stopping.abort();
    status.failed('b');
    clock.tick(10 * MAX_MS);
    assert.equal(retry.callCount, 0);
  });
});

import { strict as assert } from 'node:assert';
import { compareTimeNano, parsePointInTime, sinceParam } from '../../shared/docker/time';

describe('Docker time helpers', () => {
  it('formats since as seconds and nine fraction digits', () => {
    assert.equal(sinceParam('1700000000123456789'), '1700000000.123456789');
    assert.equal(sinceParam('1700000000000000042'), '1700000000.000000042');
    assert.equal(sinceParam('0'), '0.000000000');
  });

  it('compares beyond double precision', () => {
    assert.equal(compareTimeNano('1700000000000000001', '1700000000000000000'), 1);
    assert.equal(compareTimeNano('1700000000000000000', '1700000000000000001'), -1);
    assert.equal(compareTimeNano('42', '42'), 0);
  });

  it('reads Unix seconds, RFC 3339 and durations ago', () => {
    const now = () => 1_700_000_000_000;
    assert.equal(parsePointInTime('1700000000.5', now), '1700000000500000000');
    assert.equal(parsePointInTime('1700000000', now), '1700000000000000000');
    assert.equal(parsePointInTime('2023-11-14T22:13:20Z', now), '1700000000000000000');
    assert.equal(parsePointInTime('10m', now), '1699999400000000000');
    assert.equal(parsePointInTime('1500ms', now), '1699999998500000000');
    // Compound Go durations, as `docker events --since 1m30s` takes them.
    assert.equal(parsePointInTime('1m30s', now), '1699999910000000000');
    assert.equal(parsePointInTime('1h0m0.5s', now), '1699996399500000000');
  });

  it('names the accepted forms when it cannot read the time', () => {
    assert.throws(() => parsePointInTime('yesterday'), /Unix seconds.*RFC 3339.*duration ago.*'yesterday'/);
    assert.throws(() => parsePointInTime('2023-13-45T99:00:00Z'), /got '2023-13-45/);
  });
});

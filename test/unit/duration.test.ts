/** One duration syntax everywhere: Go's (`1m30s`), and plain seconds where a flag takes a number. */
import { strict as assert } from 'node:assert';
import { durationMs, goDurationNs } from '../../shared/config/duration';

describe('Go durations', () => {
  it('reads every unit and compound forms as Go time.ParseDuration does', () => {
    assert.equal(goDurationNs('1m30s'), 90e9);
    assert.equal(goDurationNs('1.5h'), 5_400e9);
    assert.equal(goDurationNs('2h45m10s'), (2 * 3600 + 45 * 60 + 10) * 1e9);
    assert.equal(goDurationNs('300ms'), 300e6);
    assert.equal(goDurationNs('250us'), 250e3);
    assert.equal(goDurationNs('250µs'), 250e3);
    assert.equal(goDurationNs('7ns'), 7);
    assert.equal(goDurationNs('.5s'), 0.5e9);
    assert.equal(goDurationNs('0'), 0);
  });

  it('refuses what Go refuses: bare numbers but 0, signs, spaces, unknown units, empty parts', () => {
    for (const text of ['', '10', '-1s', '+1s', '1 s', '1d', '1m 30s', 's', '1.5', 'm1', '1s.', '1e3s', '10sec']) {
      assert.ok(Number.isNaN(goDurationNs(text)), text);
    }
  });

  it('takes plain numbers as seconds for flags, and gives milliseconds', () => {
    assert.equal(durationMs('30'), 30_000);
    assert.equal(durationMs(' 1m30s '), 90_000);
    assert.equal(durationMs('500ms'), 500);
    assert.ok(Number.isNaN(durationMs('soon')));
  });
});

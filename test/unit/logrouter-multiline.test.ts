/** Multiline merging per stream: continuation and start patterns, maximum lines, timeout, acknowledgements. */
import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import type { LogMessage } from '../../agents/logrouter/message';
import { MultilineMerger, multilineSettings } from '../../agents/logrouter/multiline';
import { cpuMillisOf } from '../support/cpu-time';

const container = { id: 'c', name: 'c', image: 'i', hostname: 'h', pid: 1, labels: {}, tty: false };

describe('logrouter multiline', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());

  function run(options: Record<string, string>, lines: Array<[string, 'stdout' | 'stderr']>) {
    const out: LogMessage[] = [];
    const acked: string[] = [];
    const merger = new MultilineMerger(multilineSettings(options)!, (m) => out.push(m));
    for (const [text, source] of lines) {
      merger.push({
        container,
        source,
        ts: '2026-11-27T20:20:15.620573110Z',
        data: Buffer.from(text),
        done: () => acked.push(text),
      });
    }
    return { out, acked, merger, texts: () => out.map((m) => `${m.source}:${m.data.toString()}`) };
  }

  it('joins indented lines to the line before them, per stream, and acknowledges every member', () => {
    const r = run({ multiline: 'true' }, [
      ['Exception: boom', 'stderr'],
      ['info line', 'stdout'],
      ['  at a()', 'stderr'],
      ['  at b()', 'stderr'],
      ['next', 'stderr'],
    ]);
    r.merger.flushAll();
    assert.deepEqual(r.texts(), ['stderr:Exception: boom\n  at a()\n  at b()', 'stdout:info line', 'stderr:next']);
    r.out[0]!.done();
    assert.deepEqual(r.acked, ['Exception: boom', '  at a()', '  at b()']);
  });

  it('with a start pattern, every line not matching it continues the message, up to max_lines', () => {
    const r = run({ 'multiline.start': '^\\d{4}-', 'multiline.max_lines': '3' }, [
      ['2026-01-01 first', 'stdout'],
      ['detail 1', 'stdout'],
      ['detail 2', 'stdout'],
      ['detail 3', 'stdout'],
      ['2026-01-02 second', 'stdout'],
    ]);
    r.merger.flushAll();
    assert.deepEqual(r.texts(), [
      'stdout:2026-01-01 first\ndetail 1\ndetail 2',
      'stdout:detail 3',
      'stdout:2026-01-02 second',
    ]);
  });

  it('sends an open message after the timeout without a new line', () => {
    const r = run({ multiline: 'true', 'multiline.timeout': '200' }, [
      ['head', 'stdout'],
      ['  more', 'stdout'],
    ]);
    assert.equal(r.out.length, 0);
    clock.tick(199);
    assert.equal(r.out.length, 0);
    clock.tick(1);
    assert.deepEqual(r.texts(), ['stdout:head\n  more']);
  });

  it('reads the timeout as a Go duration, a bare number as milliseconds (logspout)', () => {
    assert.equal(multilineSettings({ multiline: 'true', 'multiline.timeout': '1m30s' })?.timeoutMs, 90_000);
    assert.equal(multilineSettings({ multiline: 'true', 'multiline.timeout': '1.5s' })?.timeoutMs, 1_500);
    assert.equal(multilineSettings({ multiline: 'true', 'multiline.timeout': '250' })?.timeoutMs, 250);
  });

  it('is off unless asked for, and names a bad pattern', () => {
    assert.equal(multilineSettings({}), undefined);
    assert.throws(() => multilineSettings({ 'multiline.start': '(' }), /multiline.start "\(": .*missing closing \)/);
    assert.throws(
      () => multilineSettings({ 'multiline.continue': '^(?=\\s)' }),
      /multiline.continue "\^\(\?=\\\\s\)": .*invalid or unsupported Perl syntax/,
      'lookaround has no linear-time engine: refused when the route is added',
    );
  });

  it('tests its patterns in time linear in the line: a backtracking pattern cannot freeze the logrouter (ReDoS)', () => {
    // Under RegExp, the pattern against 42 characters then `!` runs for minutes.
    const line = 'a'.repeat(42) + '!';
    for (const key of ['multiline.start', 'multiline.continue']) {
      let r: ReturnType<typeof run> | undefined;
      const cpuMs = cpuMillisOf(() => {
        r = run({ [key]: '^([a-z0-9]+-?)+$' }, [
          ['first', 'stdout'],
          [line, 'stdout'],
        ]);
      });
      r!.merger.flushAll();
      assert.equal(r!.out.length, key === 'multiline.start' ? 1 : 2, key);
      assert.ok(cpuMs < 500, `${key}: ${cpuMs} ms of CPU`);
    }
  });
});

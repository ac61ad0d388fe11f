/** Reading Docker log streams: frames, partial lines, TTY, the maximum line, and exactly-once bookkeeping. */
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { AttachCapture } from '../../agents/logrouter/attach-capture';
import { LogTail, missingLines } from '../../agents/logrouter/capture-fill';
import { DeliveryTracker, QUIET_MARGIN_MS, type StreamPositions } from '../../agents/logrouter/delivery-tracker';
import { dockerTimestamp, LogParser } from '../../agents/logrouter/log-parser';
import { resumeSinceOf, sinceOf, type LogLine } from '../../agents/logrouter/message';

const T1 = '2026-11-27T20:20:15.620573110Z';
const T2 = '2026-11-27T20:20:15.620573111Z';
const T3 = '2026-11-27T20:20:16.000000000Z';

function frame(stream: 1 | 2, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function parse(
  chunks: Buffer[],
  options: { tty?: boolean; max?: number; end?: boolean } = {},
): { lines: LogLine[]; malformed: string[] } {
  const lines: LogLine[] = [];
  const malformed: string[] = [];
  const parser = new LogParser({
    tty: options.tty ?? false,
    maxLineBytes: options.max ?? 1 << 20,
    onLine: (l) => lines.push(l),
    onMalformed: (r) => malformed.push(r),
  });
  for (const chunk of chunks) parser.write(chunk);
  if (options.end !== false) parser.end();
  return { lines, malformed };
}

const text = (lines: LogLine[]) => lines.map((l) => `${l.source}:${l.data.toString('latin1')}`);

describe('logrouter log parser', () => {
  it('demultiplexes stdout and stderr frames, even split across chunks at any byte', () => {
    const bytes = Buffer.concat([frame(1, `${T1} out one\n`), frame(2, `${T2} err one\n`), frame(1, `${T3} \n`)]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { lines } = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(text(lines), ['stdout:out one', 'stderr:err one', 'stdout:'], `cut at ${cut}`);
      assert.deepEqual(
        lines.map((l) => l.ts),
        [T1, T2, T3],
      );
    }
  });

  it("joins Docker's 16 KiB partial frames per stream, keeping the other stream's lines in between", () => {
    const a = 'a'.repeat(16_384);
    const { lines } = parse([
      frame(1, `${T1} ${a}`),
      frame(2, `${T1} err\n`),
      frame(1, `${T2} ${a}`),
      frame(1, `${T3} tail\n`),
    ]);
    assert.deepEqual(text(lines), ['stderr:err', `stdout:${a}${a}tail`]);
    assert.equal(lines[1]!.ts, T3, 'a joined line carries the timestamp of its last frame');
    assert.equal(lines[1]!.part, undefined);
  });

  it('flushes a last line without newline at the end of the stream, and forgets it on reset', () => {
    assert.deepEqual(text(parse([frame(1, `${T1} no newline`)]).lines), ['stdout:no newline']);
    assert.deepEqual(text(parse([frame(1, `${T1} no newline`)], { end: false }).lines), []);
  });

  it('splits lines longer than the maximum into marked pieces without holding the whole line', () => {
    const { lines } = parse([frame(1, `${T1} ${'x'.repeat(2500)}`), frame(1, `${T2} ${'y'.repeat(100)}\n`)], {
      max: 1024,
    });
    assert.deepEqual(
      lines.map((l) => [l.data.length, l.part]),
      [
        [1024, { index: 1, last: false }],
        [1024, { index: 2, last: false }],
        [552, { index: 3, last: true }],
      ],
    );
    assert.equal(Buffer.concat(lines.map((l) => l.data)).toString(), 'x'.repeat(2500) + 'y'.repeat(100));
  });

  it('reads TTY streams as raw lines, dropping the carriage return, with a final line flushed', () => {
    const bytes = Buffer.from(`${T1} one\r\nno timestamp\r\n${T2} two\r\n${T3} last\r`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { lines, malformed } = parse([bytes.subarray(0, cut), bytes.subarray(cut)], { tty: true });
      assert.deepEqual(text(lines), ['stdout:one', 'stdout:two', 'stdout:last'], `cut at ${cut}`);
      assert.deepEqual(
        lines.map((l) => l.ts),
        [T1, T2, T3],
      );
      assert.equal(malformed.length, 1);
    }
  });

  it('joins a TTY line longer than 16 KiB, whose 16,384-byte pieces each come with their own timestamp, at any chunk cut', () => {
    // As the engine sends it (verified): `ts x*16384` `ts x*16384` `ts x*7232\r\n`, no separators.
    const x = 'x'.repeat(16_384);
    const bytes = Buffer.from(`${T1} ${x}${T1} ${x}${T2} ${'x'.repeat(7_232)}\r\n${T3} short\r\n`);
    for (const cut of [0, 31, 16_400, 16_415, 16_416, 16_420, 32_830, bytes.length - 3, bytes.length]) {
      const { lines } = parse([bytes.subarray(0, cut), bytes.subarray(cut)], { tty: true });
      assert.deepEqual(
        lines.map((l) => [l.data.length, l.ts, l.part]),
        [
          [40_000, T2, undefined],
          [5, T3, undefined],
        ],
        `cut at ${cut}`,
      );
      assert.ok(/^x+$/.test(lines[0]!.data.toString('latin1')), `no timestamp inside the joined line (cut at ${cut})`);
    }
    // Longer than the maximum: marked pieces of clean data, still without the inner timestamps.
    const { lines } = parse([bytes], { tty: true, max: 10_000 });
    assert.deepEqual(
      lines.map((l) => [l.data.length, l.part?.index, l.part?.last]),
      [
        [10_000, 1, false],
        [10_000, 2, false],
        [10_000, 3, false],
        [10_000, 4, true],
        [5, undefined, undefined],
      ],
    );
    assert.ok(lines.slice(0, 4).every((l) => /^x+$/.test(l.data.toString('latin1'))));
  });

  it('keeps invalid UTF-8 and binary bytes as they are', () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0d]);
    const { lines } = parse([frame(1, Buffer.concat([Buffer.from(`${T1} `), binary, Buffer.from('\n')]))]);
    assert.ok(lines[0]!.data.equals(binary));
  });

  it('reports frames without a timestamp or of an unknown stream instead of throwing', () => {
    const { lines, malformed } = parse([
      frame(1, 'no timestamp here\n'),
      frame(3 as 1, `${T1} stdin?\n`),
      frame(1, `${T2} ok\n`),
    ]);
    assert.deepEqual(text(lines), ['stdout:ok']);
    assert.equal(malformed.length, 2);
  });

  it('turns a Docker timestamp into the seconds.nanoseconds form of since', () => {
    assert.equal(sinceOf(T1), '1795810815.620573110');
    assert.equal(sinceOf('0001-01-01T00:00:00.000000000Z'), '0');
  });

  // Issue #14.2: Podman stamps `2026-12-03T08:02:27Z`; every line was counted malformed, nothing shipped.
  it("reads Podman's timestamps (0 to 9 fraction digits), in frames and TTY streams, in Docker's fixed-width form", () => {
    const podman = ['2026-11-27T20:20:15Z', '2026-11-27T20:20:15.5Z', '2026-11-27T20:20:15.62057311Z'];
    const docker = [
      '2026-11-27T20:20:15.000000000Z',
      '2026-11-27T20:20:15.500000000Z',
      '2026-11-27T20:20:15.620573110Z',
    ];
    const frames = Buffer.concat(podman.map((ts, i) => frame(1, `${ts} line ${i}\n`)));
    const tty = Buffer.from(podman.map((ts, i) => `${ts} line ${i}\r\n`).join(''));
    for (const [bytes, options] of [
      [frames, {}],
      [tty, { tty: true }],
    ] as const) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const { lines, malformed } = parse([bytes.subarray(0, cut), bytes.subarray(cut)], options);
        assert.deepEqual(text(lines), ['stdout:line 0', 'stdout:line 1', 'stdout:line 2'], `cut at ${cut}`);
        assert.deepEqual(
          lines.map((l) => l.ts),
          docker,
        );
        assert.deepEqual(malformed, []);
      }
    }
    // A timestamp alone (an empty line) and one with a zone offset, converted to UTC.
    assert.deepEqual(
      parse([frame(2, `2026-11-27T21:20:15+01:00 \n`), frame(1, '2026-11-27T20:20:16Z')]).lines.map((l) => [
        l.source,
        l.ts,
        l.data.length,
      ]),
      [
        ['stderr', '2026-11-27T20:20:15.000000000Z', 0],
        ['stdout', T3, 0],
      ],
    );
  });

  it('still reports what is not a timestamp', () => {
    for (const bad of [
      '2026-11-27T20:20:15.1234567891Z',
      '2026-11-27T20:20:15',
      '2026-11-27 20:20:15Z',
      '2026-11-27T20:20:15.Z',
      'x'.repeat(40),
    ]) {
      assert.equal(dockerTimestamp(bad), undefined, bad);
      const { lines, malformed } = parse([frame(1, `${bad} text\n`)]);
      assert.deepEqual([lines.length, malformed.length], [0, 1], bad);
    }
    assert.deepEqual(
      parse([Buffer.from('2026-11-27T20:20:15.1234567891Z text\r\n2026-11-27T20:20:16Z ok\r\n')], { tty: true })
        .malformed.length,
      1,
    );
  });

  it('re-reads from a microsecond before the checkpoint, so an exclusive or imprecise since still sends its line', () => {
    assert.equal(resumeSinceOf(T1), '1795810815.620572110');
    assert.equal(resumeSinceOf(T3), '1795810815.999999000', 'borrows a second');
    assert.equal(resumeSinceOf('0001-01-01T00:00:00.000000000Z'), '0');
    assert.equal(resumeSinceOf('1970-01-01T00:00:00.000000000Z'), '0');
  });
});

describe('logrouter delivery tracker', () => {
  const line = (ts: string, data = 'x', part?: LogLine['part'], source: LogLine['source'] = 'stdout'): LogLine => ({
    source,
    ts,
    data: Buffer.from(data),
    part,
  });

  it('skips lines at or before the checkpoint, counting lines that share its timestamp', () => {
    const saved: StreamPositions[] = [];
    const tracker: DeliveryTracker = new DeliveryTracker(
      { stdout: { ts: T2, n: 2 } },
      () => saved.push(tracker.checkpoint),
      ['stdout'],
    );
    // since=T2 is inclusive: the engine replays the two lines stamped T2 that were delivered.
    const admitted = [line(T2, 'a'), line(T2, 'b'), line(T2, 'c'), line(T3, 'd')].map((l) => tracker.admit(l));
    assert.deepEqual(
      admitted.map((a) => (a.skip ? a.reason : 'new')),
      ['delivered', 'delivered', 'new', 'new'],
    );
    for (const a of admitted) if (!a.skip) tracker.done(a.ticket);
    assert.deepEqual(saved, [{ stdout: { ts: T2, n: 3 } }, { stdout: { ts: T3, n: 1 } }]);
  });

  it('drops json-file rotation duplicates: lines older than one already read', () => {
    const tracker = new DeliveryTracker(undefined, () => undefined);
    const verdicts = [line(T1), line(T3), line(T2), line(T3)].map((l) => tracker.admit(l));
    assert.deepEqual(
      verdicts.map((v) => (v.skip ? v.reason : 'new')),
      ['new', 'new', 'older', 'new'],
    );
  });

  it('advances the checkpoint only over the prefix of accepted lines', () => {
    const saved: StreamPositions[] = [];
    const tracker: DeliveryTracker = new DeliveryTracker(undefined, () => saved.push(tracker.checkpoint), ['stdout']);
    const [a, b, c] = [line(T1), line(T2), line(T3)].map((l) => tracker.admit(l)) as Array<{
      skip: false;
      ticket: never;
    }>;
    tracker.done(c!.ticket);
    tracker.done(b!.ticket);
    assert.deepEqual(saved, []);
    tracker.done(a!.ticket);
    assert.deepEqual(saved, [{ stdout: { ts: T3, n: 1 } }]);
    assert.equal(tracker.pending, 0);
  });

  it('never stops the checkpoint inside a split line', () => {
    const saved: StreamPositions[] = [];
    const tracker: DeliveryTracker = new DeliveryTracker(undefined, () => saved.push(tracker.checkpoint), ['stdout']);
    const first = tracker.admit(line(T1, 'p1', { index: 1, last: false }));
    assert.ok(!first.skip);
    tracker.done(first.ticket);
    assert.deepEqual(saved, []);
    const last = tracker.admit(line(T2, 'p2', { index: 2, last: true }));
    assert.ok(!last.skip);
    tracker.done(last.ticket);
    assert.deepEqual(saved, [{ stdout: { ts: T2, n: 1 } }]);
  });

  it('notices when the line at the checkpoint is gone from the log (rotated away)', () => {
    const tracker = new DeliveryTracker({ stdout: { ts: T1, n: 1 } }, () => undefined);
    tracker.resume();
    tracker.admit(line(T3));
    assert.equal(tracker.gapDetected, true);
    const intact = new DeliveryTracker({ stdout: { ts: T1, n: 1 } }, () => undefined);
    intact.admit(line(T1));
    intact.admit(line(T3));
    assert.equal(intact.gapDetected, false);
  });

  it('keeps a checkpoint per stream: Docker may store stderr after stdout lines stamped later', () => {
    // Regression: one checkpoint for both streams skipped such a stderr line as "older".
    const saved: StreamPositions[] = [];
    const tracker: DeliveryTracker = new DeliveryTracker(undefined, () => saved.push(tracker.checkpoint));
    const verdicts = [line(T3, 'out'), line(T1, 'err', undefined, 'stderr')].map((l) => tracker.admit(l));
    assert.deepEqual(
      verdicts.map((v) => (v.skip ? v.reason : 'new')),
      ['new', 'new'],
    );
    for (const v of verdicts) if (!v.skip) tracker.done(v.ticket);
    assert.deepEqual(saved.at(-1), { stdout: { ts: T3, n: 1 }, stderr: { ts: T1, n: 1 } });
    // A new stream starts at the older of the two, and skips what each stream delivered.
    const again = new DeliveryTracker(saved.at(-1), () => undefined);
    assert.equal(again.resumeTs, T1);
    const replay = [
      line(T1, 'err', undefined, 'stderr'),
      line(T3, 'out'),
      line(T3, 'new err', undefined, 'stderr'),
    ].map((l) => again.admit(l));
    assert.deepEqual(
      replay.map((v) => (v.skip ? v.reason : 'new')),
      ['delivered', 'delivered', 'new'],
    );
  });

  // Issue #16.1: a stream that never wrote held the resume point at the epoch, so every re-attach
  // (and the read after the container's exit) asked the engine for the whole log.
  it('moves a quiet stream along behind the busy one, so a re-attach starts near the checkpoint', () => {
    const epoch = { ts: '0001-01-01T00:00:00.000000000Z', n: 0 };
    const tracker = new DeliveryTracker({ stdout: epoch, stderr: epoch }, () => undefined);
    const late = '2026-11-27T20:25:00.123456789Z';
    for (const ts of [T1, late]) {
      const admission = tracker.admit(line(ts));
      assert.ok(!admission.skip);
      tracker.done(admission.ticket);
    }
    assert.deepEqual(
      tracker.checkpoint,
      { stdout: { ts: late, n: 1 }, stderr: { ts: `2026-11-27T20:24:59.123456789Z`, n: 0 } },
      `stderr ${QUIET_MARGIN_MS} ms behind`,
    );
    assert.equal(tracker.resumeTs, '2026-11-27T20:24:59.123456789Z');
    // A stderr line stamped within the margin still counts as new when it arrives late.
    const straggler = tracker.admit(line('2026-11-27T20:24:59.500000000Z', 'late err', undefined, 'stderr'));
    assert.equal(straggler.skip, false);
  });

  it('does not move a stream whose lines are still on their way to the route', () => {
    const tracker = new DeliveryTracker(undefined, () => undefined);
    const err = tracker.admit(line(T1, 'err', undefined, 'stderr'));
    const out = tracker.admit(line(T3));
    assert.ok(!err.skip && !out.skip);
    tracker.done(out.ticket);
    assert.equal(tracker.checkpoint.stderr, undefined, 'stderr line not accepted yet');
    assert.equal(tracker.resumeTs, undefined);
  });

  it('never lets a stream the route does not read hold the resume point back', () => {
    const tracker = new DeliveryTracker(
      { stdout: { ts: T3, n: 4 }, stderr: { ts: '0001-01-01T00:00:00.000000000Z', n: 0 } },
      () => undefined,
      ['stdout'],
    );
    assert.equal(tracker.resumeTs, T3);
  });

  // Issue #14.2: Podman's `since` is exclusive and parsed as a float, and it stamps whole seconds.
  it('delivers every line exactly once across crashes at any line, with inclusive (Docker) or exclusive, coarse (Podman) engines', () => {
    // A log as the engine keeps it (nanosecond times, two lines in the same nanosecond), read with `since`.
    const base = 1_795_810_815n * 1_000_000_000n;
    const log = [
      0n,
      0n,
      1n,
      999n,
      1_000n,
      250_000_000n,
      999_999_999n,
      1_000_000_000n,
      1_000_000_000n,
      1_000_000_001n,
      2_500_000_000n,
    ].map((offset, i) => ({ ns: base + offset, text: `line ${i}` }));
    const stamp = (ns: bigint, whole: boolean) =>
      new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19) +
      (whole ? 'Z' : `.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`);
    const engines = {
      docker: (since: string) =>
        log.filter((l) => l.ns >= BigInt(since.replace('.', ''))).map((l) => ({ ...l, ts: stamp(l.ns, false) })),
      podman: (since: string) => {
        const seconds = Number(since); // strconv.ParseFloat, then time.Unix(int, frac * 1e9): exclusive
        const sinceNs = BigInt(Math.trunc(seconds)) * 1_000_000_000n + BigInt(Math.trunc((seconds % 1) * 1e9));
        return log.filter((l) => l.ns > sinceNs).map((l) => ({ ...l, ts: stamp(l.ns, true) }));
      },
    };
    for (const [engine, read] of Object.entries(engines)) {
      for (let crashAfter = 1; crashAfter < log.length; crashAfter++) {
        const delivered: string[] = [];
        let checkpoint: StreamPositions | undefined;
        for (let attempt = 0; attempt < 2; attempt++) {
          const tracker: DeliveryTracker = new DeliveryTracker(checkpoint, () => (checkpoint = tracker.checkpoint), [
            'stdout',
          ]);
          tracker.resume();
          const since = tracker.resumeTs ? resumeSinceOf(tracker.resumeTs) : '0';
          for (const entry of read(since)) {
            if (attempt === 0 && delivered.length === crashAfter) break; // kill -9
            const admission = tracker.admit(line(dockerTimestamp(entry.ts)!, entry.text));
            if (admission.skip) continue;
            delivered.push(entry.text);
            tracker.done(admission.ticket);
          }
          assert.equal(tracker.gapDetected, false, `${engine}: no false gap`);
        }
        assert.deepEqual(
          delivered,
          log.map((l) => l.text),
          `${engine}, crash after ${crashAfter} lines`,
        );
      }
    }
  });

  it('after a complete read of a stopped container, moves every stream to the newest line read', () => {
    let advanced = 0;
    const tracker = new DeliveryTracker({ stdout: { ts: T3, n: 1 }, stderr: { ts: T1, n: 1 } }, () => (advanced += 1));
    tracker.resume();
    assert.equal(tracker.admit(line(T3)).skip, true);
    assert.equal(tracker.settle(), true);
    assert.equal(advanced, 1);
    assert.deepEqual(tracker.checkpoint, { stdout: { ts: T3, n: 1 }, stderr: { ts: T3, n: 0 } });
    assert.equal(tracker.resumeTs, T3);
    assert.equal(tracker.settle(), false, 'nothing left to move');
  });
});

describe('logrouter attach capture', () => {
  const read = (bytes: Buffer, tty: boolean) =>
    parse([bytes], { tty }).lines.map((l) => `${l.source}:${l.data.toString('latin1')}`);

  /** A capture of an attach stream the test writes. */
  async function capture(tty: boolean, maxBytes = 1 << 20) {
    const stream = new PassThrough();
    const attached = new AttachCapture(maxBytes);
    let asked: unknown;
    const container = { attach: async (options: unknown) => ((asked = options), stream) };
    assert.equal(await attached.open(container as never), true);
    assert.deepEqual(asked, { stream: true, logs: false, stdout: true, stderr: true }, 'no replay of the log');
    attached.setTty(tty);
    return { stream, attached };
  }

  it("splits attach frames (pieces of the streams, not lines) into each stream's lines, at any chunk cut", async () => {
    // As the engine sent it for `echo A; echo B >&2; echo C`: stdout's two lines in one frame.
    const attach = Buffer.concat([frame(2, 'B\n'), frame(1, 'A\nC'), frame(1, '\n'), frame(1, 'no newline')]);
    for (let cut = 0; cut <= attach.length; cut++) {
      const { stream, attached } = await capture(false);
      stream.write(attach.subarray(0, cut));
      stream.end(attach.subarray(cut));
      const { data, firstLine, usable } = await attached.lines(5_000);
      // A last line without newline waits for its end, after stderr's (the order within each stream is what counts).
      assert.deepEqual(read(data, false), ['stdout:A', 'stdout:C', 'stderr:B', 'stdout:no newline'], `cut at ${cut}`);
      assert.deepEqual([firstLine, usable], [{ stdout: 0, stderr: 0 }, true]);
    }
  });

  it('reads TTY output as stdout lines and cuts a long line every 16 KiB, as the log driver does', async () => {
    const { stream, attached } = await capture(true);
    const long = 'x'.repeat(40_000);
    stream.end(`one\r\n${long}\r\ntwo`);
    const { data } = await attached.lines(5_000);
    assert.deepEqual(read(data, true), ['stdout:one', `stdout:${long}`, 'stdout:two']);
    assert.equal(data.toString().split(' x').length - 1, 3, 'the long line in three pieces');
  });

  it('stamps each line with the time it came', async () => {
    const { stream, attached } = await capture(false);
    const before = new Date().toISOString();
    stream.end(frame(1, 'one\n'));
    const [line] = parse([(await attached.lines(5_000)).data]).lines;
    assert.ok(line!.ts.slice(0, 23) >= before.slice(0, 23) && line!.ts <= new Date(Date.now() + 1).toISOString());
  });

  it('keeps the newest bytes: a line it gave up is counted, never half shown', async () => {
    const { stream, attached } = await capture(false, 20_000);
    // A first 16 KiB block of 'a…' and the start of 'b…'; then the rest of 'b…', 'cc' and 'x…': 21 KB,
    // so the first block is given up, and with it 'a…' and the beginning of 'b…'.
    const first = `${'a'.repeat(16_000)}\n${'b'.repeat(383)}`;
    const x = 'x'.repeat(5_000);
    stream.end(Buffer.concat([frame(1, first), frame(1, `${'b'.repeat(100)}\ncc\n${x}\n`), frame(2, 'e\n')]));
    const kept = await attached.lines(5_000);
    assert.deepEqual(read(kept.data, false), ['stdout:cc', `stdout:${x}`, 'stderr:e']);
    assert.deepEqual(kept.firstLine, { stdout: 2, stderr: 0 }, "'a…' and the cut 'b…' come before");
  });

  it('joins a capture that came after the start with the history attach: the lines before it, never one twice', async () => {
    const joined = async (late: Buffer, history: Buffer) => {
      const { stream, attached } = await capture(false);
      attached.fromStart = false;
      let asked: unknown;
      const container = { attach: async (options: unknown) => ((asked = options), new PassThrough().end(history)) };
      await attached.attachHistory(container as never);
      assert.deepEqual(asked, { stream: true, logs: true, stdout: true, stderr: true });
      stream.end(late);
      const lines = await attached.lines(5_000);
      return [read(lines.data, false), lines.fromStart];
    };
    // Attach came at 'b'; the history replays a, b, c, then streams c again (the engine hung its stream first).
    const late = Buffer.concat([frame(1, 'b\n'), frame(1, 'c\n'), frame(2, 'e\n')]);
    const history = Buffer.concat([frame(1, 'a\nb\nc\n'), frame(2, 'd\ne\n'), frame(1, 'c\n'), frame(2, 'e\n')]);
    assert.deepEqual(await joined(late, history), [['stdout:a', 'stdout:b', 'stdout:c', 'stderr:d', 'stderr:e'], true]);
    // A line repeated before attach came: the history is cut at its first copy (a line lost, none twice).
    const repeated = await joined(frame(1, 'x\ny\n'), Buffer.concat([frame(1, 'x\nx\ny\n'), frame(1, 'y\n')]));
    assert.deepEqual(repeated, [['stdout:x', 'stdout:y'], true]);
    // No line of the capture in the history: the capture alone, known to start late.
    assert.deepEqual(await joined(frame(1, 'z\n'), frame(1, 'a\n')), [['stdout:z'], false]);
  });

  it("takes the engine's error in a replay's output for no replay, not for a line", async () => {
    const replay = async (output: Buffer) => {
      const attached = new AttachCapture(1 << 20);
      await attached.open({ attach: async () => new PassThrough().end(output) } as never, 'replay');
      attached.setTty(false);
      return attached.lines(5_000);
    };
    const failed = await replay(frame(1, 'Error attaching: open /x/y-json.log: no such file or directory\n'));
    assert.deepEqual([failed.data.length, failed.usable], [0, false]);
    const lines = await replay(Buffer.concat([frame(1, 'Error attaching: is what I print\n'), frame(1, 'two\n')]));
    assert.deepEqual(read(lines.data, false), ['stdout:Error attaching: is what I print', 'stdout:two']);
  });

  it('gives itself up when the container still runs some time after its log opened, not when it ended', async () => {
    const running = await capture(false);
    running.stream.write(frame(1, 'one\n'));
    running.attached.keepFor(20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const given = await running.attached.lines(10);
    assert.deepEqual([given.data.length, given.usable], [0, false]);
    assert.equal(running.stream.destroyed, true, 'the attach connection closed');

    const ended = await capture(false);
    ended.stream.end(frame(1, 'one\n'));
    await new Promise((resolve) => ended.stream.on('close', resolve).resume());
    ended.attached.keepFor(20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const kept = await ended.attached.lines(10);
    assert.deepEqual([read(kept.data, false), kept.usable], [['stdout:one'], true]);
  });
});

describe('logrouter capture fill-in', () => {
  const line = (data: string, part?: LogLine['part']): LogLine => ({
    source: 'stdout',
    ts: T1,
    data: Buffer.from(data),
    part,
  });
  const lines = (...data: string[]) => data.map((d) => line(d));
  const tailOf = (...data: string[]) => {
    const tail = new LogTail(1_000);
    for (const d of data) tail.add(line(d));
    return tail;
  };
  const datas = (fill: { lines: LogLine[] }) => fill.lines.map((l) => l.data.toString());
  const FROM_START = { fromStart: true, firstLine: 0 };
  const LATE = { fromStart: false, firstLine: 0 };

  it('from a capture from the start, gives the lines after as many as the log gave', () => {
    assert.deepEqual(datas(missingLines(lines('a', 'b', 'c'), 1, FROM_START, undefined)), ['b', 'c']);
    assert.deepEqual(datas(missingLines(lines('a', 'b', 'c'), 3, FROM_START, undefined)), []);
    // The capture gave up its first two lines; the log gave one: one line is lost, counted.
    const fill = missingLines(lines('c', 'd'), 1, { fromStart: true, firstLine: 2 }, undefined);
    assert.deepEqual([datas(fill), fill.lost, fill.maybeLost], [['c', 'd'], 1, false]);
    // A long line in pieces counts once.
    const pieces = [line('x', { index: 0, last: false }), line('y', { index: 1, last: true }), line('z')];
    assert.deepEqual(datas(missingLines(pieces, 1, FROM_START, undefined)), ['z']);
  });

  it('lines a late capture up with the log by the longest overlap: never a line twice', () => {
    // The log gave a, b, c (then ended at the exit); attach came at b.
    assert.deepEqual(datas(missingLines(lines('b', 'c', 'd'), 3, LATE, tailOf('a', 'b', 'c'))), ['d']);
    // Repeated lines: the overlap could be 1 or 2; taking 2 may lose an 'x', never send one twice.
    const repeated = missingLines(lines('x', 'x', 'y'), 2, LATE, tailOf('x', 'x'));
    assert.deepEqual([datas(repeated), repeated.maybeLost], [['y'], false]);
    // No overlap: all of it, and lines between may be missing.
    const apart = missingLines(lines('e', 'f'), 3, LATE, tailOf('a', 'b', 'c'));
    assert.deepEqual([datas(apart), apart.maybeLost], [['e', 'f'], true]);
    // The log was never read: what came before attach may be missing.
    const only = missingLines(lines('e'), 0, LATE, tailOf());
    assert.deepEqual([datas(only), only.maybeLost], [['e'], true]);
  });

  it('gives nothing from a late capture it cannot line up: a line in pieces, or a tail too short', () => {
    const broken = new LogTail(1_000);
    broken.add(line('x', { index: 0, last: false }));
    assert.deepEqual(datas(missingLines(lines('a'), 1, LATE, broken)), []);
    const short = new LogTail(2);
    for (const d of ['a', 'b', 'c', 'd', 'e']) short.add(line(d));
    const fill = missingLines(lines('a', 'b', 'c', 'd', 'e', 'f'), 5, LATE, short);
    assert.deepEqual([datas(fill), fill.maybeLost], [[], true]);
  });
});

/**
 * One container's log stream read for one route: attach with `since=<checkpoint>`, reassemble
 * lines, skip what was delivered, queue the rest on the route, and wait for room when the route
 * is full (the stream is paused, so Docker keeps the data). When the stream ends, wait until
 * every queued line was accepted, then re-attach from the checkpoint while the container runs.
 */
import type { IncomingMessage } from 'node:http';
import type Dockerode from 'dockerode';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { AttachCapture } from './attach-capture';
import { LogTail, missingLines } from './capture-fill';
import type { CheckpointStore } from './checkpoint-store';
import { DeliveryTracker, type StreamPositions } from './delivery-tracker';
import { LogParser } from './log-parser';
import { MultilineMerger, type MultilineSettings } from './multiline';
import { compareTs, resumeSinceOf, tsFromMillis, type ContainerMeta, type LogLine, type LogSource } from './message';
import type { RouteRunner } from './route-runner';

interface PipeCounters {
  linesIn(count: number, bytes: number): void;
  skipped(reason: 'older' | 'delivered'): void;
  gap(): void;
  malformed(): void;
}

export interface ContainerPipeOptions {
  docker: Pick<Dockerode, 'getContainer'>;
  container: ContainerMeta;
  route: RouteRunner;
  checkpoint: StreamPositions | undefined;
  /** Tells the store where to read this pipe's positions, and when they moved. */
  checkpoints: Pick<CheckpointStore, 'follow' | 'touch' | 'flush'>;
  /** The route's id: the key of the positions in the store. */
  routeId: string;
  maxLineBytes: number;
  sources: readonly LogSource[];
  parseJson: boolean;
  multiline: MultilineSettings | undefined;
  logger: Logger;
  counters: PipeCounters;
  /** The container's output since before it started: what its log cannot give once it is removed. */
  capture?: AttachCapture;
}

const RETRY_MS = [250, 500, 1000, 2000, 5000];
/** How long the rest of a removed container's attach output may take to arrive. */
const CAPTURE_GRACE_MS = 2_000;
/**
 * How long after its log opened a running container's capture is kept: a log stream opened just
 * before the exit may end without the last lines; one opened earlier has them.
 */
const CAPTURE_KEEP_MS = 10_000;
/** A removed container's log replayed at most (its newest bytes: what a log stream lacks is its end). */
const REPLAY_MAX_BYTES = 1 << 20;
/** Lines of the log kept to line up such a capture with (a quick container's whole output, usually). */
const TAIL_LINES = 1_000;

export class ContainerPipe {
  private readonly tracker: DeliveryTracker;
  private stream: IncomingMessage | undefined;
  private running = false;
  private closed = false;
  private wanted = true;
  private failures = 0;
  private drained: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private capture: AttachCapture | undefined;
  /** The container's output was read, from its log or from the capture. */
  private read = false;
  /**
   * Lines per stream this reader took from the log, counted from the log's first line (so the
   * capture's lines after them are the ones it lacks); undefined when it started at a checkpoint.
   */
  private readonly logLines: Record<LogSource, number> | undefined;
  /** The last lines taken from the log, to line up a capture that began after the start. */
  private logTail: Record<LogSource, LogTail> | undefined;

  constructor(private readonly options: ContainerPipeOptions) {
    this.tracker = new DeliveryTracker(options.checkpoint, () => options.checkpoints.touch(), options.sources);
    options.checkpoints.follow(options.routeId, options.container.id, () => this.tracker.checkpoint);
    this.capture = options.capture;
    this.capture?.hold(this);
    const fromFirstLine = Object.values(options.checkpoint ?? {}).every((p) => p.ts < '1970' && p.n === 0);
    this.logLines = fromFirstLine ? { stdout: 0, stderr: 0 } : undefined;
    if (fromFirstLine && this.capture && !this.capture.fromStart)
      this.logTail = { stdout: new LogTail(TAIL_LINES), stderr: new LogTail(TAIL_LINES) };
  }

  get container(): ContainerMeta {
    return this.options.container;
  }

  get attached(): boolean {
    return this.stream !== undefined;
  }

  get checkpoint(): StreamPositions {
    return this.tracker.checkpoint;
  }

  /** The container (re)started or a sync says it runs: read if not reading already. */
  wake(): void {
    this.wanted = true;
    if (!this.running && !this.closed) this.loopDone = this.loop();
  }

  /**
   * The container was removed: the engine still sends the rest of a stream it opened, so read that
   * to its end (no re-attach; the container is gone). Resolves when reading stopped.
   */
  finish(): Promise<void> {
    this.wanted = false;
    if (!this.running) this.releaseCapture();
    return this.loopDone ?? Promise.resolve();
  }

  close(): void {
    this.closed = true;
    this.releaseCapture();
    this.stream?.destroy();
    this.drained?.();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.wanted && !this.closed) {
        this.wanted = false;
        const outcome = await this.readOnce();
        if (this.closed) return;
        await this.untilDrained();
        if (this.closed) return;
        const clean = outcome === 'clean';
        if (clean) this.failures = 0;
        let state = await this.state();
        if (state === 'stopped' && clean) {
          // A follower can end at the container's exit before the engine handed it the last
          // lines (seen with a final line without newline): read once more.
          const complete = await this.readAfterExit();
          if (this.closed) return;
          // Now the log is complete: quiet streams catch up, so the next read starts here.
          if (complete && this.tracker.settle()) this.options.checkpoints.flush();
          // Removed meanwhile (docker run --rm), the log unread to its end: the capture fills in.
          if (!complete) state = await this.state();
        }
        // Removed, or its log unreadable (docker run --rm): the replay or what attach caught completes
        // it. Not once the capture was given up: the log stream, opened long before, had every line.
        const capture = this.capture?.usable || !this.read ? this.capture : undefined;
        if (capture && (state === 'gone' || state === 'removing' || (state === 'stopped' && !this.read))) {
          await this.readCapture(capture, state);
          return;
        }
        const ending = state === 'gone' || state === 'removing';
        if (!this.read && outcome === 'unopened' && (ending || state === 'stopped')) {
          this.options.counters.gap();
          this.options.logger.warn(
            'container removed before its log could be opened, and attach caught nothing of it; its output is lost',
            { container: this.options.container.name, id: this.options.container.id },
          );
        }
        if (ending) return;
        if (state === 'running' || state === 'unknown') {
          this.wanted = true;
          if (!clean || state === 'unknown') {
            await sleep(RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)]!);
            this.failures += 1;
          }
        }
      }
    } finally {
      this.running = false;
      if (!this.wanted) this.releaseCapture();
    }
  }

  /**
   * The read after the container exited, each stream from its own checkpoint when they differ: a
   * quiet stream's position follows the busy one's a second behind, and one request from the
   * older would bring back that second of the busy stream (200,000 lines of a fast writer), each
   * read and skipped. The second request costs the engine another scan of its log file, not us.
   * Resolves whether every read ended cleanly, with every line it brought accepted.
   */
  private async readAfterExit(): Promise<boolean> {
    const { sources } = this.options;
    const starts = new Set(sources.map((source) => this.tracker.resumeTsOf([source])));
    let complete = true;
    for (const wanted of starts.size > 1 ? sources.map((source) => [source]) : [sources]) {
      complete = (await this.readOnce(wanted)) === 'clean' && complete;
      await this.untilDrained();
      if (this.closed) return false;
    }
    return complete;
  }

  /**
   * Reads one logs stream (of `sources`) to its end: `clean` when it ended (container stopped),
   * `broken` when it broke, `unopened` when the engine did not open it. Always a stream (`follow`):
   * without it the client buffers the whole answer, and a log of millions of lines takes hundreds
   * of MB. The engine does not follow a container that is not running: it sends the log and ends.
   */
  private async readOnce(
    sources: readonly LogSource[] = this.options.sources,
  ): Promise<'clean' | 'broken' | 'unopened'> {
    const { docker, container, route } = this.options;
    const resumeTs = this.tracker.resumeTsOf(sources);
    const since = resumeTs ? resumeSinceOf(resumeTs) : '0';
    let stream: IncomingMessage;
    try {
      const logs = docker.getContainer(container.id).logs as unknown as (options: object) => Promise<IncomingMessage>;
      stream = await logs.call(docker.getContainer(container.id), {
        follow: true,
        stdout: sources.includes('stdout'),
        stderr: sources.includes('stderr'),
        timestamps: true,
        since,
      });
    } catch (error) {
      this.options.logger.debug('cannot open the log stream', {
        container: container.name,
        error: errorMessage(error),
      });
      return 'unopened';
    }
    // The log is open: the engine sends it even if the container is removed now, but may end
    // the stream at the exit without the last lines; the capture stays a while for those.
    this.read = true;
    this.capture?.keepFor(CAPTURE_KEEP_MS);
    const { parser, merger } = this.lineReader();
    this.tracker.resume(sources);
    if (this.closed) {
      stream.destroy();
      return 'clean';
    }
    this.stream = stream;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (clean: boolean) => {
        if (settled) return;
        settled = true;
        if (clean) parser.end();
        else parser.reset();
        // Open groups go out: their lines were read, and the checkpoint waits for them.
        merger?.flushAll();
        this.reportGap();
        this.stream = undefined;
        resolve(clean ? 'clean' : 'broken');
      };
      stream.on('data', (chunk: Buffer) => {
        parser.write(chunk);
        this.reportGap();
        if (route.full) {
          stream.pause();
          void route.room().then(() => stream.resume());
        }
      });
      stream.on('end', () => finish(true));
      stream.on('error', () => finish(false));
      stream.on('close', () => finish(!stream.readableAborted && stream.readableEnded));
    });
  }

  /**
   * The container is removed (or its log cannot be read): the capture's lines the log did not
   * give (capture-fill.ts), stamped with the time they came but after the log's last ones. Then
   * every stream's checkpoint moves past the container's exit, so a later read of its log
   * repeats none of them.
   */
  private async readCapture(capture: AttachCapture, state: 'stopped' | 'removing' | 'gone'): Promise<void> {
    // The whole log, if the engine still replays it, beats a capture that may have come late.
    const replayed = state === 'gone' ? undefined : await (await this.replay())?.lines(CAPTURE_GRACE_MS);
    const captured = replayed?.usable ? replayed : await capture.lines(CAPTURE_GRACE_MS);
    const readLog = this.read;
    const tail = this.logTail;
    this.read = true;
    this.releaseCapture();
    // Closed, or started at a checkpoint: the capture cannot say which of its lines the log gave.
    if (this.closed || (readLog && !this.logLines)) return;
    const lines: Record<LogSource, LogLine[]> = { stdout: [], stderr: [] };
    const parser = new LogParser({
      tty: this.options.container.tty,
      maxLineBytes: this.options.maxLineBytes,
      onLine: (line) => lines[line.source].push(line),
      onMalformed: () => this.options.counters.malformed(),
    });
    parser.write(captured.data);
    parser.end();
    const after = this.tracker.appendAfterLog();
    const merger = this.merger();
    let lost = 0;
    let maybeLost = !captured.usable && !readLog;
    for (const source of this.options.sources) {
      const capturedFrom = { fromStart: captured.fromStart, firstLine: captured.firstLine[source] };
      const fill = missingLines(lines[source], this.logLines?.[source] ?? 0, capturedFrom, tail?.[source]);
      lost += fill.lost;
      maybeLost ||= fill.maybeLost && captured.usable;
      const floor = after[source];
      for (const line of fill.lines)
        this.accept(floor && compareTs(line.ts, floor) < 0 ? { ...line, ts: floor } : line, merger);
    }
    merger?.flushAll();
    await this.untilDrained();
    if (this.closed) return;
    // A millisecond on: the log stamps to the nanosecond, and its last line may be of this millisecond.
    this.tracker.passAll(tsFromMillis(Date.now() + 1));
    this.options.checkpoints.flush();
    if (lost > 0 || maybeLost) {
      this.options.counters.gap();
      this.options.logger.warn(
        readLog
          ? 'container removed before its log was read to the end; shipped the rest from what attach caught, some lines may be missing'
          : 'container removed before its log could be read; shipped what attach caught of its output, some lines may be missing',
        {
          container: this.options.container.name,
          id: this.options.container.id,
          lostLines: lost,
          missedStart: !captured.fromStart,
        },
      );
    }
  }

  private lineReader(): {
    parser: LogParser;
    merger: MultilineMerger | undefined;
  } {
    const { container, maxLineBytes, counters } = this.options;
    const merger = this.merger();
    const parser = new LogParser({
      tty: container.tty,
      maxLineBytes,
      onLine: (line) => this.accept(line, merger),
      onMalformed: () => counters.malformed(),
    });
    return { parser, merger };
  }

  /** The stopped container's log as attach replays it (the logs API refuses once removal began). */
  private async replay(): Promise<AttachCapture | undefined> {
    const replay = new AttachCapture(REPLAY_MAX_BYTES);
    if (!(await replay.open(this.options.docker.getContainer(this.options.container.id), 'replay'))) return undefined;
    replay.setTty(this.options.container.tty);
    return replay;
  }

  private merger(): MultilineMerger | undefined {
    const { multiline, route } = this.options;
    return multiline ? new MultilineMerger(multiline, (m) => route.push(m)) : undefined;
  }

  private releaseCapture(): void {
    this.capture?.release(this);
    this.capture = undefined;
    this.logTail = undefined;
  }

  private reportGap(): void {
    if (!this.tracker.gapDetected) return;
    this.tracker.gapDetected = false;
    this.options.counters.gap();
    this.options.logger.warn('log lines lost before they could be read (rotated away by the log driver)', {
      container: this.options.container.name,
    });
  }

  private accept(line: LogLine, merger: MultilineMerger | undefined): void {
    const { route, container, counters } = this.options;
    counters.linesIn(1, line.data.length);
    const admission = this.tracker.admit(line);
    if (admission.skip) {
      counters.skipped(admission.reason);
      return;
    }
    const ticket = admission.ticket;
    if (this.logLines && (line.part === undefined || line.part.last)) this.logLines[line.source] += 1;
    this.logTail?.[line.source].add(line);
    let fields: Record<string, unknown> | undefined;
    if (this.options.parseJson && line.data[0] === 0x7b) fields = parseObject(line.data);
    const message = {
      container,
      source: line.source,
      ts: line.ts,
      data: line.data,
      part: line.part,
      fields,
      done: () => {
        this.tracker.done(ticket);
        if (this.tracker.pending === 0) this.drained?.();
      },
    };
    if (merger && !line.part) merger.push(message);
    else {
      // A piece of an over-long line is not merged, but must not overtake the open message.
      merger?.flushSource(line.source);
      route.push(message);
    }
  }

  private untilDrained(): Promise<void> {
    if (this.tracker.pending === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = undefined;
        resolve();
      };
    });
  }

  /** `removing`: being removed (docker run --rm) or dead: its log can no longer be opened. */
  private async state(): Promise<'running' | 'stopped' | 'removing' | 'gone' | 'unknown'> {
    try {
      const info = await this.options.docker.getContainer(this.options.container.id).inspect();
      if (info.State.Running) return 'running';
      return info.State.Status === 'removing' || info.State.Status === 'dead' ? 'removing' : 'stopped';
    } catch (error) {
      return (error as { statusCode?: number }).statusCode === 404 ? 'gone' : 'unknown';
    }
  }
}

function parseObject(data: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

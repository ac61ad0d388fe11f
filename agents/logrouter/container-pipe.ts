/**
 * One container's log stream read for one route: attach with `since=<checkpoint>`, reassemble
 * lines, skip what was delivered, queue the rest on the route, and wait for room when the route
 * is full (the stream is paused, so Docker keeps the data). When the stream ends, wait until
 * every queued line was accepted, then re-attach from the checkpoint while the container runs.
 */
import type { IncomingMessage } from 'node:http';
import type Dockerode from 'dockerode';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import type { AttachCapture } from './attach-capture';
import type { CheckpointStore } from './checkpoint-store';
import { DeliveryTracker, type StreamPositions } from './delivery-tracker';
import { LogParser } from './log-parser';
import { MultilineMerger, type MultilineSettings } from './multiline';
import { resumeSinceOf, type ContainerMeta, type LogLine, type LogSource } from './message';
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
  /** The container's output since before it started: read only if the log cannot be opened. */
  capture?: AttachCapture;
}

const RETRY_MS = [250, 500, 1000, 2000, 5000];
/** How long the rest of a removed container's attach output may take to arrive. */
const CAPTURE_GRACE_MS = 2_000;

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

  constructor(private readonly options: ContainerPipeOptions) {
    this.tracker = new DeliveryTracker(options.checkpoint, () => options.checkpoints.touch(), options.sources);
    options.checkpoints.follow(options.routeId, options.container.id, () => this.tracker.checkpoint);
    this.capture = options.capture;
    this.capture?.hold(this);
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
        const state = await this.state();
        if (outcome === 'unopened' && state !== 'running' && state !== 'unknown' && this.capture) {
          // Removed (docker run --rm) before its log could be opened: what attach caught is all there is.
          await this.readCapture(this.capture);
          return;
        }
        if (!this.read && outcome === 'unopened' && (state === 'gone' || state === 'stopped')) {
          this.options.counters.gap();
          this.options.logger.warn(
            'container removed before its log could be opened, and attach caught nothing of it; its output is lost',
            { container: this.options.container.name, id: this.options.container.id },
          );
        }
        if (state === 'gone') return;
        if (state === 'stopped' && clean) {
          // A follower can end at the container's exit before the engine handed it the last
          // lines (seen with a final line without newline): read once more.
          const complete = await this.readAfterExit();
          if (this.closed) return;
          // Now the log is complete: quiet streams catch up, so the next read starts here.
          if (complete && this.tracker.settle()) this.options.checkpoints.flush();
        }
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
    // The log is open: the engine sends all of it even if the container is removed now.
    this.read = true;
    this.releaseCapture();
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

  /** Lines of the capture, stamped with the time they arrived; the route gets those of its streams. */
  private async readCapture(capture: AttachCapture): Promise<void> {
    const { data, lostBytes, fromStart } = await capture.output(CAPTURE_GRACE_MS);
    this.read = true;
    this.releaseCapture();
    if (this.closed) return;
    const { parser, merger } = this.lineReader((line) => this.options.sources.includes(line.source));
    this.tracker.resume();
    parser.write(data);
    parser.end();
    merger?.flushAll();
    await this.untilDrained();
    if (lostBytes > 0 || !fromStart) {
      this.options.counters.gap();
      this.options.logger.warn(
        'container removed before its log could be read; shipped what attach caught of its output',
        {
          container: this.options.container.name,
          id: this.options.container.id,
          lostBytes,
          missedStart: !fromStart,
        },
      );
    }
  }

  private lineReader(wanted: (line: LogLine) => boolean = () => true): {
    parser: LogParser;
    merger: MultilineMerger | undefined;
  } {
    const { container, route, maxLineBytes, counters } = this.options;
    const merger = this.options.multiline
      ? new MultilineMerger(this.options.multiline, (m) => route.push(m))
      : undefined;
    const parser = new LogParser({
      tty: container.tty,
      maxLineBytes,
      onLine: (line) => {
        if (wanted(line)) this.accept(line, merger);
      },
      onMalformed: () => counters.malformed(),
    });
    return { parser, merger };
  }

  private releaseCapture(): void {
    this.capture?.release(this);
    this.capture = undefined;
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

  private async state(): Promise<'running' | 'stopped' | 'gone' | 'unknown'> {
    try {
      const info = await this.options.docker.getContainer(this.options.container.id).inspect();
      return info.State.Running ? 'running' : 'stopped';
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

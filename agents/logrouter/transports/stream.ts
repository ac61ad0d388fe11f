/**
 * A TCP or TLS connection that a route writes batches to. It connects lazily and reconnects after
 * any failure (the route retries a batch whose write failed, with backoff).
 *
 * Plain syslog over TCP has no acknowledgements: a write "succeeds" once the kernel took the
 * bytes, and whatever the receiver had not read when it went away is lost (logspout #318). So
 * the transport keeps a replay window: what it wrote in the last `replay.ms` (at most
 * `replay.bytes`). When a connection ends in any way but our own close — a reset, an error, or
 * the receiver closing it — what was written on it within the window before that was seen is
 * written again first on the next connection, at once and without waiting for the next line.
 * That makes delivery at-least-once: a line the receiver did read may come twice (counted).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { ReplayWindow, type ReplayLimits } from './replay-window';

export type { ReplayLimits };

/**
 * A receiver restart on loopback loses what sits in the two socket buffers (a few MB at most) and
 * what was written in the moments between the receiver's last read and the reset reaching us.
 */
export const DEFAULT_REPLAY: ReplayLimits = { ms: 5_000, bytes: 8 * 1024 * 1024 };

export interface StreamTransportOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  connectTimeoutMs?: number;
  replay?: ReplayLimits;
}

interface Connection {
  socket: Socket;
  /** Ended by us (close), so nothing written on it is replayed. */
  ours: boolean;
  lost: boolean;
}

const REPLAY_RETRY_MS = { initial: 100, max: 5_000 };

export class StreamTransport {
  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  /** Reconnects after the first connection. */
  reconnects = 0;
  /** Lines written again after a connection was lost (some may arrive twice). */
  replayedLines = 0;
  private connectedOnce = false;
  /**
   * False from a failed connect or write until the next success. A connection the receiver closed
   * while idle is not a failure: the next write opens another, so the route is still up.
   */
  private healthy = false;
  private closed = false;
  /** Recent writes, to go out again if their connection is lost. */
  private readonly window: ReplayWindow<Connection>;
  /** Writes of lost connections, to go out before anything new. */
  private pending: Array<{ data: Buffer; lines: number }> = [];
  private replayTimer: NodeJS.Timeout | undefined;
  private replayFailures = 0;
  /** Writes and replays one at a time, in order. */
  private turn: Promise<unknown> = Promise.resolve();
  constructor(private readonly options: StreamTransportOptions) {
    this.window = new ReplayWindow(options.replay ?? DEFAULT_REPLAY);
  }

  get connected(): boolean {
    return this.current !== undefined || this.healthy;
  }

  /** Connects now rather than at the first line, so a destination that is down shows at once. */
  open(): void {
    if (!this.current) this.connect().catch(() => undefined);
  }

  /**
   * Resolves once the kernel took the bytes (after any replay due), rejects if the write failed.
   * `accepted` runs at the moment the kernel took them: in the write call itself when the socket
   * keeps up, otherwise in the write's callback.
   */
  write(data: Buffer, lines: number, accepted?: () => void): Promise<void> {
    return this.exclusive(async () => {
      const connection = this.current ?? (await this.connect());
      await this.flushPending(connection);
      await this.writeOn(connection, data, lines, accepted);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.replayTimer);
    if (this.current) {
      this.current.ours = true;
      this.current.socket.end();
    }
    this.current = undefined;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async flushPending(connection: Connection): Promise<void> {
    if (this.pending.length === 0) return;
    const count = this.pending.length;
    const replay = this.pending.slice(0, count);
    const lines = replay.reduce((sum, w) => sum + w.lines, 0);
    await this.writeOn(connection, Buffer.concat(replay.map((w) => w.data)), lines);
    // Only now: if the replay itself failed, it stays pending (and is in the window only once).
    // Another lost connection may have added to `pending` meanwhile: that part stays.
    this.pending = this.pending.slice(count);
    this.replayedLines += lines;
  }

  private writeOn(connection: Connection, data: Buffer, lines: number, accepted?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { socket } = connection;
      let taken = false;
      const take = () => {
        if (taken) return;
        taken = true;
        // The checkpoint first: a kill before it sends the batch again; the window is memory only.
        try {
          accepted?.();
        } finally {
          this.window.add(data, lines, connection);
        }
      };
      socket.write(data, (error) => {
        if (error && !taken) {
          this.healthy = false;
          this.retire(connection);
          reject(error);
          return;
        }
        take();
        resolve();
      });
      // Nothing left in the socket's buffer: the kernel took every byte in the write call (the
      // usual case while the receiver keeps up; TLS always buffers). Take it now, not after the
      // callback's tick and the promise chain behind it: that is the kill -9 window.
      if (socket.writableLength === 0 && !socket.destroyed && !socket.writableEnded && socket.errored === null) take();
    });
  }

  /** The connection ended: what was written on it within the window goes out again. */
  private lost(connection: Connection): void {
    if (connection.lost) return;
    connection.lost = true;
    if (this.current === connection) this.current = undefined;
    if (connection.ours) return;
    const again = this.window.take(connection);
    if (!again) return;
    this.pending.push(again);
    this.scheduleReplay(0);
  }

  /** Replays without waiting for the next line: a quiet container may write none for hours. */
  private scheduleReplay(delayMs: number): void {
    if (this.closed || this.replayTimer) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      void this.exclusive(async () => {
        if (this.pending.length === 0 || this.closed) return;
        const connection = this.current ?? (await this.connect());
        await this.flushPending(connection);
      }).then(
        () => (this.replayFailures = 0),
        () => {
          this.replayFailures += 1;
          this.scheduleReplay(Math.min(REPLAY_RETRY_MS.max, REPLAY_RETRY_MS.initial * 2 ** (this.replayFailures - 1)));
        },
      );
    }, delayMs);
    this.replayTimer.unref();
  }

  private connect(): Promise<Connection> {
    this.connecting ??= new Promise<Connection>((resolve, reject) => {
      const { host, port, tls } = this.options;
      const socket = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port, allowHalfOpen: true });
      const timer = setTimeout(
        () => socket.destroy(new Error(`connect to ${host}:${port} timed out`)),
        this.options.connectTimeoutMs ?? 10_000,
      );
      const fail = (error: Error) => {
        this.healthy = false;
        clearTimeout(timer);
        this.connecting = undefined;
        socket.destroy();
        reject(error);
      };
      socket.once('error', fail);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        if (this.connectedOnce) this.reconnects += 1;
        this.connectedOnce = true;
        this.healthy = true;
        const connection: Connection = { socket, ours: false, lost: false };
        this.current = connection;
        this.connecting = undefined;
        socket.on('error', () => {
          this.healthy = false;
          this.retire(connection);
        });
        // The receiver closed it: write nothing more here. Bytes on their way may not be read.
        socket.on('end', () => this.retire(connection));
        socket.on('close', () => this.retire(connection));
        socket.on('data', () => undefined); // syslog receivers send nothing
        resolve(connection);
      });
    });
    return this.connecting;
  }

  private retire(connection: Connection): void {
    this.lost(connection);
    connection.socket.destroy();
  }
}

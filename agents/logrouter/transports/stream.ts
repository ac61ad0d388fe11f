/**
 * A TCP or TLS connection that a route writes batches to. It connects lazily and reconnects after
 * any failure (the route retries the batch with backoff).
 *
 * Plain syslog over TCP has no acknowledgements, and a write into a connection the peer already
 * closed "succeeds" and is lost (logspout #318). So each write is watched for a short settle time:
 * a receiver that closes cleanly (FIN) read everything sent before it closed; bytes that reached
 * it after its close, or that it never read, are answered with a reset, and then the route sends
 * the batch again on a new connection.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface StreamTransportOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  connectTimeoutMs?: number;
  /** How long after the kernel took the bytes a reset still fails the write. */
  settleMs?: number;
}

interface Connection {
  socket: Socket;
  reset: boolean;
}

const DEFAULT_SETTLE_MS = 5;

export class StreamTransport {
  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  /** Reconnects after the first connection. */
  reconnects = 0;
  private connectedOnce = false;
  /**
   * False from a failed connect or write until the next success. A connection the receiver closed
   * while idle is not a failure: the next write opens another, so the route is still up.
   */
  private healthy = false;

  constructor(private readonly options: StreamTransportOptions) {}

  get connected(): boolean {
    return this.current !== undefined || this.healthy;
  }

  /** Connects now rather than at the first line, so a destination that is down shows at once. */
  open(): void {
    if (!this.current) this.connect().catch(() => undefined);
  }

  /**
   * Resolves once the kernel took the bytes, with `settled`, which rejects if the peer reset the
   * connection within the settle time (the bytes may not have been read).
   */
  async write(data: Buffer): Promise<{ settled: Promise<void> }> {
    const connection = this.current ?? (await this.connect());
    await new Promise<void>((resolve, reject) => {
      connection.socket.write(data, (error) => (error ? reject(error) : resolve()));
    }).catch((error: unknown) => {
      this.healthy = false;
      this.retire(connection);
      throw error;
    });
    const settled = new Promise<void>((resolve, reject) =>
      setTimeout(() => (connection.reset ? reject(new Error('connection reset by the peer right after a write')) : resolve()), this.options.settleMs ?? DEFAULT_SETTLE_MS),
    );
    settled.catch(() => undefined); // handled by the route; never an unhandled rejection
    return { settled };
  }

  close(): void {
    this.current?.socket.end();
    this.current = undefined;
  }

  private connect(): Promise<Connection> {
    this.connecting ??= new Promise<Connection>((resolve, reject) => {
      const { host, port, tls } = this.options;
      const socket = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port, allowHalfOpen: true });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${host}:${port} timed out`)), this.options.connectTimeoutMs ?? 10_000);
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
        const connection: Connection = { socket, reset: false };
        this.current = connection;
        this.connecting = undefined;
        socket.on('error', () => {
          this.healthy = false;
          connection.reset = true;
          this.retire(connection);
        });
        // The peer closed: write nothing more here, but keep listening a moment for the reset that
        // bytes already on their way would cause.
        socket.on('end', () => {
          if (this.current === connection) this.current = undefined;
          setTimeout(() => socket.destroy(), 1_000).unref();
        });
        socket.on('close', (hadError) => {
          if (hadError) {
            connection.reset = true;
            this.healthy = false;
          }
          this.retire(connection);
        });
        socket.on('data', () => undefined); // syslog receivers send nothing
        resolve(connection);
      });
    });
    return this.connecting;
  }

  private retire(connection: Connection): void {
    if (this.current === connection) this.current = undefined;
    connection.socket.destroy();
  }
}

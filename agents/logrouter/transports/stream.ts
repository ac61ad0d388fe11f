/**
 * A TCP or TLS connection that a route writes batches to. It connects lazily, reconnects after
 * any failure (the route retries the batch with backoff), and treats a connection the peer has
 * closed as dead at once: a write into a half-closed socket "succeeds" and is lost (logspout #318).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface StreamTransportOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  connectTimeoutMs?: number;
}

export class StreamTransport {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  /** Reconnects after the first connection. */
  reconnects = 0;
  private connectedOnce = false;

  constructor(private readonly options: StreamTransportOptions) {}

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Resolves once the kernel took the bytes. */
  async write(data: Buffer): Promise<void> {
    const socket = this.socket ?? (await this.connect());
    await new Promise<void>((resolve, reject) => {
      socket.write(data, (error) => {
        if (error) {
          this.drop(socket);
          reject(error);
        } else if (socket.destroyed || this.socket !== socket) reject(new Error('connection closed by the peer'));
        else resolve();
      });
    });
  }

  close(): void {
    if (this.socket) this.socket.end();
    this.socket = undefined;
  }

  private connect(): Promise<Socket> {
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const { host, port, tls } = this.options;
      const socket = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${host}:${port} timed out`)), this.options.connectTimeoutMs ?? 10_000);
      const fail = (error: Error) => {
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
        this.socket = socket;
        this.connecting = undefined;
        socket.on('error', () => this.drop(socket));
        // Syslog receivers never send; anything readable is the peer closing (or junk to ignore).
        socket.on('end', () => this.drop(socket));
        socket.on('close', () => this.drop(socket));
        socket.on('data', () => undefined);
        resolve(socket);
      });
    });
    return this.connecting;
  }

  private drop(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }
}

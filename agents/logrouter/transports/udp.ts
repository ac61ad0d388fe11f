/** UDP datagrams, one message each. A send error is reported to the route, which retries. */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export class UdpTransport {
  private socket: Socket | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  get connected(): boolean {
    return true;
  }

  async send(datagrams: Buffer[]): Promise<void> {
    const socket = (this.socket ??= createSocket(isIPv6(this.host) ? 'udp6' : 'udp4'));
    if (datagrams.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      let left = datagrams.length;
      let failed: Error | undefined;
      for (const datagram of datagrams) {
        socket.send(datagram, this.port, this.host, (error) => {
          failed ??= error ?? undefined;
          if (--left > 0) return;
          if (failed) reject(failed);
          else resolve();
        });
      }
    });
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}

/**
 * The live logs behind `GET /logs`: at most `maxClients` clients, and ONE engine stream per
 * container however many clients follow it, so no number of clients can exhaust the engine's
 * file descriptors (1,500 clients took dockerd to 19,652 of 20,000 before). Containers that start
 * while a client is connected are followed too, as logspout does.
 *
 * A stream is shared, so a slow client cannot pause it for the others: a client more than
 * `SLOW_CLIENT_BYTES` behind is disconnected (its buffer would grow without bound).
 */
import type { IncomingMessage } from 'node:http';
import type Dockerode from 'dockerode';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { LogParser } from './log-parser';
import { sinceOf, tsFromMillis, type ContainerMeta, type LogLine } from './message';

export interface LiveClient {
  wants(container: ContainerMeta): boolean;
  send(container: ContainerMeta, line: LogLine): void;
  /** Output the client has not taken yet, in bytes. */
  backlog(): number;
  /** Disconnects the client (too slow). */
  drop(): void;
}

interface Followed {
  container: ContainerMeta;
  stream: IncomingMessage | undefined;
  closed: boolean;
}

/** A client this far behind is disconnected. */
const SLOW_CLIENT_BYTES = 1 << 20;

export class LiveLogs {
  private readonly clients = new Set<LiveClient>();
  private readonly followed = new Map<string, Followed>();

  constructor(
    private readonly docker: Pick<Dockerode, 'getContainer'>,
    private readonly logger: Logger,
    readonly maxClients: number,
    private readonly running: () => ContainerMeta[],
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Engine streams open now (one per followed container). */
  get streamCount(): number {
    return this.followed.size;
  }

  /** Adds a client; false when the limit is reached. */
  add(client: LiveClient): boolean {
    if (this.clients.size >= this.maxClients) return false;
    this.clients.add(client);
    for (const container of this.running()) if (client.wants(container)) this.follow(container);
    return true;
  }

  remove(client: LiveClient): void {
    if (!this.clients.delete(client)) return;
    for (const [id, entry] of this.followed)
      if (![...this.clients].some((c) => c.wants(entry.container))) this.unfollow(id);
  }

  /** A container started: follow it if a client wants it. */
  started(container: ContainerMeta): void {
    if ([...this.clients].some((c) => c.wants(container))) this.follow(container);
  }

  close(): void {
    for (const client of [...this.clients]) client.drop();
    for (const id of [...this.followed.keys()]) this.unfollow(id);
  }

  private follow(container: ContainerMeta): void {
    if (this.followed.has(container.id)) return;
    const entry: Followed = { container, stream: undefined, closed: false };
    this.followed.set(container.id, entry);
    const parser = new LogParser({
      tty: container.tty,
      maxLineBytes: 1 << 20,
      onLine: (line) => this.broadcast(container, line),
    });
    const target = this.docker.getContainer(container.id);
    const logs = target.logs as unknown as (options: object) => Promise<IncomingMessage>;
    logs
      .call(target, {
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: true,
        since: sinceOf(tsFromMillis(Date.now())),
      })
      .then((stream) => {
        if (entry.closed) {
          stream.destroy();
          return;
        }
        entry.stream = stream;
        stream.on('data', (chunk: Buffer) => parser.write(chunk));
        // The container stopped: its next start opens a new stream.
        const ended = () => {
          if (this.followed.get(container.id) === entry) this.followed.delete(container.id);
        };
        stream.on('end', ended);
        stream.on('close', ended);
        stream.on('error', ended);
      })
      .catch((error: unknown) => {
        if (this.followed.get(container.id) === entry) this.followed.delete(container.id);
        this.logger.debug('cannot follow logs for /logs', { container: container.name, error: errorMessage(error) });
      });
  }

  private unfollow(id: string): void {
    const entry = this.followed.get(id);
    if (!entry) return;
    entry.closed = true;
    entry.stream?.destroy();
    this.followed.delete(id);
  }

  private broadcast(container: ContainerMeta, line: LogLine): void {
    for (const client of this.clients) {
      if (!client.wants(container)) continue;
      if (client.backlog() > SLOW_CLIENT_BYTES) {
        this.logger.warn('a /logs client reads too slowly; disconnected', { behindBytes: client.backlog() });
        client.drop();
        this.remove(client);
        continue;
      }
      client.send(container, line);
    }
  }
}

/**
 * A scripted Docker engine on a unix socket, for unit tests of the event stream: it records each
 * /events request (with its `since`), lets the test write lines or cut the connection, and answers
 * /containers/json and /_ping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EventsRequestRecord {
  since: string | null;
  filters: string | null;
  response: ServerResponse;
}

export class FakeEngine {
  readonly requests: EventsRequestRecord[] = [];
  containers: object[] = [];
  listFailures = 0;
  /** How long the engine takes to list containers. */
  listDelayMs = 0;
  /** The next this many /events requests get no answer at all, like a hung engine. */
  stalledEvents = 0;
  /** Requests whose path (without the API version) matches get no answer at all, like a wedged container. */
  unanswered: RegExp[] = [];
  private readonly held: ServerResponse[] = [];
  readonly socketPath: string;
  private readonly dir: string;
  private readonly server: Server;
  private waiters: Array<() => void> = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'qs-fake-engine-'));
    this.socketPath = join(this.dir, 'docker.sock');
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const { response } of this.requests) response.destroy();
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The open /events response, once a client has connected (n counts connections from 1). */
  async connection(n: number): Promise<EventsRequestRecord> {
    while (this.requests.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.requests[n - 1]!;
  }

  send(n: number, ...lines: string[]): void {
    const record = this.requests[n - 1];
    if (!record) throw new Error(`no connection ${n}`);
    for (const line of lines) record.response.write(`${line}\n`);
  }

  /** Drops connection n without ending the chunked body, as a dying dockerd does. */
  cut(n: number): void {
    this.requests[n - 1]?.response.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v[\d.]+/, '');
    if (this.unanswered.some((pattern) => pattern.test(path))) {
      this.held.push(res);
      return;
    }
    if (path === '/events' && this.stalledEvents > 0) {
      this.stalledEvents -= 1;
      return;
    }
    if (path === '/events') {
      res.writeHead(200, { 'Content-Type': 'application/json', Date: new Date(1_700_000_000_000).toUTCString() });
      res.flushHeaders();
      this.requests.push({
        since: url.searchParams.get('since'),
        filters: url.searchParams.get('filters'),
        response: res,
      });
      this.waiters.splice(0).forEach((wake) => wake());
      return;
    }
    if (path === '/containers/json') {
      setTimeout(() => this.answerList(res), this.listDelayMs);
      return;
    }
    if (path === '/_ping') {
      res.writeHead(200).end('OK');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"not found"}');
  }

  private answerList(res: ServerResponse): void {
    if (this.listFailures > 0) {
      this.listFailures -= 1;
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"message":"boom"}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(this.containers));
  }
}

/** One raw engine event line, as dockerd writes it. */
export function rawEvent(fields: {
  type?: string;
  action: string;
  id: string;
  timeNano: bigint;
  attributes?: Record<string, string>;
}): string {
  const time = fields.timeNano / 1_000_000_000n;
  return `{"status":"${fields.action}","id":"${fields.id}","Type":"${fields.type ?? 'container'}","Action":"${fields.action}","Actor":{"ID":"${fields.id}","Attributes":${JSON.stringify(fields.attributes ?? {})}},"scope":"local","time":${time},"timeNano":${fields.timeNano}}`;
}

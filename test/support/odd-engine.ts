/**
 * An engine that answers oddly, on a unix socket: each request path (without an API version) is
 * answered by the first matching rule — a redirect, an empty or cut body, garbage JSON, no answer
 * at all. /events stays open and the test writes lines into it. Records every request, so a test
 * can show that none went where it should not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type OddAnswer = (res: ServerResponse) => void;

export const answers = {
  json:
    (body: unknown, status = 200): OddAnswer =>
    (res) =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body)),
  redirect:
    (location: string, status = 301): OddAnswer =>
    (res) =>
      res.writeHead(status, { Location: location, 'Content-Length': '0' }).end(),
  emptyBody: (): OddAnswer => (res) =>
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '0' }).end(),
  garbage:
    (text = '{"Id": "abc", "Config": {'): OddAnswer =>
    (res) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(text),
  /** Says 1000 bytes, sends 20, closes the connection. */
  shortBody: (): OddAnswer => (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
    res.write('{"Id":"abc","Config":');
    setTimeout(() => res.socket?.destroy(), 20);
  },
  html:
    (status = 500): OddAnswer =>
    (res) =>
      res.writeHead(status, { 'Content-Type': 'text/html' }).end('<html><body>Bad Gateway</body></html>'),
  /** Never answers (the test's close() ends it). */
  hang: (): OddAnswer => () => undefined,
};

export class OddEngine {
  readonly socketPath: string;
  readonly requests: string[] = [];
  private readonly rules: Array<{ path: RegExp; answer: OddAnswer }> = [];
  private readonly events: ServerResponse[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'qs-odd-engine-'));
  private readonly server: Server;

  constructor() {
    this.socketPath = join(this.dir, 'engine.sock');
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Answers requests whose path matches (rules added first win). */
  on(path: RegExp, answer: OddAnswer): this {
    this.rules.push({ path, answer });
    return this;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  /** Writes lines to every open /events stream. */
  sendEvents(...lines: string[]): void {
    for (const res of this.events) for (const line of lines) res.write(`${line}\n`);
  }

  get eventStreams(): number {
    return this.events.length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://engine').pathname.replace(/^\/v[\d.]+/, '');
    this.requests.push(`${req.method} ${path}`);
    const rule = this.rules.find((r) => r.path.test(path));
    if (rule) return rule.answer(res);
    if (path === '/events') {
      res.writeHead(200, { 'Content-Type': 'application/json', Server: 'Libpod/4.3.1 (linux)' });
      res.flushHeaders();
      this.events.push(res);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"no such object"}');
  }
}

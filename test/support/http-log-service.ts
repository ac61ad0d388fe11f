/**
 * An HTTP log-service double: records every POST (headers, decoded body), and answers with the
 * status codes a test queues (e.g. 429 with Retry-After, then 503, then 200).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export class HttpLogService {
  readonly requests: RecordedRequest[] = [];
  private readonly answers: Array<{ status: number; headers?: Record<string, string>; path?: string }> = [];
  private server: Server | undefined;
  port = 0;

  /** The next requests (to `path`, when given) get these answers, in order; afterwards 200. */
  answer(status: number, headers?: Record<string, string>, path?: string): void {
    this.answers.push({ status, headers, path });
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body =
          request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
        const index = this.answers.findIndex((a) => a.path === undefined || a.path === request.url);
        const answer = index < 0 ? { status: 200 } : this.answers.splice(index, 1)[0]!;
        this.requests.push({ path: request.url ?? '', headers: request.headers, body, status: answer.status });
        response.writeHead(answer.status, answer.headers);
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Every event of the accepted (2xx) requests, in order. */
  events(): Array<Record<string, unknown>> {
    return this.requests
      .filter((r) => r.status < 300)
      .flatMap((r) =>
        r.body.startsWith('[')
          ? (JSON.parse(r.body) as Array<Record<string, unknown>>)
          : r.body
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}

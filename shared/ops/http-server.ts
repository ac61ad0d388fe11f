/**
 * The one HTTP server of a process: /healthz (alive), /readyz (Docker and backends reachable),
 * /metrics, and the routes agents add.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Registry } from 'prom-client';
import type { HostPort } from '../config/options';
import { errorMessage, silentLogger, type Logger } from './logger';

export interface ReadinessResult {
  ready: boolean;
  detail?: string;
}
export type ReadinessCheck = () => ReadinessResult | Promise<ReadinessResult>;
export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
/**
 * Exposition text (format 0.0.4) appended to the registry's on /metrics, for families written
 * directly; as UTF-8 bytes when the source builds it so (no decoding and encoding it again).
 */
export type MetricsSource = () => string | Buffer | Promise<string | Buffer>;

export class OpsServer {
  private readonly server: Server;
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly routes = new Map<string, { handler: RouteHandler; methods: readonly string[]; prefix: boolean }>();
  private readonly metricsSources: MetricsSource[] = [];

  constructor(private readonly registry: Registry, private readonly logger: Logger = silentLogger) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error('HTTP handler failed', { path: request.url, error: errorMessage(error) });
        if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
        else response.destroy();
      });
    });
  }

  /** /readyz answers 503 while any check says not ready. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /**
   * A GET route, e.g. `/findings`. `methods` lets a route take more (the handler then checks who
   * may change state); `prefix` also routes `path/…` to it (`/routes/{id}`).
   */
  addRoute(path: string, handler: RouteHandler, options: { methods?: readonly string[]; prefix?: boolean } = {}): void {
    if (this.routes.has(path) || ['/healthz', '/readyz', '/metrics'].includes(path)) throw new Error(`HTTP route ${path} is already taken`);
    this.routes.set(path, { handler, methods: ['GET', 'HEAD', ...(options.methods ?? [])], prefix: options.prefix ?? false });
  }

  /**
   * Text appended to /metrics after the registry's: for exporters whose families are rebuilt each
   * scrape, where prom-client metric objects per sample cost more memory than the text.
   */
  addMetricsSource(source: MetricsSource): void {
    this.metricsSources.push(source);
  }

  async listen(address: HostPort): Promise<HostPort> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(address.port, address.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = this.server.address() as AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, ReadinessResult> }> {
    const checks: Record<string, ReadinessResult> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch (error) {
        checks[name] = { ready: false, detail: errorMessage(error) };
      }
    }
    return { ready: Object.values(checks).every((c) => c.ready), checks };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const route = this.routes.get(path) ?? [...this.routes].find(([base, r]) => r.prefix && path.startsWith(`${base}/`))?.[1];
    const methods = route?.methods ?? ['GET', 'HEAD'];
    if (!methods.includes(request.method ?? 'GET')) {
      response.setHeader('Allow', methods.join(', '));
      return sendJson(response, 405, { error: `method ${request.method} not allowed` });
    }
    switch (path) {
      case '/healthz':
        return sendJson(response, 200, { status: 'ok' });
      case '/readyz': {
        const readiness = await this.readiness();
        return sendJson(response, readiness.ready ? 200 : 503, readiness);
      }
      case '/metrics': {
        // Together, so a source and the registry's collect() callbacks can share one collection.
        const [body, ...extra] = await Promise.all([this.registry.metrics(), ...this.metricsSources.map((source) => source())]);
        // Prometheus asks for gzip; an exporter's text shrinks about tenfold. Level 1: the scrape is on the clock.
        const gzip = acceptsGzip(request.headers['accept-encoding']);
        response.writeHead(200, { 'Content-Type': this.registry.contentType, Vary: 'Accept-Encoding', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
        let out: Writable = response;
        if (gzip) {
          out = createGzip({ level: 1, chunkSize: 256 * 1024 });
          out.on('error', () => response.destroy());
          out.pipe(response);
        }
        writeExpositions(out, [body, ...extra]);
        return;
      }
    }
    if (route) return route.handler(request, response);
    sendJson(response, 404, { error: `no route ${path}` });
  }
}

/** Whether an Accept-Encoding header takes gzip (listed, and not with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

/** The parts one after the other, each ending with a newline, as the format wants before the next family. */
function writeExpositions(response: Writable, parts: ReadonlyArray<string | Buffer>): void {
  for (const part of parts) {
    if (part.length === 0) continue;
    response.write(part);
    const last = typeof part === 'string' ? part.charCodeAt(part.length - 1) : part[part.length - 1];
    if (last !== 0x0a) response.write('\n');
  }
  response.end();
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

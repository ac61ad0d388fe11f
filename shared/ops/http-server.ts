/**
 * The one HTTP server of a process: /healthz (alive), /readyz (Docker and backends reachable),
 * /metrics, and the routes agents add. Access is decided here, for every route alike (access.ts):
 * each route declares `public` or `sensitive`; changes (POST, DELETE …) are always sensitive;
 * /readyz shows its details (which may name hosts and errors) to trusted clients only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Registry } from 'prom-client';
import type { HostPort } from '../config/options';
import { AccessPolicy, type Access } from './access';
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
/** Told when a response no longer reads the text its source gave (so the source may reuse the buffer). */
export type MetricsRelease = (text: string | Buffer) => void;

export interface RouteOptions {
  /** Who may read it: `public`, or `sensitive` (bearer token or loopback client). */
  access: Access;
  /** Methods besides GET and HEAD; they change state, so they always need a trusted client. */
  methods?: readonly string[];
  /** Also routes `path/…` to it (`/routes/{id}`). */
  prefix?: boolean;
}

export interface OpsServerOptions {
  /** The bearer token that admits non-loopback clients to sensitive routes (`--api-token`). */
  apiToken?: string;
  /** Most open connections at once (default MAX_CONNECTIONS); the server closes any beyond it at once. */
  maxConnections?: number;
}

/**
 * Open connections one server keeps at once: above every legitimate use (a scrape or two, the
 * console, up to 1,000 /logs clients), below the file descriptors an agent can spare, so clients
 * that open connections and send nothing cannot take them all.
 */
const MAX_CONNECTIONS = 1_024;

interface Route {
  handler: RouteHandler;
  access: Access;
  methods: readonly string[];
  prefix: boolean;
}

const BUILT_IN: ReadonlyMap<string, Access> = new Map<string, Access>([
  ['/healthz', 'public'],
  ['/readyz', 'public'],
  ['/metrics', 'public'],
]);

export class OpsServer {
  private readonly server: Server;
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly routes = new Map<string, Route>();
  private readonly metricsSources: Array<{ render: MetricsSource; release?: MetricsRelease }> = [];
  /** Who may read what; the console asks it for the session cookie. */
  readonly access: AccessPolicy;

  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger = silentLogger,
    options: OpsServerOptions = {},
  ) {
    this.access = new AccessPolicy(options.apiToken);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error('HTTP handler failed', { path: request.url, error: errorMessage(error) });
        if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
        else response.destroy();
      });
    });
    this.server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  }

  /** /readyz answers 503 while any check says not ready. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /**
   * A GET route, e.g. `/findings`, readable by the clients its `access` names. The handler runs only
   * for requests the server admitted: it checks no token or address itself.
   */
  addRoute(path: string, handler: RouteHandler, options: RouteOptions): void {
    if (this.routes.has(path) || BUILT_IN.has(path)) throw new Error(`HTTP route ${path} is already taken`);
    this.routes.set(path, {
      handler,
      access: options.access,
      methods: ['GET', 'HEAD', ...(options.methods ?? [])],
      prefix: options.prefix ?? false,
    });
  }

  /**
   * Text appended to /metrics after the registry's: for exporters whose families are rebuilt each
   * scrape, where prom-client metric objects per sample cost more memory than the text. `release`
   * gets each text back once its response has closed.
   */
  addMetricsSource(render: MetricsSource, release?: MetricsRelease): void {
    this.metricsSources.push({ render, release });
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
    const route =
      this.routes.get(path) ?? [...this.routes].find(([base, r]) => r.prefix && path.startsWith(`${base}/`))?.[1];
    const access = BUILT_IN.get(path) ?? route?.access;
    if (access === undefined) return sendJson(response, 404, { error: `no route ${path}` });
    const methods = route?.methods ?? ['GET', 'HEAD'];
    if (!methods.includes(request.method ?? 'GET')) {
      response.setHeader('Allow', methods.join(', '));
      return sendJson(response, 405, { error: `method ${request.method} not allowed` });
    }
    const denial = this.access.check(request, access);
    if (denial) {
      if (denial.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
      return sendJson(response, denial.status, { error: `${path}: ${denial.error}` });
    }
    switch (path) {
      case '/healthz':
        return sendJson(response, 200, { status: 'ok' });
      case '/readyz': {
        const readiness = await this.readiness();
        const body = this.access.trusts(request) ? readiness : withoutDetails(readiness);
        return sendJson(response, readiness.ready ? 200 : 503, body);
      }
      case '/metrics': {
        // Together, so a source and the registry's collect() callbacks can share one collection.
        const [body, ...extra] = await Promise.all([
          this.registry.metrics(),
          ...this.metricsSources.map((source) => source.render()),
        ]);
        const release = (): void => extra.forEach((text, i) => this.metricsSources[i]!.release?.(text));
        if (response.closed) return release(); // the client went while we collected
        // Prometheus asks for gzip; an exporter's text shrinks about tenfold. Level 1: the scrape is on the clock.
        const gzip = acceptsGzip(request.headers['accept-encoding']);
        response.writeHead(200, {
          'Content-Type': this.registry.contentType,
          Vary: 'Accept-Encoding',
          ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
        });
        let out: Writable = response;
        if (gzip) {
          out = createGzip({ level: 1, chunkSize: 256 * 1024 });
          out.on('error', () => response.destroy());
          out.pipe(response);
        }
        // The texts are given back once the response and gzip have closed: neither reads them then.
        let holders = out === response ? 1 : 2;
        const closed = (): void => void (--holders === 0 && release());
        response.once('close', closed);
        if (out !== response) out.once('close', closed);
        writeExpositions(out, [body, ...extra]);
        return;
      }
    }
    if (route) return route.handler(request, response);
  }
}

/** Readiness as anyone may see it: which checks pass, not why (details name hosts, URLs, errors). */
function withoutDetails(readiness: { ready: boolean; checks: Record<string, ReadinessResult> }): {
  ready: boolean;
  checks: Record<string, ReadinessResult>;
} {
  const checks = Object.fromEntries(
    Object.entries(readiness.checks).map(([name, check]) => [name, { ready: check.ready }]),
  );
  return { ready: readiness.ready, checks };
}

/** Whether an Accept-Encoding header takes gzip (listed, and not with q=0). */
function acceptsGzip(header: string | undefined): boolean {
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
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

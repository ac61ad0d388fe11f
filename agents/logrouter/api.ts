/**
 * logspout's HTTP API: `/routes` (GET, POST, DELETE; routes added here persist in the state folder)
 * and `/logs` (a live stream of the logs of running containers, as text or NDJSON).
 * Who may read or change them is the ops server's access model (both routes are sensitive).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { compileGlob } from '../../shared/glob';
import { sendJson, type OpsServer } from '../../shared/ops/http-server';
import { errorMessage, type Logger } from '../../shared/ops/logger';
import { integerOption } from '../../shared/config/options';
import type { LiveClient, LiveLogs } from './live-logs';
import type { ContainerMeta } from './message';
import { RouteError, routeFromJson, routeToJson, type RouteSpec } from './route';
import type { LogRouter } from './router';
import { TemplateError } from './template';

export interface ApiSettings {
  http: OpsServer;
  router: LogRouter;
  live: LiveLogs;
  routesDir: string;
  logger: Logger;
}

/** The API's own options (spread into the logrouter's). */
export const logsApiOptions = {
  logApiMaxClients: integerOption({
    help: 'Most /logs clients at once; more get 503. All clients share one Docker log stream per container, so this bounds the agent, not the engine',
    env: 'QUAYSIDE_LOG_API_MAX_CLIENTS',
    default: 10,
    min: 1,
    max: 1_000,
  }),
};

/** Loads the routes added through the API before, each from its own file. */
export function loadPersistedRoutes(dir: string, logger: Logger): RouteSpec[] {
  mkdirSync(dir, { recursive: true });
  const specs: RouteSpec[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    try {
      specs.push(routeFromJson(JSON.parse(readFileSync(join(dir, file), 'utf8')), () => file.slice(0, -5)));
    } catch (error) {
      logger.warn('ignoring a stored route that cannot be read', { file: join(dir, file), error: errorMessage(error) });
    }
  }
  return specs;
}

export function addLogrouterApi(settings: ApiSettings): void {
  const { http } = settings;
  http.addRoute('/routes', (request, response) => handleRoutes(settings, request, response), {
    access: 'sensitive',
    methods: ['POST', 'DELETE'],
    prefix: true,
  });
  http.addRoute('/logs', (request, response) => streamLogs(settings, request, response), {
    access: 'sensitive',
    prefix: true,
  });
}

async function handleRoutes(settings: ApiSettings, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const id = path.startsWith('/routes/') ? decodeURIComponent(path.slice('/routes/'.length)) : undefined;
  const { router } = settings;
  if (request.method === 'GET' || request.method === 'HEAD') {
    if (id === undefined)
      return sendPretty(
        response,
        200,
        router.routeSpecs().map((spec) => routeToJson(spec)),
      );
    const spec = router.routeSpecs().find((r) => r.id === id);
    return spec ? sendPretty(response, 200, routeToJson(spec)) : sendJson(response, 404, { error: `no route ${id}` });
  }
  if (request.method === 'DELETE') {
    if (id === undefined || !router.removeRoute(id)) return sendJson(response, 404, { error: `no route ${id ?? ''}` });
    rmSync(join(settings.routesDir, `${id}.json`), { force: true });
    return sendJson(response, 200, { deleted: id });
  }
  if (id !== undefined) return sendJson(response, 405, { error: 'POST to /routes' });
  // A form or a text/plain fetch from another site needs no CORS preflight; a JSON body does.
  if (!isJson(request.headers['content-type']))
    return sendJson(response, 415, { error: 'POST /routes takes a JSON body: send Content-Type: application/json' });
  let spec: RouteSpec;
  try {
    const body = await readBody(request, 64 * 1024);
    spec = routeFromJson(JSON.parse(body), () => randomBytes(6).toString('hex'));
    router.addRoute(spec);
  } catch (error) {
    const bad = error instanceof RouteError || error instanceof TemplateError || error instanceof SyntaxError;
    return sendJson(response, bad ? 400 : 500, {
      error: `Bad route: ${error instanceof RouteError ? error.reason : errorMessage(error)}`,
    });
  }
  const file = join(settings.routesDir, `${spec.id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(routeToJson(spec, { revealSecrets: true }), null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  settings.logger.info('route added through the API', { route: spec.id, adapter: spec.adapter, address: spec.address });
  return sendPretty(response, 201, routeToJson(spec));
}

function sendPretty(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Whether a Content-Type is JSON (`application/json`, any parameters). */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > limit) {
        reject(new RouteError(`body larger than ${limit} bytes`));
        request.destroy();
      }
    });
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

/**
 * `GET /logs`, `/logs/id:<prefix>`, `/logs/name:<glob>`, `?sources=stdout,stderr`; text lines
 * `name|line`, or NDJSON with `Accept: application/json` or `?format=json`. Live only: each
 * container running when the request comes, or started while it lasts, is followed from that
 * moment, through the one stream per container all clients share. Over the client limit: 503.
 */
function streamLogs(settings: ApiSettings, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const selector = url.pathname.slice('/logs'.length).replace(/^\//, '');
  let pick: (c: ContainerMeta) => boolean = () => true;
  if (selector.startsWith('id:')) pick = (c) => c.id.startsWith(selector.slice(3));
  else if (selector.startsWith('name:')) {
    const glob = compileGlob(decodeURIComponent(selector.slice(5)));
    pick = (c) => glob.test(c.name);
  } else if (selector !== '')
    return sendJson(response, 404, { error: 'use /logs, /logs/id:<id> or /logs/name:<glob>' });
  const sources = (url.searchParams.get('sources') ?? 'stdout,stderr').split(',');
  const json = url.searchParams.get('format') === 'json' || (request.headers.accept ?? '').includes('application/json');
  const { live } = settings;
  const client: LiveClient = {
    wants: pick,
    send(container, line) {
      if (!sources.includes(line.source)) return;
      response.write(
        json
          ? `${JSON.stringify({ container: container.name, id: container.id, source: line.source, time: line.ts, data: line.data.toString('utf8') })}\n`
          : `${container.name}|${line.data.toString('utf8')}\n`,
      );
    },
    backlog: () => response.writableLength,
    drop: () => response.destroy(),
  };
  if (!live.add(client)) {
    response.setHeader('Retry-After', '10');
    return sendJson(response, 503, {
      error: `${live.maxClients} /logs clients already connected (the limit, --log-api-max-clients)`,
    });
  }
  response.writeHead(200, {
    'Content-Type': json ? 'application/x-ndjson' : 'text/plain; charset=utf-8',
    'Cache-Control': 'no-cache',
  });
  response.flushHeaders();
  response.on('close', () => live.remove(client));
}

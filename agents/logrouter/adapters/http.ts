/**
 * `http://` and `https://` log services: batches POSTed as NDJSON (default) or a JSON array,
 * optionally gzipped, with custom headers (`header.X-Api-Key=…`) for API keys. 408, 429, 5xx and
 * 401/403/404 are retried with backoff, waiting at least what `Retry-After` asks; 413 splits the
 * batch in halves; another 4xx drops the lines (counted): resending what the service refused as
 * bad would only block the route.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { booleanOption, choiceOption, durationOption, stringOption } from '../../../shared/config/options';
import { jsonEvent } from '../json-event';
import { RouteError } from '../route';
import { credentialRouteOptions, jsonRouteOption, routeOptionValues } from '../route-options';
import { tlsOptions, tlsRouteOptions } from '../transports/tls-options';
import type { LogMessage } from '../message';
import { RetryLater, type AdapterFactory, type AdapterKind } from './adapter';

const httpRouteOptions = {
  format: choiceOption({
    help: 'A batch as NDJSON or as one JSON array',
    default: 'ndjson',
    choices: ['ndjson', 'json'] as const,
  }),
  gzip: booleanOption({ help: 'Compress each request (Content-Encoding: gzip)', default: false }),
  timeout: durationOption({
    help: 'How long to wait for an answer before retrying, e.g. 5s',
    default: 30_000,
    minMs: 1,
    maxMs: 3_600_000,
    bareUnit: 'ms',
  }),
  'header.': {
    ...stringOption({
      help: 'A request header, e.g. header.X-Api-Key=… (/routes shows *** for every value but Content-Type, Content-Encoding, User-Agent and Accept)',
    }),
    prefix: true,
  },
  ...credentialRouteOptions,
  ...jsonRouteOption,
};

const createHttpAdapter: AdapterFactory = ({ spec, env }) => {
  const secure = spec.adapter === 'https';
  const { format, gzip, timeout: timeoutMs } = routeOptionValues(httpRouteOptions, spec.options, env);
  if (spec.address === '') throw new RouteError('expected host:port');
  const headers: Record<string, string> = {
    'Content-Type': format === 'ndjson' ? 'application/x-ndjson' : 'application/json',
    'User-Agent': 'quayside-logrouter',
  };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  // `https://user:password@host/path`: HTTP basic authentication (a header.Authorization wins).
  if (spec.options.username !== undefined || spec.options.password !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${spec.options.username ?? ''}:${spec.options.password ?? ''}`).toString('base64')}`;
  }
  for (const [key, value] of Object.entries(spec.options)) if (key.startsWith('header.')) headers[key.slice(7)] = value;
  let url: URL;
  try {
    url = new URL(`${secure ? 'https' : 'http'}://${spec.address}${spec.path || '/'}`);
  } catch {
    throw new RouteError(`not a valid address ${JSON.stringify(spec.address)}`);
  }
  const tls = secure ? tlsOptions(spec.options, env, url.hostname) : undefined;
  let healthy = true;
  /** How many messages of a batch went out (or were refused) before a retry, after a 413 split it. */
  const progress = new WeakMap<readonly LogMessage[], number>();
  const postPiece = async (messages: readonly LogMessage[]) => {
    const events = messages.map((m) => JSON.stringify(jsonEvent(m)));
    const text = format === 'ndjson' ? `${events.join('\n')}\n` : `[${events.join(',')}]`;
    const body = gzip ? gzipSync(text) : Buffer.from(text);
    try {
      const response = await post(url, body, headers, timeoutMs, secure, tls);
      healthy = response.status < 500;
      return response;
    } catch (error) {
      healthy = false;
      throw error;
    }
  };
  /** Sends `batch` from `from` on; resolves with the messages refused for good and why. */
  const deliver = async (
    batch: readonly LogMessage[],
    from: number,
    to: number,
  ): Promise<{ count: number; reason: string }> => {
    if (from >= to) return { count: 0, reason: '' };
    const response = await postPiece(batch.slice(from, to));
    if (response.status >= 200 && response.status < 300) {
      progress.set(batch, to);
      return { count: 0, reason: '' };
    }
    // Overload, and also a rejected API key or a missing endpoint: the operator fixes those, and
    // Docker keeps the lines meanwhile; dropping them would lose everything until then.
    if (RETRIED.has(response.status) || response.status >= 500) {
      throw new RetryLater(`HTTP ${response.status} from ${url.host}`, retryAfterMs(response.retryAfter));
    }
    if (response.status === 413 && to - from > 1) {
      // Too large: send it in halves rather than drop lines the service would take.
      const middle = from + Math.ceil((to - from) / 2);
      const first = await deliver(batch, from, middle);
      const second = await deliver(batch, middle, to);
      return { count: first.count + second.count, reason: first.reason || second.reason };
    }
    progress.set(batch, to);
    return { count: to - from, reason: `HTTP ${response.status} from ${url.host}: ${response.body.slice(0, 200)}` };
  };
  return {
    get connected() {
      return healthy;
    },
    reconnects: 0,
    async send(batch) {
      const refused = await deliver(batch, progress.get(batch) ?? 0, batch.length);
      return refused.count > 0 ? { rejected: { reason: refused.reason, count: refused.count } } : undefined;
    },
    async close() {},
  };
};

/** Answers worth waiting out: timeout, rate limit, and the ones an operator fixes (key, endpoint). */
const RETRIED = new Set([401, 403, 404, 408, 429]);

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function post(
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  secure: boolean,
  tls: object | undefined,
): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const options = {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(body.length) },
      timeout: timeoutMs,
      ...(tls ?? {}),
    };
    const request = (secure ? httpsRequest : httpRequest)(url, options, (response: IncomingMessage) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < 4096) text += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], body: text }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

export const httpAdapter: AdapterKind = { schemes: ['http'], options: httpRouteOptions, create: createHttpAdapter };

export const httpsAdapter: AdapterKind = {
  schemes: ['https'],
  options: { ...httpRouteOptions, ...tlsRouteOptions },
  create: createHttpAdapter,
};

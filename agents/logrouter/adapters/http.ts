/**
 * `http://` and `https://` log services: batches POSTed as NDJSON (default) or a JSON array,
 * optionally gzipped, with custom headers (`header.X-Api-Key=…`) for API keys. 429 and 5xx are
 * retried with backoff, waiting at least what `Retry-After` asks; another 4xx drops the batch
 * (counted): resending what the service refused would only block the route.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { jsonEvent } from '../json-event';
import { RouteError } from '../route';
import { tlsOptions } from '../transports/tls-options';
import { RetryLater, type AdapterFactory } from './adapter';

export const httpAdapter: AdapterFactory = ({ spec, env }) => {
  const secure = spec.adapter === 'https';
  const format = spec.options.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'json') throw new RouteError(`http format must be ndjson or json, not ${JSON.stringify(format)}`);
  const gzip = (spec.options.gzip ?? 'false') === 'true';
  const timeoutMs = Number(spec.options.timeout ?? 30_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RouteError(`http timeout must be a positive number of milliseconds, not ${JSON.stringify(spec.options.timeout)}`);
  if (spec.address === '') throw new RouteError('expected host:port');
  const headers: Record<string, string> = {
    'Content-Type': format === 'ndjson' ? 'application/x-ndjson' : 'application/json',
    'User-Agent': 'quayside-logrouter',
  };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  for (const [key, value] of Object.entries(spec.options)) if (key.startsWith('header.')) headers[key.slice(7)] = value;
  let url: URL;
  try {
    url = new URL(`${secure ? 'https' : 'http'}://${spec.address}${spec.path || '/'}`);
  } catch {
    throw new RouteError(`not a valid address ${JSON.stringify(spec.address)}`);
  }
  const tls = secure ? tlsOptions(spec.options, env, url.hostname) : undefined;
  let healthy = true;
  return {
    get connected() {
      return healthy;
    },
    reconnects: 0,
    async send(batch) {
      const events = batch.map((m) => JSON.stringify(jsonEvent(m)));
      const text = format === 'ndjson' ? `${events.join('\n')}\n` : `[${events.join(',')}]`;
      const body = gzip ? gzipSync(text) : Buffer.from(text);
      let response: { status: number; retryAfter?: string; body: string };
      try {
        response = await post(url, body, headers, timeoutMs, secure, tls);
      } catch (error) {
        healthy = false;
        throw error;
      }
      healthy = response.status < 500;
      if (response.status >= 200 && response.status < 300) return;
      if (response.status === 429 || response.status >= 500 || response.status === 408) {
        throw new RetryLater(`HTTP ${response.status} from ${url.host}`, retryAfterMs(response.retryAfter));
      }
      return { rejected: { reason: `HTTP ${response.status} from ${url.host}: ${response.body.slice(0, 200)}` } };
    },
    async close() {},
  };
};

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
    const options = { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, timeout: timeoutMs, ...(tls ?? {}) };
    const request = (secure ? httpsRequest : httpRequest)(url, options, (response: IncomingMessage) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < 4096) text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], body: text }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

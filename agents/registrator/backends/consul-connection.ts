/**
 * One connection setting for Consul, used two ways: the `consul` npm client for the calls it
 * covers (status, service list, deregister, maintenance, KV), and a plain request on the same
 * http(s) agent for the two it does not: register with `?replace-existing-checks` (the client
 * has no way to ask for it, and without it a check removed from a container would stay in
 * Consul) and `PUT /v1/agent/check/update` with an output (the client only has pass/warn/fail).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type Consul from 'consul';
import { ConfigError } from '../../../shared/config/errors';
import { RegistryError, type ConnectionSettings } from './backend';
import { describeEndpoint, type ConsulEndpoint } from './consul-uri';

export interface ConsulSettings extends ConnectionSettings {
  endpoint: ConsulEndpoint;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class ConsulConnection {
  readonly client: Consul;
  readonly description: string;
  readonly timeoutMs: number;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly settings: ConsulSettings) {
    const { endpoint } = settings;
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.description = describeEndpoint(endpoint);
    this.agent =
      endpoint.protocol === 'https'
        ? new HttpsAgent({ keepAlive: true, ...tlsMaterial(settings) })
        : new HttpAgent({ keepAlive: true });
    const baseUrl = endpoint.socketPath
      ? 'http://consul/v1'
      : `${endpoint.protocol}://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}/v1`;
    // socketPath is passed through to papi, the client's HTTP layer, which supports it.
    // Loaded when a Consul registry is configured, not by every agent's process.
    const ConsulClient = require('consul') as typeof Consul;
    this.client = new ConsulClient({
      baseUrl,
      agent: this.agent,
      defaults: settings.token ? { token: settings.token } : undefined,
      ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : {}),
    } as ConstructorParameters<typeof Consul>[0]);
  }

  /** Runs a call of the npm client with our timeout (papi reads `timeout`; the typings omit it), turning its errors into RegistryError. */
  async call<T>(what: string, run: (options: object) => Promise<T>): Promise<T> {
    try {
      return await run({ timeout: this.timeoutMs });
    } catch (error) {
      throw toRegistryError(what, error);
    }
  }

  /** A request the npm client cannot make; resolves with the body of a 2xx answer. */
  request(method: 'GET' | 'PUT', path: string, body?: string): Promise<string> {
    const { endpoint, token } = this.settings;
    const send = endpoint.protocol === 'https' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = {};
    if (token) headers['X-Consul-Token'] = token;
    if (body !== undefined)
      Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    const target = endpoint.socketPath
      ? { socketPath: endpoint.socketPath }
      : { host: endpoint.host, port: endpoint.port };
    return new Promise((resolve, reject) => {
      const req = send(
        { ...target, method, path: `/v1${path}`, headers, agent: this.agent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new RegistryError(`${method} ${path}: ${e.message}`)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(text);
            else reject(new RegistryError(`${method} ${path}: ${status} ${text.trim()}`, status));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(new RegistryError(`${method} ${path}: ${e.message}`)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function tlsMaterial(settings: ConsulSettings): Record<string, unknown> {
  const read = (file: string | undefined, what: string): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`${what} ${file}: ${(error as Error).message}`);
    }
  };
  const tls: Record<string, unknown> = {};
  const ca = read(settings.caFile, 'CONSUL_CACERT (--consul-cacert)');
  const cert = read(settings.certFile, 'CONSUL_CLIENT_CERT (--consul-client-cert)');
  const key = read(settings.keyFile, 'CONSUL_CLIENT_KEY (--consul-client-key)');
  if (Boolean(cert) !== Boolean(key))
    throw new ConfigError('CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY go together: give both or neither');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (settings.serverName) tls.servername = settings.serverName;
  return tls;
}

interface ClientError {
  statusCode?: number;
  message?: string;
  response?: { body?: unknown };
}

function toRegistryError(what: string, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  const e = (error ?? {}) as ClientError;
  const body =
    typeof e.response?.body === 'string'
      ? e.response.body.trim()
      : Buffer.isBuffer(e.response?.body)
        ? e.response.body.toString().trim()
        : '';
  const message = (e.message ?? String(error)).replace(/^consul: /, '');
  return new RegistryError(`${what}: ${e.statusCode ? `${e.statusCode} ` : ''}${body || message}`, e.statusCode);
}

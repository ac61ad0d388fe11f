/**
 * Consul's side of registry URIs, shared by the agent and KV backends: the host and port of
 * `consul://host:port` (a URI without a host uses CONSUL_HTTP_ADDR, then 127.0.0.1:8500, as the
 * Consul client does), the socket of `consul-unix:///path.sock`, the KV key prefix.
 */
import { isHostName, withoutPassword } from '../../../shared/config/uri';

export interface ConsulEndpoint {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  /** Set for the unix-socket forms; host and port are then unused. */
  socketPath?: string;
}

/** `rest` is what follows `scheme:` in the URI. */
export function unixSocketEndpoint(scheme: string, rest: string): { endpoint: ConsulEndpoint; body: string } {
  const body = rest.replace(/^\/\//, '');
  if (!body.startsWith('/'))
    throw new Error(`${scheme} needs an absolute socket path, as ${scheme}:///run/consul/http.sock`);
  return { endpoint: { protocol: 'http', host: 'localhost', port: 0, socketPath: body }, body };
}

export function networkEndpoint(
  rest: string,
  tls: boolean,
  env: NodeJS.ProcessEnv,
): { endpoint: ConsulEndpoint; path: string } {
  const body = rest.replace(/^\/\//, '');
  const slash = body.indexOf('/');
  const authority = slash < 0 ? body : body.slice(0, slash);
  const path = slash < 0 ? '' : body.slice(slash);
  const fallback = authority === '' ? consulHttpAddr(env) : undefined;
  const hostPort = fallback?.hostPort ?? authority;
  // A space, %00 or `-` as the host would only fail at every retry.
  const parsed = /^(?:\[([0-9a-fA-F:.]+)\]|([^[\]:]+))(?::(\d{1,5}))?$/.exec(hostPort);
  const host = parsed?.[1] ?? parsed?.[2] ?? '';
  const port = Number(parsed?.[3] ?? 8500);
  if (!parsed || !isHostName(host) || port < 1 || port > 65535)
    // The whole text masked: a `/` in a password ends `authority` inside it (`user:pa/ss@host`).
    throw new Error(
      `${JSON.stringify(withoutPassword(fallback ? hostPort : body))} is not HOST, HOST:PORT or [IPv6]:PORT`,
    );
  return { endpoint: { protocol: tls || fallback?.tls ? 'https' : 'http', host, port }, path };
}

/** CONSUL_HTTP_ADDR as the Consul client reads it: `host:port`, `http://…`, `https://…`. */
function consulHttpAddr(env: NodeJS.ProcessEnv): { hostPort: string; tls: boolean } {
  const value = (env.CONSUL_HTTP_ADDR ?? '').trim();
  if (value === '') return { hostPort: '127.0.0.1:8500', tls: false };
  const scheme = /^(https?):\/\//i.exec(value);
  const hostPort = value.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  return { hostPort, tls: scheme?.[1]?.toLowerCase() === 'https' || /^(1|true)$/i.test(env.CONSUL_HTTP_SSL ?? '') };
}

export function kvPrefix(path: string): string {
  const prefix = path.replace(/^\/+|\/+$/g, '');
  // registrator panicked here on its first registration; a prefix is needed to tell our keys apart.
  if (prefix === '') throw new Error('consulkv needs a key prefix, as consulkv://127.0.0.1:8500/services');
  if (/\/\//.test(prefix)) throw new Error(`KV prefix ${JSON.stringify(path)} has an empty segment`);
  return prefix;
}

export function describeEndpoint(endpoint: ConsulEndpoint): string {
  if (endpoint.socketPath) return `unix://${endpoint.socketPath}`;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.protocol}://${host}:${endpoint.port}`;
}

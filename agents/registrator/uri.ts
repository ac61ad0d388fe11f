/**
 * Registry URIs as registrator takes them: `consul://host:port`, `consul-tls://host:port`,
 * `consul-unix:///path.sock`, `consulkv://host:port/prefix`, `consulkv-unix:///path.sock:/prefix`.
 * A `consul:` URI without a host uses CONSUL_HTTP_ADDR, then 127.0.0.1:8500, as the Consul
 * client does.
 */

export type BackendKind = 'consul' | 'consulkv';

export interface ConsulEndpoint {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  /** Set for the unix-socket forms; host and port are then unused. */
  socketPath?: string;
}

export interface RegistryUri {
  /** The URI as given. */
  raw: string;
  backend: BackendKind;
  endpoint: ConsulEndpoint;
  /** consulkv only: the key prefix, without slashes at either end. */
  prefix: string;
}

const UNSUPPORTED: Record<string, string> = {
  etcd: 'registrator\'s etcd backend is not part of quayside',
  skydns2: 'registrator\'s skydns2 backend is not part of quayside',
  zookeeper: 'registrator\'s zookeeper backend is not part of quayside',
};

const EXPECTED = 'expected consul://host:port, consul-tls://host:port, consul-unix:///path.sock, consulkv://host:port/prefix or consulkv-unix:///path.sock:/prefix';

/** Parses a registry URI, or throws an Error saying what is wrong and what is expected. */
export function parseRegistryUri(raw: string, env: NodeJS.ProcessEnv = process.env): RegistryUri {
  const text = raw.trim();
  const match = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(text);
  if (!match) throw new Error(`not a URI; ${EXPECTED}`);
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (UNSUPPORTED[scheme]) throw new Error(`${UNSUPPORTED[scheme]}; ${EXPECTED}`);
  switch (scheme) {
    case 'consul':
    case 'consul-tls':
    case 'consulkv': {
      const { endpoint, path } = networkEndpoint(rest, scheme === 'consul-tls', env);
      if (scheme !== 'consulkv' && path !== '') throw new Error(`a ${scheme} URI takes no path (${path}); did you mean consulkv://?`);
      return { raw: text, backend: scheme === 'consulkv' ? 'consulkv' : 'consul', endpoint, prefix: scheme === 'consulkv' ? kvPrefix(path) : '' };
    }
    case 'consul-unix':
    case 'consulkv-unix': {
      const body = rest.replace(/^\/\//, '');
      if (!body.startsWith('/')) throw new Error(`${scheme} needs an absolute socket path, as ${scheme}:///run/consul/http.sock`);
      let socketPath = body;
      let path = '';
      if (scheme === 'consulkv-unix') {
        const colon = body.indexOf(':');
        socketPath = colon < 0 ? body : body.slice(0, colon);
        path = colon < 0 ? '' : body.slice(colon + 1);
      }
      return {
        raw: text,
        backend: scheme === 'consulkv-unix' ? 'consulkv' : 'consul',
        endpoint: { protocol: 'http', host: 'localhost', port: 0, socketPath },
        prefix: scheme === 'consulkv-unix' ? kvPrefix(path) : '',
      };
    }
    default:
      throw new Error(`unknown scheme ${JSON.stringify(scheme)}; ${EXPECTED}`);
  }
}

function networkEndpoint(rest: string, tls: boolean, env: NodeJS.ProcessEnv): { endpoint: ConsulEndpoint; path: string } {
  const body = rest.replace(/^\/\//, '');
  const slash = body.indexOf('/');
  const authority = slash < 0 ? body : body.slice(0, slash);
  const path = slash < 0 ? '' : body.slice(slash);
  const fallback = authority === '' ? consulHttpAddr(env) : undefined;
  const hostPort = fallback?.hostPort ?? authority;
  // A host name is letters, digits, dots, dashes and underscores: a space or %00 would only fail at every retry.
  const parsed = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(hostPort);
  const port = Number(parsed?.[3] ?? 8500);
  if (!parsed || port < 1 || port > 65535) throw new Error(`${JSON.stringify(hostPort)} is not HOST, HOST:PORT or [IPv6]:PORT`);
  return { endpoint: { protocol: tls || fallback?.tls ? 'https' : 'http', host: parsed[1] ?? parsed[2]!, port }, path };
}

/** CONSUL_HTTP_ADDR as the Consul client reads it: `host:port`, `http://…`, `https://…`. */
function consulHttpAddr(env: NodeJS.ProcessEnv): { hostPort: string; tls: boolean } {
  const value = (env.CONSUL_HTTP_ADDR ?? '').trim();
  if (value === '') return { hostPort: '127.0.0.1:8500', tls: false };
  const scheme = /^(https?):\/\//i.exec(value);
  const hostPort = value.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  return { hostPort, tls: scheme?.[1]?.toLowerCase() === 'https' || /^(1|true)$/i.test(env.CONSUL_HTTP_SSL ?? '') };
}

function kvPrefix(path: string): string {
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

/**
 * A Consul agent HTTP API double, faithful to current strict Consul for what a registrator uses:
 * status/leader, agent service register/deregister/list/get/maintenance, agent checks with TTL
 * pass/warn/fail/update, catalog and health views, KV, and `X-Consul-Token` enforcement.
 * Errors are plain text with Consul's status codes and reasons.
 *
 * Hooks for tests: restart it empty, inject latency, answer 5xx, go down (connections refused)
 * and come back on the same port, and a log of every request.
 *
 * Where it differs from real Consul: the catalog and health views follow the
 * agent at once (no anti-entropy delay); checks never run by themselves (HTTP/TCP checks stay at
 * their initial status, TTL checks never expire) unless a test sets them; no blocking queries.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  CHECK_UPDATE_FIELDS,
  decodeBody,
  DecodeError,
  formatGoDuration,
  SERVICE_FIELDS,
  type Decoded,
} from './go-json';
import { HttpError, isScriptCheck, serviceChecks, validateRegistration, VALID_STATUSES } from './validation';

export interface AgentService {
  ID: string;
  Service: string;
  Tags: string[];
  Meta: Record<string, string>;
  Port: number;
  Address: string;
  TaggedAddresses?: unknown;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
  Datacenter: string;
}

export interface AgentCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Interval: string;
  Timeout: string;
  /** The definition as registered (canonical field names), for assertions. */
  Definition: Decoded;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  body: string;
  token: string | undefined;
  status: number;
  at: number;
}

interface KvEntry {
  value: Buffer;
  flags: number;
  createIndex: number;
  modifyIndex: number;
}

export interface ConsulDoubleOptions {
  /** When set, every /v1 call but status/leader needs this token. */
  token?: string;
  node?: string;
  datacenter?: string;
  /** Real agents refuse script checks unless enable_script_checks is on. */
  enableScriptChecks?: boolean;
  /** Serve HTTPS with this key and certificate (PEM); `ca` set requires client certificates signed by it. */
  tls?: { key: Buffer | string; cert: Buffer | string; ca?: Buffer | string };
}

interface Fault {
  status: number;
  body: string;
  remaining: number;
  /** Only requests whose `METHOD path` matches. */
  match?: RegExp;
}

export class ConsulDouble {
  readonly services = new Map<string, AgentService>();
  readonly checks = new Map<string, AgentCheck>();
  readonly kv = new Map<string, KvEntry>();
  readonly requests: RecordedRequest[] = [];
  latencyMs = 0;
  private index = 1;
  private faults: Fault[] = [];
  private server: Server | undefined;
  private port = 0;
  private host = '127.0.0.1';
  readonly node: string;
  readonly datacenter: string;
  /** Called for each request as it arrives, before it is answered (for latency measurements). */
  onRequest?: (request: { method: string; path: string; body: string }) => void;

  constructor(readonly options: ConsulDoubleOptions = {}) {
    this.node = options.node ?? 'consul-double';
    this.datacenter = options.datacenter ?? 'dc1';
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://${this.address}`;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<this> {
    this.host = host;
    await this.listen({ port, host });
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  /** Listens on a unix socket instead, as `consul-unix://` reaches an agent. */
  async startOnSocket(path: string): Promise<this> {
    this.socketPath = path;
    await this.listen({ path });
    return this;
  }

  /** Where a unix-socket double listens, if it does. */
  socketPath: string | undefined;

  private async listen(target: { port: number; host: string } | { path: string }): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const tls = this.options.tls;
    const server: Server = tls
      ? createTlsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          },
          handler,
        )
      : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(target, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening: connections are refused until `up()`. State is kept. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async up(): Promise<void> {
    if (this.server) return;
    await this.listen(this.socketPath ? { path: this.socketPath } : { port: this.port, host: this.host });
  }

  close(): Promise<void> {
    return this.down();
  }

  /** An agent restarted without its data: services and checks gone (KV lives on the servers and stays). */
  restartEmpty(): void {
    this.services.clear();
    this.checks.clear();
    this.index += 1;
  }

  /** The next `count` requests (matching `match`, if given) are answered `status` with `body`. */
  fail(count: number, status = 500, body = 'rpc error making call: No cluster leader', match?: RegExp): void {
    this.faults.push({ status, body, remaining: count, match });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Sets a TTL check's status as `PUT /v1/agent/check/update` would, or any check's as the agent's runner would. */
  setCheckStatus(checkId: string, status: string, output = ''): void {
    const check = this.checks.get(checkId);
    if (!check) throw new Error(`no check ${checkId}`);
    check.Status = status;
    check.Output = output;
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  }

  checksOf(serviceId: string): AgentCheck[] {
    return [...this.checks.values()].filter((c) => c.ServiceID === serviceId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://consul');
    const method = req.method ?? 'GET';
    this.onRequest?.({ method, path: url.pathname, body: body.toString() });
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const token = headerToken(req, url);
    const record: RecordedRequest = {
      method,
      path: safeDecode(url.pathname),
      query: url.search,
      body: body.toString(),
      token,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    if (this.requests.length > 100_000) this.requests.splice(0, 50_000);
    const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      if (status >= 400) {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
        res.end(String(payload ?? ''));
        return;
      }
      const text = payload === undefined ? '' : Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
      res.writeHead(status, {
        'Content-Type':
          payload === undefined || Buffer.isBuffer(payload) ? 'text/plain; charset=utf-8' : 'application/json',
        'X-Consul-Default-ACL-Policy': this.options.token ? 'deny' : 'allow',
        ...headers,
      });
      res.end(text);
    };
    try {
      if (url.pathname.startsWith('/_double/')) return this.control(method, url, reply);
      const fault = this.faults.find((f) => f.remaining > 0 && (!f.match || f.match.test(`${method} ${url.pathname}`)));
      if (fault) {
        fault.remaining -= 1;
        this.faults = this.faults.filter((f) => f.remaining > 0);
        return reply(fault.status, fault.body);
      }
      this.authorize(url.pathname, token);
      const result = this.route(method, url, body);
      reply(result.status ?? 200, result.body, result.headers);
    } catch (error) {
      if (error instanceof HttpError)
        return reply(error.status, error.reason, error.status === 405 ? { Allow: 'PUT' } : {});
      reply(500, error instanceof Error ? error.message : String(error));
    }
  }

  private authorize(path: string, token: string | undefined): void {
    if (!this.options.token || path === '/v1/status/leader') return;
    if (token === undefined) throw new HttpError(403, 'Permission denied: anonymous token lacks permission');
    if (token !== this.options.token) throw new HttpError(403, 'ACL not found');
  }

  private route(
    method: string,
    url: URL,
    body: Buffer,
  ): { status?: number; body?: unknown; headers?: Record<string, string> } {
    const path = url.pathname;
    const indexHeaders = {
      'X-Consul-Index': String(this.index),
      'X-Consul-KnownLeader': 'true',
      'X-Consul-LastContact': '0',
    };
    const only = (...methods: string[]): void => {
      if (!methods.includes(method)) throw new HttpError(405, `method ${method} not allowed`);
    };
    let m: RegExpExecArray | null;
    if (path === '/v1/status/leader') return (only('GET'), { body: '127.0.0.1:8300' });
    if (path === '/v1/agent/service/register')
      return (only('PUT'), this.register(body.toString(), url.searchParams), {});
    if ((m = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(path)))
      return (only('PUT'), this.deregister(decodeURIComponent(m[1]!)), {});
    if ((m = /^\/v1\/agent\/service\/maintenance\/(.+)$/.exec(path)))
      return (only('PUT'), this.maintenance(decodeURIComponent(m[1]!), url.searchParams), {});
    if (path === '/v1/agent/services') return (only('GET'), { body: Object.fromEntries(this.services) });
    if ((m = /^\/v1\/agent\/service\/(.+)$/.exec(path))) {
      only('GET');
      const service = this.services.get(decodeURIComponent(m[1]!));
      if (!service) throw new HttpError(404, `unknown service ID: ${decodeURIComponent(m[1]!)}`);
      return { body: { ...service, ContentHash: String(this.index) } };
    }
    if (path === '/v1/agent/checks')
      return (only('GET'), { body: Object.fromEntries([...this.checks].map(([id, c]) => [id, publicCheck(c)])) });
    if ((m = /^\/v1\/agent\/check\/(pass|warn|fail)\/(.+)$/.exec(path))) {
      only('PUT');
      const status = { pass: 'passing', warn: 'warning', fail: 'critical' }[m[1] as 'pass' | 'warn' | 'fail'];
      return (this.updateTtl(decodeURIComponent(m[2]!), status, url.searchParams.get('note') ?? ''), {});
    }
    if ((m = /^\/v1\/agent\/check\/update\/(.+)$/.exec(path))) {
      only('PUT');
      const update = decodeOrThrow(body.toString(), CHECK_UPDATE_FIELDS, 'checkUpdate');
      const status = (update.Status as string | undefined) ?? '';
      if (!(VALID_STATUSES as readonly string[]).includes(status))
        throw new HttpError(400, `Invalid check status: '${status}'`);
      return (this.updateTtl(decodeURIComponent(m[1]!), status, (update.Output as string | undefined) ?? ''), {});
    }
    if (path === '/v1/catalog/services') {
      only('GET');
      const out: Record<string, string[]> = {};
      for (const s of this.services.values()) out[s.Service] = [...new Set([...(out[s.Service] ?? []), ...s.Tags])];
      return { body: out, headers: indexHeaders };
    }
    if ((m = /^\/v1\/catalog\/service\/(.+)$/.exec(path))) {
      only('GET');
      return {
        body: this.byName(decodeURIComponent(m[1]!), url.searchParams.get('tag')).map((s) => this.catalogEntry(s)),
        headers: indexHeaders,
      };
    }
    if ((m = /^\/v1\/health\/service\/(.+)$/.exec(path))) {
      only('GET');
      let entries = this.byName(decodeURIComponent(m[1]!), url.searchParams.get('tag')).map((s) => this.healthEntry(s));
      if (url.searchParams.has('passing'))
        entries = entries.filter((e) => e.Checks.every((c) => c.Status === 'passing'));
      return { body: entries, headers: indexHeaders };
    }
    if ((m = /^\/v1\/kv\/(.*)$/.exec(path)))
      return this.kvRoute(method, decodeURIComponent(m[1]!), url.searchParams, body, indexHeaders);
    throw new HttpError(404, `Invalid URL path: not a recognized HTTP API endpoint`);
  }

  private register(text: string, query: URLSearchParams): void {
    const def = decodeOrThrow(text, SERVICE_FIELDS, 'ServiceDefinition');
    validateRegistration(def);
    const checks = serviceChecks(def);
    if (!this.options.enableScriptChecks && checks.some(isScriptCheck)) {
      throw new HttpError(
        500,
        "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true",
      );
    }
    const id = (def.ID as string | undefined) || (def.Name as string);
    const weights = (def.Weights as { Passing: number; Warning?: number } | undefined) ?? { Passing: 1, Warning: 1 };
    const service: AgentService = {
      ID: id,
      Service: def.Name as string,
      Tags: (def.Tags as string[] | undefined) ?? [],
      Meta: (def.Meta as Record<string, string> | undefined) ?? {},
      Port: (def.Port as number | undefined) ?? 0,
      Address: (def.Address as string | undefined) ?? '',
      ...(def.TaggedAddresses ? { TaggedAddresses: def.TaggedAddresses } : {}),
      Weights: { Passing: weights.Passing, Warning: weights.Warning ?? 1 },
      EnableTagOverride: Boolean(def.EnableTagOverride),
      Datacenter: this.datacenter,
    };
    const replaceChecks = query.has('replace-existing-checks') && query.get('replace-existing-checks') !== 'false';
    const newIds = new Set<string>();
    checks.forEach((check, i) => {
      const checkId =
        (check.CheckID as string | undefined) || (checks.length > 1 ? `service:${id}:${i + 1}` : `service:${id}`);
      newIds.add(checkId);
      const previous = this.checks.get(checkId);
      this.checks.set(checkId, {
        Node: this.node,
        CheckID: checkId,
        Name: (check.Name as string | undefined) || `Service '${service.Service}' check`,
        // A re-registered check keeps what it last reported unless the request sets a status.
        Status: (check.Status as string | undefined) || previous?.Status || 'critical',
        Notes: (check.Notes as string | undefined) ?? '',
        Output: previous?.Output ?? '',
        ServiceID: id,
        ServiceName: service.Service,
        ServiceTags: service.Tags,
        Type: checkType(check),
        Interval: check.Interval ? formatGoDuration(check.Interval as number) : '',
        Timeout: check.Timeout ? formatGoDuration(check.Timeout as number) : '',
        Definition: check,
      });
    });
    if (replaceChecks) {
      for (const check of this.checksOf(id))
        if (!newIds.has(check.CheckID) && !check.CheckID.startsWith('_service_maintenance:'))
          this.checks.delete(check.CheckID);
    }
    this.services.set(id, service);
    this.index += 1;
  }

  private deregister(id: string): void {
    if (!this.services.has(id))
      throw new HttpError(
        404,
        `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`,
      );
    this.services.delete(id);
    for (const check of this.checksOf(id)) this.checks.delete(check.CheckID);
    this.index += 1;
  }

  private maintenance(id: string, query: URLSearchParams): void {
    const enable = query.get('enable');
    if (enable === null || enable === '') throw new HttpError(400, 'Missing value for enable');
    if (enable !== 'true' && enable !== 'false') throw new HttpError(400, `Invalid value for enable: "${enable}"`);
    const service = this.services.get(id);
    if (!service)
      throw new HttpError(
        404,
        `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`,
      );
    const checkId = `_service_maintenance:${id}`;
    if (enable === 'false') {
      this.checks.delete(checkId);
    } else {
      this.checks.set(checkId, {
        Node: this.node,
        CheckID: checkId,
        Name: 'Service Maintenance Mode',
        Status: 'critical',
        Notes:
          query.get('reason') ||
          'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.',
        Output: '',
        ServiceID: id,
        ServiceName: service.Service,
        ServiceTags: service.Tags,
        Type: 'maintenance',
        Interval: '',
        Timeout: '',
        Definition: {},
      });
    }
    this.index += 1;
  }

  private updateTtl(checkId: string, status: string, output: string): void {
    const check = this.checks.get(checkId);
    if (!check)
      throw new HttpError(
        404,
        `Unknown check ID "${checkId}". Ensure that the check ID is passed, not the check name.`,
      );
    if (check.Type !== 'ttl') throw new HttpError(500, `CheckID "${checkId}" does not have associated TTL`);
    check.Status = status;
    check.Output = output;
  }

  private byName(name: string, tag: string | null): AgentService[] {
    return [...this.services.values()].filter((s) => s.Service === name && (tag === null || s.Tags.includes(tag)));
  }

  private catalogEntry(s: AgentService): Record<string, unknown> {
    return {
      ID: '00000000-0000-0000-0000-000000000000',
      Node: this.node,
      Address: '127.0.0.1',
      Datacenter: this.datacenter,
      TaggedAddresses: {},
      NodeMeta: {},
      ServiceID: s.ID,
      ServiceName: s.Service,
      ServiceTags: s.Tags,
      ServiceAddress: s.Address,
      ServicePort: s.Port,
      ServiceMeta: s.Meta,
      ServiceWeights: s.Weights,
      ServiceEnableTagOverride: s.EnableTagOverride,
      ServiceTaggedAddresses: s.TaggedAddresses ?? {},
      ServiceKind: '',
      CreateIndex: this.index,
      ModifyIndex: this.index,
    };
  }

  private healthEntry(s: AgentService): { Node: unknown; Service: unknown; Checks: Array<Record<string, unknown>> } {
    const serf = {
      Node: this.node,
      CheckID: 'serfHealth',
      Name: 'Serf Health Status',
      Status: 'passing',
      Notes: '',
      Output: 'Agent alive and reachable',
      ServiceID: '',
      ServiceName: '',
      ServiceTags: [],
      Type: '',
    };
    return {
      Node: {
        ID: '00000000-0000-0000-0000-000000000000',
        Node: this.node,
        Address: '127.0.0.1',
        Datacenter: this.datacenter,
        TaggedAddresses: {},
        Meta: {},
      },
      Service: s,
      Checks: [serf, ...this.checksOf(s.ID).map(publicCheck)],
    };
  }

  private kvRoute(
    method: string,
    key: string,
    query: URLSearchParams,
    body: Buffer,
    headers: Record<string, string>,
  ): { status?: number; body?: unknown; headers?: Record<string, string> } {
    if (method === 'GET') {
      if (query.has('keys')) {
        const separator = query.get('separator') ?? '';
        const keys = new Set<string>();
        for (const k of [...this.kv.keys()].sort()) {
          if (!k.startsWith(key)) continue;
          const cut = separator ? k.indexOf(separator, key.length) : -1;
          keys.add(cut >= 0 ? k.slice(0, cut + separator.length) : k);
        }
        if (keys.size === 0) throw new HttpError(404, '');
        return { body: [...keys], headers };
      }
      const entries = query.has('recurse')
        ? [...this.kv.entries()].filter(([k]) => k.startsWith(key)).sort(([a], [b]) => a.localeCompare(b))
        : this.kv.has(key)
          ? [[key, this.kv.get(key)!] as const]
          : [];
      if (entries.length === 0) throw new HttpError(404, '');
      if (query.has('raw')) return { body: entries[0]![1].value, headers };
      return {
        body: entries.map(([k, e]) => ({
          LockIndex: 0,
          Key: k,
          Flags: e.flags,
          Value: e.value.length ? e.value.toString('base64') : null,
          CreateIndex: e.createIndex,
          ModifyIndex: e.modifyIndex,
        })),
        headers,
      };
    }
    if (method === 'PUT') {
      if (body.length > 512 * 1024)
        throw new HttpError(413, 'Request body(524289 bytes) too large, max size: 524288 bytes');
      const existing = this.kv.get(key);
      const cas = query.get('cas');
      if (cas !== null && Number(cas) !== (existing?.modifyIndex ?? 0)) return { body: false };
      this.index += 1;
      this.kv.set(key, {
        value: body,
        flags: Number(query.get('flags') ?? existing?.flags ?? 0),
        createIndex: existing?.createIndex ?? this.index,
        modifyIndex: this.index,
      });
      return { body: true };
    }
    if (method === 'DELETE') {
      if (!query.has('recurse')) this.kv.delete(key);
      else for (const k of [...this.kv.keys()]) if (k.startsWith(key)) this.kv.delete(k);
      this.index += 1;
      return { body: true };
    }
    throw new HttpError(405, `method ${method} not allowed`);
  }

  /** Test hooks over HTTP, for the double run as its own process (`main.ts`). */
  private control(method: string, url: URL, reply: (status: number, payload?: unknown) => void): void {
    const n = (name: string, fallback: number): number => Number(url.searchParams.get(name) ?? fallback);
    switch (`${method} ${url.pathname}`) {
      case 'POST /_double/restart-empty':
        this.restartEmpty();
        return reply(200);
      case 'POST /_double/fail':
        this.fail(n('count', 1), n('status', 500), url.searchParams.get('body') ?? undefined);
        return reply(200);
      case 'POST /_double/latency':
        this.latencyMs = n('ms', 0);
        return reply(200);
      case 'POST /_double/clear-faults':
        this.clearFaults();
        this.latencyMs = 0;
        return reply(200);
      case 'GET /_double/requests':
        return reply(200, this.requests.slice(-n('last', 1000)));
      case 'GET /_double/state':
        return reply(200, {
          services: Object.fromEntries(this.services),
          checks: Object.fromEntries(this.checks),
          kv: Object.fromEntries([...this.kv].map(([k, e]) => [k, e.value.toString()])),
        });
      default:
        reply(404, `no double control ${method} ${url.pathname}`);
    }
  }
}

function decodeOrThrow(text: string, fields: typeof SERVICE_FIELDS, struct: string): Decoded {
  try {
    return decodeBody(text, fields, struct);
  } catch (error) {
    if (error instanceof DecodeError) throw new HttpError(400, `Request decode failed: ${error.message}`);
    throw error;
  }
}

function headerToken(req: IncomingMessage, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query) return query;
  const header = req.headers['x-consul-token'];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1];
}

function checkType(check: Decoded): string {
  if (check.TTL) return 'ttl';
  if (check.HTTP) return 'http';
  if (check.TCP) return 'tcp';
  if (check.UDP) return 'udp';
  if (check.GRPC) return 'grpc';
  if (check.H2PING) return 'h2ping';
  if (isScriptCheck(check)) return check.DockerContainerID ? 'docker' : 'script';
  if (check.AliasNode || check.AliasService) return 'alias';
  return '';
}

function publicCheck(check: AgentCheck): Record<string, unknown> {
  const { Definition: _definition, ...rest } = check;
  return rest;
}

/** Requests are recorded with the path decoded (clients escape `:` in IDs, or not). */
function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

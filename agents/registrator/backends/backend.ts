/**
 * What the reconciler needs from a registry, and what a family of registry backends declares:
 * its URI schemes, how it reads their URIs, what it stores for a service, which errors heal.
 */
import type { DesiredService, HealthStatus } from '../service-model';

/** One family of backends (Consul's agent API, Consul KV, …), registered in ./index.ts. */
export interface RegistryBackendKind {
  /** Each URI scheme it takes, with the form help and errors show, e.g. `consul: 'consul://host:port'`. */
  schemes: Readonly<Record<string, string>>;
  /** Reads a URI of one of its schemes; `rest` follows `scheme:`. Throws an Error saying what is wrong. */
  parse(scheme: string, rest: string, raw: string, env: NodeJS.ProcessEnv): RegistryUri;
}

/** A registry URI, read by the family its scheme belongs to. */
export interface RegistryUri {
  /** The URI as given. */
  raw: string;
  /** Whether it connects with TLS, where the TLS file options apply. */
  tls: boolean;
  /** The backend it names, with the connection options. */
  connect(settings: ConnectionSettings): RegistryBackend;
}

/** The registrator's connection options (Consul's CONSUL_HTTP_TOKEN, CONSUL_CACERT, …). */
export interface ConnectionSettings {
  token?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  timeoutMs?: number;
}

/** A service as the registry has it now. */
export interface ActualService {
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
  /** The node that registered it (our ownership marker), if any. */
  owner?: string;
  containerId?: string;
  /** Our digest of what was registered (`quayside_spec`). */
  spec?: string;
  maintenance: boolean;
  /** How many checks the registry holds for it (maintenance aside); undefined where checks are not kept. */
  checks?: number;
}

export interface RegistryBackend {
  /** For logs and /readyz, e.g. `consul agent at http://127.0.0.1:8500`. */
  readonly description: string;
  /** Whether it keeps check status and maintenance (the KV backend keeps neither). */
  readonly hasChecks: boolean;
  ping(): Promise<void>;
  /**
   * What identifies a service in this registry: the agent keys by ID, KV by `<name>/<id>` (a
   * renamed service is another key, and the old one must go).
   */
  keyOf(service: { id: string; name: string }): string;
  /** What it stores for a service, compared with `ActualService.spec` to find what changed. */
  specOf(service: DesiredService): string;
  /** Whether a failed call may succeed when retried, or the registry will refuse it again. */
  isTransient(error: RegistryError): boolean;
  /** Every service the registry shows in our scope (the agent's services; the KV prefix), by `keyOf`. */
  list(node: string): Promise<Map<string, ActualService>>;
  register(service: DesiredService): Promise<void>;
  /** Resolves when the service is gone, including when it was not there (404). */
  deregister(service: Pick<ActualService, 'id' | 'name'>): Promise<void>;
  setHealth(checkId: string, status: HealthStatus, output: string): Promise<void>;
  setMaintenance(serviceId: string, enabled: boolean, reason: string): Promise<void>;
  close(): void;
}

/** A failed registry call: `status` when the registry answered, none when it could not be reached. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/**
 * What heals by itself on an HTTP registry: unreachable, timeouts, 5xx, 429, and 403 (an ACL
 * policy fixed in the registry heals it). Other 4xx are our request's fault.
 */
export function transientHttpError(error: RegistryError): boolean {
  return error.status === undefined || error.status >= 500 || error.status === 429 || error.status === 403;
}

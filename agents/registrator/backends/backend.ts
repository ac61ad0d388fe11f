/** What the reconciler needs from a registry; one implementation per URI scheme family. */
import type { DesiredService, HealthStatus } from '../service-model';

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
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'RegistryError';
  }

  /**
   * Worth retrying: unreachable, timeouts, 5xx, 429, and 403 (an ACL policy fixed in Consul heals
   * it). Other 4xx are our request's fault and will not heal by themselves; so is the 500 an agent
   * without script checks answers to a script check.
   */
  get transient(): boolean {
    if (this.status === 500 && /Scripts are disabled/.test(this.message)) return false;
    return this.status === undefined || this.status >= 500 || this.status === 429 || this.status === 403;
  }
}

/** `consul://`, `consul-tls://`, `consul-unix://`: services on the local Consul agent. */
import { CONTAINER_KEY, OWNER_KEY, SPEC_KEY, type DesiredService, type HealthStatus } from '../service-model';
import {
  transientHttpError,
  type ActualService,
  type RegistryBackend,
  type RegistryBackendKind,
  type RegistryError,
} from './backend';
import { ConsulConnection } from './consul-connection';
import { networkEndpoint, unixSocketEndpoint, type ConsulEndpoint } from './consul-uri';

export const consulAgentKind: RegistryBackendKind = {
  schemes: {
    consul: 'consul://host:port',
    'consul-tls': 'consul-tls://host:port',
    'consul-unix': 'consul-unix:///path.sock',
  },
  parse(scheme, rest, raw, env) {
    let endpoint: ConsulEndpoint;
    if (scheme === 'consul-unix') endpoint = unixSocketEndpoint(scheme, rest).endpoint;
    else {
      const network = networkEndpoint(rest, scheme === 'consul-tls', env);
      if (network.path !== '')
        throw new Error(`a ${scheme} URI takes no path (${network.path}); did you mean consulkv://?`);
      endpoint = network.endpoint;
    }
    return {
      raw,
      tls: endpoint.protocol === 'https',
      endpoint,
      connect: (settings) => new ConsulAgentBackend(new ConsulConnection({ ...settings, endpoint })),
    };
  },
};

interface AgentServiceEntry {
  ID: string;
  Service: string;
  Address?: string;
  Port?: number;
  Tags?: string[] | null;
  Meta?: Record<string, string> | null;
}

const MAINTENANCE_PREFIX = '_service_maintenance:';

class ConsulAgentBackend implements RegistryBackend {
  readonly description: string;
  readonly hasChecks = true;

  constructor(private readonly consul: ConsulConnection) {
    this.description = `consul agent at ${consul.description}`;
  }

  async ping(): Promise<void> {
    await this.consul.call('GET /v1/status/leader', (o) => this.consul.client.status.leader(o));
  }

  specOf(service: DesiredService): string {
    return service.registration.Meta[SPEC_KEY]!;
  }

  /** An agent without script checks answers 500 to a script check, and will again. */
  isTransient(error: RegistryError): boolean {
    return transientHttpError(error) && !(error.status === 500 && /Scripts are disabled/.test(error.message));
  }

  keyOf(service: { id: string }): string {
    return service.id;
  }

  async list(): Promise<Map<string, ActualService>> {
    const [services, checks] = await Promise.all([
      this.consul.call(
        'GET /v1/agent/services',
        (o) => this.consul.client.agent.service.list(o) as Promise<Record<string, AgentServiceEntry>>,
      ),
      this.consul.call(
        'GET /v1/agent/checks',
        (o) => this.consul.client.agent.check.list(o) as Promise<Record<string, { ServiceID?: string }>>,
      ),
    ]);
    const checkCount = new Map<string, number>();
    for (const [checkId, check] of Object.entries(checks ?? {})) {
      if (check.ServiceID && !checkId.startsWith(MAINTENANCE_PREFIX))
        checkCount.set(check.ServiceID, (checkCount.get(check.ServiceID) ?? 0) + 1);
    }
    const out = new Map<string, ActualService>();
    for (const s of Object.values(services ?? {})) {
      const meta = s.Meta ?? {};
      out.set(s.ID, {
        id: s.ID,
        name: s.Service,
        address: s.Address ?? '',
        port: s.Port ?? 0,
        tags: s.Tags ?? [],
        owner: meta[OWNER_KEY],
        containerId: meta[CONTAINER_KEY],
        spec: meta[SPEC_KEY],
        maintenance: Object.prototype.hasOwnProperty.call(checks ?? {}, `${MAINTENANCE_PREFIX}${s.ID}`),
        checks: checkCount.get(s.ID) ?? 0,
      });
    }
    return out;
  }

  async register(service: DesiredService): Promise<void> {
    const { Checks, ...rest } = service.registration;
    // Only fields current Consul knows: it refuses unknown ones (since 1.7).
    const body = JSON.stringify({ ...rest, ...(Checks.length > 0 ? { Checks } : {}) });
    await this.consul.request('PUT', '/agent/service/register?replace-existing-checks=true', body);
  }

  async deregister(service: Pick<ActualService, 'id'>): Promise<void> {
    try {
      await this.consul.call(`PUT /v1/agent/service/deregister/${service.id}`, (o) =>
        this.consul.client.agent.service.deregister({ id: service.id, ...o }),
      );
    } catch (error) {
      // Gone already (deregistered by someone else, or the agent restarted empty): done.
      if ((error as { status?: number }).status === 404) return;
      throw error;
    }
  }

  async setHealth(checkId: string, status: HealthStatus, output: string): Promise<void> {
    await this.consul.request(
      'PUT',
      `/agent/check/update/${encodeURIComponent(checkId)}`,
      JSON.stringify({ Status: status, Output: output }),
    );
  }

  async setMaintenance(serviceId: string, enabled: boolean, reason: string): Promise<void> {
    await this.consul.call(`PUT /v1/agent/service/maintenance/${serviceId}`, (o) =>
      this.consul.client.agent.service.maintenance({
        id: serviceId,
        enable: enabled,
        ...(enabled ? { reason } : {}),
        ...o,
      }),
    );
  }

  close(): void {
    this.consul.close();
  }
}

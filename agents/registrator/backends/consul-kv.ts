/**
 * `consulkv://host:port/prefix`: registrator's KV layout, `<prefix>/<name>/<id>` = `ip:port`
 * (IPv6 bracketed). Ownership rides in the key's flags (a digest of the node name), since a KV
 * value has no Meta; the reconcile is the same as for the agent backend. A prefix that does not
 * exist yet lists as empty.
 */
import { createHash } from 'node:crypto';
import { hostPortText } from '../addresses';
import type { DesiredService } from '../service-model';
import {
  transientHttpError,
  type ActualService,
  type RegistryBackend,
  type RegistryBackendKind,
  type RegistryError,
} from './backend';
import { ConsulConnection } from './consul-connection';
import { kvPrefix, networkEndpoint, unixSocketEndpoint } from './consul-uri';

export const consulKvKind: RegistryBackendKind = {
  schemes: { consulkv: 'consulkv://host:port/prefix', 'consulkv-unix': 'consulkv-unix:///path.sock:/prefix' },
  parse(scheme, rest, raw, env) {
    let located;
    if (scheme === 'consulkv-unix') {
      // The socket path and the prefix are separated by the first colon.
      const { body } = unixSocketEndpoint(scheme, rest);
      const colon = body.indexOf(':');
      located = {
        endpoint: unixSocketEndpoint(scheme, colon < 0 ? body : body.slice(0, colon)).endpoint,
        path: colon < 0 ? '' : body.slice(colon + 1),
      };
    } else located = networkEndpoint(rest, false, env);
    const { endpoint } = located;
    const prefix = kvPrefix(located.path);
    return {
      raw,
      tls: endpoint.protocol === 'https',
      endpoint,
      prefix,
      connect: (settings) => new ConsulKvBackend(new ConsulConnection({ ...settings, endpoint }), prefix),
    };
  },
};

interface KvEntry {
  Key: string;
  Flags: number;
  Value: string | null;
}

/** The KV flags that mark a key as written by this node: 32 bits of a digest of its name, never 0. */
export function ownerFlags(node: string): number {
  return createHash('sha256').update(`quayside:${node}`).digest().readUInt32BE(0) >>> 0 || 1;
}

class ConsulKvBackend implements RegistryBackend {
  readonly description: string;
  readonly hasChecks = false;
  private ownerNode = '';

  constructor(
    private readonly consul: ConsulConnection,
    private readonly prefix: string,
  ) {
    this.description = `consul KV at ${consul.description}/${prefix}`;
  }

  async ping(): Promise<void> {
    await this.consul.call('GET /v1/status/leader', (o) => this.consul.client.status.leader(o));
  }

  keyOf(service: { id: string; name: string }): string {
    return `${service.name}/${service.id}`;
  }

  /** A KV value has no Meta: the value itself, `ip:port`, is what changes. */
  specOf(service: DesiredService): string {
    return hostPortText(service.registration.Address, service.registration.Port);
  }

  isTransient(error: RegistryError): boolean {
    return transientHttpError(error);
  }

  async list(node: string): Promise<Map<string, ActualService>> {
    this.ownerNode = node;
    const flags = ownerFlags(node);
    const entries = (await this.consul.call(`GET /v1/kv/${this.prefix}/?recurse`, (o) =>
      this.consul.client.kv.get({ key: `${this.prefix}/`, recurse: true, ...o }),
    )) as KvEntry[] | undefined;
    const out = new Map<string, ActualService>();
    for (const entry of entries ?? []) {
      const rest = entry.Key.slice(this.prefix.length + 1);
      const slash = rest.indexOf('/');
      if (slash <= 0 || slash === rest.length - 1) continue;
      // With a slash in the name or ID this split is a guess, but `<name>/<id>` (the key) is exact,
      // and the key is what is compared and what a deregister rebuilds.
      const name = rest.slice(0, slash);
      const id = rest.slice(slash + 1);
      const value = entry.Value ?? '';
      const colon = value.lastIndexOf(':');
      out.set(rest, {
        id,
        name,
        address: value.slice(0, Math.max(colon, 0)).replace(/^\[(.*)\]$/, '$1'),
        port: Number(value.slice(colon + 1)) || 0,
        tags: [],
        owner: entry.Flags === flags ? node : undefined,
        // The value is the whole registration here: same value, same spec.
        spec: value,
        maintenance: false,
      });
    }
    return out;
  }

  async register(service: DesiredService): Promise<void> {
    const { Name, ID, Address, Port } = service.registration;
    const key = this.key(Name, ID);
    await this.consul.call(`PUT /v1/kv/${key}`, (o) =>
      this.consul.client.kv.set({
        key,
        value: hostPortText(Address, Port),
        flags: ownerFlags(this.ownerNode || service.registration.Meta.quayside_node!),
        ...o,
      }),
    );
  }

  async deregister(service: Pick<ActualService, 'id' | 'name'>): Promise<void> {
    const key = this.key(service.name, service.id);
    await this.consul.call(`DELETE /v1/kv/${key}`, (o) => this.consul.client.kv.del({ key, ...o }));
  }

  async setHealth(): Promise<void> {}

  async setMaintenance(): Promise<void> {}

  close(): void {
    this.consul.close();
  }

  private key(name: string, id: string): string {
    return `${this.prefix}/${name}/${id}`;
  }
}

/** Backends by URI scheme family. Adding one is a file and a line here. */
import type { RegistryUri } from '../uri';
import type { RegistryBackend } from './backend';
import { ConsulAgentBackend } from './consul-agent';
import { ConsulConnection, type ConsulSettings } from './consul-connection';
import { ConsulKvBackend } from './consul-kv';

export type ConnectionSettings = Omit<ConsulSettings, 'endpoint'>;

export function createBackend(uri: RegistryUri, settings: ConnectionSettings): RegistryBackend {
  const connection = new ConsulConnection({ ...settings, endpoint: uri.endpoint });
  switch (uri.backend) {
    case 'consul':
      return new ConsulAgentBackend(connection);
    case 'consulkv':
      return new ConsulKvBackend(connection, uri.prefix);
  }
}

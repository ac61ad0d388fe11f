/**
 * From one container's inspect data to the services it should have in the registry, with
 * registrator's rules (see README "registrator") and its traps fixed. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type Dockerode from 'dockerode';
import { containerName } from '../../shared/docker/container-name';
import { canonicalIp, chooseBinding, chooseNetwork, isLoopback, isWildcard, networkKind } from './addresses';
import { checksFrom, isCheckKey, type CheckDefinition } from './checks';
import { isIgnored, metadataFor, type PortMetadata } from './metadata';
import { mergeTags, splitTags } from './tags';

/** Meta keys that mark our registrations. Consul allows `[A-Za-z0-9_-]` only. */
export const OWNER_KEY = 'quayside_node';
export const CONTAINER_KEY = 'quayside_container';
export const SPEC_KEY = 'quayside_spec';
const RESERVED_META = [OWNER_KEY, CONTAINER_KEY, SPEC_KEY];
const META_KEY = /^[a-zA-Z0-9_-]+$/;
const MAX_META = 64;

export interface ServiceRegistration {
  ID: string;
  Name: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  Checks: CheckDefinition[];
}

export type HealthStatus = 'passing' | 'warning' | 'critical';

export interface DesiredService {
  containerId: string;
  containerName: string;
  registration: ServiceRegistration;
  /** The TTL check fed from Docker's HEALTHCHECK, when the container has one. */
  health?: { checkId: string; status: HealthStatus; output: string };
  /** The container is paused and its services are to be in maintenance. */
  maintenance: boolean;
}

export interface ModelSettings {
  node: string;
  internal: boolean;
  /** -ip */
  ip?: string;
  /** This host's address for published ports when neither -ip nor the binding gives one. */
  hostAddress?: string;
  tags: string[];
  explicit: boolean;
  useIpFromLabel?: string;
  /** TTL of the check fed from Docker health; 0 for none. */
  healthTtlMs: number;
  pausedServices: 'maintenance' | 'deregister' | 'keep';
}

interface Skipped {
  port: string;
  reason: string;
}

/** Something wrong with one key: the rest of the service is still registered. */
interface Dropped {
  key: string;
  reason: string;
}

export interface ContainerServices {
  services: DesiredService[];
  skipped: Skipped[];
  dropped: Dropped[];
}

interface PortEntry {
  port: string;
  proto: string;
  key: string;
  bindings: Array<{ HostIp?: string; HostPort?: string }> | null;
}

export function servicesFor(inspect: Dockerode.ContainerInspectInfo, settings: ModelSettings): ContainerServices {
  const result: ContainerServices = { services: [], skipped: [], dropped: [] };
  const state = inspect.State;
  if (!state?.Running) return result;
  if (state.Paused && settings.pausedServices === 'deregister') {
    result.skipped.push({ port: '*', reason: 'paused' });
    return result;
  }
  const kind = networkKind(inspect);
  if (kind === 'none' || kind === 'container') {
    result.skipped.push({
      port: '*',
      reason:
        kind === 'none'
          ? 'network none: nothing reachable'
          : `shares the network of ${inspect.HostConfig?.NetworkMode?.slice('container:'.length).slice(0, 12)}: register that container instead`,
    });
    return result;
  }
  const name = containerName(inspect.Name ?? '');
  const source = { env: inspect.Config?.Env ?? [], labels: inspect.Config?.Labels ?? {} };

  const eligible: Array<{ entry: PortEntry; meta: PortMetadata; address: string; port: number }> = [];
  for (const entry of portEntries(inspect, kind)) {
    const meta = metadataFor(source, entry.port);
    const skip = (reason: string): void => void result.skipped.push({ port: entry.key, reason });
    if (isIgnored(meta.values)) {
      skip('SERVICE_IGNORE');
      continue;
    }
    if (settings.explicit && !meta.values.has('name')) {
      skip('-explicit and no SERVICE_NAME');
      continue;
    }
    const target = addressFor(inspect, kind, entry, meta, settings);
    if (typeof target === 'string') {
      skip(target);
      continue;
    }
    eligible.push({ entry, meta, ...target });
  }

  const imageName = serviceNameFromImage(inspect.Config?.Image ?? '', name);
  for (const { entry, meta, address, port } of eligible) {
    const values = meta.values;
    let serviceName = values.get('name') ?? imageName;
    if (eligible.length > 1 && !meta.fromPort.has('name')) serviceName = `${serviceName}-${entry.port}`;
    const udp = entry.proto === 'udp';
    const id = values.get('id') ?? `${settings.node}:${name}:${entry.port}${udp ? ':udp' : ''}`;
    // One ID, one service: a generic SERVICE_ID on several ports would make them overwrite each other.
    const taken = result.services.find((s) => s.registration.ID === id);
    if (taken) {
      result.skipped.push({
        port: entry.key,
        reason: `service ID ${id} is already used by port ${taken.registration.Port}; give SERVICE_${entry.port}_ID`,
      });
      continue;
    }
    const tags = mergeTags(splitTags(values.get('tags') ?? ''), settings.tags, udp ? ['udp'] : []);
    const { checks, problems } = checksFrom(values, address, port);
    result.dropped.push(...problems);
    // The container heartbeats its SERVICE_CHECK_TTL check as service:<id>, the ID registrator's
    // only check had; beside other checks Consul would number it service:<id>:<n> and the
    // heartbeats would miss.
    const ttl = checks.find((c) => c.TTL);
    if (ttl) ttl.CheckID = `service:${id}`;
    const health = healthCheck(inspect, id, settings.healthTtlMs);
    if (health) checks.push(health.definition);
    const meta_ = userMeta(values, result.dropped);
    const registration: ServiceRegistration = {
      ID: id,
      Name: serviceName,
      Tags: tags,
      Address: address,
      Port: port,
      Meta: meta_,
      Checks: checks,
    };
    registration.Meta[OWNER_KEY] = settings.node;
    registration.Meta[CONTAINER_KEY] = inspect.Id;
    registration.Meta[SPEC_KEY] = specHash(registration);
    result.services.push({
      containerId: inspect.Id,
      containerName: name,
      registration,
      ...(health ? { health: health.state } : {}),
      maintenance: Boolean(state.Paused) && settings.pausedServices === 'maintenance',
    });
  }
  return result;
}

/** Exposed ports and published ones, sorted by port then protocol, so results are stable. */
function portEntries(inspect: Dockerode.ContainerInspectInfo, kind: 'host' | 'bridge'): PortEntry[] {
  const entries = new Map<string, PortEntry>();
  const add = (key: string, bindings: PortEntry['bindings']): void => {
    const [port = '', proto = 'tcp'] = key.split('/');
    if (!/^\d+$/.test(port)) return;
    entries.set(key, { port, proto, key, bindings });
  };
  for (const key of Object.keys(inspect.Config?.ExposedPorts ?? {})) add(key, null);
  if (kind === 'bridge')
    for (const [key, bindings] of Object.entries(inspect.NetworkSettings?.Ports ?? {})) add(key, bindings);
  return [...entries.values()].sort((a, b) => Number(a.port) - Number(b.port) || a.proto.localeCompare(b.proto));
}

function addressFor(
  inspect: Dockerode.ContainerInspectInfo,
  kind: 'host' | 'bridge',
  entry: PortEntry,
  meta: PortMetadata,
  settings: ModelSettings,
): { address: string; port: number } | string {
  let address: string | undefined;
  let port: number;
  let explicit = false;
  if (kind === 'host') {
    port = Number(entry.port);
    address = settings.ip ?? settings.hostAddress;
    explicit = settings.ip !== undefined;
  } else if (settings.internal) {
    const network = chooseNetwork(inspect, meta.values.get('network'));
    if (typeof network === 'string') return network;
    address = network.ip;
    port = Number(entry.port);
  } else {
    const binding = chooseBinding(entry.bindings);
    if (!binding) return 'not published on the host (use -internal to register the container port)';
    port = Number(binding.HostPort);
    const bound = binding.HostIp ?? '';
    if (settings.ip !== undefined) {
      address = settings.ip;
      explicit = true;
    } else if (!isWildcard(bound)) {
      if (isLoopback(bound))
        return `published on ${bound} only: not reachable from other hosts (set -ip to register it anyway)`;
      address = bound;
    } else {
      address = settings.hostAddress;
    }
  }
  if (settings.useIpFromLabel) {
    const label = inspect.Config?.Labels?.[settings.useIpFromLabel];
    if (label) {
      address = canonicalIp(label.trim().replace(/\/\d+$/, ''));
      explicit = true;
    }
  }
  if (!address || isWildcard(address)) return 'no address for this host: set -ip';
  if (isLoopback(address) && !explicit) return `address ${address} is loopback (set -ip to register it anyway)`;
  return { address, port };
}

/** registrator's default name: the image's base name without tag or digest. */
export function serviceNameFromImage(image: string, fallback: string): string {
  const withoutDigest = image.split('@')[0]!;
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(withoutDigest) || withoutDigest === '') return fallback;
  const base = posix.basename(withoutDigest);
  return base.split(':')[0] || fallback;
}

const HEALTH_STATUS: Record<string, HealthStatus> = { healthy: 'passing', unhealthy: 'critical', starting: 'warning' };

function healthCheck(inspect: Dockerode.ContainerInspectInfo, serviceId: string, ttlMs: number) {
  const test = inspect.Config?.Healthcheck?.Test;
  if (ttlMs <= 0 || !test || test.length === 0 || test[0] === 'NONE') return undefined;
  const health = inspect.State?.Health;
  const status = HEALTH_STATUS[health?.Status ?? 'starting'] ?? 'warning';
  const last = health?.Log?.[health.Log.length - 1];
  const output = `Docker health: ${health?.Status ?? 'starting'}${last ? ` (exit ${last.ExitCode})` : ''}`;
  const checkId = `service:${serviceId}:docker-health`;
  const definition: CheckDefinition = {
    CheckID: checkId,
    Name: 'Docker HEALTHCHECK',
    Notes: 'Fed by quayside from the container health status',
    TTL: `${Math.max(1, Math.round(ttlMs / 1000))}s`,
    Status: status,
  };
  return { definition, state: { checkId, status, output } };
}

/** Every other SERVICE_* key becomes Meta; keys Consul would refuse are dropped, not the whole service. */
function userMeta(values: Map<string, string>, dropped: Dropped[]): Record<string, string> {
  const meta: Record<string, string> = {};
  const used = new Set(['name', 'id', 'tags', 'ignore', 'network']);
  for (const [key, value] of values) {
    if (used.has(key) || isCheckKey(key)) continue;
    const drop = (reason: string): void => void dropped.push({ key: `SERVICE_${key}`, reason });
    if (!META_KEY.test(key)) drop('Consul Meta keys may hold only letters, digits, _ and -');
    else if (key.length > 128) drop('Consul Meta keys are at most 128 characters');
    else if (key.startsWith('consul-')) drop('Consul reserves Meta keys starting with consul-');
    else if (RESERVED_META.includes(key)) drop('reserved for the quayside ownership marker');
    // Consul counts bytes (Go's len), not characters: 300 accented letters are too long.
    else if (Buffer.byteLength(value) > 512) drop('Consul Meta values are at most 512 bytes');
    else if (Object.keys(meta).length >= MAX_META - RESERVED_META.length)
      drop(`Consul allows at most ${MAX_META} Meta pairs`);
    else meta[key] = value;
  }
  return meta;
}

/** A digest of everything we send, except check statuses (they change without re-registering). */
export function specHash(registration: ServiceRegistration): string {
  const { Meta, Checks, ...rest } = registration;
  const meta = Object.fromEntries(
    Object.entries(Meta)
      .filter(([k]) => k !== SPEC_KEY)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const checks = Checks.map(({ Status: _status, ...check }) => check);
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, Meta: meta, Checks: checks }))
    .digest('hex')
    .slice(0, 16);
}

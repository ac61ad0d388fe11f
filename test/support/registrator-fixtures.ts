/** Container inspect data for registrator tests: only the fields the service model reads. */
import type Dockerode from 'dockerode';
import type { ModelSettings } from '../../agents/registrator/service-model';

export interface InspectSpec {
  id?: string;
  name?: string;
  image?: string;
  env?: string[];
  labels?: Record<string, string>;
  exposed?: string[];
  /** `80/tcp` → bindings */
  ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  networkMode?: string;
  networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }>;
  running?: boolean;
  paused?: boolean;
  healthcheck?: string[];
  health?: string;
}

export function inspectOf(spec: InspectSpec): Dockerode.ContainerInspectInfo {
  const networks = spec.networks ?? { bridge: { IPAddress: '172.17.0.5' } };
  return {
    Id: spec.id ?? 'c0ffee000000000000000000000000000000000000000000000000000000c0de',
    Name: `/${spec.name ?? 'web'}`,
    Config: {
      Image: spec.image ?? 'registry.example:5000/team/app:1.2',
      Env: spec.env ?? [],
      Labels: spec.labels ?? {},
      ExposedPorts: Object.fromEntries((spec.exposed ?? []).map((p) => [p, {}])),
      ...(spec.healthcheck ? { Healthcheck: { Test: spec.healthcheck } } : {}),
    },
    State: {
      Running: spec.running ?? true,
      Paused: spec.paused ?? false,
      ...(spec.health ? { Health: { Status: spec.health, FailingStreak: 0, Log: [] } } : {}),
    },
    HostConfig: { NetworkMode: spec.networkMode ?? 'default' },
    NetworkSettings: {
      Ports: spec.ports ?? {},
      Networks: Object.fromEntries(
        Object.entries(networks).map(([name, n]) => [
          name,
          { IPAddress: n.IPAddress ?? '', GlobalIPv6Address: n.GlobalIPv6Address ?? '' },
        ]),
      ),
    },
  } as unknown as Dockerode.ContainerInspectInfo;
}

export function modelSettings(overrides: Partial<ModelSettings> = {}): ModelSettings {
  return {
    node: 'node1',
    internal: false,
    hostAddress: '192.0.2.1',
    tags: [],
    explicit: false,
    healthTtlMs: 60_000,
    pausedServices: 'maintenance',
    ...overrides,
  };
}

/** One published port on all interfaces. */
export function published(hostPort: number, hostIp = '0.0.0.0'): Array<{ HostIp: string; HostPort: string }> {
  return [{ HostIp: hostIp, HostPort: String(hostPort) }];
}

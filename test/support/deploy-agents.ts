/**
 * What each agent needs when deployed as a container: the one table the manifest tests check
 * deploy/ against. Adding an agent to agents/index.ts without a row here fails a test.
 */
import { STATS_EXPORTER_ENTRYPOINT, STATS_EXPORTER_MALLOC_ENV } from '../../agents/stats-exporter/node-flags';

export interface AgentDeployment {
  name: string;
  /** The host port of the port plan (Swarm, Nomad, the registrator's host network, Prometheus). */
  hostPort: number;
  /** The agent's --listen port inside its container where it has a network of its own. */
  containerPort: number;
  /** Reads the host's cgroup files and /proc (read-only mounts). */
  hostCgroupAndProc: boolean;
  /**
   * Measures the containers' writable layers (container_fs_*): the Docker data root read-only at
   * the same path (inspect names the layers by host path), and the root group, which may only pass
   * through the data root and the layers' folders (0710 root:root) to the layers.
   */
  writableLayers: boolean;
  /** Keeps state across restarts: a persistent volume at /var/lib/quayside. */
  stateVolume: boolean;
  /** Runs on the host network (registers the node's addresses, reaches its Consul agent). */
  hostNetwork: boolean;
  /** The container's entrypoint where it is not the image's (`quayside`): node with V8 flags. */
  entrypoint?: readonly string[];
  /**
   * Variables on the agent's own container that it reads, like every container's, from inspect
   * rather than as options: the logrouter's opt-out, since it knows itself by hostname only where
   * that is the container ID (not on the host network, not in Kubernetes); and those its runtime
   * reads, the stats-exporter's malloc setting.
   */
  ownContainerEnv?: Readonly<Record<string, string>>;
}

export const STATE_DIR = '/var/lib/quayside';
export const DOCKER_SOCKET = '/var/run/docker.sock';
export const HOST_CGROUP = '/host/sys/fs/cgroup';
export const HOST_PROC = '/host/proc';
export const DOCKER_DATA_ROOT = '/var/lib/docker';

export const AGENT_DEPLOYMENTS: readonly AgentDeployment[] = [
  {
    name: 'registrator',
    hostPort: 9478,
    containerPort: 9478,
    hostCgroupAndProc: false,
    writableLayers: false,
    stateVolume: true,
    hostNetwork: true,
  },
  {
    name: 'logrouter',
    hostPort: 9479,
    containerPort: 9477,
    hostCgroupAndProc: false,
    writableLayers: false,
    stateVolume: true,
    hostNetwork: false,
    ownContainerEnv: { LOGSPOUT: 'ignore' },
  },
  {
    name: 'stats-exporter',
    hostPort: 9612,
    containerPort: 9612,
    hostCgroupAndProc: true,
    writableLayers: true,
    stateVolume: false,
    hostNetwork: false,
    entrypoint: STATS_EXPORTER_ENTRYPOINT,
    ownContainerEnv: STATS_EXPORTER_MALLOC_ENV,
  },
  {
    name: 'label-inspector',
    hostPort: 9477,
    containerPort: 9477,
    hostCgroupAndProc: false,
    writableLayers: false,
    stateVolume: false,
    hostNetwork: false,
  },
  {
    name: 'security-watcher',
    hostPort: 9480,
    containerPort: 9477,
    hostCgroupAndProc: false,
    writableLayers: false,
    stateVolume: false,
    hostNetwork: false,
  },
];

/** `stats-exporter` → `STATS_EXPORTER`, as in the stack file's QUAYSIDE_<AGENT>_LISTEN. */
export function envName(agent: string): string {
  return agent.toUpperCase().replace(/-/g, '_');
}

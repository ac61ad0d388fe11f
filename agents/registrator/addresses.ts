/**
 * Which address and port a service gets.
 *
 * - Published (default): the host side. Address = `-ip`, else the binding's own address when it
 *   is a specific one, else the node's detected address; port = the host port. Never the
 *   container IP with the host port (registrator did that on user-defined networks).
 * - `-internal`: the container side. Address = the container's IP on the chosen network
 *   (SERVICE_[<port>_]NETWORK, else the network of its network mode, else `bridge`, else the
 *   first by name: deterministic); port = the exposed port.
 * - Host network: the process listens on the host, so exposed ports register with the host
 *   address whether published or internal. `none` network and another container's network: no
 *   services (nothing reachable of their own), with the reason on /services.
 * - 0.0.0.0, :: and loopback are never registered unless given explicitly (`-ip`, the label).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type Dockerode from 'dockerode';

export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export function hostPortText(address: string, port: number): string {
  return `${urlHost(address)}:${port}`;
}

/** An IP address in one spelling: IPv6 compressed and lowercase (`0:0::0` → `::`); anything else as given. */
export function canonicalIp(ip: string): string {
  const bare = ip.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) === 6 ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare;
}

export function isWildcard(ip: string): boolean {
  const canonical = canonicalIp(ip);
  return canonical === '' || canonical === '0.0.0.0' || canonical === '::';
}

export function isLoopback(ip: string): boolean {
  const canonical = canonicalIp(ip);
  // IPv4-mapped loopback reads ::ffff:7f00:1 once canonical.
  return (
    /^127\./.test(canonical) ||
    canonical === '::1' ||
    /^::ffff:7f[0-9a-f]{2}:/.test(canonical) ||
    canonical === 'localhost'
  );
}

export type NetworkKind = 'host' | 'none' | 'container' | 'bridge';

export function networkKind(inspect: Dockerode.ContainerInspectInfo): NetworkKind {
  const mode = inspect.HostConfig?.NetworkMode ?? 'default';
  if (mode === 'host') return 'host';
  if (mode === 'none') return 'none';
  if (mode.startsWith('container:')) return 'container';
  return 'bridge';
}

export interface Binding {
  HostIp?: string;
  HostPort?: string;
}

/**
 * The binding to register among Docker's (it lists 0.0.0.0 and :: separately): a specific
 * reachable address first, then the IPv4 wildcard, then any wildcard; loopback only as a last
 * resort (`-p 127.0.0.1:8080:80 -p 8081:80` is reachable on 8081).
 */
export function chooseBinding(bindings: Binding[] | null | undefined): Binding | undefined {
  const usable = (bindings ?? []).filter((b) => b.HostPort && Number(b.HostPort) > 0);
  const ip = (b: Binding): string => b.HostIp ?? '';
  return (
    usable.find((b) => !isWildcard(ip(b)) && !isLoopback(ip(b))) ??
    usable.find((b) => isWildcard(ip(b)) && ip(b) !== '::' && ip(b) !== '[::]') ??
    usable.find((b) => isWildcard(ip(b))) ??
    usable[0]
  );
}

/** The container's network to use with -internal, or undefined. */
export function chooseNetwork(
  inspect: Dockerode.ContainerInspectInfo,
  wanted: string | undefined,
): { name: string; ip: string } | string {
  const networks = inspect.NetworkSettings?.Networks ?? {};
  const ipOf = (name: string): string => networks[name]?.IPAddress || networks[name]?.GlobalIPv6Address || '';
  if (wanted !== undefined) {
    if (!networks[wanted])
      return `SERVICE_NETWORK ${JSON.stringify(wanted)}: the container is not on that network (it is on ${Object.keys(networks).join(', ') || 'none'})`;
    return ipOf(wanted) ? { name: wanted, ip: ipOf(wanted) } : `network ${wanted} gave the container no address`;
  }
  const mode = inspect.HostConfig?.NetworkMode ?? '';
  const candidates = [mode === 'default' ? 'bridge' : mode, 'bridge', ...Object.keys(networks).sort()];
  const name = candidates.find((n) => networks[n] && ipOf(n));
  return name ? { name, ip: ipOf(name) } : 'the container has no address on any network';
}

/**
 * This host's address for published ports when neither -ip nor the binding names one: the
 * swarm node address when the engine is in a swarm, else the IPv4 address of the interface that
 * holds the default route, else any IPv4, else a global IPv6 address (never the loopback the
 * hostname may resolve to).
 */
export function detectHostAddress(
  info: { Swarm?: { NodeAddr?: string } },
  routeFile = '/proc/net/route',
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string | undefined {
  const swarm = info.Swarm?.NodeAddr;
  if (swarm && isIP(swarm) && !isLoopback(swarm) && !isWildcard(swarm)) return swarm;
  const defaultInterface = defaultRouteInterface(routeFile);
  const ordered = [...(defaultInterface ? [defaultInterface] : []), ...Object.keys(interfaces).sort()];
  // IPv4 first; an IPv6-only host gets its first address that is neither link-local nor loopback.
  const usable = [
    (a: NetworkInterfaceInfo) => a.family === 'IPv4',
    (a: NetworkInterfaceInfo) => a.family === 'IPv6' && !/^fe[89ab]/i.test(a.address),
  ];
  for (const wanted of usable) {
    for (const name of ordered) {
      const address = (interfaces[name] ?? []).find((a) => wanted(a) && !a.internal && !isLoopback(a.address));
      if (address) return address.address;
    }
  }
  return undefined;
}

function defaultRouteInterface(routeFile: string): string | undefined {
  try {
    const lines = readFileSync(routeFile, 'utf8').split('\n').slice(1);
    return lines.map((l) => l.trim().split(/\s+/)).find((f) => f[1] === '00000000' && f[7] === '00000000')?.[0];
  } catch {
    return undefined;
  }
}

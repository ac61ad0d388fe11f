/**
 * Network counters of a container from `/proc/<pid>/net/dev` of its init process, which shows the
 * interfaces of the container's network namespace (cAdvisor reads the same file).
 */
import { ParseError } from './errors';
import type { InterfaceStats } from './stats';

/** cAdvisor skips these: loopback, the host ends of veth pairs, and bridges. */
export const DEFAULT_IGNORED_INTERFACE_PREFIXES = ['lo', 'veth', 'docker', 'nerdctl'] as const;

// Columns after `iface:`: receive bytes packets errs drop fifo frame compressed multicast,
// then transmit bytes packets errs drop fifo colls carrier compressed.
const COLUMNS = 16;

export function parseNetDev(text: string, ignoredPrefixes: readonly string[], file = 'net/dev'): InterfaceStats[] {
  const interfaces: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (ignoredPrefixes.some((prefix) => name.startsWith(prefix))) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (fields.length < COLUMNS || fields.some((n) => !Number.isFinite(n)))
      throw new ParseError(file, `bad line for ${name}`);
    const [rxBytes, rxPackets, rxErrors, rxDropped, , , , , txBytes, txPackets, txErrors, txDropped] =
      fields as number[];
    interfaces.push({
      interface: name,
      receiveBytes: rxBytes,
      receivePackets: rxPackets,
      receiveErrors: rxErrors,
      receiveDropped: rxDropped,
      transmitBytes: txBytes,
      transmitPackets: txPackets,
      transmitErrors: txErrors,
      transmitDropped: txDropped,
    });
  }
  return interfaces;
}

/**
 * The part syslog and raw routes share: a transport picked by the scheme's `+udp`, `+tcp` or
 * `+tls` (bare scheme: UDP, as in logspout) and a function that encodes messages for it.
 */
import { durationOption, integerOption } from '../../../shared/config/options';
import type { LogMessage } from '../message';
import { RouteError } from '../route';
import { DEFAULT_REPLAY, StreamTransport, type ReplayLimits } from '../transports/stream';
import { tlsOptions } from '../transports/tls-options';
import { UdpTransport } from '../transports/udp';
import { hostAndPort, type Adapter, type AdapterContext } from './adapter';

export interface SocketEncoding {
  /** All messages of a batch as one write on a stream. */
  stream(batch: readonly LogMessage[]): Buffer;
  /** One datagram per message; undefined drops that message (oversize policy `drop`). */
  datagram(message: LogMessage): Buffer | undefined;
}

export function transportOf(adapter: string): 'udp' | 'tcp' | 'tls' {
  const transport = adapter.split('+')[1] ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw new RouteError(`route scheme ${adapter}: unknown transport ${transport} (udp, tcp or tls)`);
  return transport;
}

export function socketAdapter(context: AdapterContext, encoding: SocketEncoding, defaultPorts: { udp: number; tcp: number; tls: number }): Adapter {
  const transport = transportOf(context.spec.adapter);
  const { host, port } = hostAndPort(context.spec, defaultPorts[transport]);
  if (transport === 'udp') {
    const udp = new UdpTransport(host, port);
    return {
      connected: true,
      reconnects: 0,
      async send(batch) {
        const datagrams: Buffer[] = [];
        for (const message of batch) {
          const d = encoding.datagram(message);
          if (d) datagrams.push(d);
        }
        await udp.send(datagrams);
        // Lines longer than udp.max with udp.oversize=drop: counted as dropped, not as delivered.
        const oversize = batch.length - datagrams.length;
        return oversize > 0 ? { rejected: { reason: 'longer than udp.max (udp.oversize=drop)', count: oversize } } : undefined;
      },
      async close() {
        udp.close();
      },
    };
  }
  const stream = new StreamTransport({ host, port, tls: transport === 'tls' ? tlsOptions(context.spec.options, context.env, host) : undefined, replay: replayWindow(context.spec.options) });
  // Connect at once: a quiet host sends no line for a while, and /readyz should say whether the
  // destination is there, not wait for the first line to find out.
  stream.open();
  return {
    get connected() {
      return stream.connected;
    },
    get reconnects() {
      return stream.reconnects;
    },
    get replayed() {
      return stream.replayedLines;
    },
    async send(batch, accepted) {
      await stream.write(encoding.stream(batch), batch.length, accepted);
    },
    async close() {
      stream.close();
    },
  };
}

/** `udp.max` (bytes per datagram) and `udp.oversize` (truncate or drop). */
export function udpPolicy(options: Record<string, string>): { max: number; truncate: boolean } {
  const max = Number(options['udp.max'] ?? 65_507);
  if (!Number.isInteger(max) || max < 64 || max > 65_507) throw new RouteError(`udp.max must be an integer from 64 to 65507, not ${JSON.stringify(options['udp.max'])}`);
  const oversize = options['udp.oversize'] ?? 'truncate';
  if (oversize !== 'truncate' && oversize !== 'drop') throw new RouteError(`udp.oversize must be truncate or drop, not ${JSON.stringify(oversize)}`);
  return { max, truncate: oversize === 'truncate' };
}

/** At most a minute and 256 MiB: the window is held in memory. */
const replayMs = durationOption({ help: 'replay.window', minMs: 0, maxMs: 60_000 });
const replayBytes = integerOption({ help: 'replay.bytes', min: 0, max: 256 * 1024 * 1024 });

/** `replay.window` (a duration, 0 turns replay off) and `replay.bytes` of a TCP or TLS route. */
export function replayWindow(options: Record<string, string>): ReplayLimits {
  const parse = <T>(key: string, option: { parse(raw: string): T }, fallback: T): T => {
    if (options[key] === undefined) return fallback;
    try {
      return option.parse(options[key]);
    } catch (error) {
      throw new RouteError(`${key} ${JSON.stringify(options[key])}: ${(error as Error).message}`);
    }
  };
  return { ms: parse('replay.window', replayMs, DEFAULT_REPLAY.ms), bytes: parse('replay.bytes', replayBytes, DEFAULT_REPLAY.bytes) };
}

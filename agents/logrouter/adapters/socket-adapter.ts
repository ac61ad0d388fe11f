/**
 * The part syslog and raw routes share: a transport picked by the scheme's `+udp`, `+tcp` or
 * `+tls` (bare scheme: UDP, as in logspout) and a function that encodes messages for it.
 */
import { choiceOption, durationOption, integerOption } from '../../../shared/config/options';
import type { LogMessage } from '../message';
import { onTransports, routeOptionValues } from '../route-options';
import { DEFAULT_REPLAY, StreamTransport, type ReplayLimits } from '../transports/stream';
import { tlsOptions, tlsRouteOptions } from '../transports/tls-options';
import { UdpTransport } from '../transports/udp';
import { hostAndPort, type Adapter, type AdapterContext } from './adapter';

export interface SocketEncoding {
  /** All messages of a batch as one write on a stream. */
  stream(batch: readonly LogMessage[]): Buffer;
  /** One datagram per message; undefined drops that message (oversize policy `drop`). */
  datagram(message: LogMessage): Buffer | undefined;
}

/** The transports of a socket route, UDP first: a bare `syslog://` or `raw://` is UDP, as in logspout. */
export const SOCKET_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

const udpRouteOptions = onTransports(['udp'], {
  'udp.max': integerOption({ help: 'Largest datagram in bytes', default: 65_507, min: 64, max: 65_507 }),
  'udp.oversize': choiceOption({
    help: 'What a longer line does: truncate it, or drop it (counted as dropped)',
    default: 'truncate',
    choices: ['truncate', 'drop'] as const,
  }),
});

/** At most a minute and 256 MiB: the window is held in memory. */
const replayRouteOptions = onTransports(['tcp', 'tls'], {
  'replay.window': durationOption({
    help: 'How long what was written stays to be written again after a lost connection (at least once); 0 turns it off',
    default: DEFAULT_REPLAY.ms,
    minMs: 0,
    maxMs: 60_000,
  }),
  'replay.bytes': integerOption({
    help: 'Most bytes the replay window holds',
    default: DEFAULT_REPLAY.bytes,
    min: 0,
    max: 256 * 1024 * 1024,
  }),
});

/** The options of every socket route, each read on its transport. */
export const socketRouteOptions = {
  ...udpRouteOptions,
  ...replayRouteOptions,
  ...onTransports(['tls'], tlsRouteOptions),
};

export function socketAdapter(
  context: AdapterContext,
  encoding: SocketEncoding,
  defaultPorts: { udp: number; tcp: number; tls: number },
): Adapter {
  const transport = context.transport;
  if (transport === undefined) throw new Error(`${context.spec.adapter}: a socket route needs a transport`);
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
        return oversize > 0
          ? { rejected: { reason: 'longer than udp.max (udp.oversize=drop)', count: oversize } }
          : undefined;
      },
      async close() {
        udp.close();
      },
    };
  }
  const stream = new StreamTransport({
    host,
    port,
    tls: transport === 'tls' ? tlsOptions(context.spec.options, context.env, host) : undefined,
    replay: replayWindow(context.spec.options),
  });
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
  const values = routeOptionValues(udpRouteOptions, options, {});
  return { max: values['udp.max'], truncate: values['udp.oversize'] === 'truncate' };
}

/** `replay.window` (a duration, 0 turns replay off) and `replay.bytes` of a TCP or TLS route. */
function replayWindow(options: Record<string, string>): ReplayLimits {
  const values = routeOptionValues(replayRouteOptions, options, {});
  return { ms: values['replay.window'], bytes: values['replay.bytes'] };
}

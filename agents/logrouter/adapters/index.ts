/**
 * Adapters by URI scheme (the part before `+`). Adding one is a file that exports its AdapterKind
 * (schemes, transports, route options, factory) and a line in KINDS; validation, errors and the
 * README's route-option table follow.
 */
import { multilineRouteOptions } from '../multiline';
import { RouteError, type RouteSpec } from '../route';
import { checkRouteOptions, queueRouteOptions, type RouteOptionDecls, type Transport } from '../route-options';
import type { Adapter, AdapterContext, AdapterKind } from './adapter';
import { httpAdapter, httpsAdapter } from './http';
import { rawAdapter } from './raw';
import { redisAdapter } from './redis';
import { relpAdapter } from './relp';
import { stdoutAdapter } from './stdout';
import { syslogAdapter } from './syslog';

export const ADAPTER_KINDS: readonly AdapterKind[] = [
  syslogAdapter,
  relpAdapter,
  rawAdapter,
  redisAdapter,
  httpAdapter,
  httpsAdapter,
  stdoutAdapter,
];

/** The options every route takes, whatever its adapter. */
export const everyRouteOptions: RouteOptionDecls = { ...multilineRouteOptions, ...queueRouteOptions };

/** logspout's transport-only schemes are raw routes over that transport. */
const ALIASES: Record<string, string> = { tcp: 'raw+tcp', udp: 'raw+udp', tls: 'raw+tls' };

/** Every scheme a route may have, for errors: `syslog, syslog+udp, …, stdout`. */
function knownSchemes(): string[] {
  const schemes = ADAPTER_KINDS.flatMap((kind) =>
    kind.schemes.flatMap((scheme) => [scheme, ...(kind.transports ?? []).map((t) => `${scheme}+${t}`)]),
  );
  return [...schemes, ...Object.keys(ALIASES)];
}

/** The adapter of a scheme and the transport it runs over; throws RouteError for an unknown pair. */
function resolveScheme(scheme: string): { kind: AdapterKind; transport: Transport | undefined } {
  const [name = '', transport, ...rest] = (ALIASES[scheme] ?? scheme).split('+');
  const kind = ADAPTER_KINDS.find((candidate) => candidate.schemes.includes(name));
  if (!kind) throw new RouteError(`bad adapter: ${scheme} (known: ${knownSchemes().join(', ')})`);
  if (!kind.transports) {
    if (transport !== undefined) throw new RouteError(`bad adapter: ${scheme} (${name} takes no +transport)`);
    return { kind, transport: undefined };
  }
  if (rest.length > 0 || (transport !== undefined && !kind.transports.includes(transport as Transport))) {
    throw new RouteError(`bad adapter: ${scheme} (${name} runs over ${kind.transports.join(', ')})`);
  }
  return { kind, transport: (transport as Transport | undefined) ?? kind.transports[0] };
}

/** Checks a route's adapter, transport and options (every key declared, every value valid). */
export function checkRoute(spec: RouteSpec): { kind: AdapterKind; transport: Transport | undefined } {
  const resolved = resolveScheme(spec.adapter);
  checkRouteOptions({ ...everyRouteOptions, ...resolved.kind.options }, spec.options, spec.adapter, resolved.transport);
  return resolved;
}

/** Checks the route and builds its adapter. */
export function createAdapter(context: Omit<AdapterContext, 'transport'>): Adapter {
  const { kind, transport } = checkRoute(context.spec);
  return kind.create({ ...context, transport });
}

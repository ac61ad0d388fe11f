/** Adapters by URI scheme (the part before `+`). Adding one is one file and one line here. */
import { RouteError } from '../route';
import type { AdapterFactory } from './adapter';
import { httpAdapter } from './http';
import { rawAdapter } from './raw';
import { redisAdapter } from './redis';
import { relpAdapter } from './relp';
import { stdoutAdapter } from './stdout';
import { syslogAdapter } from './syslog';

const ADAPTERS: Record<string, AdapterFactory> = {
  syslog: syslogAdapter,
  raw: rawAdapter,
  redis: redisAdapter,
  relp: relpAdapter,
  http: httpAdapter,
  https: httpAdapter,
  stdout: stdoutAdapter,
};

/** logspout's transport-only schemes are raw routes over that transport. */
const ALIASES: Record<string, string> = { tcp: 'raw+tcp', udp: 'raw+udp', tls: 'raw+tls' };

export function normalizeScheme(scheme: string): string {
  return ALIASES[scheme] ?? scheme;
}

export function adapterFactory(scheme: string): AdapterFactory {
  const name = normalizeScheme(scheme).split('+')[0]!;
  const factory = ADAPTERS[name];
  if (!factory) throw new RouteError(`bad adapter: ${scheme} (known: syslog, syslog+udp, syslog+tcp, syslog+tls, raw+udp, raw+tcp, raw+tls, tcp, udp, tls, relp, relp+tls, redis, http, https, stdout)`);
  if ((name === 'redis' || name === 'http' || name === 'https' || name === 'stdout') && scheme.includes('+')) throw new RouteError(`bad adapter: ${scheme} (${name} takes no +transport)`);
  return factory;
}

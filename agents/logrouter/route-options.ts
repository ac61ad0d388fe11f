/**
 * Route options — the query keys of a route URI that are not filters, the `options` of /routes
 * JSON — declared with the flags' machinery (shared/config/options.ts): each adapter declares the
 * keys it reads, so a misspelt key is an error naming it, a bad value is refused when the route is
 * added, and the README's route-option table is generated from the same declarations.
 */
import {
  booleanOption,
  choiceOption,
  integerOption,
  optionalStringOption,
  type OptionDecl,
  type OptionValues,
} from '../../shared/config/options';
import { MASKED } from '../../shared/config/uri';
import { isSecretOption, RouteError } from './route';

export type Transport = 'udp' | 'tcp' | 'tls';

export interface RouteOptionDecl<T> extends OptionDecl<T> {
  /** Read only on these transports (`framing`: tcp and tls); on every one when absent. */
  transports?: readonly Transport[];
  /** The key is a prefix: `header.` takes `header.<Name>=…`, each value parsed on its own. */
  prefix?: boolean;
}

export type RouteOptionDecls = Record<string, RouteOptionDecl<unknown>>;

/** Limits a group of declarations to some transports (TLS settings to `tls`). */
export function onTransports<D extends RouteOptionDecls>(transports: readonly Transport[], decls: D): D {
  return Object.fromEntries(Object.entries(decls).map(([key, decl]) => [key, { ...decl, transports }])) as D;
}

/** The declaration a route's key falls under, if any. */
function declOf(decls: RouteOptionDecls, key: string): RouteOptionDecl<unknown> | undefined {
  return (
    decls[key] ??
    Object.entries(decls).find(
      ([prefix, decl]) => decl.prefix && key.startsWith(prefix) && key.length > prefix.length,
    )?.[1]
  );
}

/**
 * Checks every key of `options` against the declarations of a route over `transport`: an unknown
 * key, one its transport does not read, or a value its declaration refuses is a RouteError naming it.
 */
export function checkRouteOptions(
  decls: RouteOptionDecls,
  options: Readonly<Record<string, string>>,
  scheme: string,
  transport: Transport | undefined,
): void {
  const unknown = Object.keys(options).filter((key) => declOf(decls, key) === undefined);
  if (unknown.length > 0) {
    const known = Object.entries(decls)
      .filter(([, decl]) => applies(decl, transport))
      .map(([key, decl]) => (decl.prefix ? `${key}<name>` : key));
    throw new RouteError(
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} for ${scheme} (known: ${known.join(', ')})`,
    );
  }
  for (const [key, raw] of Object.entries(options)) {
    const decl = declOf(decls, key)!;
    if (!applies(decl, transport))
      throw new RouteError(`option ${key} is read only over ${decl.transports!.join(' or ')}, not by ${scheme}`);
    parseValue(key, decl, raw);
  }
}

function applies(decl: RouteOptionDecl<unknown>, transport: Transport | undefined): boolean {
  return decl.transports === undefined || (transport !== undefined && decl.transports.includes(transport));
}

/**
 * The values of a route's options: the route's own, else the declaration's environment variable
 * (logspout's SYSLOG_FORMAT for `format`…), else its default. Prefix declarations are not included.
 */
export function routeOptionValues<D extends RouteOptionDecls>(
  decls: D,
  options: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
): OptionValues<D> {
  const values: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(decls)) {
    if (decl.prefix) continue;
    if (options[key] !== undefined) values[key] = parseValue(key, decl, options[key]);
    else if (decl.env && env[decl.env] !== undefined) values[key] = parseValue(decl.env, decl, env[decl.env]!);
    else values[key] = decl.default;
  }
  return values as OptionValues<D>;
}

function parseValue(name: string, decl: RouteOptionDecl<unknown>, raw: string): unknown {
  try {
    return decl.parse(raw);
  } catch (error) {
    throw new RouteError(`${name} ${isSecretOption(name) ? MASKED : JSON.stringify(raw)}: ${(error as Error).message}`);
  }
}

/** An option without a default, so its value may be undefined. */
export function optional<T>(decl: OptionDecl<T>): OptionDecl<T | undefined> {
  return decl;
}

/** Most messages one route's queue may hold (--log-queue-size, queue.size): a million lines of 1 KiB is 1 GiB. */
export const MAX_QUEUE_SIZE = 1_000_000;

/** Every route's queue, instead of the agent's --log-queue-size and --log-queue-policy. */
export const queueRouteOptions = {
  'queue.size': optional(
    integerOption({
      help: "Messages this route may hold in memory; default the agent's --log-queue-size",
      min: 1,
      max: MAX_QUEUE_SIZE,
    }),
  ),
  'queue.policy': optional(
    choiceOption({
      help: "What this route's full queue does; default the agent's --log-queue-policy",
      choices: ['block', 'drop'] as const,
    }),
  ),
};

/** Routes that send logstash-style JSON events. */
export const jsonRouteOption = {
  json: booleanOption({
    help: 'A line that is a JSON object is merged into the event (its message kept)',
    default: false,
  }),
};

/** Routes that log in; the URI's user part (`scheme://user:password@host`) lands here, never in the address. */
export const credentialRouteOptions = {
  username: optionalStringOption({
    help: 'The user name, also from the URI (scheme://user:password@host)',
    placeholder: '<user>',
  }),
  password: optionalStringOption({
    help: 'The password, also from the URI (shown as *** by /routes)',
    placeholder: '<password>',
  }),
};

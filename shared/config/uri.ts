/**
 * Host names and credentials in the URIs users give (registry URIs, DOCKER_HOST, CONSUL_HTTP_ADDR,
 * findings sinks): which hosts can exist, and how a URI may be quoted in a message.
 */
import { isIP } from 'node:net';

/**
 * Letters, digits, dots, dashes and underscores (Compose names services `db_1`), neither starting
 * nor ending with a dot or dash: `%00`, a space or `-` could only fail at every retry.
 */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9_])?$/;

/** A host name or an IP address (IPv6 without brackets). */
export function isHostName(host: string): boolean {
  return HOST_NAME.test(host) || isIP(host) !== 0;
}

/** What messages, logs and endpoints show instead of a secret. */
export const MASKED = '***';

const SCHEME = /^[a-z][\w+.-]*:\/\//i;

/** The user name: up to the first `:`, without `/`, `?` or `#` (an `@` is allowed: `me@corp.example:pw@host`). */
const USER = /^[^:/?#]*:/;

/**
 * An `@` that ends a userinfo: a host follows (a name or dotted address, not a bare number such as
 * Loggly's `<token>@41058` in a query; a bracketed IPv6 address; or any text with a port), then
 * the path, query, fragment or end.
 */
const HOST_AFTER_AT =
  /@(?:(?![0-9]+(?![\w.-]))[\w.-]+(?::[0-9]*)?|\[[\w:.%]+\](?::[0-9]*)?|[^/?#@]*:[0-9]+)(?=[/?#]|$)/y;

/** `host[:port]` and nothing else: an authority without a userinfo. */
const PLAIN_AUTHORITY = /^(?:[\w.-]+|\[[\w:.%]+\])(?::[0-9]*)?$/;

/**
 * A URI (or `user:password@host:port`) in three parts around its password: `head` (scheme, user
 * and `:`), `password`, and `tail` (`@host…`). Without a password, `head` is the scheme and `tail`
 * the rest. In `tail`, the first `/`, `?` or `#` ends the authority either way.
 *
 * Users write passwords unencoded, and any byte may be in one: `@`, `:`, `/`, `?`, `#`. A host
 * cannot hold those, so the userinfo ends at the LAST `@` that a host (and port) follows up to the
 * path, query or end: `redis://:p@ss/w?rd@host:6379/0`. Failing that (a malformed host without a
 * port), at the last `@`, unless the URI starts with a plain `host:port` (then the `@` is in its
 * path or query; `user:1234/x@exa mple` is read so too). Showing a byte of a password is worse than
 * masking too much: a URI without a password but with `@host` at the end of its path or query
 * (`http://h:80/in?mail=a@b.org`) is masked from its port to that `@`.
 */
export function splitAtPassword(uri: string): { head: string; password?: string; tail: string } {
  const scheme = SCHEME.exec(uri)?.[0] ?? '';
  const rest = uri.slice(scheme.length);
  const user = USER.exec(rest)?.[0];
  const end = user === undefined ? -1 : userinfoEnd(rest, user.length);
  if (user === undefined || end < 0) return { head: scheme, tail: rest };
  return { head: scheme + user, password: rest.slice(user.length, end), tail: rest.slice(end) };
}

/** The index of the `@` ending the userinfo that has a password from `from` on, or -1. */
function userinfoEnd(rest: string, from: number): number {
  const lastAt = rest.lastIndexOf('@');
  if (lastAt < from) return -1;
  for (let at = lastAt; at >= from; at = rest.lastIndexOf('@', at - 1)) {
    HOST_AFTER_AT.lastIndex = at;
    if (HOST_AFTER_AT.test(rest)) return at;
  }
  const authorityEnd = rest.search(/[/?#]/);
  return PLAIN_AUTHORITY.test(authorityEnd < 0 ? rest : rest.slice(0, authorityEnd)) ? -1 : lastAt;
}

/**
 * The URI (or `user:password@host:port`) as it may appear in logs, errors, endpoints and metric
 * labels: the password as `***`. Done on the text, so a URI that does not parse is masked too.
 */
export function withoutPassword(uri: string): string {
  const { head, password, tail } = splitAtPassword(uri);
  return password === undefined ? uri : `${head}${MASKED}${tail}`;
}

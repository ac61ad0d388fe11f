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

/**
 * The URI (or `user:password@host:port`) as it may appear in logs, errors and /readyz: the
 * password as `***`. Done on the text, so a URI that does not parse is masked too.
 */
export function withoutPassword(uri: string): string {
  const scheme = /^[a-z][\w+.-]*:\/\//i.exec(uri)?.[0] ?? '';
  return scheme + uri.slice(scheme.length).replace(/^([^\s/@:]*):.*@/s, '$1:***@');
}

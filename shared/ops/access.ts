/**
 * Who may use an endpoint of the ops server. Two levels, declared by each route:
 * - `public`: anyone who reaches the port (`/healthz`, `/readyz` without details, `/metrics`);
 * - `sensitive`: a trusted client only, which is one that sends `Authorization: Bearer <--api-token>`
 *   (compared in constant time), or a local client (below).
 * Every change (any method but GET and HEAD) is sensitive, whatever the route declares.
 *
 * A browser cannot put a header on an EventSource, so the host console trades the token once for
 * a session cookie (HttpOnly, SameSite=Strict): its expiry time signed with a key derived from the
 * token, never the token itself. It lasts SESSION_TTL_SECONDS and is only issued for the token, not
 * renewed by itself, so a copied cookie stops working. It admits reads only: a change still needs
 * the header, so no other site can make a browser change anything with it.
 *
 * A local client connects from loopback, names a loopback host (`Host: 127.0.0.1:9477`,
 * `localhost`, `[::1]`), and is not a page of another site in a browser on the host: it sends no
 * `Origin` but its own and no `Sec-Fetch-Site: cross-site` or `same-site`. Without the Host rule, a
 * page whose name re-resolves to 127.0.0.1 (DNS rebinding) could read what the agent serves; without
 * the Origin rule, any page the host's browser opens could send a form POST (cross-site request
 * forgery). A client that sends no Host at all (HTTP/1.0) is not a browser and stays local.
 *
 * A reverse proxy on the same host connects from loopback: one that adds X-Forwarded-For,
 * Forwarded, X-Real-IP or Via is seen as a proxy and its clients need the token; one that adds none
 * of them makes every client it forwards look local, so such a proxy must not forward these paths.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Access = 'public' | 'sensitive';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** A Host header of a loopback name: `localhost`, `127.x.y.z` or `[::1]`, optionally with a port. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[(::1|::ffff:127(\.\d{1,3}){3})\])(:\d{1,5})?$/i;
const READ_METHODS = new Set(['GET', 'HEAD']);
/** The console's session cookie. */
const SESSION_COOKIE = 'quayside_session';
/** How long a console session lasts: a working shift, after which the page asks for the token again. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** `<expiry, Unix seconds>.<HMAC-SHA256 of it, base64url>`. */
const SESSION_VALUE = /^(\d{1,12})\.([\w-]{43})$/;

export interface Denial {
  status: 401 | 403;
  error: string;
}

export class AccessPolicy {
  private readonly tokenDigest: Buffer | undefined;
  /** Signs session cookies: derived from the token, so a new token ends every session. */
  private readonly sessionKey: Buffer | undefined;

  constructor(token: string | undefined) {
    const hasToken = token !== undefined && token !== '';
    this.tokenDigest = hasToken ? digest(`Bearer ${token}`) : undefined;
    this.sessionKey = hasToken ? digest(`quayside console session\n${token}`) : undefined;
  }

  get hasToken(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** Whether the request may see details and sensitive routes. */
  trusts(request: IncomingMessage): boolean {
    return (
      this.hasValidToken(request.headers.authorization) ||
      isLocalClient(request) ||
      (READ_METHODS.has(request.method ?? 'GET') && this.hasValidSession(request))
    );
  }

  /**
   * `Set-Cookie` with a new session for a request that shows the token; undefined for any other
   * (a session does not extend itself, and loopback without a token needs none).
   */
  sessionCookie(request: IncomingMessage): string | undefined {
    if (!this.hasValidToken(request.headers.authorization)) return undefined;
    const expires = Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS;
    const value = `${expires}.${this.sign(expires)}`;
    return `${SESSION_COOKIE}=${value}; Max-Age=${SESSION_TTL_SECONDS}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Undefined when the request may go on to a route of this access level, else why not. */
  check(request: IncomingMessage, access: Access): Denial | undefined {
    if (access === 'public' && READ_METHODS.has(request.method ?? 'GET')) return undefined;
    if (this.trusts(request)) return undefined;
    if (this.hasToken) return { status: 401, error: 'a valid bearer token (--api-token) is required' };
    return {
      status: 403,
      error:
        'accepted only from loopback clients naming a loopback host, not through a proxy nor from a page of another site; set --api-token to allow others with a bearer token',
    };
  }

  private hasValidToken(authorization: string | undefined): boolean {
    if (this.tokenDigest === undefined || authorization === undefined) return false;
    return timingSafeEqual(digest(authorization), this.tokenDigest);
  }

  private hasValidSession(request: IncomingMessage): boolean {
    if (this.sessionKey === undefined) return false;
    const parts = SESSION_VALUE.exec(cookieValue(request.headers.cookie, SESSION_COOKIE) ?? '');
    if (parts === null) return false;
    const expires = Number(parts[1]);
    const signed = timingSafeEqual(digest(parts[2]!), digest(this.sign(expires)));
    return signed && expires * 1000 > Date.now();
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.sessionKey!).update(String(expires)).digest('base64url');
  }
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A program on this host (or in this container's network namespace), not through a proxy or another site's page. */
function isLocalClient(request: IncomingMessage): boolean {
  return (
    LOOPBACK.test(request.socket.remoteAddress ?? '') &&
    !viaProxy(request) &&
    // No Host at all (HTTP/1.0): not a browser, so no rebinding page.
    (request.headers.host === undefined || LOOPBACK_HOST.test(request.headers.host)) &&
    !fromAnotherSite(request)
  );
}

/** A browser request that a page of another origin started (CSRF, or a rebinding page). */
function fromAnotherSite(request: IncomingMessage): boolean {
  const { origin, host } = request.headers;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  return origin !== undefined && origin.toLowerCase() !== `http://${host ?? ''}`.toLowerCase();
}

/** Headers a reverse proxy adds: the request did not start on this host. */
function viaProxy(request: IncomingMessage): boolean {
  const h = request.headers;
  return (
    h['x-forwarded-for'] !== undefined ||
    h.forwarded !== undefined ||
    h['x-real-ip'] !== undefined ||
    h.via !== undefined
  );
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

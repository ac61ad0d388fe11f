/**
 * Who may use an endpoint of the ops server. Two levels, declared by each route:
 * - `public`: anyone who reaches the port (`/healthz`, `/readyz` without details, `/metrics`);
 * - `sensitive`: a trusted client only, which is one that sends `Authorization: Bearer <--api-token>`
 *   (compared in constant time), or one that connects from loopback without proxy headers.
 * Every change (any method but GET and HEAD) is sensitive, whatever the route declares.
 *
 * A reverse proxy on the same host connects from loopback: one that adds X-Forwarded-For,
 * Forwarded, X-Real-IP or Via is seen as a proxy and its clients need the token; one that adds none
 * of them makes every client it forwards look local, so such a proxy must not forward these paths.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Access = 'public' | 'sensitive';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const READ_METHODS = new Set(['GET', 'HEAD']);

export interface Denial {
  status: 401 | 403;
  error: string;
}

export class AccessPolicy {
  private readonly tokenDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.tokenDigest = token === undefined || token === '' ? undefined : digest(`Bearer ${token}`);
  }

  get hasToken(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** Whether the request may see details and sensitive routes. */
  trusts(request: IncomingMessage): boolean {
    return this.hasValidToken(request.headers.authorization) || isLocalClient(request);
  }

  /** Undefined when the request may go on to a route of this access level, else why not. */
  check(request: IncomingMessage, access: Access): Denial | undefined {
    if (access === 'public' && READ_METHODS.has(request.method ?? 'GET')) return undefined;
    if (this.trusts(request)) return undefined;
    if (this.hasToken) return { status: 401, error: 'a valid bearer token (--api-token) is required' };
    return { status: 403, error: 'accepted only from loopback clients, not through a proxy; set --api-token to allow others with a bearer token' };
  }

  private hasValidToken(authorization: string | undefined): boolean {
    if (this.tokenDigest === undefined || authorization === undefined) return false;
    return timingSafeEqual(digest(authorization), this.tokenDigest);
  }
}

/** A program on this host (or in this container's network namespace), not through a proxy. */
export function isLocalClient(request: IncomingMessage): boolean {
  return LOOPBACK.test(request.socket.remoteAddress ?? '') && !viaProxy(request);
}

/** Headers a reverse proxy adds: the request did not start on this host. */
function viaProxy(request: IncomingMessage): boolean {
  const h = request.headers;
  return h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined || h.via !== undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** An adapter turns a batch of messages into what its destination takes, and sends it. */
import type { LogMessage } from '../message';
import { RouteError, type RouteSpec } from '../route';
import type { RouteOptionDecls, Transport } from '../route-options';

export interface Adapter {
  /**
   * Resolves when the destination accepted every message of the batch; rejects to be retried.
   * An adapter that sees the destination take the batch in a synchronous step (the write call,
   * the last acknowledgement) calls `accepted` right there: the checkpoint is written in that same
   * turn, since a `kill -9` between the two sends the batch again. Otherwise the route calls it.
   */
  send(batch: readonly LogMessage[], accepted?: () => void): Promise<SendOutcome | void>;
  /** Whether the destination is reachable as far as the adapter knows (for /readyz). */
  readonly connected: boolean;
  /** Reconnects so far (for metrics). */
  readonly reconnects: number;
  /** Lines sent again after a connection was lost, which may have arrived twice (TCP/TLS replay). */
  readonly replayed?: number;
  close(): Promise<void>;
}

interface SendOutcome {
  /** The destination refused the batch for good (HTTP 4xx): counted as dropped, not retried. */
  rejected?: { reason: string; /** How many of the batch; all when absent. */ count?: number };
}

/** Thrown by `send` for a failure to wait out: the route waits `retryAfterMs` before retrying. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

export interface AdapterContext {
  spec: RouteSpec;
  /** The scheme's `+transport`, or the adapter's default; undefined for one that takes none. */
  transport: Transport | undefined;
  env: NodeJS.ProcessEnv;
  /** Where stdout:// writes (process.stdout unless a test substitutes it). */
  stdout: NodeJS.WritableStream;
}

export type AdapterFactory = (context: AdapterContext) => Adapter;

/** What adapters/index.ts lists: one per adapter file. */
export interface AdapterKind {
  /** The URI schemes it serves (before any `+transport`). */
  schemes: readonly string[];
  /** The transports it runs over, the first one its default (`syslog://` is UDP); absent: it takes no `+transport`. */
  transports?: readonly Transport[];
  /** The route options it reads, besides every route's (route-options.ts). */
  options: RouteOptionDecls;
  create: AdapterFactory;
}

export function hostAndPort(spec: RouteSpec, defaultPort: number): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.address);
  if (!match) throw new RouteError(`expected host:port, got ${JSON.stringify(spec.address)}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort };
}

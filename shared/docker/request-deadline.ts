/**
 * Every request a Docker client makes has a deadline, so an engine (or one container in it) that
 * never answers cannot hold an agent forever.
 *
 * - A request answered with one body (inspect, list, pause, stop…) must be answered in full
 *   within the deadline.
 * - A stream (GET /events, logs with follow, stats with stream, attach and exec hijacks) must
 *   answer with its headers within the deadline; its body then flows for as long as the caller
 *   reads it. Watching a stream's liveness is the caller's job (the event stream pings).
 * - `withDockerDeadline(ms, call)` gives the requests that `call` starts another deadline, e.g.
 *   `withDockerDeadline(stopSeconds * 1000 + 5_000, () => container.stop({ t: stopSeconds }))`.
 *
 * A missed deadline rejects with DockerDeadlineError (`isDockerDeadline`) naming the request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Dockerode from 'dockerode';

export const DEFAULT_REQUEST_DEADLINE_MS = 10_000;

const deadlineOverride = new AsyncLocalStorage<number>();

export class DockerDeadlineError extends Error {
  constructor(
    readonly request: string,
    readonly deadlineMs: number,
  ) {
    super(`${request}: Docker did not answer within ${deadlineMs} ms`);
    this.name = 'DockerDeadlineError';
  }
}

export function isDockerDeadline(error: unknown): error is DockerDeadlineError {
  return error instanceof DockerDeadlineError;
}

/** Runs `call` with `ms` as the deadline of every Docker request it starts (see the module comment). */
export function withDockerDeadline<T>(ms: number, call: () => Promise<T>): Promise<T> {
  return deadlineOverride.run(ms, call);
}

interface DialOptions {
  path: string;
  method: string;
  abortSignal?: AbortSignal;
  [other: string]: unknown;
}
type DialCallback = (error: unknown, result?: unknown) => void;
interface DialingModem {
  dial(options: DialOptions, callback: DialCallback): void;
}

/** Puts the deadline on every request of `docker` (all of dockerode goes through modem.dial). */
export function applyRequestDeadlines(docker: Dockerode, defaultMs = DEFAULT_REQUEST_DEADLINE_MS): Dockerode {
  const modem = docker.modem as unknown as DialingModem;
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const ms = deadlineOverride.getStore() ?? defaultMs;
    const deadline = new AbortController();
    let settled = false;
    const settle: DialCallback = (error, result) => {
      if (settled) {
        // A stream whose headers came after the deadline answered: nobody will read it.
        (result as { destroy?: () => void } | undefined)?.destroy?.();
        return;
      }
      settled = true;
      clearTimeout(timer);
      callback(error, result);
    };
    // Aborting is not always enough: docker-modem never calls back for a body cut short (the
    // engine closes the connection before Content-Length bytes), so the deadline answers itself.
    const timer = setTimeout(() => {
      deadline.abort();
      settle(new DockerDeadlineError(`${options.method} ${options.path.split('?')[0]}`, ms));
    }, ms);
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, deadline.signal]) : deadline.signal;
    // The callback comes with the whole body, or with the headers of a stream: either way the deadline is met.
    dial({ ...options, abortSignal: signal }, settle);
  };
  return docker;
}

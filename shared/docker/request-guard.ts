/**
 * No engine answer can crash a process, and no event can make us send a malformed request.
 *
 * - Redirects are errors. docker-modem follows a 3xx with its own copy of follow-redirects, which
 *   rebuilds the URL without the unix socket (`/images//json` → 301 `Location: /images/json` →
 *   a DNS lookup of "images"), on a request nobody listens to for errors: the process dies. The
 *   Docker API never redirects, so its request layer is replaced by Node's own, which does not
 *   follow them; a 3xx then fails the call like any unexpected status (statusCode 301…).
 * - Every path is checked before it is sent (`checkRequestPath`): an empty ID or name (Podman's
 *   image `pull` event has an empty Actor.ID), `.`/`..`, or characters no ID, name or image
 *   reference has, fail the call with InvalidDockerRequestError instead of asking for
 *   `/images//json` or another endpoint.
 * - A GET answered with something that is not JSON (garbage, an empty or cut body) fails with
 *   DockerAnswerError; docker-modem would hand the bytes over as a Buffer in place of the object
 *   the caller reads fields of. (Streams, and /_ping's "OK", are not JSON by design.)
 */
import nativeHttp from 'node:http';
import nativeHttps from 'node:https';
import type Dockerode from 'dockerode';

export class InvalidDockerRequestError extends Error {
  constructor(
    readonly request: string,
    reason: string,
  ) {
    super(`${request}: not sent, ${reason}`);
    this.name = 'InvalidDockerRequestError';
  }
}

export class DockerAnswerError extends Error {
  constructor(
    readonly request: string,
    reason: string,
  ) {
    super(`${request}: the engine's answer is unusable (${reason})`);
    this.name = 'DockerAnswerError';
  }
}

/** The request layer docker-modem uses (lib/http.js); replaced once per process. */
const modemHttp = require('docker-modem/lib/http') as { http: unknown; https: unknown };
modemHttp.http = nativeHttp;
modemHttp.https = nativeHttps;

// One path segment: an ID, a name, a tag or digest part of an image reference, an API version.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/;

/** Throws InvalidDockerRequestError unless `path` (as dockerode builds it: params go separately) is well formed. */
export function checkRequestPath(method: string, path: string): void {
  const question = path.indexOf('?');
  const route = question < 0 ? path : path.slice(0, question);
  const shown = `${method} ${route}`;
  if (question >= 0 && question !== path.length - 1)
    throw new InvalidDockerRequestError(shown, "an ID or name holds a '?'");
  if (!route.startsWith('/')) throw new InvalidDockerRequestError(shown, 'the path is not absolute');
  for (const segment of route.slice(1).split('/')) {
    if (segment === '') throw new InvalidDockerRequestError(shown, 'an empty ID or name');
    if (segment === '.' || segment === '..' || !SEGMENT.test(segment)) {
      throw new InvalidDockerRequestError(shown, `${JSON.stringify(segment.slice(0, 80))} is not an ID or name`);
    }
  }
}

interface DialOptions {
  path: string;
  method: string;
  isStream?: boolean;
  [other: string]: unknown;
}
type DialCallback = (error: unknown, result?: unknown) => void;
interface DialingModem {
  dial(options: DialOptions, callback: DialCallback): void;
}

/** Checks every request of `docker` and its answer (all of dockerode goes through modem.dial). */
export function guardRequests(docker: Dockerode): Dockerode {
  const modem = docker.modem as unknown as DialingModem;
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    try {
      checkRequestPath(options.method, options.path);
    } catch (error) {
      // Asynchronously, as every other failure of a request.
      process.nextTick(callback, error);
      return;
    }
    const route = options.path.split('?')[0]!;
    const wantsJson = options.method === 'GET' && !options.isStream && route !== '/_ping';
    dial(options, (error, result) => {
      // docker-modem parsed the body if it could; bytes left over mean it could not.
      if (!error && wantsJson && Buffer.isBuffer(result)) {
        callback(
          new DockerAnswerError(`${options.method} ${route}`, result.length === 0 ? 'an empty body' : 'not JSON'),
        );
      } else callback(error, result);
    });
  };
  return docker;
}

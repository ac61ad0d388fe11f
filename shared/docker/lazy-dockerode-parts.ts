/**
 * dockerode loads, at require time, modules that most quayside processes never run: ssh2 (through
 * docker-modem, only for an ssh:// DOCKER_HOST) and gRPC with protobuf (only for BuildKit
 * sessions). About 12 MB of resident memory in every agent. Their two entry modules export one
 * function each; they are put in require's cache as stand-ins that load the real module at the
 * first call, so ssh:// and BuildKit sessions work as before, loaded only when used.
 *
 * Only for the package majors whose layout was checked (the entry module exports one function
 * that its package calls as such); another major is left alone and loads as usual, and a real
 * module that no longer exports a function fails its first call loudly instead of misbehaving.
 * test/unit/lazy-dockerode-parts.test.ts fails when an upgrade stops the deferral.
 *
 * Must run before dockerode is first required: imported first by the CLI and by connection.ts.
 */
import { Module } from 'node:module';

export interface DeferredPart {
  /** The module, resolved from here as dockerode resolves it (one hoisted copy). */
  request: string;
  /** Its package, and the majors of that package whose module exports one function. */
  packageName: string;
  majors: readonly number[];
}

const DEFERRED_PARTS: readonly DeferredPart[] = [
  { request: 'docker-modem/lib/ssh.js', packageName: 'docker-modem', majors: [5] },
  { request: 'dockerode/lib/session.js', packageName: 'dockerode', majors: [5] },
];

/** Puts the stand-ins in require's cache; returns the files deferred. */
export function deferUnusedDockerodeParts(parts: readonly DeferredPart[] = DEFERRED_PARTS): string[] {
  const deferred: string[] = [];
  for (const part of parts) {
    let file: string;
    let version: string;
    try {
      file = require.resolve(part.request);
      version = (require(`${part.packageName}/package.json`) as { version: string }).version;
    } catch {
      continue; // another layout: nothing to defer, nothing broken
    }
    if (!part.majors.includes(Number(version.split('.')[0]))) continue; // unchecked major: load as usual
    if (require.cache[file]) continue; // already loaded for real
    const standIn = new Module(file, module);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = function loadOnFirstCall(this: unknown, ...args: unknown[]): unknown {
      if (require.cache[file] === standIn) delete require.cache[file];
      const real: unknown = require(file);
      if (typeof real !== 'function') {
        throw new Error(
          `${part.request} of ${part.packageName} ${version} does not export a function: quayside's deferred loading (shared/docker/lazy-dockerode-parts.ts) does not fit it`,
        );
      }
      return (real as (...params: unknown[]) => unknown).apply(this, args);
    };
    require.cache[file] = standIn;
    deferred.push(file);
  }
  return deferred;
}

deferUnusedDockerodeParts();

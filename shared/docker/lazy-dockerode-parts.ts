/**
 * dockerode loads, at require time, modules that most quayside processes never run: ssh2 (through
 * docker-modem, only for an ssh:// DOCKER_HOST) and gRPC with protobuf (only for BuildKit
 * sessions). About 12 MB of resident memory in every agent. Their two entry modules export one
 * function each; they are put in require's cache as stand-ins that load the real module at the
 * first call, so ssh:// and BuildKit sessions work as before, loaded only when used.
 *
 * Must run before dockerode is first required: imported first by the CLI and by connection.ts.
 */
import { Module } from 'node:module';

/** Modules (resolved from here, as dockerode resolves them) whose export is one function. */
const DEFERRED = ['docker-modem/lib/ssh.js', 'dockerode/lib/session.js'];

export function deferUnusedDockerodeParts(requests: readonly string[] = DEFERRED): string[] {
  const deferred: string[] = [];
  for (const request of requests) {
    let file: string;
    try {
      file = require.resolve(request);
    } catch {
      continue; // another dockerode layout: nothing to defer, nothing broken
    }
    if (require.cache[file]) continue; // already loaded for real
    const standIn = new Module(file, module);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = function loadOnFirstCall(this: unknown, ...args: unknown[]): unknown {
      if (require.cache[file] === standIn) delete require.cache[file];
      const real = require(file) as (...params: unknown[]) => unknown;
      return real.apply(this, args);
    };
    require.cache[file] = standIn;
    deferred.push(file);
  }
  return deferred;
}

deferUnusedDockerodeParts();

/**
 * Registry backends by URI scheme. Adding one is a file that exports its RegistryBackendKind
 * (schemes, URI parsing, the backend) and a line in KINDS; validation, help and errors follow.
 */
import type { RegistryBackendKind, RegistryUri } from './backend';
import { consulAgentKind } from './consul-agent';
import { consulKvKind } from './consul-kv';

const KINDS: readonly RegistryBackendKind[] = [consulAgentKind, consulKvKind];

/** registrator's other backends, named so that a migrating user learns why theirs is refused. */
const NOT_PART_OF_QUAYSIDE = ['etcd', 'skydns2', 'zookeeper'];

/** Every URI form, for help and errors: `consul://host:port, …, consulkv-unix:///path.sock:/prefix`. */
export function registryUriForms(): string {
  const forms = KINDS.flatMap((kind) => Object.values(kind.schemes));
  return `${forms.slice(0, -1).join(', ')} or ${forms.at(-1)}`;
}

/** Parses a registry URI, or throws an Error saying what is wrong and what is expected. */
export function parseRegistryUri(raw: string, env: NodeJS.ProcessEnv = process.env): RegistryUri {
  const expected = `expected ${registryUriForms()}`;
  const text = raw.trim();
  const match = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(text);
  if (!match) throw new Error(`not a URI; ${expected}`);
  const scheme = match[1]!.toLowerCase();
  if (NOT_PART_OF_QUAYSIDE.includes(scheme))
    throw new Error(`registrator's ${scheme} backend is not part of quayside; ${expected}`);
  const kind = KINDS.find((candidate) => scheme in candidate.schemes);
  if (!kind) throw new Error(`unknown scheme ${JSON.stringify(scheme)}; ${expected}`);
  return kind.parse(scheme, match[2]!, text, env);
}

/**
 * registrator's container metadata: `SERVICE_*` environment variables and labels. Keys are
 * lowercased after the prefix; labels override env; `SERVICE_<port>_<key>` applies to that port
 * only and replaces the generic `SERVICE_<key>`. Empty values count as unset.
 */

export interface MetadataSource {
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/** The merged keys for one exposed port, and which of them came from a port-specific key. */
export interface PortMetadata {
  values: Map<string, string>;
  fromPort: Set<string>;
}

const PREFIX = 'SERVICE_';

export function metadataFor(source: MetadataSource, port: string): PortMetadata {
  const generic = new Map<string, string>();
  const specific = new Map<string, string>();
  const entries: Array<[string, string]> = [];
  for (const item of source.env) {
    const eq = item.indexOf('=');
    if (eq > 0) entries.push([item.slice(0, eq), item.slice(eq + 1)]);
  }
  // Labels come after env, so a label wins over the same env key.
  entries.push(...Object.entries(source.labels));
  for (const [rawKey, value] of entries) {
    if (!rawKey.startsWith(PREFIX)) continue;
    const key = rawKey.slice(PREFIX.length).toLowerCase();
    if (key === '') continue;
    const portKey = /^(\d+)_(.+)$/.exec(key);
    if (portKey) {
      if (portKey[1] === port) specific.set(portKey[2]!, value);
      continue;
    }
    generic.set(key, value);
  }
  const values = new Map<string, string>();
  for (const [key, value] of generic) if (value !== '') values.set(key, value);
  const fromPort = new Set<string>();
  for (const [key, value] of specific) {
    if (value === '') {
      values.delete(key);
      continue;
    }
    values.set(key, value);
    fromPort.add(key);
  }
  return { values, fromPort };
}

/** `SERVICE_IGNORE=false|0|no` does not ignore (registrator ignored on any value). */
export function isIgnored(values: Map<string, string>): boolean {
  const value = values.get('ignore');
  return value !== undefined && !/^(false|0|no|off)$/i.test(value.trim());
}

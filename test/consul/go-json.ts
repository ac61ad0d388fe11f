/**
 * How Consul's agent decodes a request body: Go encoding/json with unknown fields refused (since
 * Consul 1.7), keys matched case-insensitively, a few snake_case aliases, durations as strings
 * ("10s") or numbers (nanoseconds). Errors read as Go's, prefixed by the caller with
 * `Request decode failed: `.
 */

export class DecodeError extends Error {
  override name = 'DecodeError';
}

type FieldType =
  | 'string'
  | 'int'
  | 'bool'
  | 'duration'
  | 'strings'
  | 'stringMap'
  | 'headerMap'
  | 'object'
  | 'any'
  | 'check'
  | 'checks';

export interface FieldSpec {
  name: string;
  type: FieldType;
  aliases?: string[];
}

export const SERVICE_FIELDS: FieldSpec[] = [
  { name: 'ID', type: 'string' },
  { name: 'Name', type: 'string' },
  { name: 'Tags', type: 'strings' },
  { name: 'Address', type: 'string' },
  { name: 'TaggedAddresses', type: 'object', aliases: ['tagged_addresses'] },
  { name: 'Meta', type: 'stringMap' },
  { name: 'Port', type: 'int' },
  { name: 'SocketPath', type: 'string' },
  { name: 'Kind', type: 'string' },
  { name: 'Proxy', type: 'object' },
  { name: 'Connect', type: 'object' },
  { name: 'Check', type: 'check' },
  { name: 'Checks', type: 'checks' },
  { name: 'EnableTagOverride', type: 'bool', aliases: ['enable_tag_override'] },
  { name: 'Weights', type: 'object' },
  { name: 'Token', type: 'string' },
  { name: 'Namespace', type: 'string' },
  { name: 'Partition', type: 'string' },
  { name: 'Locality', type: 'object' },
];

const CHECK_FIELDS: FieldSpec[] = [
  { name: 'CheckID', type: 'string', aliases: ['check_id'] },
  { name: 'Name', type: 'string' },
  { name: 'Status', type: 'string' },
  { name: 'Notes', type: 'string' },
  { name: 'ScriptArgs', type: 'strings', aliases: ['Args', 'script_args'] },
  { name: 'HTTP', type: 'string' },
  { name: 'Header', type: 'headerMap' },
  { name: 'Method', type: 'string' },
  { name: 'Body', type: 'string' },
  { name: 'DisableRedirects', type: 'bool', aliases: ['disable_redirects'] },
  { name: 'TCP', type: 'string' },
  { name: 'TCPUseTLS', type: 'bool', aliases: ['tcp_use_tls'] },
  { name: 'UDP', type: 'string' },
  { name: 'GRPC', type: 'string' },
  { name: 'GRPCUseTLS', type: 'bool', aliases: ['grpc_use_tls'] },
  { name: 'H2PING', type: 'string' },
  { name: 'H2PingUseTLS', type: 'bool', aliases: ['h2ping_use_tls'] },
  { name: 'OSService', type: 'string', aliases: ['os_service'] },
  { name: 'AliasNode', type: 'string', aliases: ['alias_node'] },
  { name: 'AliasService', type: 'string', aliases: ['alias_service'] },
  { name: 'DockerContainerID', type: 'string', aliases: ['docker_container_id'] },
  { name: 'Shell', type: 'string' },
  { name: 'TLSServerName', type: 'string', aliases: ['tls_server_name'] },
  { name: 'TLSSkipVerify', type: 'bool', aliases: ['tls_skip_verify'] },
  { name: 'Interval', type: 'duration' },
  { name: 'Timeout', type: 'duration' },
  { name: 'TTL', type: 'duration' },
  { name: 'SuccessBeforePassing', type: 'int', aliases: ['success_before_passing'] },
  { name: 'FailuresBeforeWarning', type: 'int', aliases: ['failures_before_warning'] },
  { name: 'FailuresBeforeCritical', type: 'int', aliases: ['failures_before_critical'] },
  { name: 'DeregisterCriticalServiceAfter', type: 'duration', aliases: ['deregister_critical_service_after'] },
  { name: 'OutputMaxSize', type: 'int', aliases: ['output_max_size'] },
  { name: 'ServiceID', type: 'string', aliases: ['service_id'] },
];

export const CHECK_UPDATE_FIELDS: FieldSpec[] = [
  { name: 'Status', type: 'string' },
  { name: 'Output', type: 'string' },
];

/** A decoded object: canonical field names, durations in nanoseconds (as numbers). */
export type Decoded = Record<string, unknown>;

export function decodeBody(text: string, fields: FieldSpec[], struct: string): Decoded {
  if (text.trim() === '') throw new DecodeError('EOF');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`invalid character in JSON: ${(error as Error).message}`);
  }
  return decodeObject(raw, fields, struct);
}

function decodeObject(raw: unknown, fields: FieldSpec[], struct: string): Decoded {
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new DecodeError(`json: cannot unmarshal ${jsonKind(raw)} into Go value of type ${struct}`);
  const out: Decoded = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const spec = fields.find((f) => [f.name, ...(f.aliases ?? [])].some((n) => n.toLowerCase() === key.toLowerCase()));
    if (!spec) throw new DecodeError(`json: unknown field "${key}"`);
    out[spec.name] = decodeValue(value, spec, struct);
  }
  return out;
}

function decodeValue(value: unknown, spec: FieldSpec, struct: string): unknown {
  const mismatch = (goType: string): DecodeError =>
    new DecodeError(
      `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${struct}.${spec.name} of type ${goType}`,
    );
  if (value === null) return undefined;
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') throw mismatch('string');
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw mismatch('int');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw mismatch('bool');
      return value;
    case 'duration':
      if (typeof value === 'number') return value;
      if (typeof value !== 'string') throw mismatch('time.Duration');
      return parseGoDuration(value);
    case 'strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw mismatch('[]string');
      return value;
    case 'stringMap':
      if (
        typeof value !== 'object' ||
        Array.isArray(value) ||
        Object.values(value as object).some((v) => typeof v !== 'string')
      )
        throw mismatch('map[string]string');
      return value;
    case 'headerMap':
      if (
        typeof value !== 'object' ||
        Array.isArray(value) ||
        Object.values(value as object).some((v) => !Array.isArray(v) || v.some((i) => typeof i !== 'string'))
      ) {
        throw mismatch('map[string][]string');
      }
      return value;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) throw mismatch('struct');
      return value;
    case 'check':
      return decodeObject(value, CHECK_FIELDS, 'CheckType');
    case 'checks':
      if (!Array.isArray(value)) throw mismatch('structs.CheckTypes');
      return value.map((item) => decodeObject(item, CHECK_FIELDS, 'CheckType'));
    case 'any':
      return value;
  }
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration: `300ms`, `1h30m`, `-1.5s`, `0`. Returns nanoseconds. */
function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const match = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (!match) throw new DecodeError(`time: invalid duration "${text}"`);
  let total = 0;
  for (const part of text.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g))
    total += Number(part[1]) * UNIT_NS[part[2]!]!;
  // Go refuses what overflows an int64 of nanoseconds (about 292 years) with the same message.
  if (total > MAX_DURATION_NS) throw new DecodeError(`time: invalid duration "${text}"`);
  return match[1] === '-' ? -total : total;
}

const MAX_DURATION_NS = 2 ** 63 - 1;

/** How Consul prints a duration back (Go's Duration.String), e.g. `10s`, `1m30s`, `500ms`. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
    if (ns % 1e3 === 0) return `${ns / 1e3}µs`;
    return `${ns}ns`;
  }
  let rest = ns;
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  const s = rest / 1e9;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

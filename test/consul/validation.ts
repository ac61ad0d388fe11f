/**
 * The checks Consul's AgentRegisterService makes after decoding, in its order, with its status
 * codes and plain-text reasons, as in hashicorp/consul's agent/agent_endpoint.go.
 */
import type { Decoded } from './go-json';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'HttpError';
  }
}

const META_KEY = /^[a-zA-Z0-9_-]+$/;
export const VALID_STATUSES = ['passing', 'warning', 'critical'] as const;

export function validateRegistration(service: Decoded): void {
  if (!service.Name) throw new HttpError(400, 'Missing service name');
  if (service.Address === '0.0.0.0' || service.Address === '::' || service.Address === '[::]')
    throw new HttpError(400, 'Invalid service address');
  validateWeights(service.Weights as Record<string, unknown> | undefined);
  validateMeta((service.Meta as Record<string, string> | undefined) ?? {});
  for (const check of serviceChecks(service)) validateCheck(check);
}

function validateWeights(weights: Record<string, unknown> | undefined): void {
  if (!weights) return;
  const passing = weights.Passing ?? weights.passing;
  const warning = weights.Warning ?? weights.warning;
  if (typeof passing !== 'number' || passing < 1)
    throw new HttpError(400, 'Invalid Weights: Passing must be greater than 0');
  if (warning !== undefined && (typeof warning !== 'number' || warning < 0))
    throw new HttpError(400, 'Invalid Weights: Warning must be greater or equal than 0');
}

function validateMeta(meta: Record<string, string>): void {
  const keys = Object.keys(meta).sort();
  if (keys.length > 64)
    throw new HttpError(400, 'Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs');
  for (const key of keys) {
    const problem = metaPairProblem(key, meta[key]!);
    if (problem)
      throw new HttpError(
        400,
        `Invalid Service Meta: Couldn't load metadata pair ('${key}', '${meta[key]}'): ${problem}`,
      );
  }
}

function metaPairProblem(key: string, value: string): string | undefined {
  if (key === '') return 'Key cannot be blank';
  if (!META_KEY.test(key)) return 'Key contains invalid characters';
  if (key.length > 128) return 'Key is too long (limit: 128 characters)';
  if (key.startsWith('consul-')) return "Key prefix 'consul-' is reserved for internal use";
  // Go's len(): bytes, not characters.
  if (Buffer.byteLength(value) > 512) return 'Value is too long (limit: 512 characters)';
  return undefined;
}

export function serviceChecks(service: Decoded): Decoded[] {
  const checks: Decoded[] = [];
  if (service.Check && Object.keys(service.Check as object).length > 0) checks.push(service.Check as Decoded);
  for (const check of (service.Checks as Decoded[] | undefined) ?? []) checks.push(check);
  return checks;
}

export function isScriptCheck(check: Decoded): boolean {
  return Array.isArray(check.ScriptArgs) && check.ScriptArgs.length > 0;
}

function validateCheck(check: Decoded): void {
  const interval = (check.Interval as number | undefined) ?? 0;
  const ttl = (check.TTL as number | undefined) ?? 0;
  const intervalCheck =
    isScriptCheck(check) || ['HTTP', 'TCP', 'UDP', 'GRPC', 'H2PING', 'OSService'].some((f) => Boolean(check[f]));
  const alias = Boolean(check.AliasNode || check.AliasService);
  const invalid = (reason: string): HttpError => new HttpError(400, `Invalid check: ${reason}`);
  // CheckType.Validate, in its order.
  if (interval > 0 && ttl > 0) throw invalid('Interval and TTL cannot both be specified');
  if (intervalCheck && interval <= 0)
    throw invalid('Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks');
  if (intervalCheck && alias) throw invalid('Interval cannot be set for Alias checks');
  if (alias && ttl > 0) throw invalid('TTL must be not be set for Alias checks');
  if (!intervalCheck && !alias && ttl <= 0) throw invalid('TTL must be > 0 for TTL checks');
  if (((check.OutputMaxSize as number | undefined) ?? 0) < 0) throw invalid('MaxOutputMaxSize must be positive');
  if (
    ((check.FailuresBeforeWarning as number | undefined) ?? 0) >
    ((check.FailuresBeforeCritical as number | undefined) ?? 0)
  ) {
    throw invalid("FailuresBeforeWarning can't be higher than FailuresBeforeCritical");
  }
  if (
    check.Status !== undefined &&
    check.Status !== '' &&
    !(VALID_STATUSES as readonly string[]).includes(check.Status as string)
  ) {
    throw new HttpError(400, "Status for checks must 'passing', 'warning', 'critical'");
  }
}

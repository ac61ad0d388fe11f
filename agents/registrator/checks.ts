/**
 * Consul checks from `SERVICE_CHECK_*` keys. Unlike registrator (first one wins), every check
 * type given becomes its own check: HTTP, HTTPS, TCP, gRPC, TTL and script, sharing
 * `_INTERVAL`, `_TIMEOUT`, `_INITIAL_STATUS`, `_DEREGISTER_AFTER` and `_TLS_SKIP_VERIFY`.
 */
import { goDurationNs } from '../../shared/config/duration';
import { hostPortText, urlHost } from './addresses';

/** A check as Consul's register endpoint takes it (only fields current Consul knows). */
export interface CheckDefinition {
  CheckID?: string;
  Name?: string;
  Notes?: string;
  HTTP?: string;
  Method?: string;
  TCP?: string;
  GRPC?: string;
  GRPCUseTLS?: boolean;
  TLSSkipVerify?: boolean;
  Args?: string[];
  TTL?: string;
  Interval?: string;
  Timeout?: string;
  Status?: string;
  DeregisterCriticalServiceAfter?: string;
}

export interface CheckProblem {
  key: string;
  reason: string;
}

const DEFAULT_INTERVAL = '10s';
/** Go's time.Duration is an int64 of nanoseconds: Consul refuses the whole registration beyond it. */
const MAX_DURATION_NS = 2 ** 63 - 1;
const STATUSES = ['passing', 'warning', 'critical'];

/**
 * A container setting that was refused, described without its value: /services and the logs are
 * read by others, and a value put in the wrong variable may be a password.
 */
function unshown(value: string): string {
  return `its value (${value.length} characters, not shown)`;
}

/** Every key a check may read, so the rest can go to Meta. */
export function isCheckKey(key: string): boolean {
  return key.startsWith('check_');
}

export function checksFrom(
  values: Map<string, string>,
  address: string,
  port: number,
): { checks: CheckDefinition[]; problems: CheckProblem[] } {
  const problems: CheckProblem[] = [];
  const duration = (key: string): string | undefined => {
    const value = values.get(key)?.trim();
    if (value === undefined) return undefined;
    const text = /^\d+$/.test(value) ? `${value}s` : value;
    // Zero or too long would make Consul refuse the whole service ("Interval must be > 0", a decode error).
    const ns = goDurationNs(text);
    if (ns > 0 && ns <= MAX_DURATION_NS) return text;
    problems.push({
      key: `SERVICE_${key.toUpperCase()}`,
      reason: `${unshown(value)} is not a duration above zero such as 10s`,
    });
    return undefined;
  };
  const interval = duration('check_interval') ?? DEFAULT_INTERVAL;
  const timeout = duration('check_timeout');
  const common: CheckDefinition = {};
  const status = values.get('check_initial_status')?.trim().toLowerCase();
  if (status !== undefined) {
    if (STATUSES.includes(status)) common.Status = status;
    else
      problems.push({
        key: 'SERVICE_CHECK_INITIAL_STATUS',
        reason: `${unshown(status)} is not passing, warning or critical`,
      });
  }
  const deregisterAfter = duration('check_deregister_after');
  if (deregisterAfter) common.DeregisterCriticalServiceAfter = deregisterAfter;
  const skipVerify =
    values.has('check_tls_skip_verify') && !/^(false|0|no)$/i.test(values.get('check_tls_skip_verify')!);
  const withTimeout = (check: CheckDefinition): CheckDefinition => ({
    ...check,
    Interval: interval,
    ...(timeout ? { Timeout: timeout } : {}),
    ...common,
  });

  const checks: CheckDefinition[] = [];
  for (const scheme of ['http', 'https'] as const) {
    const path = values.get(`check_${scheme}`);
    if (path === undefined) continue;
    const method = values.get(`check_${scheme}_method`)?.trim().toUpperCase();
    checks.push(
      withTimeout({
        HTTP: `${scheme}://${urlHost(address)}:${port}${path.startsWith('/') ? path : `/${path}`}`,
        ...(method ? { Method: method } : {}),
        ...(scheme === 'https' && skipVerify ? { TLSSkipVerify: true } : {}),
      }),
    );
  }
  if (values.has('check_tcp')) checks.push(withTimeout({ TCP: hostPortText(address, port) }));
  if (values.has('check_grpc')) {
    const useTls = values.has('check_grpc_use_tls') && !/^(false|0|no)$/i.test(values.get('check_grpc_use_tls')!);
    checks.push(
      withTimeout({
        GRPC: hostPortText(address, port),
        ...(useTls ? { GRPCUseTLS: true } : {}),
        ...(useTls && skipVerify ? { TLSSkipVerify: true } : {}),
      }),
    );
  }
  const script = values.get('check_script');
  if (script !== undefined) {
    const substituted = script.replace(/\$SERVICE_IP/g, address).replace(/\$SERVICE_PORT/g, String(port));
    try {
      checks.push({
        Args: splitCommand(substituted),
        Interval: interval,
        ...(timeout ? { Timeout: timeout } : {}),
        ...common,
      });
    } catch (error) {
      problems.push({ key: 'SERVICE_CHECK_SCRIPT', reason: (error as Error).message });
    }
  }
  if (values.has('check_cmd'))
    problems.push({
      key: 'SERVICE_CHECK_CMD',
      reason: "needs registrator's check-cmd helper inside the Consul image; use SERVICE_CHECK_SCRIPT",
    });
  const ttl = duration('check_ttl');
  if (ttl) checks.push({ TTL: ttl, ...common });
  return { checks, problems };
}

/**
 * Splits a command line as a POSIX shell would split words: spaces separate, single quotes keep
 * everything, double quotes keep spaces and allow \" and \\, a backslash escapes one character.
 * Consul runs `Args` without a shell, so `nc -z host 80` must arrive as four words.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && ['"', '\\', '$', '`'].includes(text[i + 1] ?? '')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error('empty command');
  return words;
}

/**
 * Capped exponential backoff with jitter. "Equal jitter": the delay is at least half the
 * exponential step, so a fleet of agents spreads out after a dockerd restart without any of
 * them spinning in a tight loop.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000, factor: 2 };

/** Delay before retry number `attempt` (0 for the first retry). `random` returns [0, 1). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 0), 64);
  const step = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}

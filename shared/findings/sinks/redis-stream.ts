/** Appends each opened or resolved finding to a Redis stream (XADD, capped with MAXLEN ~). */
import type RedisClient from 'ioredis';
import { withoutPassword } from '../../config/uri';
import type { FindingEvent } from './finding-event';

const STREAM_MAX_LENGTH = 100_000;

export interface RedisStreamSink {
  send(event: FindingEvent): Promise<void>;
  close(): Promise<void>;
}

export function redisStreamSink(url: string, stream: string): RedisStreamSink {
  // Loaded only when a Redis sink is configured: ioredis adds ~18 MB to every process that loads it.
  const Redis = (require('ioredis') as { default: typeof RedisClient }).default;
  // No offline queue and one attempt per command: the delivery queue owns retries and order.
  const redis = new Redis(url, {
    lazyConnect: true,
    // A blackholed Redis must fail the attempt (and show on /readyz), not hang it for minutes.
    connectTimeout: 5_000,
    commandTimeout: 5_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  redis.on('error', () => undefined); // reported through failed deliveries, not as crashes
  let connecting: Promise<void> | undefined;
  const isReady = (): boolean => redis.status === 'ready';
  const ensureConnected = async (): Promise<void> => {
    if (isReady()) return;
    if (redis.status === 'wait' || redis.status === 'end')
      connecting ??= redis.connect().finally(() => (connecting = undefined));
    await connecting;
    if (!isReady()) throw new Error(`Redis at ${withoutPassword(url)} is ${redis.status}`);
  };
  return {
    async send({ event, agent, finding }) {
      await ensureConnected();
      await redis.xadd(
        stream,
        'MAXLEN',
        '~',
        STREAM_MAX_LENGTH,
        '*',
        'event',
        event,
        'agent',
        agent,
        'rule',
        finding.ruleId,
        'severity',
        finding.severity,
        'object',
        `${finding.object.kind}:${finding.object.name || finding.object.id}`,
        'finding',
        JSON.stringify(finding),
      );
    },
    async close() {
      redis.disconnect();
    },
  };
}

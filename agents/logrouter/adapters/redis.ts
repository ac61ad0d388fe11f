/**
 * `redis://[:password@]host:port/key?mode=xadd|rpush&maxlen=N&db=N`: logstash-style JSON, one
 * pipelined MULTI/EXEC round trip per batch (all or nothing). XADD (default) to a stream capped
 * at about `maxlen` entries, or RPUSH to a list (what logspout-redis-logstash did). Commands are never queued while
 * disconnected: the route keeps the batch and retries.
 */
import type RedisClient from 'ioredis';
import { jsonEvent } from '../json-event';
import { RouteError } from '../route';
import { hostAndPort, type AdapterFactory } from './adapter';

export const redisAdapter: AdapterFactory = ({ spec, env }) => {
  const { host, port } = hostAndPort(spec, 6379);
  const key = spec.path.replace(/^\//, '') || spec.options.key || env.REDIS_KEY || 'logspout';
  const mode = spec.options.mode ?? 'xadd';
  if (mode !== 'xadd' && mode !== 'rpush') throw new RouteError(`redis mode must be xadd or rpush, not ${JSON.stringify(mode)}`);
  const maxlen = spec.options.maxlen === undefined ? undefined : Number(spec.options.maxlen);
  if (maxlen !== undefined && (!Number.isInteger(maxlen) || maxlen < 1)) throw new RouteError(`redis maxlen must be a positive integer, not ${JSON.stringify(spec.options.maxlen)}`);
  const db = Number(spec.options.db ?? env.REDIS_DATABASE ?? 0);
  if (!Number.isInteger(db) || db < 0) throw new RouteError(`redis db must be a non-negative integer, not ${JSON.stringify(spec.options.db)}`);
  let reconnects = 0;
  let seenReady = false;
  // Loaded only when a redis:// route exists: ioredis adds ~18 MB to every process that loads it.
  const Redis = (require('ioredis') as { default: typeof RedisClient }).default;
  const client = new Redis({
    host,
    port,
    db,
    username: spec.options.username,
    password: spec.options.password ?? env.REDIS_PASSWORD,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 8), 30_000),
  });
  client.on('error', () => undefined); // reported through failed sends
  client.on('ready', () => {
    if (seenReady) reconnects += 1;
    seenReady = true;
  });
  client.connect().catch(() => undefined);
  return {
    get connected() {
      return client.status === 'ready';
    },
    get reconnects() {
      return reconnects;
    },
    async send(batch) {
      if (client.status !== 'ready') throw new Error(`redis ${host}:${port} is ${client.status}`);
      // MULTI/EXEC: if the connection breaks mid-batch Redis runs none of it, so sending the batch
      // again stores each line once (a plain pipeline would have run its first half already).
      const pipeline = client.multi();
      if (mode === 'rpush') {
        pipeline.rpush(key, ...batch.map((m) => JSON.stringify(jsonEvent(m))));
      } else {
        for (const m of batch) {
          if (maxlen !== undefined) pipeline.xadd(key, 'MAXLEN', '~', maxlen, '*', 'event', JSON.stringify(jsonEvent(m)));
          else pipeline.xadd(key, '*', 'event', JSON.stringify(jsonEvent(m)));
        }
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw new Error(`redis ${host}:${port}: ${failed?.[0]?.message ?? 'pipeline not executed'}`);
    },
    async close() {
      client.disconnect();
    },
  };
};

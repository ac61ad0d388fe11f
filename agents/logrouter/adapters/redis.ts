/**
 * `redis://[:password@]host:port/key?mode=xadd|rpush&maxlen=N&db=N`: logstash-style JSON, one
 * pipelined MULTI/EXEC round trip per batch (all or nothing). XADD (default) to a stream capped
 * at about `maxlen` entries, or RPUSH to a list (what logspout-redis-logstash did). Commands are never queued while
 * disconnected: the route keeps the batch and retries.
 */
import type RedisClient from 'ioredis';
import { choiceOption, integerOption, optionalStringOption } from '../../../shared/config/options';
import { jsonEvent } from '../json-event';
import { credentialRouteOptions, jsonRouteOption, optional, routeOptionValues } from '../route-options';
import { hostAndPort, type AdapterFactory, type AdapterKind } from './adapter';

const redisRouteOptions = {
  key: optionalStringOption({
    help: 'The stream or list, when the URI has no path; default logspout',
    env: 'REDIS_KEY',
    placeholder: '<key>',
  }),
  mode: choiceOption({
    help: 'XADD to a stream, or RPUSH to a list (logspout-redis-logstash)',
    default: 'xadd',
    choices: ['xadd', 'rpush'] as const,
  }),
  maxlen: optional(
    integerOption({
      help: 'Cap the stream at about this many entries, with XADD MAXLEN ~',
      min: 1,
      max: 1_000_000_000,
    }),
  ),
  db: integerOption({ help: 'The database number', env: 'REDIS_DATABASE', default: 0, min: 0 }),
  ...credentialRouteOptions,
  password: optionalStringOption({
    help: 'The password, also from the URI (redis://:password@host/key)',
    env: 'REDIS_PASSWORD',
    placeholder: '<password>',
  }),
  ...jsonRouteOption,
};

const createRedisAdapter: AdapterFactory = ({ spec, env }) => {
  const { host, port } = hostAndPort(spec, 6379);
  const { key: keyOption, mode, maxlen, db } = routeOptionValues(redisRouteOptions, spec.options, env);
  const key = spec.path.replace(/^\//, '') || keyOption || 'logspout';
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
          if (maxlen !== undefined)
            pipeline.xadd(key, 'MAXLEN', '~', maxlen, '*', 'event', JSON.stringify(jsonEvent(m)));
          else pipeline.xadd(key, '*', 'event', JSON.stringify(jsonEvent(m)));
        }
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed)
        throw new Error(`redis ${host}:${port}: ${failed?.[0]?.message ?? 'pipeline not executed'}`);
    },
    async close() {
      client.disconnect();
    },
  };
};

export const redisAdapter: AdapterKind = { schemes: ['redis'], options: redisRouteOptions, create: createRedisAdapter };

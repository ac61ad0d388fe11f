export * from './backoff';
export * from './connection';
export * from './event';
export * from './event-stream';
export * from './health-checks';
export * from './keyed-queue';
export * from './metrics';
export * from './time';

/**
 * Structured logging (winston). JSON in containers, readable text on a terminal. Everything goes
 * to stderr so that commands like `quayside events` keep stdout for their own output.
 * Never log container environment values: they hold secrets.
 */
import winston from 'winston';

type LogMeta = Record<string, unknown>;
export interface Logger {
  error(message: string, meta?: LogMeta): unknown;
  warn(message: string, meta?: LogMeta): unknown;
  info(message: string, meta?: LogMeta): unknown;
  debug(message: string, meta?: LogMeta): unknown;
  child(meta: LogMeta): Logger;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where to write; defaults to stderr. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const stream = settings.stream ?? process.stderr;
  const useText =
    settings.format === 'text' || (settings.format === 'auto' && (stream as { isTTY?: boolean }).isTTY === true);
  return winston.createLogger({
    level: settings.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format.combine(winston.format.timestamp(), useText ? textFormat : winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
}

const textFormat = winston.format.printf((entry) => {
  const { timestamp, level, message, ...fields } = entry;
  const extras = Object.entries(fields)
    .filter(([key]) => typeof key === 'string')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : safeJson(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${extras ? ` ${extras}` : ''}`;
});

function safeJson(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A logger that drops everything, for tests and library callers that pass none. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

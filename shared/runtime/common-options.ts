/** Options every agent accepts: where to reach Docker, where to listen, how to log, where state lives. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  booleanOption,
  choiceOption,
  durationOption,
  hostPortOption,
  optionalStringOption,
  stringOption,
  type HostPort,
} from '../config/options';
import { DEFAULT_DOCKER_HOST } from '../docker/connection';
import { LOG_FORMATS, LOG_LEVELS } from '../ops/logger';

export const DEFAULT_LISTEN_PORT = 9477;

export const dockerOptions = {
  dockerHost: stringOption({
    help: 'Docker engine to follow: unix:///path, tcp://host:port or ssh://user@host',
    env: 'DOCKER_HOST',
    default: DEFAULT_DOCKER_HOST,
    pattern: /^(unix:\/\/\/|tcp:\/\/|https?:\/\/|ssh:\/\/)/,
    expect: 'unix:///path, tcp://host:port or ssh://user@host',
  }),
  dockerTlsVerify: booleanOption({
    help: 'Use TLS and verify the engine (certificates from --docker-cert-path)',
    env: 'DOCKER_TLS_VERIFY',
    default: false,
  }),
  dockerCertPath: stringOption({
    help: 'Folder with ca.pem, cert.pem and key.pem for TLS',
    env: 'DOCKER_CERT_PATH',
    default: join(homedir(), '.docker'),
    defaultText: '~/.docker',
  }),
};

export const loggingOptions = {
  logLevel: choiceOption({ help: 'Log level', env: 'QUAYSIDE_LOG_LEVEL', default: 'info', choices: LOG_LEVELS }),
  logFormat: choiceOption({
    help: 'Log format; auto is text on a terminal and JSON otherwise',
    env: 'QUAYSIDE_LOG_FORMAT',
    default: 'auto',
    choices: LOG_FORMATS,
  }),
};

function listenOption(address: HostPort) {
  return hostPortOption({
    help: 'Address of the HTTP server for /healthz, /readyz, /metrics and agent routes (see "Security" in the README)',
    env: 'QUAYSIDE_LISTEN',
    default: address,
  });
}

export const agentRuntimeOptions = {
  ...dockerOptions,
  ...loggingOptions,
  listen: listenOption({ host: '127.0.0.1', port: DEFAULT_LISTEN_PORT }),
  apiToken: optionalStringOption({
    help: 'Bearer token that admits clients other than loopback to the sensitive routes (/logs, /routes, /findings, /services, /readyz details) and to every change; --log-api-token is its old name',
    env: 'QUAYSIDE_API_TOKEN',
    secret: true,
  }),
  stateDir: stringOption({
    help: 'Folder for state that must survive restarts (checkpoints, ownership records)',
    env: 'QUAYSIDE_STATE_DIR',
    default: '/var/lib/quayside',
  }),
  resyncInterval: durationOption({
    help: 'How often to reconcile with the full container list besides every reconnect; 0 turns it off',
    env: 'QUAYSIDE_RESYNC_INTERVAL',
    default: 300_000,
    maxMs: 24 * 3_600_000,
  }),
  shutdownTimeout: durationOption({
    help: 'Deadline for a graceful shutdown on SIGTERM/SIGINT',
    env: 'QUAYSIDE_SHUTDOWN_TIMEOUT',
    default: 10_000,
    minMs: 0,
    maxMs: 3_600_000,
  }),
};

/**
 * The runtime options of an agent run alone. An agent with a port of its own is an exporter, there
 * to be scraped and serving public routes only: it listens on all interfaces. The others listen on
 * loopback unless told otherwise (deploy/ sets QUAYSIDE_LISTEN where Prometheus scrapes them).
 */
export function runtimeOptionsFor(listenPort: number | undefined): typeof agentRuntimeOptions {
  return listenPort === undefined
    ? agentRuntimeOptions
    : { ...agentRuntimeOptions, listen: listenOption({ host: '0.0.0.0', port: listenPort }) };
}

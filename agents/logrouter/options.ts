/**
 * The logrouter's options. Keys are prefixed `log`/`syslog` so they never collide with another
 * agent's under `quayside all`; environment names follow logspout where it has one.
 */
import { ConfigError } from '../../shared/config/errors';
import {
  booleanOption,
  choiceOption,
  integerOption,
  listOption,
  optionalStringOption,
} from '../../shared/config/options';
import { logsApiOptions } from './api';
import { parseExcludeLabels, type ExcludedLabel } from './container-filter';
import { parseRouteUri, type RouteSpec } from './route';
import { MAX_QUEUE_SIZE } from './route-options';

export const logrouterOptions = {
  logRoutes: listOption<RouteSpec>({
    flag: '--log-routes',
    help: 'Route URIs, comma-separated, e.g. syslog+tcp://logs:514?filter.name=web-*; also given as arguments (quayside logrouter URI...); $NAME and ${NAME} are replaced by environment values',
    env: 'ROUTE_URIS',
    secret: true, // URIs carry passwords and tokens
    placeholder: '<uris>',
    default: [],
    defaultText: '',
    parseItem: (uri) => parseRouteUri(uri, process.env),
  }),
  logBacklog: booleanOption({
    help: 'For containers already running at the first start (no checkpoint yet), ship their whole log history instead of starting now',
    env: 'BACKLOG',
    default: false,
  }),
  logExcludeLabels: {
    help: 'Containers with any of these labels are not read: key or key:value, separated by ; or , (logspout EXCLUDE_LABELS; EXCLUDE_LABEL is read too)',
    env: 'EXCLUDE_LABELS',
    placeholder: '<labels>',
    default: [] as ExcludedLabel[],
    defaultText: '',
    parse: parseExcludeLabels,
  },
  logQueueSize: integerOption({
    help: 'Messages each route may hold in memory before it blocks reading (or drops, with queue.policy=drop); two batches keep the sender busy, more only costs memory',
    env: 'QUAYSIDE_LOG_QUEUE_SIZE',
    default: 2_000,
    min: 1,
    max: MAX_QUEUE_SIZE,
  }),
  logQueuePolicy: choiceOption({
    help: 'What a full route queue does: block (lossless: reading pauses, Docker keeps the data) or drop (counted); per route: queue.policy',
    env: 'QUAYSIDE_LOG_QUEUE_POLICY',
    default: 'block',
    choices: ['block', 'drop'] as const,
  }),
  logBatchSize: integerOption({
    help: 'Most messages sent to a destination in one write, pipeline or request',
    env: 'QUAYSIDE_LOG_BATCH_SIZE',
    default: 1_000,
    min: 1,
    max: 100_000,
  }),
  logMaxLine: integerOption({
    help: 'Longest line in bytes; longer lines are split into marked pieces of this size (Docker itself splits at 16 KiB; those pieces are joined)',
    env: 'QUAYSIDE_LOG_MAX_LINE',
    default: 1_048_576,
    min: 1_024,
    // Each container holds up to one line of this size while it is being read.
    max: 16 * 1_048_576,
  }),
  logApiToken: optionalStringOption({
    help: 'Old name of --api-token (QUAYSIDE_API_TOKEN)',
    env: 'QUAYSIDE_LOG_API_TOKEN',
    secret: true,
  }),
  ...logsApiOptions,
};

/**
 * logspout's listen address variables. quayside's HTTP server is shared by every agent under
 * `quayside all`, and its address is what the healthcheck and the manifests read, so it is set in
 * one place only (--listen / QUAYSIDE_LISTEN); reading a generic `PORT` here would move it behind
 * their backs. A migrated configuration that still sets them stops at start, naming them.
 */
export function refuseLogspoutListenVariables(env: NodeJS.ProcessEnv): void {
  const set = ['PORT', 'HTTP_PORT', 'HTTP_BIND_ADDRESS'].filter((name) => env[name] !== undefined && env[name] !== '');
  if (set.length === 0) return;
  const shown = set.map((name) => `${name}=${env[name]}`).join(', ');
  throw new ConfigError(
    `${shown}: logspout's listen address is not read by quayside; set --listen (QUAYSIDE_LISTEN) to host:port instead and unset ${set.join(' and ')}`,
  );
}

/**
 * `quayside events`: prints normalized Docker events as JSON lines, resuming across engine
 * restarts exactly as the agents do. A debugging tool, and proof of the shared core.
 */
import type { Command } from 'commander';
import { ConfigError } from '../shared/config/errors';
import {
  addOptions,
  booleanOption,
  optionalStringOption,
  repeatableOption,
  type OptionValues,
} from '../shared/config/options';
import { createDockerClient, DockerConnectionError } from '../shared/docker/connection';
import { containerName } from '../shared/docker/container-name';
import type { DockerEvent } from '../shared/docker/event';
import { EventStream, type SyncSnapshot } from '../shared/docker/event-stream';
import { parsePointInTime, timeNanoToDate } from '../shared/docker/time';
import { createLogger } from '../shared/ops/logger';
import { dockerOptions, loggingOptions } from '../shared/runtime/common-options';

/** Filter keys the engine's /events endpoint accepts. */
const EVENT_FILTER_KEYS = [
  'config',
  'container',
  'daemon',
  'event',
  'image',
  'label',
  'network',
  'node',
  'plugin',
  'scope',
  'secret',
  'service',
  'type',
  'volume',
];

export const eventsOptions = {
  ...dockerOptions,
  ...loggingOptions,
  since: optionalStringOption({
    help: 'Replay from this time: Unix seconds, RFC 3339, or a duration ago such as 10m or 1m30s (the engine keeps only its last 256 events)',
    placeholder: '<time>',
  }),
  filter: repeatableOption({
    help: 'Engine-side filter KEY=VALUE, as docker events --filter; repeat for more',
    placeholder: '<key=value>',
    parse: parseEventFilter,
  }),
  healthChecks: booleanOption({ help: 'Also print the exec events of health checks', default: false }),
  sync: booleanOption({ help: 'Also print a line for each sync snapshot (after every connect)', default: false }),
};

function parseEventFilter(raw: string): [string, string] {
  const equals = raw.indexOf('=');
  const key = raw.slice(0, equals).trim();
  const value = raw.slice(equals + 1);
  if (equals < 1 || value === '')
    throw new Error('expected KEY=VALUE, e.g. type=container or label=com.example.team=web');
  if (!EVENT_FILTER_KEYS.includes(key))
    throw new Error(`unknown filter '${key}', expected one of ${EVENT_FILTER_KEYS.join(', ')}`);
  return [key, value];
}

export function addEventsCommand(program: Command): void {
  const command = program
    .command('events')
    .description('Print normalized Docker events as JSON lines, resuming across engine restarts');
  addOptions(command, eventsOptions).action(
    async (values: OptionValues<typeof eventsOptions> & { filter?: Array<[string, string]> }) => {
      await followEvents(values);
    },
  );
}

async function followEvents(
  values: OptionValues<typeof eventsOptions> & { filter?: Array<[string, string]> },
): Promise<void> {
  const logger = createLogger({ level: values.logLevel, format: values.logFormat });
  let docker;
  let since: string | undefined;
  try {
    docker = createDockerClient({
      host: values.dockerHost,
      tlsVerify: values.dockerTlsVerify,
      certPath: values.dockerCertPath,
    });
    since = values.since === undefined ? undefined : parsePointInTime(values.since);
  } catch (error) {
    const message =
      error instanceof DockerConnectionError ? error.message : `--since '${values.since}': ${(error as Error).message}`;
    throw new ConfigError(message);
  }
  const filters: Record<string, string[]> = {};
  for (const [key, value] of values.filter ?? []) (filters[key] ??= []).push(value);

  const stream = new EventStream({ docker, logger, filters, since, pingIntervalMs: 15_000 });
  const print = (line: object): void => {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  stream.subscribe({
    name: 'events-command',
    healthChecks: values.healthChecks,
    onEvent: (event) => print(eventLine(event)),
    onSync: values.sync ? (snapshot) => print(syncLine(snapshot)) : undefined,
  });
  // `quayside events | head` closes stdout: that is a normal way to finish.
  process.stdout.on('error', () => process.exit(0));
  const stop = (): void => void stream.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  stream.start();
}

function eventLine(event: DockerEvent): object {
  return { ...event, time: timeNanoToDate(event.timeNano).toISOString() };
}

function syncLine(snapshot: SyncSnapshot): object {
  return {
    type: 'sync',
    reason: snapshot.reason,
    containers: snapshot.containers.map((c) => ({ id: c.Id, name: containerName(c.Names[0] ?? ''), state: c.State })),
    time: snapshot.at.toISOString(),
  };
}

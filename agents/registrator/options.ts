/**
 * The registrator's options: registrator's own flags with registrator's meaning (also accepted
 * in its single-dash spelling, see `rewriteRegistratorArgs`), Consul's environment conventions,
 * and what quayside adds (node name, pause handling, Docker health, shutdown).
 */
import { isIP } from 'node:net';
import { ConfigError } from '../../shared/config/errors';
import {
  booleanOption,
  choiceOption,
  durationOption,
  flagOf,
  integerOption,
  optionalStringOption,
  type OptionDecl,
} from '../../shared/config/options';
import { agentRuntimeOptions } from '../../shared/runtime/common-options';
import { canonicalIp, isWildcard } from './addresses';
import { parseRegistryUri, registryUriForms } from './backends';
import type { RegistryUri } from './backends/backend';
import { splitTags } from './tags';

function registryUriOption(): OptionDecl<RegistryUri | undefined> {
  return {
    help: `Where to register: ${registryUriForms()} (also the positional argument, as in registrator)`,
    env: 'QUAYSIDE_REGISTRY_URI',
    placeholder: '<uri>',
    parse: (raw) => parseRegistryUri(raw),
  };
}

/** registrator's -retry-interval is in milliseconds when given as a bare number. */
function millisecondsOption(decl: { help: string; env: string; default: number; minMs: number }): OptionDecl<number> {
  const duration = durationOption(decl);
  return { ...duration, parse: (raw) => duration.parse(/^\d+$/.test(raw.trim()) ? `${raw.trim()}ms` : raw) };
}

export const registratorOptions = {
  registryUri: registryUriOption(),
  internal: booleanOption({
    help: 'Register the container address and exposed port (on the network chosen by SERVICE_NETWORK) instead of the host address and published port',
    env: 'QUAYSIDE_REGISTRATOR_INTERNAL',
    default: false,
  }),
  ip: {
    help: "Host address to register for published ports (registrator -ip); default: the binding address, else this host's address on its default route",
    env: 'QUAYSIDE_REGISTRATOR_IP',
    placeholder: '<address>',
    parse(raw: string): string | undefined {
      const ip = raw.trim().replace(/^\[(.*)\]$/, '$1');
      if (!isIP(ip)) throw new Error('expected an IPv4 or IPv6 address');
      if (isWildcard(ip)) throw new Error(`${ip} is not an address a client can reach`);
      return canonicalIp(ip);
    },
  } satisfies OptionDecl<string | undefined> as OptionDecl<string | undefined>,
  tags: {
    help: 'Tags added to every service, comma-separated (\\, for a comma)',
    env: 'QUAYSIDE_REGISTRATOR_TAGS',
    placeholder: '<list>',
    default: [] as string[],
    defaultText: '',
    parse(raw: string) {
      if (raw.includes('{{')) throw new Error('Go templates in -tags are not supported; give the tags literally');
      return splitTags(raw);
    },
  } satisfies OptionDecl<string[]>,
  resync: (() => {
    const duration = durationOption({
      help: "How often to compare Consul with the containers and write the differences (only those); also how fast a Consul agent that restarted empty is refilled. Bare numbers are seconds, as registrator's -resync; 0 leaves only the reconciles at start and after Docker reconnects and --resync-interval",
      env: 'QUAYSIDE_REGISTRATOR_RESYNC',
      default: 10_000,
      maxMs: 24 * 3_600_000,
    });
    return {
      ...duration,
      parse(raw: string): number {
        const ms = duration.parse(raw);
        if (ms !== 0 && ms < 500) throw new Error('must be 0 or at least 500ms');
        return ms;
      },
    };
  })(),
  deregister: choiceOption({
    help: 'When a container exits: always deregister, or on-success (only after exit code 0 or a signal; removing the container always deregisters)',
    env: 'QUAYSIDE_REGISTRATOR_DEREGISTER',
    default: 'always',
    choices: ['always', 'on-success'] as const,
  }),
  cleanup: booleanOption({
    help: 'Also remove services that gliderlabs/registrator registered for this node (IDs <node>:<container>:<port>) when their container is gone',
    env: 'QUAYSIDE_REGISTRATOR_CLEANUP',
    default: false,
  }),
  retryAttempts: integerOption({
    help: 'Startup: give up (exit 1) after this many extra failed pings of the registry; -1 never gives up and keeps retrying in the background',
    env: 'QUAYSIDE_REGISTRATOR_RETRY_ATTEMPTS',
    default: -1,
    min: -1,
  }),
  retryInterval: millisecondsOption({
    help: "First delay between retries of a failed registry call, doubled up to 30s (bare numbers are milliseconds, as registrator's -retry-interval)",
    env: 'QUAYSIDE_REGISTRATOR_RETRY_INTERVAL',
    default: 2_000,
    minMs: 1,
  }),
  explicit: booleanOption({
    help: 'Register only ports that have a SERVICE_NAME or SERVICE_<port>_NAME',
    env: 'QUAYSIDE_REGISTRATOR_EXPLICIT',
    default: false,
  }),
  useIpFromLabel: optionalStringOption({
    help: 'Take the service address from this container label when present (a /prefix suffix is dropped)',
    env: 'QUAYSIDE_REGISTRATOR_IP_LABEL',
    placeholder: '<label>',
  }),
  nodeName: optionalStringOption({
    help: "Node name in service IDs and the ownership marker; default: the Docker engine's name (docker info), so restarting the agent never duplicates services",
    env: 'QUAYSIDE_NODE_NAME',
    placeholder: '<name>',
  }),
  pausedServices: choiceOption({
    help: "What a paused container's services become: in maintenance (critical until unpaused), deregistered, or kept as they are",
    env: 'QUAYSIDE_REGISTRATOR_PAUSED',
    default: 'maintenance',
    choices: ['maintenance', 'deregister', 'keep'] as const,
  }),
  healthTtl: durationOption({
    help: 'Containers with a Docker HEALTHCHECK get a TTL check fed from it, refreshed every third of this; 0 turns it off',
    env: 'QUAYSIDE_REGISTRATOR_HEALTH_TTL',
    default: 60_000,
  }),
  deregisterOnShutdown: booleanOption({
    help: "Deregister this node's services when the agent stops",
    env: 'QUAYSIDE_REGISTRATOR_DEREGISTER_ON_SHUTDOWN',
    default: false,
  }),
  consulToken: optionalStringOption({
    help: 'ACL token, sent as X-Consul-Token',
    env: 'CONSUL_HTTP_TOKEN',
    placeholder: '<token>',
    secret: true,
  }),
  consulCacert: optionalStringOption({
    help: 'CA certificate file for consul-tls://',
    env: 'CONSUL_CACERT',
    placeholder: '<file>',
  }),
  consulClientCert: optionalStringOption({
    help: 'Client certificate file for consul-tls://',
    env: 'CONSUL_CLIENT_CERT',
    placeholder: '<file>',
  }),
  consulClientKey: optionalStringOption({
    help: 'Client key file for consul-tls://',
    env: 'CONSUL_CLIENT_KEY',
    placeholder: '<file>',
  }),
  consulTlsServerName: optionalStringOption({
    help: 'Server name to verify for consul-tls://',
    env: 'CONSUL_TLS_SERVER_NAME',
    placeholder: '<name>',
  }),
};

/** Every long flag `quayside registrator` takes, and whether it takes a value. */
const KNOWN_FLAGS: ReadonlyMap<string, boolean> = new Map(
  Object.entries({ ...agentRuntimeOptions, ...registratorOptions }).map(([key, decl]) => [
    flagOf(key, decl),
    decl.placeholder !== undefined,
  ]),
);

/** Flags without a value: given bare, they get `=true`, so that one before the URI does not take it as its value. */
const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(
  [...KNOWN_FLAGS].filter(([, valued]) => !valued).map(([flag]) => flag),
);

/** The options that are registrator's own flags, also taken in its single-dash spelling. */
const REGISTRATOR_KEYS = [
  'internal',
  'ip',
  'tags',
  'resync',
  'deregister',
  'cleanup',
  'retryAttempts',
  'retryInterval',
  'explicit',
  'useIpFromLabel',
] as const;
/** Where registrator spells a flag otherwise than we do. */
const REGISTRATOR_SPELLINGS: Partial<Record<(typeof REGISTRATOR_KEYS)[number], string>> = {
  useIpFromLabel: 'useIpFromLabel',
};

/** registrator's flags by its spelling (`retry-attempts`, `useIpFromLabel`): ours. */
const REGISTRATOR_FLAGS: ReadonlyMap<string, string> = new Map(
  REGISTRATOR_KEYS.map((key) => {
    const flag = flagOf(key, registratorOptions[key]);
    return [REGISTRATOR_SPELLINGS[key] ?? flag.slice(2), flag];
  }),
);
/**
 * registrator's key-expiry flags: its Consul backends ignore them, so they are accepted (a
 * drop-in must not fail on them) and dropped with a warning, after registrator's own checks.
 */
const IGNORED_WITH_CONSUL = new Set(['ttl', 'ttl-refresh']);

/**
 * Accepts registrator's spelling: `-internal`, `-ip 10.0.0.5`, `-ip=10.0.0.5`, `-useIpFromLabel x`
 * (and, as Go's flag package does, the same with two dashes: `--useIpFromLabel x`).
 * Single-dash flags become double-dash ones. Booleans get an explicit `=true`, so that
 * `-internal consul://…` does not hand the URI to -internal as its value.
 * Also refuses, before parsing, a run with no registry URI anywhere (registrator exits 2 too).
 */
export function rewriteRegistratorArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = (message) => process.stderr.write(`quayside: ${message}\n`),
): string[] {
  const out: string[] = [];
  const ignored = new Map<string, string>();
  let ignoredValueAt = -1;
  args.forEach((arg, i) => {
    const match = /^--?([a-zA-Z][a-zA-Z-]*)(?:=(.*))?$/.exec(arg);
    const name = match?.[1];
    const single = match !== null && !arg.startsWith('--');
    if (i === ignoredValueAt) return;
    if (name && IGNORED_WITH_CONSUL.has(name)) {
      ignored.set(name, match![2] ?? args[i + 1] ?? '');
      if (match![2] === undefined) ignoredValueAt = i + 1;
      return;
    }
    // A single dash only for registrator's own flags; two for any (Go's flag package takes both).
    const flag = name === undefined ? undefined : (REGISTRATOR_FLAGS.get(name) ?? (single ? undefined : `--${name}`));
    if (
      flag &&
      BOOLEAN_FLAGS.has(flag) &&
      match![2] === undefined &&
      !/^(true|false|1|0|yes|no)$/i.test(args[i + 1] ?? '')
    ) {
      out.push(`${flag}=true`);
    } else if (flag && flag !== arg.split('=')[0]) {
      out.push(match![2] === undefined ? flag : `${flag}=${match![2]}`);
    } else {
      out.push(arg);
    }
  });
  checkIgnoredTtl(ignored, warn);
  const wantsHelp = out.some((a) => a === '--help' || a === '-h');
  // An unknown flag is for the parser to name (`--bogus consul://…` must not read as a missing URI).
  const unknownFlag = out.some(
    (a) => /^-/.test(a) && !['--help', '-h', '--version', '-V'].includes(a) && !KNOWN_FLAGS.has(a.split('=')[0]!),
  );
  const takesValue = (arg: string | undefined) => arg !== undefined && KNOWN_FLAGS.get(arg) === true;
  const hasUri = out.some(
    (a, i) =>
      a === '--registry-uri' ||
      a.startsWith('--registry-uri=') ||
      (/^[a-z][a-z0-9+.-]*:\/\//i.test(a) && !takesValue(out[i - 1])),
  );
  if (!wantsHelp && !unknownFlag && !hasUri && !env.QUAYSIDE_REGISTRY_URI) {
    throw new ConfigError(
      'missing registry URI: give it as the argument (quayside registrator consul://127.0.0.1:8500), with --registry-uri or QUAYSIDE_REGISTRY_URI',
    );
  }
  return out;
}

/** registrator's own rules for -ttl and -ttl-refresh (it exits on them), then a warning. */
function checkIgnoredTtl(given: ReadonlyMap<string, string>, warn: (message: string) => void): void {
  const ttl = given.get('ttl');
  const refresh = given.get('ttl-refresh');
  if (ttl === undefined && refresh === undefined) return;
  const seconds = (name: string, text: string | undefined) => {
    if (text === undefined || !/^\d+$/.test(text))
      throw new ConfigError(`-${name} expects whole seconds, not ${JSON.stringify(text ?? '')}`);
    return Number(text);
  };
  const ttlSeconds = ttl === undefined ? 0 : seconds('ttl', ttl);
  const refreshSeconds = refresh === undefined ? 0 : seconds('ttl-refresh', refresh);
  if (ttlSeconds > 0 !== refreshSeconds > 0)
    throw new ConfigError('-ttl and -ttl-refresh must be specified together or not at all');
  if (ttlSeconds > 0 && ttlSeconds <= refreshSeconds) throw new ConfigError('-ttl must be greater than -ttl-refresh');
  warn(
    "-ttl and -ttl-refresh are ignored: registrator's Consul backends ignore them too (use SERVICE_CHECK_TTL or --health-ttl)",
  );
}

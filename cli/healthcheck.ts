/**
 * The container image's HEALTHCHECK: GET /healthz of the agent running in this container; exit 0
 * on 200 and 1 otherwise, as Docker expects. The agent's address comes from, in order:
 * QUAYSIDE_HEALTHCHECK_URL, `--listen` on the agent's command line (read from /proc/1/cmdline),
 * QUAYSIDE_LISTEN, and the default port of the agent named there. A wildcard host is asked on
 * loopback. With `--pid host` PID 1 is the host's init: set QUAYSIDE_LISTEN or the URL then.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { formatHostPort, parseHostPort, type HostPort } from '../shared/config/options';

const HEALTHCHECK_TIMEOUT_MS = 4_000;

/** The command (`stats-exporter`, `all` …) and the `--listen` value on a quayside command line. */
export function parseAgentCommandLine(argv: readonly string[]): { command?: string; listen?: string } {
  // docker-init or a shell may come first; node runs `…/quayside` or `…/cli/main.js`.
  const program = argv.findIndex((arg) => basename(arg) === 'quayside' || arg.endsWith('cli/main.js'));
  if (program < 0) return {};
  const rest = argv.slice(program + 1);
  const command = rest.find((arg) => !arg.startsWith('-'));
  let listen: string | undefined;
  rest.forEach((arg, i) => {
    if (arg === '--listen') listen = rest[i + 1];
    else if (arg.startsWith('--listen=')) listen = arg.slice('--listen='.length);
  });
  return { command, listen };
}

/** Where this container's agent answers /healthz. `defaultPortOf` gives an agent's own default port. */
export function healthcheckUrl(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  defaultPortOf: (command: string | undefined) => number,
): string {
  if (env.QUAYSIDE_HEALTHCHECK_URL) return env.QUAYSIDE_HEALTHCHECK_URL;
  const { command, listen } = parseAgentCommandLine(argv);
  const given = listen ?? env.QUAYSIDE_LISTEN;
  const address: HostPort = given ? parseHostPort(given) : { host: '0.0.0.0', port: defaultPortOf(command) };
  return `http://${formatHostPort({ ...address, host: reachableHost(address.host) })}/healthz`;
}

function reachableHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/**
 * The default `--listen` port of each command, written here rather than read from the agents: the
 * check runs every 30 s inside the agent's container (and its memory limit), and loading the
 * agents (dockerode, prom-client, winston…) took 0.3 s of CPU and 60 MB each time.
 * test/unit/deploy-healthcheck.test.ts keeps it equal to the agents' declarations.
 */
const DEFAULT_PORT = 9477;
const AGENT_PORTS: Readonly<Record<string, number>> = { 'stats-exporter': 9612 };

export function agentDefaultPort(command: string | undefined): number {
  return (
    (command !== undefined && Object.hasOwn(AGENT_PORTS, command) ? AGENT_PORTS[command] : undefined) ?? DEFAULT_PORT
  );
}

async function checkHealth(
  url: string,
  timeoutMs = HEALTHCHECK_TIMEOUT_MS,
): Promise<{ healthy: boolean; detail: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { healthy: response.status === 200, detail: `${url} answered ${response.status}` };
  } catch (error) {
    return { healthy: false, detail: `${url}: ${(error as Error).message}` };
  }
}

async function main(): Promise<void> {
  let argv: string[] = [];
  try {
    argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
  } catch {
    // no /proc: the environment or the defaults decide
  }
  const url = healthcheckUrl(argv, process.env, agentDefaultPort);
  const { healthy, detail } = await checkHealth(url);
  // Docker keeps the output in State.Health.Log.
  (healthy ? process.stdout : process.stderr).write(`${detail}\n`);
  process.exitCode = healthy ? 0 : 1;
}

if (require.main === module) void main();

/**
 * The Consul double as its own process, for running registrator (or anything else) against it:
 *   node --import tsx test/consul/main.ts --port 8500 [--host 127.0.0.1] [--token T] [--enable-script-checks]
 * Test hooks over HTTP: POST /_double/restart-empty, /_double/fail?count=&status=,
 * /_double/latency?ms=, /_double/clear-faults; GET /_double/requests?last=N, /_double/state.
 */
import { ConsulDouble } from './double';

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(argValue('--port') ?? 8500);
  const host = argValue('--host') ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port ${argValue('--port')}: expected a port number`);
  const double = await new ConsulDouble({
    token: argValue('--token'),
    enableScriptChecks: process.argv.includes('--enable-script-checks'),
    node: argValue('--node'),
  }).start(port, host);
  process.stdout.write(`consul double listening on ${double.url}\n`);
  const stop = (): void => void double.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`consul double: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});

/** The image's HEALTHCHECK (cli/healthcheck.ts): where it finds the agent, and its exit code. */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AGENTS } from '../../agents';
import { agentDefaultPort, healthcheckUrl, parseAgentCommandLine } from '../../cli/healthcheck';
import { DEFAULT_LISTEN_PORT } from '../../shared/runtime/common-options';

const defaultPort = (command: string | undefined): number => (command === 'stats-exporter' ? 9612 : 9477);

describe('deploy: the container health check', () => {
  it('reads the agent and --listen from the command line as Docker, docker-init or Kubernetes start it', () => {
    assert.deepEqual(
      parseAgentCommandLine(['node', '/usr/local/bin/quayside', 'stats-exporter', '--listen', '127.0.0.1:9000']),
      { command: 'stats-exporter', listen: '127.0.0.1:9000' },
    );
    assert.deepEqual(
      parseAgentCommandLine(['/sbin/docker-init', '--', 'quayside', 'label-inspector', '--listen=:9100']),
      { command: 'label-inspector', listen: ':9100' },
    );
    assert.deepEqual(parseAgentCommandLine(['node', '/app/dist/cli/main.js', 'all', '--log-level', 'debug']), {
      command: 'all',
      listen: undefined,
    });
    // The stats-exporter's entrypoint in deploy/: node with V8 flags before the program.
    assert.deepEqual(
      parseAgentCommandLine([
        'node',
        '--max-semi-space-size=1',
        '--optimize-for-size',
        '/usr/local/bin/quayside',
        'stats-exporter',
      ]),
      { command: 'stats-exporter', listen: undefined },
    );
    assert.deepEqual(parseAgentCommandLine(['/sbin/init']), {});
  });

  it('asks --listen first, then QUAYSIDE_LISTEN, then the agent default port, on loopback for a wildcard host', () => {
    const argv = ['node', '/usr/local/bin/quayside', 'stats-exporter'];
    assert.equal(healthcheckUrl(argv, {}, defaultPort), 'http://127.0.0.1:9612/healthz');
    assert.equal(
      healthcheckUrl(['node', '/usr/local/bin/quayside', 'label-inspector'], {}, defaultPort),
      'http://127.0.0.1:9477/healthz',
    );
    assert.equal(
      healthcheckUrl(argv, { QUAYSIDE_LISTEN: '10.1.2.3:9700' }, defaultPort),
      'http://10.1.2.3:9700/healthz',
    );
    assert.equal(
      healthcheckUrl([...argv, '--listen', '[::]:9800'], { QUAYSIDE_LISTEN: '0.0.0.0:9700' }, defaultPort),
      'http://[::1]:9800/healthz',
    );
    assert.equal(healthcheckUrl([...argv, '--listen', ':9801'], {}, defaultPort), 'http://127.0.0.1:9801/healthz');
    assert.equal(
      healthcheckUrl(argv, { QUAYSIDE_HEALTHCHECK_URL: 'http://127.0.0.1:1/x', QUAYSIDE_LISTEN: ':2' }, defaultPort),
      'http://127.0.0.1:1/x',
    );
  });

  it("knows every command's default port as the agents declare it, without loading them", async () => {
    for (const agent of AGENTS)
      assert.equal(agentDefaultPort(agent.name), agent.listenPort ?? DEFAULT_LISTEN_PORT, agent.name);
    assert.equal(agentDefaultPort('all'), DEFAULT_LISTEN_PORT);
    assert.equal(agentDefaultPort(undefined), DEFAULT_LISTEN_PORT);
    assert.equal(agentDefaultPort('constructor'), DEFAULT_LISTEN_PORT);
    // What the check loads in the container every 30 s: none of the agents' dependencies.
    const loaded = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          '-e',
          `require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'cli', 'healthcheck.js'))}); process.stdout.write(Object.keys(require.cache).join('\\n'))`,
        ],
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    for (const heavy of ['dockerode', 'prom-client', 'winston', 'ioredis', 'agents'])
      assert.doesNotMatch(loaded, new RegExp(`[\\\\/]${heavy}[\\\\/]`), `${heavy} loaded`);
  });

  describe('as the image runs it', () => {
    const script = join(__dirname, '..', '..', 'dist', 'cli', 'healthcheck.js');
    let server: Server;
    let status = 200;
    let base = '';
    before(async () => {
      server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    // The compiled script (dist/, as the image runs it), as a child: a sync spawn would block the server above.
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, ...env } });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c));
        child.stderr.on('data', (c: Buffer) => (output += c));
        child.on('close', (code: number | null) => resolve({ code, output }));
      });

    it('exits 0 when /healthz answers 200 and 1 otherwise, saying what it asked', async () => {
      status = 200;
      const ok = await run({ QUAYSIDE_LISTEN: base });
      assert.deepEqual(ok, { code: 0, output: `http://${base}/healthz answered 200\n` });
      status = 503;
      assert.deepEqual(await run({ QUAYSIDE_LISTEN: base }), {
        code: 1,
        output: `http://${base}/healthz answered 503\n`,
      });
    });

    it('exits 1 when nothing listens', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const result = await run({ QUAYSIDE_LISTEN: `127.0.0.1:${port}` });
      assert.equal(result.code, 1);
      assert.match(result.output, new RegExp(`^http://127.0.0.1:${port}/healthz: fetch failed`));
    });
  });
});

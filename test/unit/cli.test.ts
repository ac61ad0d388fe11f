import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, mergeOptions, rewriteAgentArgs } from '../../cli/main';
import { defineAgent } from '../../shared/agent';
import { ConfigError } from '../../shared/config/errors';
import { integerOption, listOption, repeatableOption, stringOption } from '../../shared/config/options';
import { eventually } from '../support/eventually';
import { capture, exited, runCli, startCli } from '../support/cli';
import { freePort } from '../support/free-port';

const NO_DOCKER = 'unix:///nonexistent/quayside-test/docker.sock';

describe('quayside CLI', () => {
  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });

  it('lists every agent, all and events in --help', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    for (const name of [
      'registrator',
      'logrouter',
      'stats-exporter',
      'label-inspector',
      'security-watcher',
      'all',
      'events',
    ]) {
      assert.match(result.stdout, new RegExp(`^  ${name} `, 'm'));
    }
  });

  const HELP_COMMANDS = [
    [],
    ['registrator'],
    ['logrouter'],
    ['stats-exporter'],
    ['label-inspector'],
    ['security-watcher'],
    ['all'],
    ['events'],
    ['label-inspector', 'check'],
    ['security-watcher', 'audit'],
  ];
  it('fits every --help in 80 columns, options grouped, with examples for each agent', async function () {
    this.timeout(90_000);
    const results = await Promise.all(HELP_COMMANDS.map((command) => runCli([...command, '--help'], {}, 60_000)));
    for (const [i, command] of HELP_COMMANDS.entries()) {
      const result = results[i]!;
      assert.equal(result.code, 0, result.stderr);
      const wide = result.stdout.split('\n').filter((line) => line.length > 80);
      assert.deepEqual(wide, [], `quayside ${command.join(' ')} --help`);
      const agent = command[0];
      if (command.length === 1 && agent !== 'events') {
        assert.match(result.stdout, /^Runtime options \(every agent\):$/m);
        assert.match(result.stdout, /^Examples:\n {2}\S*(quayside|QUAYSIDE_)/m);
        if (agent !== 'all') assert.match(result.stdout, new RegExp(`^${agent} options:$`, 'm'));
      }
    }
    const all = (await runCli(['all', '--help'])).stdout;
    for (const agent of ['registrator', 'logrouter', 'stats-exporter', 'label-inspector', 'security-watcher'])
      assert.match(all, new RegExp(`^${agent} options:$`, 'm'));
    assert.match((await runCli(['registrator', '--help'])).stdout, /single-dash flags \(-ip, -internal/);
    // The findings sinks under one heading of their own, in each agent that finds and in `all`.
    const findingsGroup = /^Findings options \(label-inspector, security-watcher\):\n {2}--findings-redis-url/m;
    for (const [i, command] of HELP_COMMANDS.entries()) {
      if (['label-inspector', 'security-watcher', 'all'].includes(command.join(' ')))
        assert.match(results[i]!.stdout, findingsGroup, command.join(' '));
    }
    // The one-shot commands: Docker connection, the command's own options and the report, with examples.
    for (const [command, example] of [
      ['label-inspector check', /^ {2}quayside label-inspector check --dockerfile Dockerfile --require oci$/m],
      ['security-watcher audit', /^ {2}quayside security-watcher audit --fail-on high$/m],
    ] as const) {
      const help = results[HELP_COMMANDS.findIndex((c) => c.join(' ') === command)]!.stdout;
      const name = command.split(' ')[1];
      assert.match(help, /^Docker options:\n {2}--docker-host/m, command);
      assert.match(help, new RegExp(`^${name} options:$`, 'm'), command);
      assert.match(help, /^Report options:\n {2}--format/m, command);
      assert.match(help, /^Examples:$/m, command);
      assert.match(help, example, command);
    }
  });

  it('exits 0 quietly when the reader of --help goes away (quayside --help | head -1)', async () => {
    const child = startCli(['all', '--help']);
    const output = capture(child);
    child.stdout!.destroy(); // the pipe's read end closes before the help is written
    const code = await exited(child);
    assert.equal(code, 0, output.stderr());
    assert.doesNotMatch(output.stderr(), /EPIPE/);
  });

  it('exits 2 naming the option and value for a bad flag or environment value', async () => {
    const flag = await runCli(['all', '--shutdown-timeout', 'forever']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /'--shutdown-timeout <duration>' argument 'forever' is invalid/);
    const env = await runCli(['all'], { QUAYSIDE_LOG_LEVEL: 'loud' });
    assert.equal(env.code, 2);
    assert.match(
      env.stderr,
      /value 'loud' from env 'QUAYSIDE_LOG_LEVEL' is invalid\. expected one of error, warn, info, debug/,
    );
  });

  it('exits 2 naming DOCKER_HOST or the certificate when Docker cannot be reached that way', async () => {
    const scheme = await runCli(['all', '--listen', '127.0.0.1:0'], { DOCKER_HOST: 'npipe:////./pipe/docker_engine' });
    assert.equal(scheme.code, 2);
    assert.match(
      scheme.stderr,
      /'--docker-host <value>' value 'npipe:\/\/\/\/\.\/pipe\/docker_engine' from env 'DOCKER_HOST' is invalid/,
    );
    const tls = await runCli(['all', '--listen', '127.0.0.1:0'], {
      DOCKER_HOST: 'tcp://127.0.0.1:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: '/nonexistent/certs',
    });
    assert.equal(tls.code, 2);
    assert.match(tls.stderr, /^quayside: DOCKER_CERT_PATH: cannot read \/nonexistent\/certs\/ca\.pem/m);
  });

  it('exits 2 naming --listen when the address is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const result = await runCli(['all', '--listen', `127.0.0.1:${port}`, '--docker-host', NO_DOCKER]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`--listen \\(QUAYSIDE_LISTEN\\) 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });

  it('exits 2, and does not hang, when an agent refuses its settings at start', async () => {
    const schema = await runCli(
      [
        'label-inspector',
        '--listen',
        '127.0.0.1:0',
        '--state-dir',
        '/tmp/quayside-cli-test',
        '--label-schema',
        '/nonexistent/schema.json',
      ],
      { DOCKER_HOST: NO_DOCKER },
      10_000,
    );
    assert.equal(schema.code, 2);
    assert.match(schema.stderr, /label schema \/nonexistent\/schema\.json: cannot read it/);
    const sink = await runCli(
      [
        'label-inspector',
        '--listen',
        '127.0.0.1:0',
        '--state-dir',
        '/tmp/quayside-cli-test',
        '--findings-webhook-url',
        'ftp://x',
      ],
      { DOCKER_HOST: NO_DOCKER },
      10_000,
    );
    assert.equal(sink.code, 2);
    assert.match(
      sink.stderr,
      /--findings-webhook-url \(QUAYSIDE_FINDINGS_WEBHOOK_URL\) 'ftp:\/\/x': expected http:\/\/ or https:\/\//,
    );
  });

  it('exits 2 when two --stats-labels keys would share one label name', async () => {
    const result = await runCli(
      [
        'stats-exporter',
        '--listen',
        '127.0.0.1:0',
        '--state-dir',
        '/tmp/quayside-cli-test',
        '--stats-labels',
        'com.x.a-b,com.x.a.b',
      ],
      { DOCKER_HOST: NO_DOCKER },
      10_000,
    );
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /--stats-labels: com\.x\.a-b and com\.x\.a\.b would both be exported as container_label_com_x_a_b/,
    );
  });

  it('gives the one-off commands the socket hint when the engine socket is missing', async () => {
    for (const args of [
      ['security-watcher', 'audit'],
      ['label-inspector', 'check', '--all'],
    ]) {
      const result = await runCli(args, { DOCKER_HOST: 'unix:///nonexistent.sock' });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /cannot ask Docker at unix:\/\/\/nonexistent\.sock/);
      assert.match(
        result.stderr,
        /hint: no engine socket at \/nonexistent\.sock: .*point DOCKER_HOST \(--docker-host\)/,
      );
    }
  });

  it("reads a secret's *_FILE variable only for the commands that have that option", async () => {
    const check = await runCli(
      ['label-inspector', 'check', '--dockerfile', join(__dirname, '..', '..', 'deploy', 'Dockerfile')],
      {
        QUAYSIDE_FINDINGS_WEBHOOK_TOKEN_FILE: '/nonexistent',
      },
    );
    assert.equal(check.code, 0, check.stderr);
    const agent = await runCli(['label-inspector', '--listen', '127.0.0.1:0', '--docker-host', NO_DOCKER], {
      QUAYSIDE_FINDINGS_WEBHOOK_TOKEN_FILE: '/nonexistent',
    });
    assert.equal(agent.code, 2);
    assert.match(agent.stderr, /QUAYSIDE_FINDINGS_WEBHOOK_TOKEN_FILE: the file \/nonexistent cannot be read/);
  });

  it('exits 2 for an unreadable --since or an unknown --filter key', async () => {
    const since = await runCli(['events', '--since', 'last tuesday', '--docker-host', NO_DOCKER]);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since 'last tuesday'/);
    const filter = await runCli(['events', '--filter', 'colour=red']);
    assert.equal(filter.code, 2);
    assert.match(filter.stderr, /unknown filter 'colour'/);
  });

  it('keeps serving while Docker is unreachable: healthy, not ready; SIGTERM exits 0', async () => {
    const port = await freePort();
    const child = startCli(
      ['all', '--listen', `127.0.0.1:${port}`, '--log-format', 'json', '--state-dir', '/tmp/quayside-cli-test'],
      { DOCKER_HOST: NO_DOCKER },
    );
    const output = capture(child);
    try {
      await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200));
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /cannot reach Docker at unix:\/\/\/nonexistent/);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^quayside_docker_connected 0$/m);
      await eventually(() => assert.match(output.stderr(), /reconnecting to Docker/));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited(child), 0);
    assert.match(output.stderr(), /"message":"stopped"/);
  });
});

describe('mergeOptions', () => {
  it('refuses the same option declared differently by two agents', () => {
    const a = { retries: integerOption({ help: 'a' }) };
    const b = { retries: integerOption({ help: 'b' }) };
    assert.throws(() => mergeOptions([a, b]), /option --retries is declared by two agents/);
    assert.deepEqual(Object.keys(mergeOptions([a, a])), ['retries']);
  });
});

describe('agent operands and argument rewriting', () => {
  /** An agent that records the options it was started with, then refuses to run. */
  function recordingAgent(operands: 'repeatable' | 'list') {
    const started: Record<string, unknown>[] = [];
    const options =
      operands === 'repeatable'
        ? {
            route: repeatableOption({
              help: 'a route',
              placeholder: '<uri>',
              parse: (raw: string) => (raw.includes('://') ? raw : fail(raw)),
            }),
          }
        : {
            route: listOption({
              help: 'routes',
              env: 'FAKE_ROUTES',
              parseItem: (raw: string) => (raw.includes('://') ? raw : fail(raw)),
            }),
          };
    const agent = defineAgent({
      name: 'fake',
      summary: 'records its options',
      options: { ...options, mode: stringOption({ help: 'a mode', default: 'plain' }) },
      operands: { name: 'route-uri', description: 'routes', option: 'route', variadic: true },
      rewriteArgs: (args) => args.map((arg) => (arg === '-mode' ? '--mode' : arg)),
      start: async (_context, values) => {
        started.push(values as Record<string, unknown>);
        throw new ConfigError('recorded');
      },
    });
    return { agent, started };
  }
  function fail(raw: string): never {
    throw new Error(`expected a URI, got ${raw}`);
  }
  const runtimeArgs = [
    '--docker-host',
    NO_DOCKER,
    '--listen',
    '127.0.0.1:0',
    '--state-dir',
    '/tmp/quayside-cli-test',
    '--log-level',
    'error',
  ];

  for (const kind of ['repeatable', 'list'] as const) {
    it(`fills the ${kind} option from the operands, parsed by its declaration`, async () => {
      const { agent, started } = recordingAgent(kind);
      const argv = rewriteAgentArgs(
        ['node', 'quayside', 'fake', 'a://1', '-mode', 'odd', 'b://2', ...runtimeArgs],
        [agent],
      );
      await assert.rejects(buildProgram([agent]).parseAsync(argv), /recorded/);
      assert.deepEqual(started[0]?.route, ['a://1', 'b://2']);
      assert.equal(started[0]?.mode, 'odd', 'the single-dash flag was rewritten');
    });
  }

  it('names the operand that does not parse', async () => {
    const { agent } = recordingAgent('list');
    const program = buildProgram([agent]);
    await assert.rejects(
      program.parseAsync(['node', 'quayside', 'fake', 'nonsense', ...runtimeArgs]),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /route-uri "nonsense": expected a URI, got nonsense/);
        return true;
      },
    );
  });

  it('refuses operands together with the flag they stand for', async () => {
    const { agent } = recordingAgent('repeatable');
    const program = buildProgram([agent]);
    await assert.rejects(
      program.parseAsync(['node', 'quayside', 'fake', 'a://1', '--route', 'b://2', ...runtimeArgs]),
      /either as arguments or with --route, not both/,
    );
  });

  it("leaves other agents' arguments alone", () => {
    const { agent } = recordingAgent('list');
    assert.deepEqual(rewriteAgentArgs(['node', 'quayside', 'other', '-mode'], [agent]), [
      'node',
      'quayside',
      'other',
      '-mode',
    ]);
  });
});

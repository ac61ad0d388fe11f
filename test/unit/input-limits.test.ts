/**
 * Hostile or mistyped input fails at once, with exit 2 naming it, instead of running unbounded:
 * durations past what a Node.js timer holds, impossible --since times, hosts that cannot be, huge
 * files, Dockerfiles built to explode, and unknown flags.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { AGENTS } from '../../agents';
import { checkOptions } from '../../agents/label-inspector/check-command';
import { DockerfileSyntaxError, parseDockerfileLabels } from '../../agents/label-inspector/dockerfile';
import { labelOptions } from '../../agents/label-inspector/options';
import { checkRoute } from '../../agents/logrouter/adapters';
import { logrouterOptions } from '../../agents/logrouter/options';
import { parseRouteUri, RouteError } from '../../agents/logrouter/route';
import { parseRegistryUri } from '../../agents/registrator/backends';
import { eventsOptions } from '../../cli/events-command';
import { FileTooLargeError, readBoundedText } from '../../shared/config/files';
import { addOptions, type OptionDecl } from '../../shared/config/options';
import { dockerOptions } from '../../shared/docker/connection';
import { parsePointInTime } from '../../shared/docker/time';
import { agentRuntimeOptions } from '../../shared/runtime/common-options';
import { runCli } from '../support/cli';
import { cpuMillisOf } from '../support/cpu-time';

const LONGEST_TIMER_MS = 2 ** 31 - 1;

describe('input limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-limits-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('durations', () => {
    const decls = [agentRuntimeOptions, eventsOptions, checkOptions, ...AGENTS.map((a) => a.options)].flatMap((set) =>
      Object.entries(set as Record<string, OptionDecl<unknown>>),
    );
    const durations = decls.filter(([, decl]) => decl.placeholder === '<duration>');

    it('every duration option refuses what Node.js would fire after 1 ms, and says its maximum', () => {
      assert.ok(durations.length >= 6, durations.map(([k]) => k).join(', '));
      for (const [key, decl] of durations) {
        assert.throws(() => decl.parse(`${LONGEST_TIMER_MS + 1}ms`), /must be at most/, key);
        assert.throws(() => decl.parse('600h'), /must be at most/, key);
        assert.match(decl.help, /\(at most \d+(ms|s|m|h)\)$/, key);
      }
    });

    it('integers must be exact', () => {
      const [, batch] = decls.find(([key]) => key === 'retryAttempts')!;
      assert.throws(() => batch.parse('99999999999999999999'), /expected an integer between/);
      assert.equal(batch.parse('3'), 3);
    });

    for (const args of [
      ['label-inspector', '--resync-interval', '600h'],
      ['label-inspector', '--shutdown-timeout', '600h'],
      ['registrator', 'consul://127.0.0.1:8500', '--resync', '600h'],
    ]) {
      it(`quayside ${args.join(' ')} exits 2 naming the option`, async () => {
        const result = await runCli([...args, '--listen', '127.0.0.1:0']);
        assert.equal(result.code, 2, result.stderr);
        assert.match(
          result.stderr,
          new RegExp(`option '${args.at(-2)} <duration>' argument '600h' is invalid\\. must be at most \\d+h`),
        );
      });
    }
  });

  describe('counts and sizes', () => {
    const bounded: Array<[string, Record<string, OptionDecl<unknown>>, number]> = [
      ['logMaxLine', logrouterOptions, 16_777_216],
      ['logQueueSize', logrouterOptions, 1_000_000],
      ['logBatchSize', logrouterOptions, 100_000],
      ['labelMaxValueBytes', labelOptions, 1_048_576],
      ['labelMaxTotalBytes', labelOptions, 16_777_216],
    ];
    it('--log-max-line, --log-queue-size, --log-batch-size and the label byte limits have a maximum, said in their help', () => {
      for (const [key, set, max] of bounded) {
        const decl = set[key]!;
        assert.throws(() => decl.parse(String(Number.MAX_SAFE_INTEGER)), new RegExp(`must be at most ${max}$`), key);
        assert.equal(decl.parse(String(max)), max, key);
        assert.match(decl.help, new RegExp(`\\(at most ${max}\\)$`), key);
      }
    });

    for (const [uri, option, max] of [
      ['syslog+tcp://127.0.0.1:514?queue.size=9007199254740991', 'queue.size', 1_000_000],
      ['syslog+tcp://127.0.0.1:514?multiline.max_lines=9007199254740991', 'multiline.max_lines', 100_000],
      ['redis://127.0.0.1:6379/logs?maxlen=9007199254740991', 'maxlen', 1_000_000_000],
    ] as const) {
      it(`a route with ${option} past ${max} is refused, naming the option and its maximum`, () => {
        assert.throws(
          () => checkRoute(parseRouteUri(uri)),
          (error: Error) =>
            error instanceof RouteError &&
            error.message.includes(`${option} "9007199254740991": must be at most ${max}`),
        );
      });
    }

    it('quayside logrouter --log-max-line 9007199254740991 exits 2 naming the option and its maximum', async () => {
      const result = await runCli(['logrouter', '--log-max-line', '9007199254740991', '--listen', '127.0.0.1:0']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /option '--log-max-line <n>' argument '9007199254740991' is invalid\. must be at most 16777216/,
      );
    });
  });

  describe('times, hosts and URIs', () => {
    it('--since is neither in the future nor before 1970', () => {
      const now = () => 1_700_000_000_000;
      assert.throws(() => parsePointInTime('99999999999999999999', now), /'99999999999999999999' is in the future/);
      assert.throws(() => parsePointInTime('9999-01-01T00:00:00Z', now), /in the future/);
      assert.throws(() => parsePointInTime('99999999h', now), /before 1970/);
      assert.equal(parsePointInTime('1699999999.5', now), '1699999999500000000');
      assert.equal(parsePointInTime('10s', now), '1699999990000000000');
    });

    it('a Docker host URL must name a host', () => {
      for (const host of ['ssh://', 'tcp://'])
        assert.throws(
          () => dockerOptions({ host, tlsVerify: false }),
          new RegExp(`DOCKER_HOST '${host}' names no host`),
        );
      // `tcp://%00:2375` connected to 127.0.0.1:80 and retried for ever.
      for (const host of ['tcp://%00:2375', 'tcp://a%20b:2375', 'tcp://%00', 'ssh://user@%00', 'tcp://-:2375'])
        assert.throws(
          () => dockerOptions({ host, tlsVerify: false }),
          /DOCKER_HOST '.*': '.*' is not a host name or an IP address/,
          host,
        );
      assert.equal(dockerOptions({ host: 'tcp://[::1]:2375', tlsVerify: false }).host, '::1');
      assert.equal(dockerOptions({ host: 'tcp://docker_1.example:2375', tlsVerify: false }).host, 'docker_1.example');
      assert.deepEqual(dockerOptions({ host: 'ssh://ops@host-1', tlsVerify: false }), {
        protocol: 'ssh',
        host: 'host-1',
        port: '22',
        username: 'ops',
      });
    });

    it('a Consul host is a name or an address, not a space or an escape', () => {
      for (const uri of ['consul://exa mple:8500', 'consul://%00:8500', 'consulkv://a\tb:8500/p', 'consul://-:8500'])
        assert.throws(() => parseRegistryUri(uri, {}), /is not HOST, HOST:PORT or \[IPv6\]:PORT/, uri);
      assert.match(
        parseRegistryUri('consul://consul_1.example:8500', {}).connect({}).description,
        /http:\/\/consul_1\.example:8500/,
      );
    });

    it('events --since 99999999999999999999 and --docker-host ssh:// exit 2 naming them', async () => {
      const since = await runCli(['events', '--since', '99999999999999999999']);
      assert.equal(since.code, 2, since.stderr);
      assert.match(since.stderr, /--since '99999999999999999999': '99999999999999999999' is in the future/);
      const ssh = await runCli(['label-inspector', '--listen', '127.0.0.1:0', '--docker-host', 'ssh://']);
      assert.equal(ssh.code, 2, ssh.stderr);
      assert.match(ssh.stderr, /DOCKER_HOST 'ssh:\/\/' names no host/);
    });

    it('--docker-host and DOCKER_HOST with a host that cannot exist exit 2 naming it', async () => {
      const flag = await runCli(['label-inspector', '--listen', '127.0.0.1:0', '--docker-host', 'tcp://%00:2375']);
      assert.equal(flag.code, 2, flag.stderr);
      assert.match(flag.stderr, /DOCKER_HOST 'tcp:\/\/%00:2375': '%00' is not a host name or an IP address/);
      const env = await runCli(['label-inspector', '--listen', '127.0.0.1:0'], { DOCKER_HOST: 'ssh://user@%00' });
      assert.equal(env.code, 2, env.stderr);
      assert.match(env.stderr, /DOCKER_HOST 'ssh:\/\/user@%00': '%00' is not a host name/);
    });

    it('start-up errors never echo the password of a registry URI, CONSUL_HTTP_ADDR or DOCKER_HOST', async () => {
      const runs = [
        await runCli(['registrator', 'consul://admin:s3cret@consul:8500', '--listen', '127.0.0.1:0']),
        await runCli(['registrator', '--registry-uri', 'consul://admin:s3cret@consul:8500', '--listen', '127.0.0.1:0']),
        await runCli(['registrator', '--listen', '127.0.0.1:0'], {
          QUAYSIDE_REGISTRY_URI: 'consulkv://admin:s3cret@consul:8500/p',
        }),
        await runCli(['registrator', 'consul://', '--listen', '127.0.0.1:0'], {
          CONSUL_HTTP_ADDR: 'https://admin:s3cret@consul:8500',
        }),
        await runCli([
          'label-inspector',
          '--listen',
          '127.0.0.1:0',
          '--docker-host',
          'tcp://admin:s3cret@exa mple:2375',
        ]),
        await runCli(['label-inspector', '--listen', '127.0.0.1:0'], { DOCKER_HOST: 'tcp://admin:s3cret@%00:2375' }),
      ];
      for (const result of runs) {
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /admin:\*\*\*@/);
        assert.doesNotMatch(result.stderr, /s3cret/);
      }
    });

    it('a route URI given as an argument is quoted only as its own error names it, without query or path', async () => {
      const result = await runCli([
        'logrouter',
        'https://h:1/in/T0KPATH?filter.nope=1&token=S3C',
        '--listen',
        '127.0.0.1:0',
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /route-uri: route "https:\/\/h:1\/\*\*\*": unknown filter filter\.nope/);
      assert.doesNotMatch(result.stderr, /T0KPATH|S3C/);
    });

    it('registry URIs with a space or %00 exit 2 naming the value', async () => {
      for (const uri of ['consul://exa mple:8500', 'consul://%00:8500']) {
        const result = await runCli(['registrator', uri, '--listen', '127.0.0.1:0']);
        assert.equal(result.code, 2, result.stderr);
        assert.ok(result.stderr.includes(`registry-uri ${JSON.stringify(uri)}`), result.stderr);
      }
    });
  });

  describe('files', () => {
    it('reads a file up to its limit and no further', () => {
      const file = join(dir, 'small');
      writeFileSync(file, 'x'.repeat(100));
      assert.equal(readBoundedText(file, 100).length, 100);
      assert.throws(() => readBoundedText(file, 99), FileTooLargeError);
      assert.throws(() => readBoundedText('/dev/zero', 1 << 16), FileTooLargeError, 'a device that never ends');
    });

    it('a 200 MB policy or schema file exits 2 naming it, without being read whole', async () => {
      const big = join(dir, 'big.yaml');
      writeFileSync(big, '');
      truncateSync(big, 200 << 20); // sparse: no disk used
      const policy = await runCli([
        'security-watcher',
        'audit',
        '--policy',
        big,
        '--docker-host',
        'unix:///nonexistent.sock',
      ]);
      assert.equal(policy.code, 2, policy.stderr);
      assert.match(policy.stderr, new RegExp(`${big}.*larger than 1 MiB`));
      const schema = await runCli(['label-inspector', 'check', '--dockerfile', '/dev/null', '--schema', big]);
      assert.equal(schema.code, 2, schema.stderr);
      assert.match(schema.stderr, new RegExp(`label schema ${big}: cannot read it: larger than 1 MiB`));
    });
  });

  describe('Dockerfiles', () => {
    it('finds the final stage of 40,000 chained stages (a quadratic lookup took minutes)', () => {
      const stages = 40_000;
      let text = 'FROM busybox AS s0\nLABEL com.example.first=1\n';
      for (let i = 1; i < stages; i++) text += `FROM s${i - 1} AS s${i}\n`;
      const parsed = parseDockerfileLabels(text, {});
      assert.equal(parsed.stages.length, stages);
      assert.equal(parsed.stages.at(-1)!.parent, stages - 2);
      assert.deepEqual(parsed.finalStageLabels(), { 'com.example.first': '1' });
    });

    it('inherits 2,000 ENVs down 20,000 chained stages in linear time (copying them took 87 s and 2.4 GB)', () => {
      const stages = 20_000;
      const envs = Array.from({ length: 2000 }, (_, i) => `v${i}=x${i}`).join(' ');
      let text = `FROM busybox AS s0\nENV ${envs}\n`;
      for (let i = 1; i < stages; i++) text += `FROM s${i - 1} AS s${i}\n`;
      text += 'ARG a=late\nLABEL com.example.v="$v1999 $a"\nFROM s1 AS sibling\nLABEL com.example.v="$v0 $a"\n';
      let parsed: ReturnType<typeof parseDockerfileLabels> | undefined;
      const cpuMs = cpuMillisOf(() => (parsed = parseDockerfileLabels(text, {})));
      assert.ok(cpuMs < 5000, `${cpuMs} ms of CPU`);
      assert.deepEqual(
        parsed!.labels.map((label) => label.value),
        ['x1999 late', 'x0 $a'],
        'a stage sees what it inherits, and not what a sibling stage wrote',
      );
    });

    it('refuses stages that each write one more ENV to 2,000 inherited ones, naming the FROM where the copies pass 1 Mi', () => {
      const envs = Array.from({ length: 2000 }, (_, i) => `v${i}=x`).join(' ');
      let text = `FROM busybox AS s0\nENV ${envs}\n`;
      for (let i = 1; i < 5000; i++) text += `FROM s${i - 1} AS s${i}\nENV w${i}=1\n`;
      const lines = text.split('\n');
      assert.throws(
        () => parseDockerfileLabels(text, {}),
        (error: Error) => {
          const match = /^line (\d+): its stages inherit more than 1048576 ENV and ARG variables in all$/.exec(
            error.message,
          );
          return error instanceof DockerfileSyntaxError && lines[Number(match?.[1]) - 1]!.startsWith('FROM s');
        },
      );
    });

    it('refuses an ARG that doubles past 1 MiB, naming its line', () => {
      let text = 'FROM busybox\nARG A0=xx\n';
      for (let i = 1; i <= 40; i++) text += `ARG A${i}=$A${i - 1}$A${i - 1}\n`;
      assert.throws(
        () => parseDockerfileLabels(`${text}LABEL com.example.a="$A40"\n`, {}),
        (error: Error) =>
          error instanceof DockerfileSyntaxError &&
          /^line 22: expands to more than 1048576 characters in ARG "\$A19\$A19"$/.test(error.message),
      );
    });

    it('refuses 50,000 nested ${A:- substitutions, naming the line, instead of overflowing the stack', () => {
      const text = `FROM busybox\nLABEL com.example.a="${'${A:-'.repeat(50_000)}x${'}'.repeat(50_000)}"\n`;
      assert.throws(
        () => parseDockerfileLabels(text, {}),
        (error: Error) =>
          error instanceof DockerfileSyntaxError &&
          /^line 2: substitutions nested deeper than 64 in LABEL/.test(error.message),
      );
      assert.deepEqual(
        parseDockerfileLabels(
          `FROM busybox\nARG A=\nLABEL a="${'${A:-'.repeat(10)}x${'}'.repeat(10)}"\n`,
          {},
        ).finalStageLabels(),
        { a: 'x' },
      );
    });

    it('label-inspector check exits 2 on them', async () => {
      const file = join(dir, 'nested.Dockerfile');
      writeFileSync(file, `FROM busybox\nLABEL com.example.a="${'${A:-'.repeat(50_000)}x${'}'.repeat(50_000)}"\n`);
      const result = await runCli(['label-inspector', 'check', '--dockerfile', file]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /line 2: substitutions nested deeper than 64/);
      assert.doesNotMatch(result.stderr, /RangeError|\n\s+at /);
    });
  });

  describe('flags and failures', () => {
    for (const flag of ['--bogus', '--interal', '-interal', '--bogus=1']) {
      it(`registrator ${flag} consul://… names the unknown flag`, async () => {
        const result = await runCli(['registrator', flag, 'consul://127.0.0.1:8500']);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, new RegExp(`unknown option '${flag}'`));
        assert.doesNotMatch(result.stderr, /missing registry URI/);
      });
    }

    it('an exhausted --retry-attempts says why in one line, without a stack', async () => {
      const result = await runCli([
        'registrator',
        'consul://127.0.0.1:1',
        '--retry-attempts',
        '1',
        '--retry-interval',
        '10ms',
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'error',
      ]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^quayside: cannot reach consul agent at http:\/\/127\.0\.0\.1:1 after 2 attempts \(--retry-attempts\): .*ECONNREFUSED.*\n$/,
      );
    });
  });

  it('every option set still parses (the limits did not break a declaration)', () => {
    for (const set of [agentRuntimeOptions, eventsOptions, checkOptions])
      addOptions(new Command('x').exitOverride(), set);
  });
});

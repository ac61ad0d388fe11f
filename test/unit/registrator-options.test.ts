/** Registry URIs, registrator's flag spelling, tag lists and script splitting. */
import { strict as assert } from 'node:assert';
import { splitCommand } from '../../agents/registrator/checks';
import { registratorOptions, rewriteRegistratorArgs } from '../../agents/registrator/options';
import { splitTags } from '../../agents/registrator/tags';
import { parseRegistryUri, registryUriForms } from '../../agents/registrator/backends';
import { registratorAgent } from '../../agents/registrator';
import { runCli } from '../support/cli';

describe('registrator registry URIs', () => {
  const ok: Array<[string, Record<string, unknown>, NodeJS.ProcessEnv?]> = [
    ['consul://10.0.0.1:8501', { backend: 'consul', endpoint: { protocol: 'http', host: '10.0.0.1', port: 8501 } }],
    ['consul://consul.internal', { endpoint: { protocol: 'http', host: 'consul.internal', port: 8500 } }],
    ['consul-tls://consul:8501', { backend: 'consul', endpoint: { protocol: 'https', host: 'consul', port: 8501 } }],
    ['consul://[::1]:8500', { endpoint: { protocol: 'http', host: '::1', port: 8500 } }],
    [
      'consul-unix:///run/consul/http.sock',
      {
        backend: 'consul',
        endpoint: { protocol: 'http', host: 'localhost', port: 0, socketPath: '/run/consul/http.sock' },
      },
    ],
    ['consulkv://127.0.0.1:8500/services/web', { backend: 'consulkv', prefix: 'services/web' }],
    [
      'consulkv-unix:///run/consul.sock:/svc',
      {
        backend: 'consulkv',
        prefix: 'svc',
        endpoint: { protocol: 'http', host: 'localhost', port: 0, socketPath: '/run/consul.sock' },
      },
    ],
    ['consul:', { endpoint: { protocol: 'http', host: '127.0.0.1', port: 8500 } }],
    [
      'consul://',
      { endpoint: { protocol: 'https', host: 'c.example', port: 8443 } },
      { CONSUL_HTTP_ADDR: 'https://c.example:8443' },
    ],
  ];
  for (const [uri, expected, env] of ok) {
    it(`parses ${uri}${env ? ` with ${JSON.stringify(env)}` : ''}`, () => {
      const parsed = parseRegistryUri(uri, env ?? {});
      const { backend, ...fields } = expected;
      for (const [key, value] of Object.entries(fields))
        assert.deepEqual((parsed as unknown as Record<string, unknown>)[key], value, key);
      const connected = parsed.connect({});
      connected.close();
      if (backend) assert.match(connected.description, backend === 'consulkv' ? /^consul KV at / : /^consul agent at /);
    });
  }
  const bad: Array<[string, RegExp]> = [
    ['localhost:8500', /unknown scheme "localhost"/],
    ['http://x', /unknown scheme "http"; expected consul:\/\//],
    ['etcd://127.0.0.1:2379/x', /etcd backend is not part of quayside/],
    ['consulkv://127.0.0.1:8500', /consulkv needs a key prefix/],
    ['consul://h:99999', /is not HOST, HOST:PORT/],
    ['consul://h:8500/path', /takes no path/],
    ['consul-unix://relative.sock', /absolute socket path/],
    ['nonsense', /not a URI/],
  ];
  for (const [uri, message] of bad) it(`refuses ${uri}`, () => assert.throws(() => parseRegistryUri(uri, {}), message));

  it('takes its scheme list from the backends: help, operands and errors name every form', () => {
    const forms = registryUriForms();
    for (const form of [
      'consul://host:port',
      'consul-tls://host:port',
      'consul-unix:///path.sock',
      'consulkv://host:port/prefix',
      'consulkv-unix:///path.sock:/prefix',
    ])
      assert.ok(forms.includes(form), form);
    assert.ok(registratorOptions.registryUri.help.includes(forms));
    assert.equal(registratorAgent.operands?.description, forms);
    assert.throws(
      () => parseRegistryUri('nats://x', {}),
      (error: Error) => error.message.endsWith(`expected ${forms}`),
    );
  });
});

describe("registrator's flags", () => {
  const env = { QUAYSIDE_REGISTRY_URI: 'consul://x' };
  it('rewrites single-dash flags, keeping values and = forms', () => {
    assert.deepEqual(
      rewriteRegistratorArgs(
        ['-ip', '10.0.0.5', '-resync=30', '-useIpFromLabel', 'l', '-retry-attempts', '3', 'consul://a'],
        {},
      ),
      ['--ip', '10.0.0.5', '--resync=30', '--use-ip-from-label', 'l', '--retry-attempts', '3', 'consul://a'],
    );
  });
  it("takes registrator's names with two dashes too, as Go's flag package does", () => {
    assert.deepEqual(rewriteRegistratorArgs(['--useIpFromLabel', 'l', '--useIpFromLabel=m', 'consul://a'], {}), [
      '--use-ip-from-label',
      'l',
      '--use-ip-from-label=m',
      'consul://a',
    ]);
  });
  it('gives booleans an explicit value so a following URI is not taken for it', () => {
    assert.deepEqual(rewriteRegistratorArgs(['-internal', 'consul://a', '--cleanup', '-explicit=false'], {}), [
      '--internal=true',
      'consul://a',
      '--cleanup=true',
      '--explicit=false',
    ]);
    assert.deepEqual(rewriteRegistratorArgs(['--internal', 'false', 'consul://a'], {}), [
      '--internal',
      'false',
      'consul://a',
    ]);
    // Every boolean flag, from the declarations: the runtime's --docker-tls-verify once took the URI as its value.
    assert.deepEqual(rewriteRegistratorArgs(['--docker-tls-verify', 'consul://a', '--deregister-on-shutdown'], {}), [
      '--docker-tls-verify=true',
      'consul://a',
      '--deregister-on-shutdown=true',
    ]);
  });
  it('leaves quayside flags and the URI alone; accepts and ignores -ttl and -ttl-refresh as registrator does with Consul', () => {
    assert.deepEqual(rewriteRegistratorArgs(['--listen', ':0', '-h'], {}), ['--listen', ':0', '-h']);
    // registrator's Consul backends ignore -ttl/-ttl-refresh: accepted with a warning, after its own checks.
    const warnings: string[] = [];
    assert.deepEqual(
      rewriteRegistratorArgs(
        ['-ttl', '30', '-ttl-refresh=10', '-internal', 'consul://a'],
        {},
        (m) => void warnings.push(m),
      ),
      ['--internal=true', 'consul://a'],
    );
    assert.match(warnings.join(), /-ttl and -ttl-refresh are ignored/);
    assert.throws(
      () => rewriteRegistratorArgs(['-ttl', '30', 'consul://a'], {}, () => undefined),
      /must be specified together or not at all/,
    );
    assert.throws(
      () => rewriteRegistratorArgs(['-ttl', '10', '-ttl-refresh', '30', 'consul://a'], {}, () => undefined),
      /-ttl must be greater than -ttl-refresh/,
    );
    assert.throws(
      () => rewriteRegistratorArgs(['-ttl', 'soon', '-ttl-refresh', '3', 'consul://a'], {}, () => undefined),
      /-ttl expects whole seconds, not "soon"/,
    );
  });
  it('refuses a run with no registry URI anywhere, but not --help or the environment', () => {
    assert.throws(
      () => rewriteRegistratorArgs(['-internal', '--docker-host', 'unix:///x.sock'], {}),
      /missing registry URI/,
    );
    assert.doesNotThrow(() => rewriteRegistratorArgs(['--help'], {}));
    assert.doesNotThrow(() => rewriteRegistratorArgs([], env));
    assert.doesNotThrow(() => rewriteRegistratorArgs(['--registry-uri', 'consul://a'], {}));
  });
  it('parses -retry-interval bare numbers as milliseconds and -resync bare numbers as seconds', () => {
    assert.equal(registratorOptions.retryInterval.parse('2000'), 2000);
    assert.equal(registratorOptions.retryInterval.parse('3s'), 3000);
    assert.equal(registratorOptions.resync.parse('30'), 30_000);
    assert.equal(registratorOptions.resync.parse('0'), 0, "registrator's default, accepted");
    assert.throws(() => registratorOptions.resync.parse('100ms'), /must be 0 or at least 500ms/);
  });
  it('checks -ip and -tags', () => {
    assert.equal(registratorOptions.ip.parse('[2001:db8::1]'), '2001:db8::1');
    assert.throws(() => registratorOptions.ip.parse('0.0.0.0'), /not an address a client can reach/);
    assert.throws(() => registratorOptions.ip.parse('0:0::0'), /not an address a client can reach/, ':: written long');
    assert.equal(registratorOptions.ip.parse('2001:DB8:0::1'), '2001:db8::1', 'IPv6 in its canonical form');
    assert.throws(() => registratorOptions.ip.parse('host.example'), /IPv4 or IPv6/);
    assert.deepEqual(registratorOptions.tags.parse('a,b\\,c,,d'), ['a', 'b,c', 'd']);
    assert.throws(() => registratorOptions.tags.parse('{{.Name}}'), /templates in -tags are not supported/);
  });

  describe('on the command line', function () {
    this.timeout(30_000);
    it('-retry-attempts N gives up after N+1 failed pings and exits 1, as registrator did', async () => {
      const result = await runCli([
        'registrator',
        '-retry-attempts',
        '1',
        '-retry-interval',
        '50',
        'consul://127.0.0.1:1',
        '--listen',
        '127.0.0.1:0',
        '--docker-host',
        'unix:///nonexistent.sock',
      ]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /cannot reach consul agent at http:\/\/127\.0\.0\.1:1 after 2 attempts \(--retry-attempts\): .*ECONNREFUSED/,
      );
      assert.equal(result.stderr.match(/connecting to the registry/g)?.length, 2);
    });

    it('exits 2 naming the problem: no URI, bad URI, bad -deregister, URI given twice', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['registrator'], /missing registry URI/],
        [['registrator', 'zookeeper://zk/x'], /registry-uri "zookeeper:\/\/zk\/x": registrator's zookeeper backend/],
        [['registrator', '-deregister', 'sometimes', 'consul://a'], /--deregister.*expected one of always, on-success/],
        [['registrator', '--registry-uri', 'consul://a', 'consul://b'], /either as arguments or with --registry-uri/],
      ];
      for (const [args, message] of cases) {
        const result = await runCli([...args, '--listen', '127.0.0.1:0']);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }
    });
  });
});

describe('registrator tag lists and script arguments', () => {
  it('splits tags on unescaped commas, in order', () =>
    assert.deepEqual(splitTags(' a , b\\,c ,,z'), ['a', 'b,c', 'z']));
  const commands: Array<[string, string[]]> = [
    ['nc -z 10.0.0.1 80', ['nc', '-z', '10.0.0.1', '80']],
    [`sh -c 'curl -f http://x/ || exit 2'`, ['sh', '-c', 'curl -f http://x/ || exit 2']],
    [`echo "a \\"b\\" c" d\\ e`, ['echo', 'a "b" c', 'd e']],
    [`say ''`, ['say', '']],
  ];
  for (const [text, words] of commands) it(`splits ${text}`, () => assert.deepEqual(splitCommand(text), words));
  it('refuses an unterminated quote', () => assert.throws(() => splitCommand(`echo 'x`), /unterminated ' quote/));
});

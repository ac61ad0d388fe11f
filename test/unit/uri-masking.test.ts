/** Passwords in URIs as users write them (unencoded, malformed), masked in one place for every message and ID. */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRouteUri, RouteError } from '../../agents/logrouter/route';
import { parseRegistryUri } from '../../agents/registrator/backends';
import { redactText } from '../../agents/security-watcher/redact';
import { withoutPassword } from '../../shared/config/uri';
import { agentArgs, capture, exited, runCli, startCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';

/** Passwords that a per-character regex stops in or runs past. */
const HOSTILE_PASSWORDS = [
  'p@ss',
  'p@ss@word',
  'pa:ss',
  'pa/ss',
  'p%40ss',
  'pa#ss',
  'pa?ss',
  '1234/5678',
  'p@h:1/x?y#z',
  '',
];

/** Deterministic strings over the characters that end URI parts: every split a user may type. */
function generatedPasswords(count: number): string[] {
  const alphabet = 'a1@:/?#%$=&.[]';
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + (next() % 12) }, () => alphabet[next() % alphabet.length]).join(''),
  );
}

const TEMPLATES = [
  (pw: string) => [`redis://:${pw}@10.0.0.5:6379/2`, 'redis://:***@10.0.0.5:6379/2'],
  (pw: string) => [`https://bob:${pw}@logs.example/in?x=1#top`, 'https://bob:***@logs.example/in?x=1#top'],
  (pw: string) => [`redis://:${pw}@[::1]:6379`, 'redis://:***@[::1]:6379'],
  (pw: string) => [`redis://:${pw}@[fe80::1%25eth0]:6379/0`, 'redis://:***@[fe80::1%25eth0]:6379/0'],
  // (`admin://…` would be a scheme.)
  (pw: string) => [`admin:x${pw}@consul:8500`, 'admin:***@consul:8500'],
  (pw: string) => [`tcp://admin:${pw}@exa mple:2375`, 'tcp://admin:***@exa mple:2375'],
  (pw: string) => [`https://me@corp.example:${pw}@host/x@y!`, 'https://me@corp.example:***@host/x@y!'],
];

describe('withoutPassword', () => {
  it('masks every byte of a password holding @ : / % # ? (userinfo ends at the last @ a host follows)', () => {
    for (const password of [...HOSTILE_PASSWORDS, ...generatedPasswords(2_000)]) {
      for (const template of TEMPLATES) {
        const [uri, expected] = template(password);
        assert.equal(withoutPassword(uri!), expected, uri);
      }
    }
  });

  it('leaves a URI without a password as it is, @ in its path or query included', () => {
    for (const uri of [
      'redis://127.0.0.1:6379',
      'ssh://user@host',
      'ssh://git@host:22/repo',
      'syslog://[::1]:514',
      'syslog+tls://logs-01.loggly.com:6514?structured_data=TOKEN@41058',
      'http://logs.example:8080/in?mail=a@b.org&x=1',
      'http://logs.example/in?owner=bob@example.com',
      'unix:///var/run/docker.sock',
      'consul://',
      '',
    ])
      assert.equal(withoutPassword(uri), uri);
  });

  it('masks a malformed URI too, and masks too much rather than show a byte', () => {
    assert.equal(withoutPassword('redis://:pa/ss@exa mple:6379'), 'redis://:***@exa mple:6379', 'no valid host');
    assert.equal(withoutPassword('redis://:p@ss@'), 'redis://:***@', 'no host at all');
    assert.equal(withoutPassword('user:p@ss@consul:8500'), 'user:***@consul:8500', 'no scheme');
    assert.equal(
      withoutPassword('http://h:80/in?mail=a@b.org'),
      'http://h:***@b.org',
      'read as the password 80/in?mail=a: masking too much, never showing a password',
    );
  });
});

describe('masked URIs in route errors, route IDs and registry URI errors', () => {
  /** The RouteError message of a URI whose query has a misspelt filter: it quotes the route. */
  function quoted(uri: string): string {
    try {
      parseRouteUri(`${uri}?filter.nmae=x`);
    } catch (error) {
      assert.ok(error instanceof RouteError, String(error));
      return error.message;
    }
    assert.fail(`${uri} was accepted`);
  }

  it('quotes a route without any byte of its password', () => {
    for (const password of HOSTILE_PASSWORDS.filter((p) => p !== '')) {
      const message = quoted(`redis://:${password}@127.0.0.1:6379`);
      assert.ok(message.startsWith('route "redis://:***@127.0.0.1:6379": unknown filter filter.nmae'), message);
    }
    assert.match(quoted('https://bob:p@ss@logs.example/in'), /^route "https:\/\/bob:\*\*\*@logs\.example\/\*\*\*"/);
  });

  it('reads an unencoded password where masking does, so the address is the host', () => {
    for (const password of HOSTILE_PASSWORDS.filter((p) => p !== '')) {
      const spec = parseRouteUri(`redis://:${password}@127.0.0.1:6379/logs`);
      assert.equal(spec.address, '127.0.0.1:6379', password);
      assert.equal(spec.path, '/logs', password);
      assert.equal(spec.options.password, password.replace('%40', '@'), password);
    }
    const spec = parseRouteUri('redis://:${PW}@127.0.0.1:6379/logs', { PW: 'pa/ss' });
    assert.deepEqual([spec.address, spec.options.password], ['127.0.0.1:6379', 'pa/ss'], 'a password from a variable');
  });

  it('keeps the route IDs that earlier releases gave URIs with usual passwords, tokens and variables', () => {
    for (const [uri, id] of [
      ['syslog+tls://logs-01.loggly.com:6514?structured_data=TOKEN@41058', '40e5f1b397a2'],
      ['redis://:${PW}@127.0.0.1:6379/logs', '1234f5614e01'],
      ['https://bob:hunter2@logs.example/in?filter.name=web', '666b40d69f81'],
    ])
      assert.equal(parseRouteUri(uri!, { PW: 'x' }).id, id, uri);
  });

  it('computes a route ID without any byte of the password', () => {
    const id = parseRouteUri('redis://:other@127.0.0.1:6379/logs').id;
    for (const password of HOSTILE_PASSWORDS)
      assert.equal(parseRouteUri(`redis://:${password}@127.0.0.1:6379/logs`).id, id, password);
  });

  it('quotes a registry URI without the head of a password that holds a /', () => {
    assert.throws(
      () => parseRegistryUri('consul://user:pa/ss@consul:8500', {}),
      (error: Error) => error.message === '"user:***@consul:8500" is not HOST, HOST:PORT or [IPv6]:PORT',
    );
  });
});

describe("URLs in the security-watcher's command lines", () => {
  it('masks every byte of a password in a URL anywhere in a word, quoted or as a flag value', () => {
    for (const password of HOSTILE_PASSWORDS.filter((p) => p !== '')) {
      for (const [command, shown] of [
        [`celery worker --broker redis://:${password}@db:6379/0`, 'celery worker --broker redis://:***@db:6379/0'],
        [
          `sh -c 'curl "https://bob:${password}@api.example/x?sig=s1g"'`,
          `sh -c 'curl "https://bob:***@api.example/x?sig=***"'`,
        ],
        [`app --db-url=postgres://app:${password}@db/shop`, 'app --db-url=postgres://app:***@db/shop'],
      ])
        assert.equal(redactText(command!), shown, command);
    }
  });
});

describe('a Docker host with a password in logs, /readyz and errors', function () {
  this.timeout(60_000); // starts of the CLI on a loaded machine
  // Nothing listens on port 1: the engine cannot be reached, and every message names it.
  const DOCKER_HOST = 'tcp://ops:s3c@ret@127.0.0.1:1';
  const SHOWN = 'tcp://ops:***@127.0.0.1:1';

  it("shows it masked in /readyz's details and the start log line", async () => {
    const port = await freePort();
    const stateDir = mkdtempSync(join(tmpdir(), 'qs-mask-'));
    const child = startCli(agentArgs('label-inspector', { port, stateDir, jsonLogs: true }), { DOCKER_HOST });
    const output = capture(child);
    try {
      const readiness = await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        assert.equal(response.status, 503);
        return response.text();
      }, 30_000);
      assert.ok(readiness.includes(`cannot reach Docker at ${SHOWN}`), readiness);
      await eventually(() => assert.match(output.stderr(), /"message":"quayside started"/), 10_000);
    } finally {
      child.kill('SIGTERM');
    }
    await exited(child);
    const started = output
      .stderr()
      .split('\n')
      .find((line) => line.includes('quayside started'))!;
    assert.equal(JSON.parse(started).docker, SHOWN);
    assert.doesNotMatch(output.stderr(), /s3c/);
  });

  it('shows it masked when a one-off command cannot ask Docker', async () => {
    const result = await runCli(['security-watcher', 'audit'], { DOCKER_HOST });
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(`cannot ask Docker at ${SHOWN}`), result.stderr);
    assert.doesNotMatch(result.stderr, /s3c/);
  });
});

import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  addOptions,
  booleanOption,
  choiceOption,
  durationOption,
  hostPortOption,
  integerOption,
  optionalStringOption,
  parseHostPort,
  stringOption,
  type OptionDecls,
} from '../../shared/config/options';

/** Parses argv with the declarations the way the CLI does, returning values or the error text. */
function parse(decls: OptionDecls, argv: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let stderr = '';
  const command = addOptions(new Command('probe'), decls)
    .exitOverride()
    .configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined })
    .action(() => undefined);
  try {
    command.parse(argv, { from: 'user' });
    return { values: command.opts(), stderr };
  } catch (error) {
    return { error: error as Error & { exitCode: number }, stderr };
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

const decls = {
  listen: hostPortOption({ help: 'listen', env: 'QS_T_LISTEN', default: { host: '0.0.0.0', port: 9477 } }),
  retries: integerOption({ help: 'retries', env: 'QS_T_RETRIES', default: 3, min: 0, max: 10 }),
  interval: durationOption({ help: 'interval', env: 'QS_T_INTERVAL', default: 5_000 }),
  verbose: booleanOption({ help: 'verbose', env: 'QS_T_VERBOSE', default: false }),
  mode: choiceOption({ help: 'mode', env: 'QS_T_MODE', default: 'audit', choices: ['audit', 'enforce'] as const }),
  name: stringOption({
    help: 'name',
    env: 'QS_T_NAME',
    default: 'x',
    pattern: /^[a-z]+$/,
    expect: 'lower-case letters',
  }),
};

describe('option declarations', () => {
  it('uses defaults when neither flag nor environment is given', () => {
    const { values } = parse(decls, []);
    assert.deepEqual(values, {
      listen: { host: '0.0.0.0', port: 9477 },
      retries: 3,
      interval: 5_000,
      verbose: false,
      mode: 'audit',
      name: 'x',
    });
  });

  it('takes the environment over the default and the flag over the environment', () => {
    const env = { QS_T_RETRIES: '5', QS_T_MODE: 'enforce', QS_T_VERBOSE: 'true', QS_T_INTERVAL: '2m' };
    assert.deepEqual(parse(decls, [], env).values?.retries, 5);
    const { values } = parse(decls, ['--retries', '7', '--verbose', 'false'], env);
    assert.equal(values?.retries, 7);
    assert.equal(values?.verbose, false);
    assert.equal(values?.mode, 'enforce');
    assert.equal(values?.interval, 120_000);
  });

  it('reads durations in Go form (1m30s), as container settings and registrator users write them', () => {
    assert.equal(parse(decls, ['--interval', '1m30s']).values?.interval, 90_000);
    assert.equal(parse(decls, [], { QS_T_INTERVAL: '1h0m0.5s' }).values?.interval, 3_600_500);
    assert.equal(parse(decls, ['--interval', '45']).values?.interval, 45_000);
  });

  it('reads a bare boolean flag as true and false from the environment as false', () => {
    assert.equal(parse(decls, ['--verbose']).values?.verbose, true);
    assert.equal(parse(decls, [], { QS_T_VERBOSE: 'false' }).values?.verbose, false);
    assert.equal(parse(decls, [], { QS_T_VERBOSE: '0' }).values?.verbose, false);
  });

  for (const [argv, env, expected] of [
    [['--retries', 'many'], {}, /option '--retries <n>' argument 'many' is invalid\. expected an integer/],
    [['--retries', '11'], {}, /'--retries <n>' argument '11' is invalid\. must be at most 10/],
    [[], { QS_T_RETRIES: '-1' }, /'--retries <n>' value '-1' from env 'QS_T_RETRIES' is invalid\. must be at least 0/],
    [
      ['--interval', 'soon'],
      {},
      /'--interval <duration>' argument 'soon' is invalid\. expected a duration such as 500ms/,
    ],
    [['--mode', 'block'], {}, /'--mode <audit\|enforce>' argument 'block' is invalid\. expected one of audit, enforce/],
    [
      [],
      { QS_T_VERBOSE: 'maybe' },
      /'--verbose \[true\|false\]' value 'maybe' from env 'QS_T_VERBOSE' is invalid\. expected true or false/,
    ],
    [['--listen', 'localhost'], {}, /'--listen <host:port>' argument 'localhost' is invalid\. expected HOST:PORT/],
    [['--listen', '1.2.3.4:70000'], {}, /argument '1\.2\.3\.4:70000' is invalid/],
    [['--name', 'Bad1'], {}, /'--name <value>' argument 'Bad1' is invalid\. expected lower-case letters/],
  ] as Array<[string[], Record<string, string>, RegExp]>) {
    it(`rejects ${argv.join(' ') || JSON.stringify(env)} naming the option and the value`, () => {
      const { error, stderr } = parse(decls, argv, env);
      assert.ok(error, 'expected a parse error');
      assert.match(stderr, expected);
    });
  }

  it('rejects unknown options', () => {
    const { error, stderr } = parse(decls, ['--nope']);
    assert.ok(error);
    assert.match(stderr, /unknown option '--nope'/);
  });

  it('puts flag, environment variable and default in the help text', () => {
    const command = addOptions(new Command('probe'), decls);
    const help = command.helpInformation();
    assert.match(help, /--listen <host:port>\s+listen \(default: 0\.0\.0\.0:9477, env: QS_T_LISTEN\)/);
    assert.match(help, /--interval <duration>\s+interval \(at most 168h\) \(default: 5s, env:\s+QS_T_INTERVAL\)/);
  });
});

describe('parseHostPort', () => {
  it('reads host:port, :port and bracketed IPv6', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9477'), { host: '127.0.0.1', port: 9477 });
    assert.deepEqual(parseHostPort(':80'), { host: '0.0.0.0', port: 80 });
    assert.deepEqual(parseHostPort('[::1]:9090'), { host: '::1', port: 9090 });
    assert.deepEqual(parseHostPort('node-1.example:0'), { host: 'node-1.example', port: 0 });
  });
  it('rejects an IPv6 address without brackets', () => {
    assert.throws(() => parseHostPort('::1:9090'), /\[IPv6\]:PORT/);
  });
});

describe('secrets from files (<VARIABLE>_FILE)', () => {
  const secretDecls = {
    token: optionalStringOption({ help: 'token', env: 'QS_T_TOKEN', secret: true }),
    plain: optionalStringOption({ help: 'plain', env: 'QS_T_PLAIN' }),
  };
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'qs-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads a secret option from the file its _FILE variable names, without the final line break', () => {
    assert.equal(parse(secretDecls, [], { QS_T_TOKEN_FILE: file('token', 's3cret\n') }).values?.token, 's3cret');
    assert.equal(parse(secretDecls, [], { QS_T_TOKEN_FILE: file('token', 'a b\r\n') }).values?.token, 'a b');
  });

  it('keeps flag > environment: the flag wins over the file, the variable and its file together are refused', () => {
    const path = file('token', 'from-file');
    assert.equal(parse(secretDecls, ['--token', 'from-flag'], { QS_T_TOKEN_FILE: path }).values?.token, 'from-flag');
    assert.match(
      String(parse(secretDecls, [], { QS_T_TOKEN: 'x', QS_T_TOKEN_FILE: path }).error),
      /QS_T_TOKEN and QS_T_TOKEN_FILE are both set/,
    );
  });

  it('names the variable and the file when it is missing, unreadable, empty or too large, never the content', () => {
    assert.match(
      String(parse(secretDecls, [], { QS_T_TOKEN_FILE: join(dir, 'nope') }).error),
      /QS_T_TOKEN_FILE: the file \S+nope cannot be read \(ENOENT\)/,
    );
    assert.match(
      String(parse(secretDecls, [], { QS_T_TOKEN_FILE: file('empty', '\n') }).error),
      /QS_T_TOKEN_FILE: the file \S+ is empty/,
    );
    const big = parse(secretDecls, [], { QS_T_TOKEN_FILE: file('big', 'k'.repeat(70_000)) }).error;
    assert.match(String(big), /QS_T_TOKEN_FILE: the file \S+ is larger than 64 KiB/);
    assert.doesNotMatch(String(big), /kkkk/);
    if (process.getuid?.() !== 0) {
      const locked = file('locked', 'x');
      chmodSync(locked, 0);
      assert.match(String(parse(secretDecls, [], { QS_T_TOKEN_FILE: locked }).error), /cannot be read \(EACCES\)/);
    }
  });

  it('applies only to options declared secret', () => {
    assert.equal(parse(secretDecls, [], { QS_T_PLAIN_FILE: file('plain', 'x') }).values?.plain, undefined);
  });
});

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DockerfileSyntaxError,
  parseDockerfileLabels,
  type DockerfileLabel,
} from '../../agents/label-inspector/dockerfile';
import { cpuMillisOf } from '../support/cpu-time';

const FIXTURES = join(__dirname, '..', 'fixtures', 'dockerfiles');

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** Labels as compact rows: [stage, line, key, value, unresolved]. */
function rows(labels: DockerfileLabel[]): Array<[number, number, string, string, boolean]> {
  return labels.map((label) => [label.stage, label.line, label.key, label.value, label.unresolved]);
}

/** The final stage's labels of a one-stage Dockerfile built from `lines`. */
function finalLabels(lines: string[], buildArgs?: Record<string, string>): Record<string, string> {
  return parseDockerfileLabels(['FROM alpine', ...lines].join('\n'), buildArgs).finalStageLabels();
}

function label(
  lines: string[],
  key: string,
  buildArgs?: Record<string, string>,
): Pick<DockerfileLabel, 'value' | 'unresolved'> {
  const found = parseDockerfileLabels(['FROM alpine', ...lines].join('\n'), buildArgs)
    .labels.filter((l) => l.key === key)
    .at(-1);
  assert.ok(found, `no label ${key}`);
  return { value: found.value, unresolved: found.unresolved };
}

function syntaxError(text: string): DockerfileSyntaxError {
  try {
    parseDockerfileLabels(text);
  } catch (error) {
    if (error instanceof DockerfileSyntaxError) return error;
    throw error;
  }
  assert.fail(`parsed without error:\n${text}`);
}

describe('parseDockerfileLabels', () => {
  describe('fixtures', () => {
    it('multi-stage: global ARGs only where redeclared, ENV and ARG in scope, stages built on stages', () => {
      const parsed = parseDockerfileLabels(fixture('multi-stage.Dockerfile'));
      assert.deepEqual(parsed.stages, [
        { index: 0, name: 'build', from: 'node:20.19-alpine', line: 6 },
        { index: 1, name: 'base', from: '${REGISTRY}/runtime:latest', line: 16 },
        { index: 2, name: 'release', from: 'base', line: 21, parent: 1 },
      ]);
      assert.deepEqual(rows(parsed.labels), [
        [0, 8, 'stage.sees-node-version', '${NODE_VERSION}', true],
        [0, 14, 'com.example.build-node', '20.19', false],
        [0, 14, 'com.example.home', '/srv/app', false],
        [1, 18, 'org.opencontainers.image.vendor', 'Example Corp', false],
        [1, 19, 'com.example.tz', 'UTC', false],
        [2, 26, 'org.opencontainers.image.version', '0.0.0-dev', false],
        [2, 27, 'org.opencontainers.image.revision', 'unknown', false],
        [2, 28, 'org.opencontainers.image.created', '${BUILD_DATE}', true],
        [2, 29, 'org.opencontainers.image.title', 'quayside demo', false],
        [2, 30, 'com.example.release-channel', '${CHANNEL:-stable}', true],
        [2, 31, 'org.opencontainers.image.vendor', 'Example Corp.', false],
      ]);
      assert.deepEqual(parsed.finalStageLabels(), {
        'org.opencontainers.image.vendor': 'Example Corp.',
        'com.example.tz': 'UTC',
        'org.opencontainers.image.version': '0.0.0-dev',
        'org.opencontainers.image.revision': 'unknown',
        'org.opencontainers.image.created': '${BUILD_DATE}',
        'org.opencontainers.image.title': 'quayside demo',
        'com.example.release-channel': '${CHANNEL:-stable}',
      });
    });

    it('multi-stage with build args: they override defaults and resolve what was unknown', () => {
      const parsed = parseDockerfileLabels(fixture('multi-stage.Dockerfile'), {
        NODE_VERSION: '22.1',
        REGISTRY: 'registry.example.com',
        BUILD_DATE: '2025-01-02T03:04:05Z',
        VERSION: '1.4.0',
        CHANNEL: 'ignored: never declared with ARG',
      });
      assert.equal(parsed.stages[0]?.from, 'node:22.1-alpine');
      assert.equal(parsed.stages[1]?.from, 'registry.example.com/runtime:latest');
      const labels = parsed.finalStageLabels();
      assert.equal(labels['org.opencontainers.image.version'], '1.4.0');
      assert.equal(labels['org.opencontainers.image.created'], '2025-01-02T03:04:05Z');
      assert.equal(labels['com.example.release-channel'], '${CHANNEL:-stable}');
    });

    it('backtick escape directive: ` continues lines and escapes, backslashes are literal', () => {
      const parsed = parseDockerfileLabels(fixture('backtick-escape.Dockerfile'));
      assert.deepEqual(rows(parsed.labels), [
        [0, 6, 'com.example.install-dir', 'C:\\Program Files\\Example', false],
        [0, 7, 'com.example.data-dir', 'C:\\data\\example', false],
        [0, 8, 'com.example.quote', 'say "hi"', false],
        [0, 9, 'com.example.dollar', '$NOT_A_VAR', false],
      ]);
    });

    it('continuations: comment and blank lines inside are dropped, each pair keeps its own line', () => {
      assert.deepEqual(rows(parseDockerfileLabels(fixture('continuations.Dockerfile')).labels), [
        [0, 3, 'com.example.a', 'one', false],
        [0, 6, 'com.example.b', 'two', false],
        [0, 8, 'com.example.c', 'three words', false],
        [0, 9, 'com.example.description', 'a long description continued on the next line', false],
        [0, 11, 'com.example.trailing', 'blanks', false],
        [0, 12, 'com.example.after-blanks', 'yes', false],
        // An escaped escape character at the end does not continue the line.
        [0, 13, 'com.example.escaped-backslash', 'ends\\', false],
        [0, 14, 'com.example.next', 'line', false],
      ]);
    });

    it('CRLF line ends', () => {
      assert.deepEqual(rows(parseDockerfileLabels(fixture('crlf.Dockerfile')).labels), [
        [0, 2, 'com.example.crlf', 'yes', false],
        [0, 3, 'com.example.second', '2', false],
      ]);
    });

    it('legacy forms: LABEL key value words, ENV key value, any instruction case', () => {
      assert.deepEqual(rows(parseDockerfileLabels(fixture('legacy.Dockerfile')).labels), [
        [0, 5, 'maintainer', 'Jane Doe <jane@example.com>', false],
        [0, 6, 'description', 'A legacy image  with hello   wide   world', false],
        // PATH comes from the base image, which we cannot see.
        [0, 7, 'com.example.path', '$PATH', true],
        [0, 8, 'com.example.lower', 'case-insensitive', false],
        [0, 9, 'com.example.mixed', 'Case', false],
      ]);
    });

    it('quoting: single quotes literal, double quotes substitute, escapes, unicode', () => {
      assert.deepEqual(parseDockerfileLabels(fixture('quoting.Dockerfile')).finalStageLabels(), {
        'com.example.key with spaces': 'single quoted $OWNER stays',
        'com.example.double': 'owner is platform-team',
        'com.example.escaped-dollar': '$OWNER',
        'com.example.escaped-in-double': '$OWNER costs "nothing"',
        'com.example.backslash-n': 'line1\\nline2',
        'com.example.json': '{"tier": "gold", "replicas": 3}',
        'com.example.equals': 'a=b=c',
        'com.example.empty': '',
        'com.example.bare-empty': '',
        'com.example.braces': 'platform-teams',
        'com.example.mixed': 'abc d',
        'com.example.unicode': 'Grüße aus Köln – 東京 🚢',
        'com.example.rtl': 'שלום',
        'com.example.ключ': 'значение',
      });
    });

    it('heredoc bodies are data, not instructions', () => {
      assert.deepEqual(rows(parseDockerfileLabels(fixture('heredoc.Dockerfile')).labels), [
        [0, 9, 'com.example.after-heredoc', 'yes', false],
      ]);
    });
  });

  describe('parser directives', () => {
    const cases: Array<[string, string[], Record<string, string>]> = [
      ['escape=` makes \\ literal', ['# escape=`', 'FROM alpine', 'LABEL a=C:\\x `', '  b=2'], { a: 'C:\\x', b: '2' }],
      [
        'directive names and spacing are loose',
        ['#   ESCAPE =  `  ', 'FROM alpine', 'LABEL a=1 `', 'b=2'],
        { a: '1', b: '2' },
      ],
      [
        'syntax and check directives are accepted and ignored',
        ['# syntax=docker/dockerfile:1', '# check=skip=all', '# escape=`', 'FROM alpine', 'LABEL a=`"'],
        { a: '"' },
      ],
      ['after a comment it is only a comment', ['# my image', '# escape=`', 'FROM alpine', 'LABEL a=`b'], { a: '`b' }],
      ['after a blank line it is only a comment', ['', '# escape=`', 'FROM alpine', 'LABEL a=`b'], { a: '`b' }],
      ['after an instruction it is only a comment', ['FROM alpine', '# escape=`', 'LABEL a=`b'], { a: '`b' }],
      ['a byte-order mark is ignored', ['\uFEFF# escape=`', 'FROM alpine', 'LABEL a=\\b'], { a: '\\b' }],
    ];
    for (const [name, lines, expected] of cases) {
      it(name, () => assert.deepEqual(parseDockerfileLabels(lines.join('\n')).finalStageLabels(), expected));
    }
  });

  describe('words and quoting', () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['several pairs', 'LABEL a=1 b=2   c=3', { a: '1', b: '2', c: '3' }],
      ['quoted key and value', `LABEL "k 3"='v3' "k4"="v 4"`, { 'k 3': 'v3', k4: 'v 4' }],
      ['escaped blank joins a word', 'LABEL a=one\\ two', { a: 'one two' }],
      ['escaped quote outside quotes', 'LABEL a=\\"x\\"', { a: '"x"' }],
      ['in double quotes only " $ and \\ are escapable', 'LABEL a="\\"\\$\\\\\\t"', { a: '"$\\\\t' }],
      ['single quotes keep backslashes', "LABEL a='\\\\n \\'", { a: '\\\\n \\' }],
      ['quotes glue to their word', `LABEL a=x"y z"'w'`, { a: 'xy zw' }],
      ['escaped newline inside double quotes joins the lines', 'LABEL a="one \\\ntwo"', { a: 'one two' }],
      ['NBSP separates words, as Go unicode.IsSpace does', 'LABEL a=1\u00A0b=2', { a: '1', b: '2' }],
      ['the pair splits at the first =', 'LABEL url=http://x/?a=b', { url: 'http://x/?a=b' }],
      [
        'legacy form keeps inner spacing and removes quotes',
        'LABEL note  "quoted  part"   tail  ',
        { note: 'quoted  part   tail' },
      ],
      ['legacy form with one word value', 'LABEL version 1.0', { version: '1.0' }],
      ['trailing escape at the end of the file is dropped', 'LABEL a=b\\', { a: 'b' }],
      ['a later value of the same key wins', 'LABEL a=1\nLABEL b=2 a=3', { a: '3', b: '2' }],
      ['__proto__ is an ordinary key', 'LABEL __proto__=x constructor=y', { ['__proto__']: 'x', constructor: 'y' }],
    ];
    for (const [name, instruction, expected] of cases) {
      it(name, () => {
        const labels = finalLabels([instruction]);
        assert.deepEqual(Object.entries(labels), Object.entries(expected));
        assert.equal(Object.getPrototypeOf(labels), Object.prototype);
      });
    }

    it('a JSON value survives single quotes unchanged', () => {
      const value = '{"a": [1, 2], "b": {"c": "d e"}}';
      assert.deepEqual(
        JSON.parse(finalLabels([`LABEL com.example.json='${value}'`])['com.example.json'] ?? ''),
        JSON.parse(value),
      );
    });
  });

  describe('variables', () => {
    const cases: Array<[string, string[], string, Record<string, string> | undefined, string, boolean]> = [
      ['ARG default', ['ARG V=1', 'LABEL v=$V'], 'v', undefined, '1', false],
      ['build arg overrides the default', ['ARG V=1', 'LABEL v=$V'], 'v', { V: '2' }, '2', false],
      ['ARG without default and no build arg is unknown', ['ARG V', 'LABEL v=$V'], 'v', undefined, '$V', true],
      ['ARG without default takes the build arg', ['ARG V', 'LABEL v=${V}'], 'v', { V: 'x' }, 'x', false],
      ['build args only count when declared', ['LABEL v=$V'], 'v', { V: 'x' }, '$V', true],
      [
        'inherited Object properties are not build args',
        ['ARG toString', 'LABEL v=$toString'],
        'v',
        {},
        '$toString',
        true,
      ],
      ['ENV k=v', ['ENV A=1 B=two', 'LABEL v=$A-$B'], 'v', undefined, '1-two', false],
      ['ENV legacy form', ['ENV A one two', 'LABEL v="$A"'], 'v', undefined, 'one two', false],
      [
        'ENV values see the variables from before the instruction',
        ['ENV A=old', 'ENV A=new B=$A', 'LABEL v=$B'],
        'v',
        undefined,
        'old',
        false,
      ],
      ['ENV after ARG wins', ['ARG A=arg', 'ENV A=env', 'LABEL v=$A'], 'v', undefined, 'env', false],
      ['ARG after ENV wins, as in BuildKit', ['ENV A=env', 'ARG A=arg', 'LABEL v=$A'], 'v', undefined, 'arg', false],
      [
        'an unknown variable poisons what is built from it',
        ['ARG V', 'ENV W=prefix-$V', 'LABEL v=$W'],
        'v',
        undefined,
        '$W',
        true,
      ],
      [':- uses the default for empty', ['ARG V=', 'LABEL v=${V:-dflt}'], 'v', undefined, 'dflt', false],
      ['- keeps an empty value', ['ARG V=', 'LABEL v=[${V-dflt}]'], 'v', undefined, '[]', false],
      [':+ uses the alternative when set', ['ARG V=1', 'LABEL v=${V:+yes}'], 'v', undefined, 'yes', false],
      [':+ is empty when empty', ['ARG V=', 'LABEL v=[${V:+yes}]'], 'v', undefined, '[]', false],
      ['nested substitution in the default', ['ARG A=a', 'ARG B=', 'LABEL v=${B:-${A}z}'], 'v', undefined, 'az', false],
      ['an unused default does not make it unresolved', ['ARG A=a', 'LABEL v=${A:-$NOPE}'], 'v', undefined, 'a', false],
      [
        'an unknown variable with a default stays as written',
        ['LABEL v=${NOPE:-x}'],
        'v',
        undefined,
        '${NOPE:-x}',
        true,
      ],
      ['quotes inside the default are removed', ['ARG B=', 'LABEL v=${B:-"a b"}'], 'v', undefined, 'a b', false],
      ['pattern operators are not evaluated', ['ARG A=v1.2', 'LABEL v=${A#v}'], 'v', undefined, '${A#v}', true],
      ['$ without a name is literal', ['LABEL v="cost: 5$ / $"'], 'v', undefined, 'cost: 5$ / $', false],
      ['names take letters, digits and _', ['ARG A_1=x', 'LABEL v=$A_1.$A_1-'], 'v', undefined, 'x.x-', false],
      ['escaped $ is literal', ['ARG A=x', 'LABEL v=\\$A'], 'v', undefined, '$A', false],
      ['single quotes do not substitute', ['ARG A=x', "LABEL v='$A'"], 'v', undefined, '$A', false],
      [
        'keys are substituted too',
        ['ARG NS=com.example', 'LABEL ${NS}.team=core'],
        'com.example.team',
        undefined,
        'core',
        false,
      ],
      ['unicode variable names', ['ARG ÄPFEL=grün', 'LABEL v=$ÄPFEL'], 'v', undefined, 'grün', false],
    ];
    for (const [name, lines, key, buildArgs, value, unresolved] of cases) {
      it(name, () => assert.deepEqual(label(lines, key, buildArgs), { value, unresolved }));
    }

    it('a global ARG is visible in a stage only when redeclared there', () => {
      const text = ['ARG V=1', 'FROM alpine', 'LABEL before=$V', 'ARG V', 'LABEL after=$V'].join('\n');
      assert.deepEqual(rows(parseDockerfileLabels(text).labels), [
        [0, 3, 'before', '$V', true],
        [0, 5, 'after', '1', false],
      ]);
      assert.equal(parseDockerfileLabels(text, { V: '9' }).finalStageLabels().after, '9');
    });

    it('a global ARG is visible in FROM; each stage starts without the ARGs of the previous one', () => {
      const text = [
        'ARG TAG=3.20',
        'FROM alpine:$TAG AS one',
        'ARG LOCAL=1',
        'FROM alpine:${TAG}',
        'LABEL local=$LOCAL',
      ].join('\n');
      const parsed = parseDockerfileLabels(text);
      assert.deepEqual(
        parsed.stages.map((stage) => stage.from),
        ['alpine:3.20', 'alpine:3.20'],
      );
      assert.deepEqual(rows(parsed.labels), [[1, 5, 'local', '$LOCAL', true]]);
    });

    it('a stage built on another inherits its ENV and labels, but not its ARGs', () => {
      const text = [
        'FROM alpine AS Base',
        'ARG A=arg',
        'ENV E=env',
        'LABEL from.base=1 shared=base',
        'FROM base',
        'LABEL e=$E a=$A shared=final',
      ].join('\n');
      const parsed = parseDockerfileLabels(text);
      assert.deepEqual(parsed.stages[1], { index: 1, from: 'base', line: 5, parent: 0 });
      assert.deepEqual(parsed.finalStageLabels(), { 'from.base': '1', shared: 'final', e: 'env', a: '$A' });
    });

    it('labels of a stage the final stage is not built on are not in the final image', () => {
      const text = ['FROM alpine AS build', 'LABEL build.only=1', 'FROM scratch', 'LABEL final=1'].join('\n');
      assert.deepEqual(parseDockerfileLabels(text).finalStageLabels(), { final: '1' });
    });
  });

  describe('instructions that are not LABEL', () => {
    it('ONBUILD LABEL is for child images, not this one', () => {
      assert.deepEqual(finalLabels(['ONBUILD LABEL child=1', 'LABEL own=1']), { own: '1' });
    });

    it('MAINTAINER sets no label', () => {
      assert.deepEqual(finalLabels(['MAINTAINER someone']), {});
    });

    it('ONBUILD RUN heredocs are skipped too', () => {
      assert.deepEqual(finalLabels(['ONBUILD RUN <<X', 'LABEL inside=1', 'X', 'LABEL own=1']), { own: '1' });
    });

    it('a "<<" inside quotes is not a heredoc', () => {
      assert.deepEqual(finalLabels(['RUN echo "<<EOF"', 'LABEL own=1']), { own: '1' });
    });
  });

  describe('errors', () => {
    const cases: Array<[string, string[], number, RegExp]> = [
      ['unterminated double quote', ['FROM a', 'LABEL a="open'], 2, /unterminated double quote in LABEL "\\"open"/],
      ['unterminated single quote', ['FROM a', 'LABEL a=1 \\', "  b='open"], 3, /unterminated single quote/],
      ['LABEL without a pair', ['FROM a', 'LABEL'], 2, /LABEL requires at least one key=value pair/],
      ['LABEL key without a value (legacy form)', ['FROM a', 'LABEL lonely'], 2, /LABEL "lonely" has no value/],
      ['= with no key', ['FROM a', 'LABEL a=1 =2'], 2, /LABEL "=2" has no key before "="/],
      ['a bare word after pairs', ['FROM a', 'LABEL a=1 \\', '  stray'], 3, /LABEL "stray" is not key=value/],
      ['missing } in substitution', ['FROM a', 'LABEL a=${X'], 2, /missing '}'/],
      ['bad substitution', ['FROM a', 'LABEL a=${}'], 2, /bad substitution/],
      ['unsupported modifier', ['FROM a', 'LABEL a=${X:=y}'], 2, /unsupported modifier \(:=\)/],
      ['${VAR:?message} when empty', ['FROM a', 'ARG X=', 'LABEL a="${X:?X is required}"'], 3, /X: X is required/],
      ['LABEL before FROM', ['LABEL a=1', 'FROM a'], 1, /LABEL before the first FROM/],
      ['ENV before FROM', ['ENV a=1'], 1, /ENV before the first FROM/],
      ['no FROM at all', ['ARG A=1', ''], 2, /no FROM instruction/],
      ['empty file', [''], 1, /no FROM instruction/],
      ['unknown instruction', ['FROM a', 'LABLE a=1'], 2, /unknown instruction: LABLE/],
      ['flags on LABEL', ['FROM a', 'LABEL --foo=bar a=1'], 2, /LABEL takes no flags, got "--foo=bar"/],
      ['FROM with two words', ['FROM a b'], 1, /FROM requires either one or three arguments/],
      ['invalid stage name', ['FROM a AS 1st'], 1, /invalid name for build stage: "1st"/],
      ['duplicate stage name', ['FROM a AS x', 'FROM b AS X'], 2, /duplicate stage name "x"/],
      ['invalid escape directive', ['# escape=!', 'FROM a'], 1, /invalid escape directive '!'/],
      ['repeated directive', ['# escape=\\', '# escape=`', 'FROM a'], 2, /only one escape parser directive/],
      ['unterminated heredoc', ['FROM a', 'RUN <<EOF', 'echo'], 2, /unterminated heredoc: no line reads EOF/],
      ['"=" inside a quoted key splits it, as in Docker', ['FROM a', 'LABEL "a=b"=c'], 2, /unterminated double quote/],
    ];
    for (const [name, lines, line, message] of cases) {
      it(name, () => {
        const error = syntaxError(lines.join('\n'));
        assert.equal(error.line, line, error.message);
        assert.match(error.message, message);
        assert.match(error.message, new RegExp(`^line ${line}: `));
      });
    }

    it('messages show at most 80 characters of a long word', () => {
      const error = syntaxError(`FROM a\nLABEL a="${'x'.repeat(10_000)}`);
      assert.ok(error.message.length < 200, error.message);
    });
  });

  describe('robustness', () => {
    it('a LABEL with 5,000 pairs over continuation lines parses quickly, each pair on its line', () => {
      const pairs = Array.from(
        { length: 5_000 },
        (_, i) => `    com.example.key-${i}="value ${i} with \\"quotes\\" and $V" \\`,
      );
      const text = ['FROM alpine', 'ARG V=v', 'LABEL \\', ...pairs, '    com.example.last=1'].join('\n');
      let parsed: ReturnType<typeof parseDockerfileLabels> | undefined;
      const cpuMs = cpuMillisOf(() => (parsed = parseDockerfileLabels(text)));
      assert.equal(parsed?.labels.length, 5_001);
      assert.deepEqual(parsed?.labels[4_321], {
        key: 'com.example.key-4321',
        value: 'value 4321 with "quotes" and v',
        unresolved: false,
        line: 4_325,
        stage: 0,
      });
      assert.ok(cpuMs < 1_000, `took ${cpuMs.toFixed(0)} ms of CPU`);
    });

    it('a single 5,000-pair line parses quickly too', () => {
      const text = `FROM alpine\nLABEL ${Array.from({ length: 5_000 }, (_, i) => `k${i}=v${i}`).join(' ')}`;
      let labels = 0;
      const cpuMs = cpuMillisOf(() => (labels = Object.keys(parseDockerfileLabels(text).finalStageLabels()).length));
      assert.equal(labels, 5_000);
      assert.ok(cpuMs < 1_000, `took ${cpuMs.toFixed(0)} ms of CPU`);
    });

    it('pathological lines finish in linear time', () => {
      const long = 200_000;
      const inputs = [
        `# escape=${' '.repeat(long)}x`,
        `FROM a\nLABEL a=${'\\'.repeat(long)}`,
        `FROM a\nLABEL a=${'$'.repeat(long)}`,
        `FROM a\nLABEL a=${'${A:-'.repeat(2_000)}`,
        `FROM a\nLABEL a=b${' '.repeat(long)}c=d`,
        `FROM a\n${'\\\n'.repeat(long / 10)}LABEL a=b`,
      ];
      for (const input of inputs) {
        const cpuMs = cpuMillisOf(() => {
          try {
            parseDockerfileLabels(input);
          } catch (error) {
            assert.ok(error instanceof DockerfileSyntaxError, String(error));
          }
        });
        assert.ok(cpuMs < 2_000, `${cpuMs.toFixed(0)} ms of CPU on ${JSON.stringify(input.slice(0, 40))}`);
      }
    });

    it('random input either parses or fails with a DockerfileSyntaxError', () => {
      const alphabet = [
        'LABEL ',
        'ENV ',
        'ARG ',
        'FROM a AS s\n',
        'FROM s\n',
        'RUN <<E\n',
        'E\n',
        'a',
        '=',
        ' ',
        '\n',
        '\\',
        '`',
        '"',
        "'",
        '$',
        '{',
        '}',
        ':-',
        ':+',
        '#',
        '# escape=`\n',
        'é',
        '🚢',
        '\u00A0',
        '\r',
        '\0',
      ];
      let seed = 42;
      const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
      for (let run = 0; run < 2_000; run++) {
        const text = Array.from(
          { length: 1 + Math.floor(random() * 40) },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join('');
        try {
          const parsed = parseDockerfileLabels(`FROM base\n${text}`, { a: 'x' });
          parsed.finalStageLabels();
        } catch (error) {
          assert.ok(error instanceof DockerfileSyntaxError, `${String(error)} for ${JSON.stringify(text)}`);
          assert.ok(Number.isInteger(error.line) && error.line >= 1);
        }
      }
    });
  });
});

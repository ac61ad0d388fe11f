import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLabels, LABEL_RULE_IDS } from '../../agents/label-inspector/checker';
import { containerTarget, imageTarget } from '../../agents/label-inspector/objects';
import { labelSettings, type LabelOptionValues } from '../../agents/label-inspector/options';
import type { LabelTarget } from '../../agents/label-inspector/target';

const defaults: LabelOptionValues = {
  labelProfile: 'docker',
  labelSchema: undefined,
  labelRequire: [],
  labelAllow: [],
  labelDisable: [],
  labelMaxValueBytes: 4096,
  labelMaxTotalBytes: 65536,
};
const schemas = join(__dirname, '..', 'fixtures', 'schemas');

function check(
  labels: Record<string, string>,
  options: Partial<LabelOptionValues> = {},
  target: Partial<LabelTarget> = {},
) {
  const settings = labelSettings({ ...defaults, ...options }, LABEL_RULE_IDS);
  return checkLabels({ ...imageTarget('sha256:abc', ['shop/web:1'], labels), ...target }, settings);
}
/** `rule subject` pairs, sorted, for compact assertions. */
function found(labels: Record<string, string>, options: Partial<LabelOptionValues> = {}): string[] {
  return check(labels, options)
    .map((f) => `${f.ruleId} ${f.subject}`)
    .sort();
}

describe('label rules', () => {
  it('passes keys that follow the guidelines', () => {
    assert.deepEqual(
      found({ 'com.example.role': 'web', 'org.opencontainers.image.version': '1.0', 'io.shop.team-name': 'x' }),
      [],
    );
  });

  describe('key format, by profile', () => {
    const keys = {
      'com.example.Role': '1',
      'com.example.role2': '1',
      '2com.example.a': '1',
      'com.example.a_b': '1',
      'com.example.a-': '1',
    };
    it('docker: lower-case letters at both ends, only [a-z0-9.-]', () => {
      assert.deepEqual(
        found(keys).filter((f) => f.startsWith('label-key-format')),
        [
          'label-key-format 2com.example.a',
          'label-key-format com.example.Role',
          'label-key-format com.example.a-',
          'label-key-format com.example.a_b',
          'label-key-format com.example.role2',
        ],
      );
      const message = check({ 'com.example.A_b': '1' })[0]!.message;
      assert.match(message, /contains "A", "_"; only lower-case letters, digits, '\.' and '-' are allowed/);
    });
    it('docker-legacy: digits allowed at both ends', () => {
      assert.deepEqual(
        found(keys, { labelProfile: 'docker-legacy' }).filter((f) => f.startsWith('label-key-format')),
        ['label-key-format com.example.Role', 'label-key-format com.example.a-', 'label-key-format com.example.a_b'],
      );
    });
    it('hadolint: letter first, letter or digit last', () => {
      assert.deepEqual(
        found(keys, { labelProfile: 'hadolint' }).filter((f) => f.startsWith('label-key-format')),
        [
          'label-key-format 2com.example.a',
          'label-key-format com.example.Role',
          'label-key-format com.example.a-',
          'label-key-format com.example.a_b',
        ],
      );
    });
  });

  it('flags consecutive separators; the docker profile also counts .- and -.', () => {
    const keys = { 'com.example..a': '1', 'com.example.a--b': '1', 'com.example.-a': '1' };
    assert.deepEqual(
      found(keys).filter((f) => f.startsWith('label-key-separators')),
      [
        'label-key-separators com.example.-a',
        'label-key-separators com.example..a',
        'label-key-separators com.example.a--b',
      ],
    );
    assert.deepEqual(
      found(keys, { labelProfile: 'hadolint' }).filter((f) => f.startsWith('label-key-separators')),
      ['label-key-separators com.example..a', 'label-key-separators com.example.a--b'],
    );
  });

  it('flags reserved namespaces, with the trailing dot, but not Compose, Swarm or maintainer', () => {
    const labels = {
      'com.docker.custom': '1',
      'io.docker.x': '1',
      'org.dockerproject.y': '1',
      'com.dockerhub.repo': '1',
      'com.docker.compose.project': 'shop',
      'com.docker.compose.project.working_dir': '/srv',
      'com.docker.swarm.task.id': 'x',
      maintainer: 'ops@example.com',
    };
    assert.deepEqual(found(labels), [
      'label-reserved-namespace com.docker.custom',
      'label-reserved-namespace io.docker.x',
      'label-reserved-namespace org.dockerproject.y',
    ]);
  });

  it('flags unprefixed keys and one-part prefixes, unless allowed', () => {
    assert.deepEqual(found({ env: 'prod', 'example.role': 'web' }), [
      'label-shallow-prefix example.role',
      'label-unprefixed-key env',
    ]);
    assert.deepEqual(found({ env: 'prod', 'example.role': 'web' }, { labelAllow: ['env', 'example.*'] }), []);
  });

  it('requires JSON-looking values to parse, and skips unresolved build variables', () => {
    const labels = {
      'com.example.good': '{"a":[1,2]}',
      'com.example.bad': '{"a":',
      'com.example.list': '[1,2',
      'com.example.text': 'plain {x}',
    };
    assert.deepEqual(found(labels), ['label-json-value com.example.bad', 'label-json-value com.example.list']);
    assert.deepEqual(check({ 'com.example.cfg': '{${CFG}' }, {}, { unresolved: new Set(['com.example.cfg']) }), []);
  });

  it('limits value and total sizes', () => {
    const big = 'x'.repeat(5000);
    assert.deepEqual(found({ 'com.example.big': big }), ['label-value-size com.example.big']);
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`com.example.k${i}`, 'v'.repeat(100)]));
    const sizes = check(many, { labelMaxTotalBytes: 10_000 }).filter((f) => f.ruleId === 'label-total-size');
    assert.equal(sizes.length, 1);
    const keyBytes = Object.keys(many).join('').length;
    assert.deepEqual(sizes[0]!.evidence, { labels: 200, bytes: keyBytes + 200 * 100, limit: 10_000 });
  });

  it('checks 10,000 labels without trouble', () => {
    const huge = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`com.example.key-${i}-x`, `${i}`]));
    huge['Bad Key'] = '1';
    const findings = check(huge);
    assert.deepEqual(findings.map((f) => `${f.ruleId} ${f.subject}`).sort(), [
      'label-key-format Bad Key',
      'label-total-size ',
      'label-unprefixed-key Bad Key',
    ]);
  });

  it('requires keys of the oci preset, with a hint from label-schema', () => {
    const labels = {
      'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
      'org.label-schema.vcs-url': 'https://git.example/shop',
    };
    const missing = check(labels, { labelRequire: ['oci', 'com.example.team'] }).filter(
      (f) => f.ruleId === 'label-required-missing',
    );
    assert.deepEqual(missing.map((f) => f.subject).sort(), [
      'com.example.team',
      'org.opencontainers.image.licenses',
      'org.opencontainers.image.revision',
      'org.opencontainers.image.source',
      'org.opencontainers.image.title',
      'org.opencontainers.image.version',
    ]);
    const source = missing.find((f) => f.subject === 'org.opencontainers.image.source')!;
    assert.match(
      source.message,
      /it has org\.label-schema\.vcs-url, whose value belongs under org\.opencontainers\.image\.source/,
    );
    assert.equal(source.severity, 'high');
  });

  it('does not require keys of containers: they inherit their image', () => {
    const target = containerTarget({ id: 'c1', name: 'web', image: 'shop/web:1' }, { 'com.example.x': '1' }, {});
    const settings = labelSettings({ ...defaults, labelRequire: ['oci'] }, LABEL_RULE_IDS);
    assert.deepEqual(checkLabels(target, settings), []);
  });

  it("checks only a container's own labels, not those inherited unchanged from its image", () => {
    const target = containerTarget(
      { id: 'c1', name: 'web', image: 'shop/web:1' },
      { Bad: 'same', Other: 'runtime', 'com.example.x': 'changed' },
      { Bad: 'same', 'com.example.x': 'orig' },
    );
    assert.deepEqual(Object.keys(target.labels).sort(), ['Other', 'com.example.x']);
  });

  it('turns rules off by ID, and names an unknown ID', () => {
    assert.deepEqual(found({ env: 'prod' }, { labelDisable: ['label-unprefixed-key'] }), []);
    assert.throws(
      () => labelSettings({ ...defaults, labelDisable: ['label-nope'] }, LABEL_RULE_IDS),
      /--label-disable: unknown rule label-nope; the rules are label-key-format/,
    );
  });

  describe('JSON Schema mode', () => {
    it('reports every error of a draft-07 schema with its label, coercing digit strings', () => {
      const schema = join(schemas, 'team-draft07.json');
      assert.deepEqual(
        check({ 'com.example.team': 'payments', 'com.example.version': '3' }, { labelSchema: schema }),
        [],
      );
      const findings = check(
        { 'com.example.team': 'ads', 'com.example.version': 'three', 'com.example.docs': 'not a uri' },
        { labelSchema: schema },
      );
      assert.deepEqual(findings.map((f) => f.subject).sort(), [
        'com.example.docs#/properties/com.example.docs/format',
        'com.example.team#/properties/com.example.team/enum',
        'com.example.version#/properties/com.example.version/type',
      ]);
      assert.ok(findings.every((f) => f.ruleId === 'label-schema' && f.severity === 'high'));
      assert.match(
        findings.find((f) => f.subject === 'com.example.team#/properties/com.example.team/enum')!.message,
        /label 'com\.example\.team' must be equal to one of the allowed values/,
      );
      const missing = check({}, { labelSchema: schema })
        .map((f) => f.subject)
        .sort();
      assert.deepEqual(missing, ['com.example.team#/required', 'com.example.version#/required']);
    });

    it('applies 2020-12 schemas with formats and patternProperties', () => {
      const schema = join(schemas, 'oci-2020-12.json');
      const findings = check(
        {
          'org.opencontainers.image.created': 'yesterday',
          'org.opencontainers.image.source': 'http://x',
          'com.example.long': 'x'.repeat(30),
        },
        { labelSchema: schema },
      );
      assert.deepEqual(findings.map((f) => f.subject).sort(), [
        'com.example.long#/patternProperties/%5Ecom%5C.example%5C./maxLength',
        'org.opencontainers.image.created#/properties/org.opencontainers.image.created/format',
        'org.opencontainers.image.source#/properties/org.opencontainers.image.source/pattern',
      ]);
    });

    it('reports two errors of the same keyword on one label as two findings', () => {
      const schema = join(schemas, 'two-patterns.json');
      const findings = check({ 'com.example.tier': 'Gold!' }, { labelSchema: schema });
      assert.equal(findings.length, 2);
      assert.deepEqual(
        findings.map((f) => f.evidence.keyword),
        ['pattern', 'pattern'],
      );
    });

    it('refuses at load a $ref cycle that applies the schema to the same labels again, even one the trial labels miss', () => {
      const dir = mkdtempSync(join(tmpdir(), 'qs-schema-'));
      after(() => rmSync(dir, { recursive: true, force: true }));
      const schemaFile = (name: string, schema: object) => {
        const file = join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(schema));
        return file;
      };
      // Loaded before: every object with app.name became label-check-incomplete (stack overflow).
      const conditional = schemaFile('conditional', { if: { required: ['app.name'] }, then: { $ref: '#' } });
      assert.throws(
        () => check({}, { labelSchema: conditional }),
        /label schema .*conditional\.json: cannot be evaluated: #\/then\/\$ref leads back to a schema applied to the same labels/,
      );
      const mutual = schemaFile('mutual', {
        $defs: { a: { allOf: [{ $ref: '#/$defs/b' }] }, b: { anyOf: [{ type: 'object' }, { $ref: '#/$defs/a' }] } },
        dependentSchemas: { 'app.name': { $ref: '#/$defs/a' } },
      });
      assert.throws(() => check({}, { labelSchema: mutual }), /mutual\.json: cannot be evaluated: #\/dependentSchemas/);
      // Recursion into a label value ends, and a definition used twice is no cycle.
      const fine = schemaFile('fine', {
        definitions: { text: { type: 'string' } },
        properties: { 'com.example.name': { $ref: '#' } },
        additionalProperties: { allOf: [{ $ref: '#/definitions/text' }, { $ref: '#/definitions/text' }] },
      });
      assert.deepEqual(found({ 'com.example.name': 'x', 'com.example.a': 'b' }, { labelSchema: fine }), []);
    });

    it('names the file and the problem for an unreadable, non-JSON or invalid schema', () => {
      assert.throws(
        () => check({}, { labelSchema: join(schemas, 'missing.json') }),
        /label schema .*missing\.json: cannot read it: ENOENT/,
      );
      assert.throws(
        () => check({}, { labelSchema: join(schemas, 'not-json.json') }),
        /label schema .*not-json\.json: not JSON/,
      );
      assert.throws(
        () => check({}, { labelSchema: join(schemas, 'invalid-type.json') }),
        /label schema .*invalid-type\.json: invalid schema: .*type/,
      );
    });
  });
});

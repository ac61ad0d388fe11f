import { strict as assert } from 'node:assert';
import {
  findingKey,
  type FindingDraft,
  type FindingObject,
  type RuleInfo,
  type Severity,
} from '../../shared/findings/finding';
import {
  FORMAT_NAMES,
  FORMATS,
  formatReport,
  isFormatName,
  type FindingsReport,
  type JsonReport,
} from '../../shared/findings/formats';
import { escapeAttribute, escapeText } from '../../shared/findings/formats/junit';
import { fileUri, SARIF_FINGERPRINT, SARIF_SCHEMA } from '../../shared/findings/formats/sarif';

const dockerfile: FindingObject = {
  kind: 'dockerfile',
  id: 'build/my app/Dockerfile',
  name: 'build/my app/Dockerfile',
  image: '',
};
const image: FindingObject = { kind: 'image', id: 'sha256:0123456789abcdef0123', name: 'busybox:test', image: '' };
const container: FindingObject = { kind: 'container', id: 'c0ffee1234567890', name: 'web', image: 'nginx:1.27' };

const rules: RuleInfo[] = [
  {
    id: 'label-key-format',
    title: 'Label key breaks the key guidelines',
    severity: 'high',
    remediation: 'Use lower-case keys.',
    reference: 'https://docs.docker.com/engine/manage-resources/labels/',
  },
  {
    id: 'label-reserved-namespace',
    title: 'Label key in a reserved namespace',
    severity: 'critical',
    remediation: 'Use your own reverse-DNS prefix.',
  },
  {
    id: 'label-json-value',
    title: 'JSON-looking value does not parse',
    severity: 'medium',
    remediation: 'Fix the JSON.',
    reference: 'our own rule',
  },
];

function finding(
  ruleId: string,
  severity: Severity,
  object: FindingObject,
  subject: string,
  evidence: Record<string, unknown> = {},
  message = `${ruleId} fired for ${subject}`,
): FindingDraft {
  const rule = rules.find((r) => r.id === ruleId);
  return {
    ruleId,
    severity,
    title: rule?.title ?? 'Missing required label',
    message,
    object,
    subject,
    evidence,
    remediation: rule?.remediation ?? 'Add the label.',
  };
}

const nasty = `a<b & "c" 'd'\u0001e`;

function sampleReport(): FindingsReport {
  return {
    tool: { name: 'quayside label-inspector', version: '0.1.0', informationUri: 'https://example.com/quayside' },
    rules,
    objects: [dockerfile, image, container],
    findings: [
      finding('label-json-value', 'medium', dockerfile, 'com.example.config', { value: '{oops' }),
      finding('label-key-format', 'high', dockerfile, 'Com.Example.Owner', { line: 12 }),
      finding('label-reserved-namespace', 'critical', image, 'com.docker.custom'),
      finding('label-key-format', 'high', image, nasty, { value: nasty }, `key ${nasty} is bad`),
      // A rule the catalog does not describe still gets described.
      finding('label-required', 'low', image, 'org.opencontainers.image.source'),
    ],
  };
}

describe('report formats', () => {
  it('are registered by name', () => {
    assert.deepEqual(FORMAT_NAMES, ['text', 'json', 'sarif', 'junit']);
    assert.ok(isFormatName('sarif'));
    assert.ok(!isFormatName('xml'));
    assert.ok(!isFormatName('toString'));
    for (const name of FORMAT_NAMES) assert.equal(formatReport(name, sampleReport()), FORMATS[name](sampleReport()));
  });

  it('every format accepts a report with nothing checked', () => {
    const empty: FindingsReport = { tool: { name: 't', version: '1' }, rules: [], findings: [], objects: [] };
    for (const name of FORMAT_NAMES) assert.ok(formatReport(name, empty).endsWith('\n'), name);
    assert.equal(JSON.parse(formatReport('json', empty)).summary.findings, 0);
    assert.deepEqual(JSON.parse(formatReport('sarif', empty)).runs[0].results, []);
  });

  describe('text', () => {
    const text = formatReport('text', sampleReport());
    const lines = text.trimEnd().split('\n');

    it('has one heading per object, in the order checked, and clean objects say so', () => {
      assert.deepEqual(
        lines.filter((line) => !line.startsWith(' ') && line !== ''),
        [
          'dockerfile build/my app/Dockerfile',
          'image busybox:test [0123456789ab]',
          'container web [c0ffee123456]',
          lines.at(-1),
        ],
      );
      assert.equal(lines[lines.indexOf('container web [c0ffee123456]') + 1], '  no findings');
    });

    it('has one line per finding, most severe first: severity, rule, subject, line, message', () => {
      const dockerfileLines = lines.slice(1, 3);
      // Columns line up across the report: severity to 8, rule ids to the longest one.
      assert.equal(
        dockerfileLines[0],
        `  high      ${'label-key-format'.padEnd(24)}  "Com.Example.Owner" (line 12)  label-key-format fired for Com.Example.Owner`,
      );
      assert.equal(
        dockerfileLines[1],
        `  medium    ${'label-json-value'.padEnd(24)}  "com.example.config"  label-json-value fired for com.example.config`,
      );
      const imageLines = lines.slice(4, 7).map((line) => line.trim().split(/\s+/).slice(0, 2).join(' '));
      assert.deepEqual(imageLines, [
        'critical label-reserved-namespace',
        'high label-key-format',
        'low label-required',
      ]);
    });

    it('shows control characters escaped instead of sending them to the terminal', () => {
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text));
      assert.ok(text.includes('key a<b & "c" \'d\'\\u0001e is bad'));
    });

    it('ends with counts per severity', () => {
      assert.equal(
        lines.at(-1),
        '3 objects checked, 2 with findings; 5 findings: critical 1, high 2, medium 1, low 1, info 0',
      );
    });
  });

  describe('json', () => {
    const json = JSON.parse(formatReport('json', sampleReport())) as JsonReport;

    it('summarizes objects, findings and severities', () => {
      assert.deepEqual(json.tool, sampleReport().tool);
      assert.deepEqual(json.summary, {
        objects: 3,
        objectsWithFindings: 2,
        findings: 5,
        bySeverity: { critical: 1, high: 2, medium: 1, low: 1, info: 0 },
      });
      assert.deepEqual(Object.keys(json.summary.bySeverity), ['critical', 'high', 'medium', 'low', 'info']);
    });

    it('lists every object checked with its number of findings', () => {
      assert.deepEqual(
        json.objects.map((object) => [object.kind, object.name, object.findings]),
        [
          ['dockerfile', 'build/my app/Dockerfile', 2],
          ['image', 'busybox:test', 3],
          ['container', 'web', 0],
        ],
      );
      assert.equal(json.objects[2]?.image, 'nginx:1.27');
    });

    it('lists findings by object and severity, each with its stable key and all its fields', () => {
      assert.deepEqual(
        json.findings.map((f) => [f.object.name, f.severity, f.ruleId]),
        [
          ['build/my app/Dockerfile', 'high', 'label-key-format'],
          ['build/my app/Dockerfile', 'medium', 'label-json-value'],
          ['busybox:test', 'critical', 'label-reserved-namespace'],
          ['busybox:test', 'high', 'label-key-format'],
          ['busybox:test', 'low', 'label-required'],
        ],
      );
      const first = json.findings[0];
      assert.ok(first);
      assert.equal(first.key, findingKey(first));
      assert.deepEqual(first.evidence, { line: 12 });
      assert.deepEqual(Object.keys(first), [
        'key',
        'ruleId',
        'severity',
        'title',
        'message',
        'object',
        'subject',
        'evidence',
        'remediation',
      ]);
      assert.equal(json.findings[3]?.subject, nasty);
    });

    it('is the same for the same findings in any order', () => {
      const reversed = { ...sampleReport(), findings: sampleReport().findings.reverse() };
      assert.equal(formatReport('json', reversed), formatReport('json', sampleReport()));
    });
  });

  describe('sarif', () => {
    const sarif = JSON.parse(formatReport('sarif', sampleReport()));
    const run = sarif.runs[0];

    it('is one SARIF 2.1.0 run with the tool and its rules', () => {
      assert.equal(sarif.$schema, SARIF_SCHEMA);
      assert.equal(sarif.version, '2.1.0');
      assert.equal(sarif.runs.length, 1);
      assert.deepEqual(
        {
          name: run.tool.driver.name,
          version: run.tool.driver.version,
          informationUri: run.tool.driver.informationUri,
        },
        { name: 'quayside label-inspector', version: '0.1.0', informationUri: 'https://example.com/quayside' },
      );
      assert.deepEqual(run.tool.driver.rules[0], {
        id: 'label-key-format',
        name: 'LabelKeyFormat',
        shortDescription: { text: 'Label key breaks the key guidelines' },
        help: { text: 'Use lower-case keys.' },
        helpUri: 'https://docs.docker.com/engine/manage-resources/labels/',
        defaultConfiguration: { level: 'error' },
        properties: { severity: 'high', reference: 'https://docs.docker.com/engine/manage-resources/labels/' },
      });
      assert.equal(run.tool.driver.rules[2].helpUri, undefined, 'a reference that is no URL is no helpUri');
      assert.deepEqual(
        run.tool.driver.rules.map((rule: { id: string; defaultConfiguration: { level: string } }) => [
          rule.id,
          rule.defaultConfiguration.level,
        ]),
        [
          ['label-key-format', 'error'],
          ['label-reserved-namespace', 'error'],
          ['label-json-value', 'warning'],
          ['label-required', 'note'],
        ],
      );
    });

    it('gives each result its rule, rule index, level and message', () => {
      assert.equal(run.results.length, 5);
      for (const result of run.results) {
        assert.equal(run.tool.driver.rules[result.ruleIndex].id, result.ruleId);
        assert.equal(typeof result.message.text, 'string');
      }
      assert.deepEqual(
        run.results.map((result: { ruleId: string; level: string }) => [result.ruleId, result.level]),
        [
          ['label-key-format', 'error'],
          ['label-json-value', 'warning'],
          ['label-reserved-namespace', 'error'],
          ['label-key-format', 'error'],
          ['label-required', 'note'],
        ],
      );
    });

    it('points Dockerfile results at the file and, when known, the line', () => {
      assert.deepEqual(run.results[0].locations, [
        { physicalLocation: { artifactLocation: { uri: 'build/my%20app/Dockerfile' }, region: { startLine: 12 } } },
      ]);
      assert.deepEqual(run.results[1].locations, [
        { physicalLocation: { artifactLocation: { uri: 'build/my%20app/Dockerfile' } } },
      ]);
    });

    it('gives image and container results a logical location', () => {
      assert.deepEqual(run.results[2].locations, [
        {
          logicalLocations: [
            { name: 'busybox:test', fullyQualifiedName: 'image:sha256:0123456789abcdef0123', kind: 'image' },
          ],
        },
      ]);
    });

    it('fingerprints results by finding key, so repeated runs de-duplicate', () => {
      const fingerprints = run.results.map(
        (result: { partialFingerprints: Record<string, string> }) => result.partialFingerprints[SARIF_FINGERPRINT],
      );
      assert.equal(new Set(fingerprints).size, 5);
      for (const fingerprint of fingerprints) assert.match(fingerprint, /^[0-9a-f]{64}$/);
      const again = JSON.parse(formatReport('sarif', sampleReport())).runs[0].results[0].partialFingerprints;
      assert.equal(again[SARIF_FINGERPRINT], fingerprints[0]);
    });

    it('keeps relative paths relative and turns absolute ones into file URIs', () => {
      assert.equal(fileUri('Dockerfile'), 'Dockerfile');
      assert.equal(fileUri('docker/a#b?.Dockerfile'), 'docker/a%23b%3F.Dockerfile');
      assert.equal(fileUri('/srv/my app/Dockerfile'), 'file:///srv/my%20app/Dockerfile');
    });
  });

  describe('junit', () => {
    const xml = formatReport('junit', sampleReport());

    it('is well-formed: one root, balanced elements, only known entities', () => {
      assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites '));
      assertWellFormed(xml);
    });

    it('counts tests and failures on the root and on each object suite', () => {
      assert.match(xml, /<testsuites name="quayside label-inspector" tests="6" failures="5" errors="0" time="0">/);
      assert.deepEqual(
        [...xml.matchAll(/<testsuite name="([^"]*)" tests="(\d+)" failures="(\d+)"/g)].map((m) => m.slice(1)),
        [
          ['dockerfile build/my app/Dockerfile', '2', '2'],
          ['image busybox:test', '3', '3'],
          ['container web', '1', '0'],
        ],
      );
    });

    it('uses only the attributes the Jenkins xunit schema (junit-10.xsd) allows on each element', () => {
      // The schema's attribute lists: <testsuites> has no `skipped` (only <testsuite> has).
      const allowed: Record<string, string[]> = {
        testsuites: ['name', 'time', 'tests', 'failures', 'errors'],
        testsuite: [
          'name',
          'tests',
          'failures',
          'errors',
          'group',
          'time',
          'skipped',
          'timestamp',
          'hostname',
          'id',
          'package',
          'file',
          'log',
          'url',
        ],
        testcase: ['name', 'time', 'classname', 'group'],
        failure: ['type', 'message'],
        property: ['name', 'value'],
        properties: [],
      };
      for (const [, element, attrs] of xml.matchAll(/<([a-z-]+)((?:\s+[a-z-]+="[^"]*")*)\s*\/?>/g)) {
        assert.ok(element! in allowed, `element <${element}> is not in the schema`);
        for (const [, name] of attrs!.matchAll(/([a-z-]+)="/g))
          assert.ok(allowed[element!]!.includes(name!), `<${element} ${name}=…> is not allowed by the schema`);
      }
    });

    it('has a failing testcase per finding: classname is the rule, name the subject, type the severity', () => {
      assert.match(
        xml,
        /<testcase classname="label-reserved-namespace" name="com.docker.custom" time="0">\n\s+<failure message="label-reserved-namespace fired for com.docker.custom" type="critical">Rule: label-reserved-namespace \(Label key in a reserved namespace\)\nSeverity: critical\nObject: image busybox:test \(sha256:0123456789abcdef0123\)\nSubject: com.docker.custom\nMessage: [^\n]+\nRemediation: Use your own reverse-DNS prefix.<\/failure>/,
      );
      assert.match(xml, /Line: 12\n/);
    });

    it('has a passing testcase for a clean object, with the object in properties', () => {
      const suite = xml.slice(
        xml.indexOf('<testsuite name="container web"'),
        xml.indexOf('</testsuite>', xml.indexOf('<testsuite name="container web"')),
      );
      assert.match(suite, /<property name="image" value="nginx:1.27"\/>/);
      assert.match(suite, /<testcase classname="quayside label-inspector" name="no findings" time="0"\/>/);
      assert.ok(!suite.includes('<failure'));
    });

    it('escapes <&"\' and replaces control characters XML cannot carry', () => {
      assert.ok(xml.includes('name="a&lt;b &amp; &quot;c&quot; &apos;d&apos;\\u0001e"'));
      assert.ok(xml.includes('Subject: a&lt;b &amp; "c" \'d\'\\u0001e'));
      assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(xml));
    });

    it('keeps line breaks in attributes and carriage returns in text as references', () => {
      assert.equal(escapeAttribute('a\tb\nc\r'), 'a&#9;b&#10;c&#13;');
      assert.equal(escapeText('a\r\nb ]]> c'), 'a&#13;\nb ]]&gt; c');
    });

    it('replaces lone surrogates and U+FFFE/U+FFFF but keeps real astral characters', () => {
      assert.equal(escapeText('ship 🚢 \ud800 \udfff \ufffe'), 'ship 🚢 \\ud800 \\udfff \\ufffe');
    });
  });
});

/** A small structural check: every tag closes in order and every & starts a known reference. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\n/, '');
  assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(body), 'bare & in XML');
  const stack: string[] = [];
  let roots = 0;
  for (const [tag, closing, name, attrs, selfClosing] of body.matchAll(
    /<(\/?)([A-Za-z]+)((?:\s+[a-z]+="[^"<]*")*)\s*(\/?)>/g,
  )) {
    assert.ok(attrs !== undefined && name !== undefined, tag);
    if (closing) assert.equal(stack.pop(), name, `unbalanced ${tag}`);
    else if (!selfClosing) {
      if (stack.length === 0) roots += 1;
      stack.push(name);
    }
  }
  assert.deepEqual(stack, []);
  assert.equal(roots, 1);
  assert.equal(body.replace(/<[^>]*>/g, '').includes('<'), false, 'a < outside a tag');
}

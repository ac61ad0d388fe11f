import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', name);

describe('label-inspector check --dockerfile', () => {
  it('checks the final stage, points SARIF results at their lines and fails on medium', async () => {
    const result = await runCli([
      'label-inspector',
      'check',
      '--dockerfile',
      fixture('dockerfiles/bad-labels.Dockerfile'),
      '--format',
      'sarif',
      '--build-arg',
      'TEAM=payments',
    ]);
    assert.equal(result.code, 1, result.stderr);
    const sarif = JSON.parse(result.stdout) as {
      runs: Array<{
        results: Array<{
          ruleId: string;
          locations: Array<{ physicalLocation?: { region?: { startLine: number } } }>;
          message: { text: string };
        }>;
      }>;
    };
    const results = sarif.runs[0]!.results.map(
      (r) => `${r.ruleId}@${r.locations[0]?.physicalLocation?.region?.startLine}`,
    ).sort();
    assert.deepEqual(
      results,
      ['label-json-value@10', 'label-key-format@8', 'label-reserved-namespace@9', 'label-unprefixed-key@8'],
      'Stage_Only is in an earlier stage; the unresolved ${CFG} value is not JSON-checked',
    );
  });

  it('applies a schema to the labels with build args substituted', async () => {
    const result = await runCli([
      'label-inspector',
      'check',
      '--dockerfile',
      fixture('dockerfiles/bad-labels.Dockerfile'),
      '--format',
      'json',
      '--schema',
      fixture('schemas/team-draft07.json'),
      '--build-arg',
      'TEAM=ads',
      '--disable',
      'label-key-format,label-unprefixed-key,label-reserved-namespace,label-json-value',
    ]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; subject: string }> };
    assert.deepEqual(report.findings.map((f) => f.subject).sort(), [
      'com.example.team#/properties/com.example.team/enum',
      'com.example.version#/required',
    ]);
  });

  it('exits 2 naming the file and line of a Dockerfile syntax error', async () => {
    const result = await runCli(['label-inspector', 'check', '--dockerfile', fixture('schemas/not-json.json')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--dockerfile .*not-json\.json: line 1: /);
  });

  it('takes Docker options given after check, and exits 2 when Docker cannot be used', async () => {
    const socket = await runCli([
      'label-inspector',
      'check',
      '--image',
      'busybox',
      '--docker-host',
      'unix:///nonexistent/qs-check.sock',
    ]);
    assert.equal(socket.code, 2);
    assert.match(socket.stderr, /--image 'busybox': cannot ask Docker at unix:\/\/\/nonexistent\/qs-check\.sock/);
    const tls = await runCli(['label-inspector', 'check', '--image', 'busybox'], {
      DOCKER_HOST: 'tcp://127.0.0.1:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: '/nonexistent/certs',
    });
    assert.equal(tls.code, 2);
    assert.match(tls.stderr, /^quayside: DOCKER_CERT_PATH: cannot read \/nonexistent\/certs\/ca\.pem/m);
  });

  it('exits 0 when no finding reaches --fail-on', async () => {
    const result = await runCli([
      'label-inspector',
      'check',
      '--dockerfile',
      fixture('dockerfiles/bad-labels.Dockerfile'),
      '--fail-on',
      'critical',
    ]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /4 findings/);
  });

  it('exits 2 naming --output when the report cannot be written, not 1 as if it had findings', async () => {
    const result = await runCli([
      'label-inspector',
      'check',
      '--dockerfile',
      fixture('dockerfiles/bad-labels.Dockerfile'),
      '--output',
      '/nonexistent/qs-check/report.txt',
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /^quayside: --output \/nonexistent\/qs-check\/report\.txt: cannot write the report: ENOENT/m,
    );
  });

  it('turns a check that overruns --check-timeout into a finding naming the object, and checks the next one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-check-deadline-'));
    try {
      // Linear matching is still work: 120 patterns that each scan a 512 KB label take over 5 s of
      // CPU without a deadline (38 s on the loaded test machine), far beyond the 200 ms one.
      const schema = join(dir, 'schema.json');
      const patterns = Array.from({ length: 120 }, (_, i) => `^(?:[ab]|x${i})*c$`);
      writeFileSync(
        schema,
        JSON.stringify({
          type: 'object',
          additionalProperties: { type: 'string', allOf: patterns.map((pattern) => ({ pattern })) },
        }),
      );
      const heavy = join(dir, 'heavy.Dockerfile');
      writeFileSync(heavy, `FROM scratch\nLABEL com.example.blob="${'ab'.repeat(1 << 18)}c"\n`);
      const light = join(dir, 'light.Dockerfile');
      writeFileSync(light, 'FROM scratch\nLABEL com.example.ok="q7x"\n');
      const result = await runCli(
        [
          'label-inspector',
          'check',
          '--dockerfile',
          heavy,
          '--dockerfile',
          light,
          '--schema',
          schema,
          '--check-timeout',
          '200ms',
          '--format',
          'json',
        ],
        {},
        30_000,
      );
      assert.equal(result.code, 1, result.stderr);
      const report = JSON.parse(result.stdout) as {
        findings: Array<{ ruleId: string; object: { id: string }; message: string }>;
      };
      const heavyFindings = report.findings.filter((f) => f.object.id === heavy);
      assert.deepEqual(
        heavyFindings.map((f) => f.ruleId),
        ['label-check-incomplete'],
      );
      assert.match(
        heavyFindings[0]!.message,
        /labels of dockerfile .*heavy\.Dockerfile not checked in full: the check did not finish within 200 ms/,
      );
      assert.ok(
        report.findings.some((f) => f.object.id === light && f.ruleId === 'label-schema'),
        'the next object is checked by a new worker',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

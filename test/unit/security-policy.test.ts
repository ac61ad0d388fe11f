import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ConfigError } from '../../shared/config/errors';
import { Exemptions } from '../../agents/security-watcher/exemptions';
import { defaultPolicy, loadPolicyFile, parsePolicy, PolicyError } from '../../agents/security-watcher/policy';
import { ALL_RULES } from '../../agents/security-watcher/rules';
import { loadPolicy } from '../../agents/security-watcher/options';
import { cpuMillisOf } from '../support/cpu-time';

const fixtures = join(__dirname, '..', 'fixtures', 'policies');

function problem(text: string): { line: number; problem: string } {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    return { line: error.line, problem: error.problem };
  }
  assert.fail('the policy was accepted');
}

describe('security policy', () => {
  it('default: every rule on except the inventory ones, audit mode, pause', () => {
    const policy = defaultPolicy();
    assert.equal(policy.rules.size, ALL_RULES.length);
    assert.equal(policy.rules.get('privileged')!.enabled, true);
    assert.equal(policy.rules.get('published-ports')!.enabled, false);
    assert.equal(policy.rules.get('default-ulimits')!.enabled, false);
    assert.ok([...policy.rules.values()].every((r) => r.mode === 'audit' && r.action === 'pause'));
  });

  it('reads the example: modes, actions, CIS IDs as keys, on/off, severities, exemptions, allow-list', () => {
    const policy = loadPolicyFile(join(fixtures, 'example.yaml'));
    assert.deepEqual(policy.rules.get('privileged'), {
      enabled: true,
      severity: 'critical',
      mode: 'enforce',
      action: 'kill',
    });
    assert.equal(policy.rules.get('docker-socket')!.action, 'stop');
    assert.equal(policy.rules.get('cpu-shares')!.enabled, false, '"5.12": off');
    assert.equal(policy.rules.get('writable-rootfs')!.severity, 'info');
    assert.equal(policy.rules.get('published-ports')!.enabled, true);
    assert.equal(policy.rules.get('memory-limit')!.mode, 'audit');
    assert.deepEqual(policy.allowedImages, ['busybox:*', 'registry.example.com/*']);
    assert.equal(policy.exemptions.length, 2);
    assert.deepEqual(policy.exemptions[0]!.rules, ['docker-socket', 'sensitive-mount']);
    assert.deepEqual(policy.exemptions[0]!.label, { key: 'com.example.role', value: 'agent' });
    assert.match(policy.exemptions[1]!.origin, /example\.yaml:18$/);
  });

  it('a CIS ID shared by two rules sets both (4.1: container and image)', () => {
    const policy = parsePolicy('rules:\n  "4.1": { severity: high }\n', 'p.yaml');
    assert.equal(policy.rules.get('container-root-user')!.severity, 'high');
    assert.equal(policy.rules.get('image-root-user')!.severity, 'high');
  });

  it('defaults apply to every rule a policy does not set', () => {
    const policy = parsePolicy(
      'defaults: { mode: enforce, action: disconnect }\nrules:\n  privileged: { action: kill }\n',
      'p.yaml',
    );
    assert.deepEqual(policy.rules.get('privileged'), {
      enabled: true,
      severity: 'critical',
      mode: 'enforce',
      action: 'kill',
    });
    assert.equal(policy.rules.get('memory-limit')!.action, 'disconnect');
  });

  it('an unquoted CIS ID names its own rule: YAML reads 5.20 as the number 5.2, which is another check', () => {
    const policy = parsePolicy(
      'rules:\n  5.20: off\n  5.30: on\n  5.10: { mode: enforce, action: stop }\n  5.5: { severity: high }\n',
      'p.yaml',
    );
    assert.equal(policy.rules.get('shared-propagation')!.enabled, false, '5.20 is mount propagation');
    assert.equal(policy.rules.get('apparmor-profile')!.enabled, true, '5.2 (AppArmor) is untouched');
    assert.equal(policy.rules.get('default-bridge')!.enabled, true, '5.30 is the default bridge');
    assert.equal(policy.rules.get('selinux-options')!.enabled, true, '5.3 (SELinux) is untouched');
    assert.equal(policy.rules.get('host-network')!.mode, 'enforce', '5.10 is the host network');
    assert.equal(policy.rules.get('privileged')!.severity, 'high');
    const exempt = parsePolicy('exemptions:\n  - rules: [5.20, 5.4]\n    name: x\n    reason: r\n', 'p.yaml');
    assert.deepEqual(exempt.exemptions[0]!.rules, ['shared-propagation', 'added-capabilities']);
  });

  it('anchors and aliases are followed', () => {
    const policy = parsePolicy(
      'rules:\n  privileged: &contain { mode: enforce, action: kill }\n  host-pid: *contain\nexemptions:\n  - name: &agents "agent-*"\n    reason: r\n  - name: *agents\n    rules: [privileged]\n    reason: again\n',
      'p.yaml',
    );
    assert.deepEqual(policy.rules.get('host-pid'), {
      enabled: true,
      severity: 'high',
      mode: 'enforce',
      action: 'kill',
    });
    assert.equal(policy.exemptions[1]!.name, 'agent-*');
  });

  it('nested aliases (a "billion laughs" file) are refused at once, not walked for minutes', () => {
    let text = 'rules:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++)
      text += `  a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const cpuMs = cpuMillisOf(() => assert.match(problem(text).problem, /unknown rule 'a0'/));
    assert.ok(cpuMs < 1_000, `${cpuMs.toFixed(0)} ms of CPU`);
  });

  describe('bad policies name the file, the line and the problem', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['bad-action.yaml', 5, /rules\.privileged\.action must be one of disconnect, pause, stop, kill, not "delete"/],
      ['unknown-rule.yaml', 4, /unknown rule 'privilegd'/],
      ['no-reason.yaml', 5, /no reason/],
      ['syntax.yaml', 4, /./],
    ];
    for (const [file, line, message] of cases) {
      it(file, () => {
        assert.throws(
          () => loadPolicyFile(join(fixtures, file)),
          (error: unknown) => {
            assert.ok(error instanceof PolicyError);
            assert.equal(error.line, line, error.message);
            assert.match(error.message, message);
            assert.ok(error.message.startsWith(`${join(fixtures, file)}:${line}: `), error.message);
            return true;
          },
        );
      });
    }
    it('more mistakes', () => {
      assert.deepEqual(problem('version: 2\n'), { line: 1, problem: 'version must be 1, not 2' });
      assert.match(problem('- a\n- b\n').problem, /must be a mapping/);
      assert.match(problem('').problem, /empty/);
      assert.deepEqual(problem('rules:\n  privileged: {}\nrule:\n  x: 1\n').line, 3);
      assert.match(problem('rules:\n  privileged: { enabled: yes }\n').problem, /enabled must be true or false/);
      assert.match(problem('rules:\n  privileged: { mode: block }\n').problem, /mode must be one of audit, enforce/);
      assert.match(
        problem('rules:\n  privileged: { severity: urgent }\n').problem,
        /severity must be one of info, low, medium, high, critical/,
      );
      assert.match(problem('exemptions:\n  - reason: why\n').problem, /selects nothing/);
      assert.match(
        problem('exemptions:\n  - name: x\n    reason: y\n    rules: [nope]\n').problem,
        /unknown rule 'nope'/,
      );
      assert.match(
        problem('exemptions:\n  - name: x\n    reason: y\n    owner: z\n').problem,
        /unknown key in an exemption 'owner'/,
      );
      assert.match(problem('images:\n  allow: [1]\n').problem, /images\.allow must be a list of non-empty strings/);
      assert.equal(problem('rules:\n  privileged: off\n  privileged: on\n').line, 3);
      assert.deepEqual(problem('rules:\n  privileged: off\n  5.10: { mode: enforce, action: disconnect }\n').line, 3);
      assert.match(
        problem('defaults: { action: disconnect }\nrules:\n  host-network: { mode: enforce }\n').problem,
        /host-network cannot be enforced by disconnect/,
      );
      assert.equal(
        parsePolicy(
          'defaults: { mode: enforce, action: disconnect }\nrules:\n  host-network: { action: stop }\n',
          'p',
        ).rules.get('host-network')!.action,
        'stop',
      );
      // An empty rule list would otherwise waive every rule: say so rather than exempt everything.
      assert.deepEqual(problem('exemptions:\n  - name: x\n    reason: y\n    rules: []\n'), {
        line: 4,
        problem: 'exemption rules is empty; leave it out to exempt from every rule',
      });
      assert.deepEqual(problem('rules:\n  privileged: *nowhere\n'), { line: 2, problem: 'unknown alias *nowhere' });
      assert.match(
        problem('rules:\n  privileged: { mode: enforce }\n  <<: { host-pid: off }\n').problem,
        /unknown rule '<<'/,
      );
    });
    it('an unreadable file, and the option named in the ConfigError', () => {
      assert.throws(
        () => loadPolicy('/nonexistent/policy.yaml'),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /^--security-policy \/nonexistent\/policy\.yaml: cannot read the policy: ENOENT/);
          return true;
        },
      );
    });
  });

  describe('exemptions', () => {
    const exemptions = new Exemptions(loadPolicyFile(join(fixtures, 'example.yaml')).exemptions);
    const agent = { names: ['monitoring-1'], images: ['busybox:test'], labels: { 'com.example.role': 'agent' } };
    it('need every condition they give', () => {
      assert.equal(exemptions.find('docker-socket', agent)?.reason, 'the monitoring agent reads the engine API');
      assert.equal(exemptions.find('docker-socket', { ...agent, labels: { 'com.example.role': 'web' } }), undefined);
      assert.equal(exemptions.find('docker-socket', { ...agent, names: ['web-1'] }), undefined);
    });
    it('cover only their rules, or all rules when none are listed', () => {
      assert.equal(exemptions.find('privileged', agent), undefined);
      assert.ok(
        exemptions.find('privileged', { names: ['x'], images: ['registry.example.com/debug/shell:1'], labels: {} }),
      );
    });
    it('an image matches however the reference is spelled (docker.io/library, :latest)', () => {
      const e = new Exemptions(
        parsePolicy(
          'exemptions:\n  - image: "nginx:*"\n    reason: r\n  - image: "docker.io/acme/agent:*"\n    reason: r2\n',
          'p',
        ).exemptions,
      );
      const subject = (image: string) => ({ names: [], images: [image], labels: {} });
      for (const image of [
        'nginx',
        'nginx:1.25',
        'docker.io/library/nginx:1.25',
        'index.docker.io/library/nginx',
        'library/nginx:1',
      ])
        assert.equal(e.find('privileged', subject(image))?.reason, 'r', image);
      for (const image of ['acme/agent:2', 'docker.io/acme/agent', 'index.docker.io/acme/agent:3'])
        assert.equal(e.find('privileged', subject(image))?.reason, 'r2', image);
      for (const image of ['evil/nginx:1', 'registry.example.com/nginx:1', 'nginxx:1', 'acme/agent2:1'])
        assert.equal(e.find('privileged', subject(image)), undefined, image);
      const latest = new Exemptions(parsePolicy('exemptions:\n  - image: "busybox"\n    reason: r\n', 'p').exemptions);
      assert.ok(latest.find('privileged', subject('busybox:latest')));
      assert.equal(latest.find('privileged', subject('busybox:1')), undefined);
    });
    it('a label without a value matches any value; an untagged image is :latest', () => {
      const e = new Exemptions(
        parsePolicy('exemptions:\n  - label: com.example.ok\n    image: "shop:*"\n    reason: r\n', 'p').exemptions,
      );
      assert.ok(e.find('privileged', { names: [], images: ['shop'], labels: { 'com.example.ok': '' } }));
      assert.equal(e.find('privileged', { names: [], images: ['shop'], labels: {} }), undefined);
    });
  });
});

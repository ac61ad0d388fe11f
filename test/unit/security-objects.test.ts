import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { PolicyEvaluator } from '../../agents/security-watcher/evaluate';
import {
  containerExemptionSubject,
  containerTarget,
  imageAliases,
  resolveBindSources,
} from '../../agents/security-watcher/objects';
import { parsePolicy } from '../../agents/security-watcher/policy';
import { RULES } from '../../agents/security-watcher/rules';

function withBinds(...sources: string[]): Dockerode.ContainerInspectInfo {
  return {
    Mounts: sources.map((Source, i) => ({ Type: 'bind', Source, Destination: `/m${i}`, RW: true })),
  } as unknown as Dockerode.ContainerInspectInfo;
}

describe('security objects: bind sources resolved on the host', () => {
  let hostRoot: string;
  before(() => {
    // A host filesystem as the watcher sees it mounted at hostRoot: links are absolute, as on a host.
    hostRoot = mkdtempSync(join(tmpdir(), 'qs-hostroot-'));
    for (const dir of ['etc', 'run', 'srv', 'var', 'data/real']) mkdirSync(join(hostRoot, dir), { recursive: true });
    writeFileSync(join(hostRoot, 'run', 'docker.sock'), '');
    symlinkSync('/run', join(hostRoot, 'var', 'run'));
    symlinkSync('/etc', join(hostRoot, 'srv', 'etclink'));
    symlinkSync('../data/real', join(hostRoot, 'srv', 'relative'));
    symlinkSync('/srv/loop2', join(hostRoot, 'srv', 'loop1'));
    symlinkSync('/srv/loop1', join(hostRoot, 'srv', 'loop2'));
  });
  after(() => rmSync(hostRoot, { recursive: true, force: true }));

  it("an absolute link resolves inside the host root, not in the watcher's own filesystem", async () => {
    const resolved = await resolveBindSources(
      withBinds('/srv/etclink', '/var/run/docker.sock', '/var/run', '/srv/relative/x', '/srv/relative', '/data/real'),
      hostRoot,
    );
    assert.equal(resolved.get('/srv/etclink'), '/etc');
    assert.equal(resolved.get('/var/run/docker.sock'), '/run/docker.sock');
    assert.equal(resolved.get('/var/run'), '/run');
    assert.equal(resolved.get('/srv/relative'), '/data/real');
    assert.equal(resolved.get('/data/real'), '/data/real');
    assert.equal(resolved.has('/srv/relative/x'), false, 'a path that does not exist is judged as given');
  });

  it("in a container without a host root nothing is resolved (its filesystem is not the host's)", async () => {
    const source = join(hostRoot, 'srv', 'relative');
    assert.equal((await resolveBindSources(withBinds(source), '', true)).size, 0);
    assert.equal((await resolveBindSources(withBinds('/srv/etclink'), hostRoot, true)).get('/srv/etclink'), '/etc');
  });

  it('a link loop is left as given', async () => {
    const resolved = await resolveBindSources(withBinds('/srv/loop1'), hostRoot);
    assert.equal(resolved.has('/srv/loop1'), false);
  });

  it('without a host root, links resolve on this filesystem', async () => {
    const resolved = await resolveBindSources(withBinds(join(hostRoot, 'srv', 'relative')), '');
    assert.equal(resolved.get(join(hostRoot, 'srv', 'relative')), join(hostRoot, 'data', 'real'));
  });
});

describe('security objects: an image named by ID or digest is known by its tags', () => {
  const IMAGE = 'sha256:'.padEnd(71, 'b');
  function container(reference: string): Dockerode.ContainerInspectInfo {
    return {
      Id: 'c'.repeat(64),
      Name: '/web',
      Image: IMAGE,
      Config: { Image: reference, Labels: {} },
      HostConfig: {},
      Mounts: [],
    } as unknown as Dockerode.ContainerInspectInfo;
  }
  const asked: string[] = [];
  const docker = {
    getImage: (id: string) => ({
      inspect: async () => {
        asked.push(id);
        return { Id: IMAGE, RepoTags: ['nginx:1.25', '<none>:<none>'], RepoDigests: ['nginx@sha256:'.padEnd(76, 'd')] };
      },
    }),
  } as unknown as Dockerode;

  it('asks the engine only for an ID or a digest-only reference', async () => {
    asked.length = 0;
    assert.deepEqual(await imageAliases(docker, container('nginx:1.25')), []);
    assert.deepEqual(await imageAliases(docker, container('nginx:1.25@sha256:'.padEnd(81, 'd'))), []);
    assert.deepEqual(asked, []);
    for (const reference of ['4e5021d210f6', IMAGE, 'nginx@sha256:'.padEnd(76, 'd')]) {
      assert.deepEqual(
        await imageAliases(docker, container(reference)),
        ['nginx:1.25', 'nginx@sha256:'.padEnd(76, 'd')],
        reference,
      );
    }
  });

  it('so an allow-list and an exemption of nginx:* hold for it', async () => {
    const policy = parsePolicy(
      'images:\n  allow: ["nginx:*"]\nexemptions:\n  - image: "nginx:*"\n    rules: [memory-limit]\n    reason: r\n',
      'p',
    );
    const evaluator = new PolicyEvaluator(policy);
    const host = { apparmor: false, selinux: false, dockerSockets: [] };
    for (const reference of ['4e5021d210f6', 'nginx@sha256:'.padEnd(76, 'd')]) {
      const info = container(reference);
      const aliases = await imageAliases(docker, info);
      const target = containerTarget(info, host, new Map(), evaluator.allowedImage, true, aliases);
      const result = evaluator.evaluate(
        RULES.container,
        target,
        target.object,
        containerExemptionSubject(info, aliases),
      );
      const rules = result.findings.map((f) => f.ruleId);
      assert.ok(!rules.includes('disallowed-image'), `${reference}: ${rules.join(' ')}`);
      assert.ok(
        result.exempted.some((e) => e.ruleId === 'memory-limit'),
        reference,
      );
    }
    const other = container('evil@sha256:'.padEnd(75, 'e'));
    const target = containerTarget(other, host, new Map(), evaluator.allowedImage, true, []);
    assert.ok(
      evaluator
        .evaluate(RULES.container, target, target.object, containerExemptionSubject(other))
        .findings.some((f) => f.ruleId === 'disallowed-image'),
    );
  });
});

import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { resolveBindSources } from '../../agents/security-watcher/objects';

function withBinds(...sources: string[]): Dockerode.ContainerInspectInfo {
  return { Mounts: sources.map((Source, i) => ({ Type: 'bind', Source, Destination: `/m${i}`, RW: true })) } as unknown as Dockerode.ContainerInspectInfo;
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

  it('an absolute link resolves inside the host root, not in the watcher\'s own filesystem', async () => {
    const resolved = await resolveBindSources(withBinds('/srv/etclink', '/var/run/docker.sock', '/var/run', '/srv/relative/x', '/srv/relative', '/data/real'), hostRoot);
    assert.equal(resolved.get('/srv/etclink'), '/etc');
    assert.equal(resolved.get('/var/run/docker.sock'), '/run/docker.sock');
    assert.equal(resolved.get('/var/run'), '/run');
    assert.equal(resolved.get('/srv/relative'), '/data/real');
    assert.equal(resolved.get('/data/real'), '/data/real');
    assert.equal(resolved.has('/srv/relative/x'), false, 'a path that does not exist is judged as given');
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

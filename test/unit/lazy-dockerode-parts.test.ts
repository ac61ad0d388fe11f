/**
 * shared/docker/lazy-dockerode-parts.ts: ssh2 and gRPC stay unloaded until an ssh:// engine or a
 * BuildKit session needs them, those paths still work, and a dockerode or docker-modem that no
 * longer fits fails loudly or loads as usual, never half-works.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deferUnusedDockerodeParts } from '../../shared/docker/lazy-dockerode-parts';

const LAZY = join(__dirname, '..', '..', 'shared', 'docker', 'lazy-dockerode-parts.ts');

/** Runs a script in a fresh Node.js (TypeScript through tsx), as the CLI starts; returns its JSON output. */
async function fresh<T>(script: string): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
    cwd: join(__dirname, '..', '..'),
    timeout: 20_000,
  });
  return JSON.parse(stdout) as T;
}

const HEAVY = /[\\/]node_modules[\\/](ssh2|@grpc[\\/]grpc-js|@grpc[\\/]proto-loader|protobufjs)[\\/]/;

describe('shared/docker/lazy-dockerode-parts', function () {
  this.timeout(30_000);

  it('defers both parts with the installed dockerode and docker-modem: ssh2 and gRPC stay unloaded while a unix-socket engine is used', async () => {
    const result = await fresh<{ deferred: string[]; heavy: string[]; error: string }>(`
      const { deferUnusedDockerodeParts } = require(${JSON.stringify(LAZY)});
      const Docker = require('dockerode');
      new Docker({ socketPath: '/nonexistent/docker.sock' }).ping().catch((e) => e).then((error) => {
        process.stdout.write(JSON.stringify({
          deferred: Object.keys(require.cache).filter((f) => /docker-modem.lib.ssh\\.js$|dockerode.lib.session\\.js$/.test(f)),
          heavy: Object.keys(require.cache).filter((f) => ${HEAVY}.test(f)),
          error: String(error && error.code),
        }));
      });
    `);
    // An upgrade that changes the layout fails here rather than quietly costing 12 MB per agent.
    assert.equal(result.deferred.length, 2, `stand-ins in the cache: ${result.deferred.join(', ')}`);
    assert.deepEqual(result.heavy, []);
    assert.equal(result.error, 'ENOENT', 'the unix socket path works');
  });

  it('loads ssh2 at the first ssh:// request, which then reaches ssh2 (refused here, not a TypeError)', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const result = await fresh<{ before: number; after: number; error: string }>(`
        require(${JSON.stringify(LAZY)});
        const Docker = require('dockerode');
        const heavy = () => Object.keys(require.cache).filter((f) => /[\\\\/]ssh2[\\\\/]/.test(f)).length;
        const before = heavy();
        new Docker({ protocol: 'ssh', host: '127.0.0.1', port: ${port}, username: 'nobody', sshOptions: { readyTimeout: 5000 } })
          .ping().catch((e) => e).then((error) => {
            process.stdout.write(JSON.stringify({ before, after: heavy(), error: String(error && (error.message || error)) }));
          });
      `);
      assert.equal(result.before, 0);
      assert.ok(result.after > 0, 'ssh2 loaded on use');
      assert.match(result.error, /ECONNRESET|ECONNREFUSED|handshake|closed|socket/i, result.error);
      assert.doesNotMatch(result.error, /not a function|TypeError/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('loads gRPC at the first BuildKit session, and the session function runs', async () => {
    const result = await fresh<{ before: number; after: number; error: string }>(`
      require(${JSON.stringify(LAZY)});
      require('dockerode');
      const heavy = () => Object.keys(require.cache).filter((f) => ${HEAVY}.test(f)).length;
      const before = heavy();
      const withSession = require('dockerode/lib/session.js');
      const docker = { modem: { dial: (opts, callback) => callback(new Error('dial refused')) } };
      withSession(docker, {}, (error) => process.stdout.write(JSON.stringify({ before, after: heavy(), error: String(error && error.message) })));
    `);
    assert.equal(result.before, 0);
    assert.ok(result.after > 0, 'gRPC loaded on use');
    assert.equal(result.error, 'dial refused');
  });

  describe('with a package that does not fit', () => {
    let dir = '';
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'qs-lazy-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function fakePackage(name: string, version: string, body: string): { request: string; packageName: string } {
      const root = join(dir, 'node_modules', name);
      mkdirSync(join(root, 'lib'), { recursive: true });
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version }));
      writeFileSync(join(root, 'lib', 'part.js'), body);
      return { request: join(root, 'lib', 'part.js'), packageName: root };
    }

    it('leaves a major it was not checked against alone: the module loads as usual', () => {
      const part = fakePackage('next-modem', '6.0.0', 'module.exports = { createAgent: () => "real" };');
      assert.deepEqual(deferUnusedDockerodeParts([{ ...part, majors: [5] }]), []);
      assert.equal((require(part.request) as { createAgent(): string }).createAgent(), 'real');
    });

    it('fails the first call loudly, naming the module, when a checked major no longer exports a function', () => {
      const part = fakePackage('odd-modem', '5.9.0', 'module.exports = { createAgent: () => "real" };');
      assert.deepEqual(deferUnusedDockerodeParts([{ ...part, majors: [5] }]), [part.request]);
      const standIn = require(part.request) as () => unknown;
      assert.throws(() => standIn(), /lib\/part\.js of .*odd-modem 5\.9\.0 does not export a function/);
      delete require.cache[part.request];
    });
  });
});

/**
 * What `npm publish` would ship: the compiled agents and the CLI, the README with the pages it links
 * to (docs/, the changelog, the security policy) and the licence, the console's bundled page — no benchmarks, no tests, and no
 * source maps (they point at TypeScript sources the package leaves out).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { documentationFiles } from '../../cli/options-doc';

const root = join(__dirname, '..', '..');

interface PackedFile {
  path: string;
}

function packedFiles(): string[] {
  // --ignore-scripts: `prepare` would rebuild; the test suite's pretest has built dist/ already.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 60_000,
  });
  const [pack] = JSON.parse(out) as Array<{ files: PackedFile[] }>;
  return pack!.files.map((file) => file.path);
}

describe('the npm package', function () {
  this.timeout(90_000);
  let files: string[];
  before(() => {
    files = packedFiles();
  });

  it('ships the CLI, the agents, README and LICENSE, and nothing of benchmarks, tests or source maps', () => {
    for (const expected of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/cli/main.js',
      'dist/agents/index.js',
      'dist/shared/agent.js',
      'dist/console/app.js',
      'dist/console/app.css',
    ]) {
      assert.ok(files.includes(expected), `${expected} is not in the package`);
    }
    const unwanted = files.filter(
      (file) =>
        file.startsWith('dist/bench/') ||
        file.startsWith('dist/test/') ||
        file.endsWith('.map') ||
        (file.endsWith('.ts') && !file.endsWith('.d.ts')),
    );
    assert.deepEqual(unwanted, []);
  });

  it("ships every page of the documentation, so the README's links to them work in an installed package", () => {
    const missing = [...documentationFiles(root), 'CHANGELOG.md', 'SECURITY.md'].filter(
      (file) => !files.includes(file),
    );
    assert.deepEqual(missing, []);
  });
});

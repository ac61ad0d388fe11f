/**
 * What `npm publish` would ship: the compiled agents and the CLI, the README with the pages it links
 * to (docs/, the changelog, the security policy) and the licence, the console's bundled page — no benchmarks and no
 * tests. Each compiled file's source map is shipped with it, the TypeScript inlined, so no reference dangles.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  it('ships the CLI, the agents, README and LICENSE, and nothing of benchmarks or tests', () => {
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
        (file.endsWith('.ts') && !file.endsWith('.d.ts')),
    );
    assert.deepEqual(unwanted, []);
  });

  it('ships the source map each compiled file names, with its TypeScript inlined', () => {
    const dangling: string[] = [];
    const withoutSources: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const reference = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(root, file), 'utf8'))?.[1];
      if (reference === undefined) continue;
      const map = join(file, '..', reference);
      if (!files.includes(map)) {
        dangling.push(`${file} -> ${map}`);
        continue;
      }
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: Array<string | null>;
      };
      if (sourcesContent?.length !== sources.length || sourcesContent.some((text) => !text)) withoutSources.push(map);
    }
    assert.deepEqual(dangling, []);
    assert.deepEqual(withoutSources, []);
    assert.ok(files.includes('dist/cli/main.js.map'));
  });

  it("ships every page of the documentation, so the README's links to them work in an installed package", () => {
    const missing = [...documentationFiles(root), 'CHANGELOG.md', 'SECURITY.md'].filter(
      (file) => !files.includes(file),
    );
    assert.deepEqual(missing, []);
  });
});

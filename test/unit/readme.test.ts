import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedBlocks, renderReadme } from '../../cli/options-doc';

describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

  it('has the option tables the declarations generate (run `npm run docs` after changing options)', () => {
    assert.equal(readme, renderReadme(readme));
  });

  it('has a block for every option table', () => {
    for (const name of Object.keys(generatedBlocks())) assert.match(readme, new RegExp(`<!-- options:${name} -->`));
  });

  it('shows the test command that .ci/run runs', () => {
    const ci = readFileSync(join(__dirname, '..', '..', '.ci', 'run'), 'utf8');
    assert.match(readme, /^npm ci && npm test$/m);
    assert.match(ci, /^npm ci$/m);
    assert.match(ci, /^npm test$/m);
  });
});

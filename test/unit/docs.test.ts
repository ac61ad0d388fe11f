/**
 * The documentation (README.md and docs/*.md): its option tables are what the declarations
 * generate, and every link to a local file or heading leads somewhere.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import MarkdownIt from 'markdown-it';
import { documentationFiles, generatedBlocks, renderReadme } from '../../cli/options-doc';

const root = join(__dirname, '..', '..');
const files = documentationFiles(root);
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** A link as written in one file: its target, and the line its block (paragraph, table row…) starts on. */
interface Link {
  target: string;
  line: number;
}

/** Every link and image target of a Markdown text, and its headings' text, as a renderer sees them. */
function parse(markdown: string): { links: Link[]; headings: string[] } {
  const tokens = new MarkdownIt({ html: true }).parse(markdown, {});
  const links: Link[] = [];
  const headings: string[] = [];
  tokens.forEach((token, index) => {
    if (token.type === 'heading_open') headings.push(plainText(tokens[index + 1]!.children ?? []));
    for (const child of token.children ?? []) {
      const target =
        child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null;
      if (target !== null) links.push({ target: String(target), line: (token.map?.[0] ?? 0) + 1 });
    }
  });
  return { links, headings };
}

function plainText(inline: readonly MarkdownIt.Token[]): string {
  return inline.map((token) => (token.type === 'text' || token.type === 'code_inline' ? token.content : '')).join('');
}

/** The anchors GitHub gives a file's headings (`## The image` → `the-image`; a repeated one gets `-1`). */
async function anchorsOf(markdown: string): Promise<Set<string>> {
  const { default: Slugger } = await import('github-slugger');
  const slugger = new Slugger();
  return new Set(parse(markdown).headings.map((heading) => slugger.slug(heading)));
}

/** A target with a scheme (`https:`, `mailto:`) or `//host` is not a local link. */
function isLocal(target: string): boolean {
  return !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target);
}

describe('the documentation', () => {
  it('reads links and heading anchors as GitHub renders them', async () => {
    const sample =
      '# Title\n\n## The `quayside events` command\n\n## Title\n\nSee [it](#title-1), ![x](img.png) and `[not](a-link)`.\n\n```\n[nor](this)\n```\n';
    assert.deepEqual(
      parse(sample).links.map((link) => link.target),
      ['#title-1', 'img.png'],
    );
    assert.deepEqual([...(await anchorsOf(sample))], ['title', 'the-quayside-events-command', 'title-1']);
    assert.equal(isLocal('https://example.com/#x'), false);
    assert.equal(isLocal('docs/deploy.md#the-image'), true);
  });

  it('covers README.md and every file in docs/', () => {
    assert.ok(files.includes('README.md'));
    assert.ok(
      files.some((file) => file.startsWith('docs')),
      'no docs/*.md found',
    );
  });

  it('has the option tables the declarations generate (run `npm run docs` after changing options)', () => {
    for (const file of files) {
      const text = read(file);
      assert.equal(text, renderReadme(text), `${file} has an outdated option table`);
    }
  });

  it('has a block for every option table, in exactly one file', () => {
    for (const name of Object.keys(generatedBlocks())) {
      const holders = files.filter((file) => read(file).includes(`<!-- options:${name} -->`));
      assert.equal(
        holders.length,
        1,
        `the block options:${name} is in ${holders.length === 0 ? 'no file' : holders.join(', ')}`,
      );
    }
  });

  it('links only to local files and headings that exist', async () => {
    const anchors = new Map<string, Set<string>>();
    const anchorsIn = async (file: string) =>
      anchors.get(file) ?? anchors.set(file, await anchorsOf(read(file))).get(file)!;
    const broken: string[] = [];
    for (const file of files) {
      for (const { target, line } of parse(read(file)).links.filter((link) => isLocal(link.target))) {
        const [path = '', anchor] = decodeURIComponent(target).split('#');
        const linked = path === '' ? file : normalize(join(dirname(file), path));
        if (!existsSync(join(root, linked))) {
          broken.push(`${file}:${line}: ${target} (no file ${linked})`);
        } else if (anchor !== undefined && !(linked.endsWith('.md') && (await anchorsIn(linked)).has(anchor))) {
          broken.push(`${file}:${line}: ${target} (no heading #${anchor} in ${linked})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  it('shows the test command that .ci/run runs', () => {
    const ci = read(join('.ci', 'run'));
    assert.match(read('README.md'), /^npm ci && npm test$/m);
    assert.match(ci, /^npm ci$/m);
    assert.match(ci, /^npm test$/m);
  });
});

import { strict as assert } from 'node:assert';
import { cpuMillisOf } from '../support/cpu-time';
import { containerName } from '../../shared/docker/container-name';
import { globMatcher, compileGlob } from '../../shared/glob';

describe('globs', () => {
  it('matches * as any run and ? as one character, the rest literally', () => {
    assert.ok(compileGlob('web-*').test('web-1'));
    assert.ok(compileGlob('web-*').test('web-'));
    assert.ok(compileGlob('db?').test('db1'));
    assert.ok(!compileGlob('db?').test('db12'));
    assert.ok(!compileGlob('a.b').test('axb'), 'a dot is literal');
    assert.ok(!compileGlob('(x)|y').test('y'), 'regex syntax is literal');
    assert.ok(compileGlob('(x)|y').test('(x)|y'));
  });

  it('matches the whole text, not a part of it', () => {
    assert.ok(!compileGlob('web').test('my-web-1'));
  });

  it('matches hostile globs in time bounded by text × glob length, not exponential in the stars (ReDoS)', () => {
    // Under a backtracking RegExp the first took 9.5 s and the second 45 s (review of #15, G2).
    const hostile: Array<[string, string]> = [
      ['*?'.repeat(9) + '!', 'quayside-logrouter-1.abcdefghijklmnopq'],
      ['*a'.repeat(10) + 'b', 'a'.repeat(40)],
      ['*a'.repeat(2000) + 'b', 'a'.repeat(4000)],
    ];
    for (const [glob, text] of hostile) {
      let matched = true;
      const cpuMs = cpuMillisOf(() => (matched = compileGlob(glob).test(text)));
      assert.equal(matched, false, glob.slice(0, 20));
      assert.ok(cpuMs < 500, `${glob.slice(0, 20)}…: ${cpuMs} ms of CPU`);
    }
    assert.ok(globMatcher(['*a'.repeat(10) + 'b', 'a*'])('a'.repeat(40)), 'a later glob still matches');
  });

  it('keeps the edge cases of the RegExp form: runs of stars, empty text, a trailing star', () => {
    assert.ok(compileGlob('**').test(''));
    assert.ok(compileGlob('a**b').test('ab'));
    assert.ok(compileGlob('a*b*c').test('aXbYbZc'));
    assert.ok(!compileGlob('a*b*c').test('aXbYbZ'));
    assert.ok(compileGlob('*.example.com').test('api.example.com'));
    assert.ok(!compileGlob('?').test(''));
    assert.ok(!compileGlob('').test('x'));
    assert.ok(compileGlob('').test(''));
    assert.ok(compileGlob('nginx:*').test('nginx:'));
  });

  it('combines several globs; none matches nothing', () => {
    const match = globMatcher(['com.docker.compose.*', 'org.opencontainers.image.title']);
    assert.ok(match('com.docker.compose.project'));
    assert.ok(match('org.opencontainers.image.title'));
    assert.ok(!match('org.opencontainers.image.version'));
    assert.ok(!globMatcher([])('anything'));
  });
});

describe('containerName', () => {
  it('strips the leading slash Docker puts on names in inspect and list responses', () => {
    assert.equal(containerName('/web-1'), 'web-1');
    assert.equal(containerName('web-1'), 'web-1');
    assert.equal(containerName('/'), '');
  });
});

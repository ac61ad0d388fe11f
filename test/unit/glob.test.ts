import { strict as assert } from 'node:assert';
import { containerName } from '../../shared/docker/container-name';
import { globMatcher, globToRegExp } from '../../shared/glob';

describe('globs', () => {
  it('matches * as any run and ? as one character, the rest literally', () => {
    assert.ok(globToRegExp('web-*').test('web-1'));
    assert.ok(globToRegExp('web-*').test('web-'));
    assert.ok(globToRegExp('db?').test('db1'));
    assert.ok(!globToRegExp('db?').test('db12'));
    assert.ok(!globToRegExp('a.b').test('axb'), 'a dot is literal');
    assert.ok(!globToRegExp('(x)|y').test('y'), 'regex syntax is literal');
    assert.ok(globToRegExp('(x)|y').test('(x)|y'));
  });

  it('matches the whole text, not a part of it', () => {
    assert.ok(!globToRegExp('web').test('my-web-1'));
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

import { strict as assert } from 'node:assert';
import { checkRequestPath, InvalidDockerRequestError } from '../../shared/docker/request-guard';

describe('checkRequestPath', () => {
  for (const path of [
    '/_ping',
    '/events?',
    '/containers/json?',
    '/containers/0123abcd/json',
    '/images/busybox:test/json',
    '/images/localhost:5000/team/app@sha256:0123abcd/json',
    '/networks/my_net-1/connect',
    '/v1.41/info',
  ]) {
    it(`sends ${path}`, () => checkRequestPath('GET', path));
  }

  for (const [path, reason] of [
    ['/images//json', /empty ID or name/],
    ['/containers//json?', /empty ID or name/],
    ['/images/../containers/json', /"\.\." is not an ID or name/],
    ['/containers/a b/json', /"a b" is not an ID or name/],
    ['/containers/x?force=1/json?', /holds a '\?'/],
    ['/containers/%2e%2e/json', /is not an ID or name/],
    ['containers/json', /not absolute/],
  ] as const) {
    it(`refuses ${path}`, () => {
      assert.throws(
        () => checkRequestPath('GET', path),
        (error: unknown) => error instanceof InvalidDockerRequestError && reason.test(error.message),
      );
    });
  }
});

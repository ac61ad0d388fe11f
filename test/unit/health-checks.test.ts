import { strict as assert } from 'node:assert';
import { HealthCheckClassifier, healthCheckCommandLine } from '../../shared/docker/health-checks';

describe('healthCheckCommandLine', () => {
  it('renders CMD-SHELL through the platform shell, as the engine reports it', () => {
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'curl -f http://localhost/ || exit 1']), '/bin/sh -c curl -f http://localhost/ || exit 1');
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'exit 0'], 'windows'), 'cmd /S /C exit 0');
  });
  it("uses the container's SHELL for CMD-SHELL when it has one", () => {
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'curl -f localhost'], 'linux', ['/bin/bash', '-o', 'pipefail', '-c']), '/bin/bash -o pipefail -c curl -f localhost');
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'exit 0'], 'linux', []), '/bin/sh -c exit 0');
  });
  it('joins CMD arguments with spaces', () => {
    assert.equal(healthCheckCommandLine(['CMD', 'test', '-f', '/tmp/healthy']), 'test -f /tmp/healthy');
  });
  it('has no command for NONE or no health check', () => {
    assert.equal(healthCheckCommandLine(['NONE']), undefined);
    assert.equal(healthCheckCommandLine(undefined), undefined);
    assert.equal(healthCheckCommandLine([]), undefined);
  });
});

describe('HealthCheckClassifier', () => {
  const exec = (id: string) => ({ type: 'container', action: 'exec_create', detail: '/bin/sh -c exit 0', id, name: '', image: '', attributes: { execID: 'e1' }, scope: 'local', timeNano: '1' });

  it('asks again after an inspect that failed for a reason other than a missing container', async () => {
    let calls = 0;
    const classifier = new HealthCheckClassifier(async () => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('engine busy'), { statusCode: 500 });
      return '/bin/sh -c exit 0';
    });
    assert.equal(await classifier.isHealthCheck(exec('c1')), false);
    assert.equal(await classifier.isHealthCheck(exec('c1')), true);
    assert.equal(calls, 2);
  });

  it('remembers a container that is gone (404) without asking again', async () => {
    let calls = 0;
    const classifier = new HealthCheckClassifier(async () => {
      calls += 1;
      throw Object.assign(new Error('no such container'), { statusCode: 404 });
    });
    await classifier.isHealthCheck(exec('c2'));
    await classifier.isHealthCheck(exec('c2'));
    assert.equal(calls, 1);
  });
});

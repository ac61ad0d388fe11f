import { strict as assert } from 'node:assert';
import { healthCheckCommandLine } from '../../shared/docker/health-checks';

describe('healthCheckCommandLine', () => {
  it('renders CMD-SHELL through the platform shell, as the engine reports it', () => {
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'curl -f http://localhost/ || exit 1']), '/bin/sh -c curl -f http://localhost/ || exit 1');
    assert.equal(healthCheckCommandLine(['CMD-SHELL', 'exit 0'], 'windows'), 'cmd /S /C exit 0');
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

import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionSettingsFromEnv, dockerOptions, isTruthyEnv } from '../../shared/docker/connection';

describe('Docker connection settings', () => {
  it('defaults to the local socket', () => {
    assert.deepEqual(dockerOptions(connectionSettingsFromEnv({})), { socketPath: '/var/run/docker.sock' });
  });

  it('follows DOCKER_HOST for unix sockets, tcp and ssh', () => {
    assert.deepEqual(dockerOptions({ host: 'unix:///run/test/docker.sock', tlsVerify: false }), {
      socketPath: '/run/test/docker.sock',
    });
    assert.deepEqual(dockerOptions({ host: 'tcp://10.0.0.5:2375', tlsVerify: false }), {
      host: '10.0.0.5',
      port: '2375',
      protocol: 'http',
    });
    assert.deepEqual(dockerOptions({ host: 'tcp://[fd00::5]', tlsVerify: false }), {
      host: 'fd00::5',
      port: '2375',
      protocol: 'http',
    });
    assert.deepEqual(dockerOptions({ host: 'ssh://ops@host-1', tlsVerify: false }), {
      protocol: 'ssh',
      host: 'host-1',
      port: '22',
      username: 'ops',
    });
  });

  it('reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH with DOCKER_TLS_VERIFY', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-certs-'));
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, file), `${file} body`);
    const settings = connectionSettingsFromEnv({
      DOCKER_HOST: 'tcp://docker.example:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: dir,
    });
    const options = dockerOptions(settings);
    assert.equal(options.protocol, 'https');
    assert.equal(options.port, '2376');
    assert.equal(String(options.ca), 'ca.pem body');
    assert.equal(String(options.key), 'key.pem body');
  });

  it('names the missing certificate file', () => {
    assert.throws(
      () => dockerOptions({ host: 'tcp://docker.example:2376', tlsVerify: true, certPath: '/nonexistent/certs' }),
      /DOCKER_CERT_PATH: cannot read \/nonexistent\/certs\/ca\.pem/,
    );
  });

  it('names DOCKER_HOST and the accepted forms for a bad value', () => {
    assert.throws(
      () => dockerOptions({ host: 'unix://relative.sock', tlsVerify: false }),
      /DOCKER_HOST 'unix:\/\/relative\.sock'.*absolute path/,
    );
    assert.throws(
      () => dockerOptions({ host: 'npipe:////./pipe/docker_engine', tlsVerify: false }),
      /unsupported scheme 'npipe:'/,
    );
    assert.throws(() => dockerOptions({ host: 'not a url', tlsVerify: false }), /DOCKER_HOST 'not a url' is not a URL/);
  });

  it('treats DOCKER_TLS_VERIFY like the docker CLI, plus explicit off values', () => {
    assert.equal(isTruthyEnv('1'), true);
    assert.equal(isTruthyEnv('yes'), true);
    assert.equal(isTruthyEnv(''), false);
    assert.equal(isTruthyEnv(undefined), false);
    assert.equal(isTruthyEnv('0'), false);
    assert.equal(isTruthyEnv('false'), false);
  });
});

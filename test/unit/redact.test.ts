import { strict as assert } from 'node:assert';
import { redactCommand, redactText } from '../../agents/security-watcher/redact';

describe('command-line redaction', () => {
  it('masks the password a MySQL or MariaDB client takes glued to -p', () => {
    assert.deepEqual(redactCommand(['mysql', '-uroot', '-pS3cret!', 'shop']), ['mysql', '-uroot', '-p***', 'shop']);
    assert.deepEqual(redactCommand(['/usr/bin/mysqldump', '-h', 'db', "-p'S3cret'", 'shop']), [
      '/usr/bin/mysqldump',
      '-h',
      'db',
      "-p***'",
      'shop',
    ]);
    assert.equal(redactText('mariadb-dump -pS3cret --all-databases'), 'mariadb-dump -p*** --all-databases');
    assert.deepEqual(redactCommand(['sh', '-c', 'mysqladmin -pS3cret ping']), ['sh', '-c', 'mysqladmin -p*** ping']);
  });

  it('leaves -p alone for other programs, where it is a port or a flag', () => {
    assert.deepEqual(redactCommand(['ssh', '-p2222', 'host']), ['ssh', '-p2222', 'host']);
    assert.deepEqual(redactCommand(['mkdir', '-p', '/x']), ['mkdir', '-p', '/x']);
    assert.deepEqual(
      redactCommand(['mysql', '-p', 'shop']),
      ['mysql', '-p', 'shop'],
      'a bare -p asks for the password',
    );
  });

  it('masks the password flags of redis-cli, sshpass, docker login, mongo, openssl and htpasswd', () => {
    const cases: Array<[string, string]> = [
      ['redis-cli -a S3cret ping', 'redis-cli -a *** ping'],
      ['redis-cli --pass S3cret ping', 'redis-cli --pass *** ping'],
      ['sshpass -p S3cret ssh host', 'sshpass -p *** ssh host'],
      ['sshpass -pS3cret ssh host', 'sshpass -p*** ssh host'],
      ['docker login -u me -p S3cret registry.example', 'docker login -u me -p *** registry.example'],
      ['podman login --password S3cret quay.io', 'podman login --password *** quay.io'],
      ['/usr/local/bin/nerdctl login -p S3cret', '/usr/local/bin/nerdctl login -p ***'],
      ['mongosh -u root -p S3cret', 'mongosh -u root -p ***'],
      ['mongo --password S3cret admin', 'mongo --password *** admin'],
      ['openssl enc -aes256 -k S3cret -in f', 'openssl enc -aes256 -k *** -in f'],
      ['openssl enc -pass pass:S3cret -in f', 'openssl enc -pass *** -in f'],
      ['openssl rsa -passin pass:S3cret -in k.pem', 'openssl rsa -passin *** -in k.pem'],
      ['htpasswd -b /etc/htpasswd admin S3cret', 'htpasswd -b /etc/htpasswd admin ***'],
      ['htpasswd -cbB -C 12 /etc/htpasswd admin S3cret', 'htpasswd -cbB -C 12 /etc/htpasswd admin ***'],
      ['htpasswd -nb admin S3cret', 'htpasswd -nb admin ***'],
      [`sh -c '"mysql" -pS3cret shop'`, `sh -c '"mysql" -p*** shop'`],
    ];
    for (const [command, shown] of cases) assert.equal(redactText(command), shown, command);
    assert.deepEqual(redactCommand(['redis-cli', '-a', 'S3cret']), ['redis-cli', '-a', '***']);
    assert.deepEqual(redactCommand(['htpasswd', '-b', 'file', 'user', 'S3cret']), [
      'htpasswd',
      '-b',
      'file',
      'user',
      '***',
    ]);
  });

  it('leaves the same flags alone where they mean something else', () => {
    assert.equal(redactText('docker run -p 8080:80 nginx'), 'docker run -p 8080:80 nginx');
    assert.equal(redactText('redis-server -a x'), 'redis-server -a x');
    assert.equal(redactText('htpasswd -v /etc/htpasswd admin'), 'htpasswd -v /etc/htpasswd admin');
    assert.equal(redactText('tar -k -xf a.tar'), 'tar -k -xf a.tar');
  });
});

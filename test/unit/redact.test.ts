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
});

/** The hint for the two first-run mistakes: no socket where the agent looks, no permission on it. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketProblemHint } from '../../shared/docker/socket-hint';

describe('engine socket hints', () => {
  const errno = (code: string, address: string) =>
    Object.assign(new Error(`connect ${code} ${address}`), { code, address });

  it('says where to point DOCKER_HOST, and how to mount the socket, when it is missing', () => {
    assert.match(
      socketProblemHint(errno('ENOENT', '/var/run/docker.sock'))!,
      /^no engine socket at \/var\/run\/docker\.sock: .*-v \/var\/run\/docker\.sock:\/var\/run\/docker\.sock.*DOCKER_HOST/,
    );
  });

  it("names the socket's group when permission is denied", () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-hint-'));
    try {
      const socket = join(dir, 'docker.sock');
      writeFileSync(socket, '');
      const hint = socketProblemHint(errno('EACCES', socket))!;
      assert.match(
        hint,
        new RegExp(
          `^permission denied on ${socket}: .*\\(gid ${process.getgid!()}\\).*--group-add ${process.getgid!()}`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has nothing to say about other failures', () => {
    assert.equal(socketProblemHint(errno('ECONNREFUSED', '/var/run/docker.sock')), undefined);
    assert.equal(socketProblemHint(new Error('(HTTP code 500) server error')), undefined);
  });
});

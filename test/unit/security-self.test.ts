import { strict as assert } from 'node:assert';
import { ownContainerId } from '../../agents/security-watcher/self';

const ID = 'a1b2c3d4e5f6'.padEnd(64, '7');
const MOUNTINFO = [
  '600 500 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X',
  `611 600 253:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
  `612 600 253:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
].join('\n');

function files(contents: Record<string, string>) {
  return (path: string): string => {
    if (!(path in contents)) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return contents[path]!;
  };
}

describe('security-watcher: its own container', () => {
  it('is found from the engine mounts even with a custom hostname or the host network', () => {
    assert.equal(ownContainerId(files({ '/proc/self/mountinfo': MOUNTINFO }), 'watcher'), ID);
  });
  it('or from the cgroup (v1, or the systemd driver)', () => {
    assert.equal(
      ownContainerId(
        files({
          '/proc/self/mountinfo': '',
          '/proc/self/cgroup': `12:pids:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`,
        }),
        'watcher',
      ),
      ID,
    );
    assert.equal(
      ownContainerId(files({ '/proc/self/cgroup': `0::/system.slice/docker-${ID}.scope\n` }), 'watcher'),
      ID,
    );
  });
  it('or, last, from a hostname that is a short container ID; on a host it is none', () => {
    assert.equal(ownContainerId(files({}), 'a1b2c3d4e5f6'), 'a1b2c3d4e5f6');
    assert.equal(
      ownContainerId(
        files({
          '/proc/self/mountinfo': '600 500 0:52 / / rw - ext4 /dev/vda1 rw',
          '/proc/self/cgroup': '0::/user.slice\n',
        }),
        'buildhost',
      ),
      undefined,
    );
  });
});

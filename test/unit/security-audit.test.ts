import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import { audit } from '../../agents/security-watcher/audit-command';
import { defaultPolicy } from '../../agents/security-watcher/policy';
import { ConfigError } from '../../shared/config/errors';

function gone(): Error & { statusCode: number } {
  return Object.assign(new Error('no such container'), { statusCode: 404 });
}

/** An engine whose listing names a container and an image that are removed before they are inspected. */
function raceyDocker(): Dockerode {
  const container = {
    Id: 'kept'.padEnd(64, '0'),
    Name: '/kept',
    Path: 'sleep',
    Args: [],
    State: { Status: 'running', Running: true },
    Config: { User: '1000', Image: 'busybox', Labels: {}, Healthcheck: { Test: ['CMD', 'true'] } },
    HostConfig: {
      Privileged: true,
      PidsLimit: 10,
      Memory: 1,
      CpuShares: 2,
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
    },
    Mounts: [],
  };
  return {
    modem: {},
    info: async () => ({ SecurityOptions: [] }),
    listContainers: async () => [{ Id: 'gone'.padEnd(64, '0') }, { Id: container.Id }],
    listImages: async () => [{ Id: 'sha256:gone' }],
    getContainer: (id: string) => ({ inspect: async () => (id === container.Id ? container : Promise.reject(gone())) }),
    getImage: () => ({ inspect: async () => Promise.reject(gone()), history: async () => Promise.reject(gone()) }),
  } as unknown as Dockerode;
}

const reach = <T>(what: string, call: () => Promise<T>): Promise<T> =>
  call().catch((error: { statusCode?: number }) => {
    throw new ConfigError(error.statusCode === 404 ? `${what}: not found` : `${what}: failed`);
  });

describe('security audit', () => {
  it('a container or image removed while the audit runs is skipped, not an input error', async () => {
    const { findings, objects } = await audit(raceyDocker(), defaultPolicy(), {}, reach);
    assert.deepEqual(
      objects.map((o) => o.name),
      ['kept'],
    );
    assert.ok(findings.some((f) => f.ruleId === 'privileged' && f.object.name === 'kept'));
  });

  it('a container named with --container that does not exist is still an input error', async () => {
    await assert.rejects(audit(raceyDocker(), defaultPolicy(), { container: ['nope'] }, reach), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /--container 'nope': not found/);
      return true;
    });
  });
});

/** security-watcher on Podman (issue #14.5): host IPC when the engine says `shareable` for `--ipc host`. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { sharesHostIpc } from '../../agents/security-watcher/namespaces';
import { containerTarget } from '../../agents/security-watcher/objects';
import { RULES } from '../../agents/security-watcher/rules';
import type { ContainerTarget } from '../../agents/security-watcher/target';

const ID = 'a10e16e21a83fffdfdb0bc69006cdaaa2a604fdd1eae7ef803052b201025f836';

describe('security-watcher: host IPC on Podman', () => {
  let proc: string;
  /** A fake /proc entry: the cgroup file and the ns/ipc link as the kernel shows them. */
  function processEntry(pid: number, cgroup: string, ipc: string): void {
    mkdirSync(join(proc, String(pid), 'ns'), { recursive: true });
    writeFileSync(join(proc, String(pid), 'cgroup'), cgroup);
    symlinkSync(ipc, join(proc, String(pid), 'ns', 'ipc'));
  }
  beforeEach(() => (proc = mkdtempSync(join(tmpdir(), 'qs-proc-'))));
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  it("asks the kernel: the container's init in the initial (or PID 1's) IPC namespace shares the host's", () => {
    processEntry(20963, `8:pids:/libpod_parent/libpod-${ID}\n`, 'ipc:[4026531839]');
    processEntry(20999, `8:pids:/libpod_parent/libpod-${ID}\n`, 'ipc:[4026535294]');
    assert.equal(sharesHostIpc(20963, ID, proc), true);
    assert.equal(sharesHostIpc(20999, ID, proc), false);
    // A nested host: its PID 1's namespace is the host's.
    processEntry(1, '0::/init.scope\n', 'ipc:[4026535294]');
    assert.equal(sharesHostIpc(20999, ID, proc), true);
  });

  it('does not guess when the process is not visibly the container (another PID namespace), gone, or unknown', () => {
    processEntry(20963, '8:pids:/system.slice/cron.service\n', 'ipc:[4026531839]');
    assert.equal(sharesHostIpc(20963, ID, proc), undefined, 'same pid, another process');
    assert.equal(sharesHostIpc(31337, ID, proc), undefined, 'no such process');
    assert.equal(sharesHostIpc(0, ID, proc), undefined, 'not running');
    assert.equal(sharesHostIpc(undefined, ID, proc), undefined);
  });

  describe('rule host-ipc (CIS 5.17)', () => {
    const rule = RULES.container.find((r) => r.id === 'host-ipc')!;
    // Podman 4.3's inspect of a container run with --ipc host, as far as the rule reads it.
    const info = {
      Id: ID,
      Name: '/p2-ipchost',
      State: { Pid: 0 },
      Config: { Image: 'busybox:test', Labels: {} },
      HostConfig: { IpcMode: 'shareable' },
      Mounts: [],
    };
    const target = (hostIpc: boolean | undefined, mode = 'shareable'): ContainerTarget => ({
      ...containerTarget(
        { ...info, HostConfig: { IpcMode: mode } } as unknown as Dockerode.ContainerInspectInfo,
        { apparmor: false, selinux: false, dockerSockets: [] },
        new Map(),
        () => true,
        false,
      ),
      hostIpc,
    });

    it("fires on Podman's `shareable` when the kernel says the namespace is the host's", () => {
      const [found] = rule.check(target(true));
      assert.deepEqual(found?.evidence, { field: 'HostConfig.IpcMode', value: 'shareable', ipcNamespace: 'host' });
      assert.match(found!.message, /host's IPC namespace/);
    });

    it("stays quiet on a private namespace, and trusts IpcMode=host where the kernel can't be asked", () => {
      assert.deepEqual(rule.check(target(false)), []);
      assert.deepEqual(rule.check(target(undefined)), []);
      assert.deepEqual(
        rule.check(target(undefined, 'host')).map((h) => h.evidence.value),
        ['host'],
      );
    });
  });
});

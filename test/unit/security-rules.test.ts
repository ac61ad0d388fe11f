import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import { PolicyEvaluator, strongestAction } from '../../agents/security-watcher/evaluate';
import { containerTarget, DEFAULT_DOCKER_SOCKETS, imageTarget } from '../../agents/security-watcher/objects';
import { defaultPolicy, parsePolicy } from '../../agents/security-watcher/policy';
import { RULES } from '../../agents/security-watcher/rules';
import { securityOptions } from '../../agents/security-watcher/options';
import { launchedPrograms } from '../../agents/security-watcher/rules/exec';
import type { ContainerContext, ExecTarget, HostFacts } from '../../agents/security-watcher/target';
import { cpuMillisOf } from '../support/cpu-time';

const HOST: HostFacts = {
  apparmor: false,
  selinux: false,
  dockerSockets: ['/var/run/docker.sock', '/run/docker.sock'],
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- patches reach deep into a free-form inspect
type Inspect = Record<string, any>;

/** A container inspect that passes every container check (as Docker 20.10 shows one). */
function hardened(): Inspect {
  return {
    Id: 'c0ffee'.padEnd(64, '0'),
    Name: '/web',
    Path: '/app/server',
    Args: ['--port', '8080'],
    AppArmorProfile: 'docker-default',
    State: { Status: 'created', Running: false, Paused: false },
    Config: {
      User: '1000:1000',
      Image: 'busybox:test',
      Labels: {},
      Healthcheck: { Test: ['CMD', '/app/health'] },
      Tty: false,
      OpenStdin: false,
    },
    HostConfig: {
      Privileged: false,
      CapAdd: null,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges', 'label=level:s0:c100,c200'],
      NetworkMode: 'shop',
      PidMode: '',
      IpcMode: 'private',
      UTSMode: '',
      UsernsMode: '',
      CgroupParent: '',
      Memory: 67108864,
      CpuShares: 512,
      NanoCpus: 0,
      PidsLimit: 100,
      ReadonlyRootfs: true,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
      Devices: [],
      Ulimits: [{ Name: 'nofile', Hard: 2048, Soft: 1024 }],
    },
    Mounts: [{ Type: 'bind', Source: '/srv/data', Destination: '/data', RW: true, Propagation: 'rprivate' }],
    NetworkSettings: { Networks: { shop: {} } },
  };
}

type Patch = (info: Inspect) => void;

function evaluate(
  patch: Patch = () => {},
  options: {
    host?: Partial<HostFacts>;
    policy?: string;
    resolved?: Record<string, string>;
    context?: ContainerContext;
  } = {},
) {
  const info = hardened();
  patch(info);
  const policy = options.policy ? parsePolicy(options.policy, 'p.yaml') : defaultPolicy();
  // Every rule on, inventory ones included, so each is checked.
  const all = new Map([...policy.rules].map(([id, r]) => [id, { ...r, enabled: options.policy ? r.enabled : true }]));
  const evaluator = new PolicyEvaluator({ ...policy, rules: all });
  const target = containerTarget(
    info as Dockerode.ContainerInspectInfo,
    { ...HOST, ...options.host },
    new Map(Object.entries(options.resolved ?? {})),
    evaluator.allowedImage,
    policy.allowedImages.length > 0,
    [],
    options.context,
  );
  return evaluator.evaluate(RULES.container, target, target.object, {
    names: ['web'],
    images: [info.Config.Image],
    labels: info.Config.Labels,
  });
}

function fired(patch?: Patch, options?: Parameters<typeof evaluate>[1]): string[] {
  return evaluate(patch, options)
    .findings.map((f) => (f.subject ? `${f.ruleId} ${f.subject}` : f.ruleId))
    .sort();
}

describe('security rules: containers (CIS 5.x)', () => {
  it('the hardened container passes every check, inventory ones included', () => {
    assert.deepEqual(fired(), ['published-ports 80/tcp']);
    assert.deepEqual(
      fired((i) => (i.HostConfig.PortBindings = {})),
      [],
    );
  });

  // One violating variant per check: [rule fired, what changes, evidence field, evidence value].
  const cases: Array<[string, Patch, string, unknown]> = [
    ['privileged', (i) => (i.HostConfig.Privileged = true), 'HostConfig.Privileged', true],
    [
      'added-capabilities SYS_ADMIN',
      (i) => (i.HostConfig.CapAdd = ['CAP_SYS_ADMIN', 'CAP_CHOWN']),
      'HostConfig.CapAdd',
      ['CAP_SYS_ADMIN', 'CAP_CHOWN'],
    ],
    ['sshd', (i) => ((i.Path = '/usr/sbin/sshd'), (i.Args = ['-D'])), 'Path/Args', ['/usr/sbin/sshd', '-D']],
    [
      'privileged-port 80/tcp',
      (i) => (i.HostConfig.PortBindings['80/tcp'][0].HostPort = '80'),
      'HostConfig.PortBindings["80/tcp"]',
      [{ HostIp: '127.0.0.1', HostPort: '80' }],
    ],
    [
      'published-ports 80/tcp',
      () => {},
      'HostConfig.PortBindings["80/tcp"]',
      [{ HostIp: '127.0.0.1', HostPort: '8080' }],
    ],
    ['host-network', (i) => (i.HostConfig.NetworkMode = 'host'), 'HostConfig.NetworkMode', 'host'],
    ['memory-limit', (i) => (i.HostConfig.Memory = 0), 'HostConfig.Memory', 0],
    [
      'cpu-shares',
      (i) => (i.HostConfig.CpuShares = 0),
      'HostConfig.CpuShares/NanoCpus/CpuQuota',
      { CpuShares: 0, NanoCpus: 0, CpuQuota: 0 },
    ],
    ['writable-rootfs', (i) => (i.HostConfig.ReadonlyRootfs = false), 'HostConfig.ReadonlyRootfs', false],
    [
      'wildcard-binding 80/tcp',
      (i) => (i.HostConfig.PortBindings['80/tcp'][0].HostIp = ''),
      'HostConfig.PortBindings["80/tcp"]',
      [{ HostIp: '', HostPort: '8080' }],
    ],
    [
      'restart-policy',
      (i) => (i.HostConfig.RestartPolicy = { Name: 'on-failure', MaximumRetryCount: 6 }),
      'HostConfig.RestartPolicy',
      { Name: 'on-failure', MaximumRetryCount: 6 },
    ],
    ['host-pid', (i) => (i.HostConfig.PidMode = 'host'), 'HostConfig.PidMode', 'host'],
    ['host-ipc', (i) => (i.HostConfig.IpcMode = 'host'), 'HostConfig.IpcMode', 'host'],
    [
      'host-devices /dev/xnull',
      (i) =>
        (i.HostConfig.Devices = [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rwm' }]),
      'HostConfig.Devices[0]',
      { PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rwm' },
    ],
    ['default-ulimits', (i) => (i.HostConfig.Ulimits = null), 'HostConfig.Ulimits', null],
    ['shared-propagation /data', (i) => (i.Mounts[0].Propagation = 'rshared'), 'Mounts[0].Propagation', 'rshared'],
    ['host-uts', (i) => (i.HostConfig.UTSMode = 'host'), 'HostConfig.UTSMode', 'host'],
    [
      'seccomp-unconfined',
      (i) => i.HostConfig.SecurityOpt.push('seccomp=unconfined'),
      'HostConfig.SecurityOpt',
      ['no-new-privileges', 'label=level:s0:c100,c200', 'seccomp=unconfined'],
    ],
    ['cgroup-parent', (i) => (i.HostConfig.CgroupParent = '/custom'), 'HostConfig.CgroupParent', '/custom'],
    [
      'no-new-privileges',
      (i) => (i.HostConfig.SecurityOpt = ['label=level:s0']),
      'HostConfig.SecurityOpt',
      ['label=level:s0'],
    ],
    ['no-healthcheck', (i) => (i.Config.Healthcheck = { Test: ['NONE'] }), 'Config.Healthcheck', { Test: ['NONE'] }],
    ['pids-limit', (i) => (i.HostConfig.PidsLimit = null), 'HostConfig.PidsLimit', null],
    ['default-bridge', (i) => (i.HostConfig.NetworkMode = 'default'), 'HostConfig.NetworkMode', 'default'],
    ['host-userns', (i) => (i.HostConfig.UsernsMode = 'host'), 'HostConfig.UsernsMode', 'host'],
    ['container-root-user', (i) => (i.Config.User = ''), 'Config.User', ''],
    [
      'terminal-shell-container',
      (i) => ((i.Path = '/bin/sh'), (i.Config.Tty = true), (i.Config.OpenStdin = true)),
      'Config.Tty',
      true,
    ],
  ];
  for (const [expected, patch, field, value] of cases) {
    it(`${expected.split(' ')[0]} fires alone, with the inspect field as evidence`, () => {
      const result = evaluate((i) => {
        i.HostConfig.PortBindings = expected.includes('80/tcp') ? i.HostConfig.PortBindings : {};
        patch(i);
      });
      // Every published port is also inventory (published-ports), which its own case checks.
      const findings = result.findings.filter(
        (f) => f.ruleId !== 'published-ports' || expected.startsWith('published-ports'),
      );
      assert.deepEqual(
        findings.map((f) => (f.subject ? `${f.ruleId} ${f.subject}` : f.ruleId)),
        [expected],
      );
      const finding = findings[0]!;
      assert.equal(finding.evidence.field, field);
      assert.deepEqual(finding.evidence.value, value);
      assert.ok(finding.remediation.length > 0 && finding.message.length > 0);
    });
  }

  it('CIS IDs travel in the evidence', () => {
    const [finding] = evaluate((i) => ((i.HostConfig.PortBindings = {}), (i.HostConfig.Privileged = true))).findings;
    assert.equal(finding!.evidence.cis, '5.5');
    assert.equal(finding!.evidence.mode, 'audit');
  });

  describe("fixes of docker-bench's false results", () => {
    const noPorts: Patch = (i) => (i.HostConfig.PortBindings = {});
    it('5.2 AppArmor: only where the engine has AppArmor', () => {
      const unconfined: Patch = (i) => (noPorts(i), (i.AppArmorProfile = ''));
      assert.deepEqual(fired(unconfined), []);
      assert.deepEqual(fired(unconfined, { host: { apparmor: true } }), ['apparmor-profile']);
      assert.deepEqual(fired(noPorts, { host: { apparmor: true } }), []);
    });
    it('5.3 SELinux: only with SELinux, and seccomp=unconfined or label=disable is no label', () => {
      const options =
        (opts: string[]): Patch =>
        (i) => (noPorts(i), (i.HostConfig.SecurityOpt = ['no-new-privileges', ...opts]));
      assert.deepEqual(fired(options(['label=disable'])), []);
      assert.deepEqual(fired(options(['label=disable']), { host: { selinux: true } }), ['selinux-options']);
      assert.deepEqual(fired(options(['label=type:svirt_apache_t']), { host: { selinux: true } }), []);
    });
    it('5.4 capabilities: with or without CAP_, ALL included, defaults ignored', () => {
      assert.deepEqual(
        fired((i) => (noPorts(i), (i.HostConfig.CapAdd = ['NET_ADMIN', 'ALL', 'NET_RAW']))),
        ['added-capabilities ALL', 'added-capabilities NET_ADMIN'],
      );
    });
    it('5.6 sensitive directories: sub-paths and symlinked sources count; read-only ones are left to sensitive-mount', () => {
      const bind =
        (source: string, rw = true): Patch =>
        (i) => (
          noPorts(i),
          (i.Mounts = [{ Type: 'bind', Source: source, Destination: '/x', RW: rw, Propagation: 'rprivate' }])
        );
      assert.deepEqual(fired(bind('/etc/shadow')), ['sensitive-host-dir /x', 'sensitive-mount /x']);
      assert.deepEqual(fired(bind('/usr/local')), ['sensitive-host-dir /x']);
      assert.deepEqual(fired(bind('/etc', false)), ['sensitive-mount /x']);
      assert.deepEqual(fired(bind('/etcetera')), []);
      assert.deepEqual(fired(bind('/')), ['docker-socket /x', 'sensitive-host-dir /x', 'sensitive-mount /x']);
      const viaLink = evaluate(bind('/srv/rootlink'), { resolved: { '/srv/rootlink': '/etc' } }).findings.find(
        (f) => f.ruleId === 'sensitive-host-dir',
      )!;
      assert.deepEqual(viaLink.evidence, {
        cis: '5.6',
        field: 'Mounts[0]',
        value: { Source: '/srv/rootlink', Destination: '/x', RW: true },
        resolvedSource: '/etc',
        mode: 'audit',
      });
      assert.match(viaLink.message, /via symlink \/srv\/rootlink/);
    });
    it('sensitive-mount (read-only too): as Falco, the directories themselves and what lies under /proc, /root and the kubelet; not every file under /etc', () => {
      const ro =
        (source: string): Patch =>
        (i) => (
          noPorts(i),
          (i.Mounts = [{ Type: 'bind', Source: source, Destination: '/x', RW: false, Propagation: 'rprivate' }])
        );
      for (const source of [
        '/etc',
        '/etc/shadow',
        '/etc/sudoers.d',
        '/etc/ssh/ssh_host_rsa_key',
        '/etc/kubernetes/manifests',
        '/proc',
        '/proc/1/ns',
        '/root/.ssh',
        '/var/lib/kubelet/pki',
        '/home/admin',
        '/run/containerd/containerd.sock',
      ]) {
        assert.deepEqual(fired(ro(source)), ['sensitive-mount /x'], source);
      }
      // A container that reads the host's time zone or CA certificates is no sensitive mount.
      for (const source of [
        '/etc/localtime',
        '/etc/timezone',
        '/etc/ssl/certs',
        '/etc/passwd',
        '/home/admin2',
        '/rootfs',
        '/var/lib/kubelet-data',
      ])
        assert.deepEqual(fired(ro(source)), [], source);
    });
    it('5.14: an empty HostIp and the IPv6 wildcard are every interface too', () => {
      for (const ip of ['127.0.0.1', '::1', '10.0.0.1', 'fe80::1'])
        assert.deepEqual(
          fired((i) => (i.HostConfig.PortBindings['80/tcp'][0].HostIp = ip)),
          ['published-ports 80/tcp'],
          ip,
        );
      for (const ip of ['', '0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '::0'])
        assert.deepEqual(
          fired((i) => (i.HostConfig.PortBindings['80/tcp'][0].HostIp = ip)),
          ['published-ports 80/tcp', 'wildcard-binding 80/tcp'],
          ip,
        );
    });
    it('an inline seccomp profile stands in the evidence by its size, not its text', () => {
      const profile = JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: Array.from({ length: 300 }, (_, n) => ({ names: [`call${n}`], action: 'SCMP_ACT_ALLOW' })),
      });
      const finding = evaluate((i) => (noPorts(i), (i.HostConfig.SecurityOpt = [`seccomp=${profile}`]))).findings.find(
        (f) => f.ruleId === 'no-new-privileges',
      )!;
      assert.deepEqual(finding.evidence.value, [`seccomp=<inline profile, ${profile.length} bytes>`]);
    });
    it('5.14: docker run -P publishes every exposed port on every interface (PortBindings stays empty)', () => {
      const publishAll: Patch = (i) => (
        (i.HostConfig.PublishAllPorts = true),
        (i.Config.ExposedPorts = { '80/tcp': {}, '9000/udp': {} })
      );
      assert.deepEqual(fired(publishAll), [
        'published-ports 80/tcp',
        'published-ports 9000/udp',
        'wildcard-binding 9000/udp',
      ]);
      const finding = evaluate(publishAll).findings.find((f) => f.ruleId === 'wildcard-binding')!;
      assert.equal(finding.evidence.field, 'HostConfig.PublishAllPorts');
      assert.deepEqual(finding.evidence.value, { PublishAllPorts: true, ExposedPort: '9000/udp' });
      assert.deepEqual(
        fired((i) => ((i.HostConfig.PublishAllPorts = true), (i.Config.ExposedPorts = null))),
        ['published-ports 80/tcp'],
      );
    });
    it('5.8: ports below 1024 are privileged, 1024 is not (docker-bench flags it); a range counts from its start', () => {
      const port =
        (hostPort: string): Patch =>
        (i) =>
          (i.HostConfig.PortBindings['80/tcp'][0].HostPort = hostPort);
      assert.deepEqual(fired(port('1023')), ['privileged-port 80/tcp', 'published-ports 80/tcp']);
      assert.deepEqual(fired(port('1024')), ['published-ports 80/tcp']);
      assert.deepEqual(fired(port('1000-1100')), ['privileged-port 80/tcp', 'published-ports 80/tcp']);
      assert.deepEqual(fired(port('')), ['published-ports 80/tcp']);
    });
    it('5.12: a --cpu-quota is a CPU limit; 5.29: any PidsLimit of 0 or below is none', () => {
      assert.deepEqual(
        fired((i) => (noPorts(i), (i.HostConfig.CpuShares = 0), (i.HostConfig.CpuQuota = 50000))),
        [],
      );
      // CIS 5.12's text: 1024, the default weight given explicitly, is not in place either; the finding says the deviation.
      const shares = evaluate((i) => (noPorts(i), (i.HostConfig.CpuShares = 1024))).findings;
      assert.deepEqual(
        shares.map((f) => f.ruleId),
        ['cpu-shares'],
      );
      assert.match(shares[0]!.message, /CpuShares=1024 \(the default weight\).*CIS 5\.12 text.*--cpus or --cpu-quota/);
      assert.deepEqual(
        fired((i) => (noPorts(i), (i.HostConfig.CpuShares = 1024), (i.HostConfig.NanoCpus = 500_000_000))),
        [],
      );
      for (const limit of [0, -1, -2, null])
        assert.deepEqual(
          fired((i) => (noPorts(i), (i.HostConfig.PidsLimit = limit))),
          ['pids-limit'],
          String(limit),
        );
    });
    it('5.15: always and unless-stopped retry forever; on-failure:5 passes', () => {
      for (const name of ['always', 'unless-stopped'])
        assert.deepEqual(
          fired((i) => (noPorts(i), (i.HostConfig.RestartPolicy = { Name: name, MaximumRetryCount: 0 }))),
          ['restart-policy'],
        );
      assert.deepEqual(
        fired((i) => (noPorts(i), (i.HostConfig.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 }))),
        [],
      );
    });
    it('5.32: the socket, a parent directory of it, a symlink to it, and the engine socket we use', () => {
      const bind =
        (source: string): Patch =>
        (i) => (
          noPorts(i),
          (i.Mounts = [{ Type: 'bind', Source: source, Destination: '/s', RW: false, Propagation: 'rprivate' }])
        );
      assert.deepEqual(fired(bind('/var/run/docker.sock')), ['docker-socket /s', 'sensitive-mount /s']);
      assert.deepEqual(fired(bind('/var/run')), ['docker-socket /s']);
      assert.deepEqual(fired(bind('/run')), ['docker-socket /s']);
      assert.deepEqual(fired(bind('/srv/sock'), { resolved: { '/srv/sock': '/run/docker.sock' } }), [
        'docker-socket /s',
        'sensitive-mount /s',
      ]);
      assert.deepEqual(
        fired(bind('/var/tmp/qs/docker.sock'), { host: { dockerSockets: ['/var/tmp/qs/docker.sock'] } }),
        ['docker-socket /s', 'sensitive-mount /s'],
      );
      assert.deepEqual(fired(bind('/var/lib/app')), []);
    });
    it('Podman sockets (rootful, rootless, or named by the option) are engine sockets too (#14.5)', () => {
      const bind =
        (source: string): Patch =>
        (i) => (
          noPorts(i),
          (i.Mounts = [{ Type: 'bind', Source: source, Destination: '/s', RW: true, Propagation: 'rprivate' }])
        );
      assert.deepEqual(
        fired(bind('/run/podman/podman.sock'), { host: { dockerSockets: [...DEFAULT_DOCKER_SOCKETS] } }),
        ['docker-socket /s', 'sensitive-mount /s'],
      );
      assert.deepEqual(fired(bind('/var/run/podman'), { host: { dockerSockets: [...DEFAULT_DOCKER_SOCKETS] } }), [
        'docker-socket /s',
      ]);
      assert.deepEqual(fired(bind('/run/user/1000/podman/podman.sock')), ['docker-socket /s']);
      assert.deepEqual(
        fired(bind('/srv/engine/api.sock'), {
          host: { dockerSockets: [...HOST.dockerSockets, '/srv/engine/api.sock'] },
        }),
        ['docker-socket /s', 'sensitive-mount /s'],
      );
      assert.deepEqual(
        securityOptions.securityEngineSockets.parse('/srv/engine/api.sock, /run/user/1000/podman/podman.sock'),
        ['/srv/engine/api.sock', '/run/user/1000/podman/podman.sock'],
      );
      assert.throws(
        () => securityOptions.securityEngineSockets.parse('podman.sock'),
        /"podman.sock" is not an absolute path/,
      );
    });
    it('5.10/5.16/5.17: joining the namespace of a container that has host mode is host mode (#13.5)', () => {
      const join: Patch = (i) => (
        noPorts(i),
        (i.HostConfig.NetworkMode = 'container:abc'),
        (i.HostConfig.PidMode = 'container:abc')
      );
      const joined = { via: ['hostnet'], mode: 'host' };
      assert.deepEqual(fired(join, { context: { joined: { NetworkMode: joined, PidMode: joined } } }), [
        'host-network',
        'host-pid',
      ]);
      assert.deepEqual(fired(join, { context: { joined: { NetworkMode: { via: ['a', 'b'], mode: 'bridge' } } } }), []);
      assert.deepEqual(
        fired(join, { context: { joined: { NetworkMode: { via: [], mode: 'container:abc', error: 'deadline' } } } }),
        [],
      );
      const [finding] = evaluate(join, { context: { joined: { NetworkMode: joined } } }).findings;
      assert.match(
        finding!.message,
        /through container hostnet \(HostConfig\.NetworkMode=container:abc, which has NetworkMode=host\)/,
      );
    });
    it('5.6 and sensitive-mount: a local volume created with o=bind,device=/etc is the host /etc (#13.5)', () => {
      const volume: Patch = (i) => (
        noPorts(i),
        (i.Mounts = [
          {
            Type: 'volume',
            Name: 'etcvol',
            Driver: 'local',
            Source: '/var/lib/docker/volumes/etcvol/_data',
            Destination: '/cfg',
            RW: true,
          },
        ])
      );
      assert.deepEqual(fired(volume, { context: { volumeDevices: new Map([['etcvol', '/etc']]) } }), [
        'sensitive-host-dir /cfg',
        'sensitive-mount /cfg',
      ]);
      assert.deepEqual(fired(volume), []);
      const [dir] = evaluate(volume, { context: { volumeDevices: new Map([['etcvol', '/etc']]) } }).findings;
      assert.match(dir!.message, /mounts host \/etc \(through volume etcvol, o=bind\) read-write at \/cfg/);
    });
    it('5.7: sshd among the running processes (GET /top), by its name or its arguments; a failed listing is a finding (#13.5)', () => {
      const running = (list: Array<{ comm: string; args: string }>): ContainerContext => ({ processes: { list } });
      assert.deepEqual(fired(noPorts, { context: running([{ comm: 'sshd', args: '/bin/sh /tmp/sshd' }]) }), ['sshd']);
      assert.deepEqual(
        fired(noPorts, {
          context: running([{ comm: 'sshd', args: 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups' }]),
        }),
        ['sshd'],
      );
      assert.deepEqual(
        fired(noPorts, {
          context: running([
            { comm: 'sleep', args: 'sleep 300' },
            { comm: 'grep', args: 'grep sshd' },
          ]),
        }),
        [],
      );
      const failed = evaluate(noPorts, {
        context: { processes: { error: 'GET /containers/x/top: Docker did not answer within 5000 ms' } },
      }).findings;
      assert.deepEqual(
        failed.map((f) => `${f.ruleId} ${f.subject}`),
        ['sshd processes'],
      );
      assert.match(failed[0]!.message, /could not check the running processes for sshd: .*did not answer/);
    });
    it('4.1 on containers: 0:0, root:root and 0:1000 are root; 1000 is not', () => {
      for (const user of ['0:0', 'root:root', '0:1000', 'root', '00', '000:0'])
        assert.deepEqual(
          fired((i) => (noPorts(i), (i.Config.User = user))),
          ['container-root-user'],
          user,
        );
      for (const user of ['1000:0', '10', 'rooter', '1000'])
        assert.deepEqual(
          fired((i) => (noPorts(i), (i.Config.User = user))),
          [],
          user,
        );
    });
  });

  it('image allow-list (Falco: disallowed container)', () => {
    const policy = 'images:\n  allow: ["registry.example.com/*", "busybox"]\n';
    assert.deepEqual(
      fired((i) => (i.Config.Image = 'evil/miner:1'), { policy }),
      ['disallowed-image'],
    );
    assert.deepEqual(
      fired((i) => (i.Config.Image = 'registry.example.com/shop/web:2'), { policy }),
      [],
    );
    assert.deepEqual(
      fired((i) => (i.Config.Image = 'busybox'), { policy }),
      [],
    );
    // The same image, spelled fully: an allowed image must not be contained for its spelling.
    assert.deepEqual(
      fired((i) => (i.Config.Image = 'docker.io/library/busybox:latest'), { policy }),
      [],
    );
    assert.deepEqual(
      fired((i) => (i.Config.Image = 'docker.io/library/busybox:1.36'), { policy }),
      ['disallowed-image'],
    );
  });

  it('exemptions drop findings and say why; disabled rules do not run', () => {
    const policy =
      'rules:\n  memory-limit: off\nexemptions:\n  - name: web\n    rules: [privileged]\n    reason: legacy\n';
    const result = evaluate(
      (i) => ((i.HostConfig.Privileged = true), (i.HostConfig.Memory = 0), (i.HostConfig.PortBindings = {})),
      { policy },
    );
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.exempted, [{ ruleId: 'privileged', reason: 'legacy', origin: 'p.yaml:4' }]);
  });

  it('enforce mode: the strongest action of the rules that fired', () => {
    const policy =
      'rules:\n  privileged: { mode: enforce, action: pause }\n  host-pid: { mode: enforce, action: kill }\n  memory-limit: { severity: high }\n';
    const result = evaluate(
      (i) => ((i.HostConfig.Privileged = true), (i.HostConfig.PidMode = 'host'), (i.HostConfig.Memory = 0)),
      { policy },
    );
    assert.deepEqual(result.enforce, [
      { ruleId: 'privileged', action: 'pause' },
      { ruleId: 'host-pid', action: 'kill' },
    ]);
    assert.equal(strongestAction(result.enforce.map((e) => e.action)), 'kill');
    assert.equal(result.findings.find((f) => f.ruleId === 'memory-limit')!.severity, 'high');
    assert.equal(strongestAction(['disconnect', 'pause']), 'pause');
  });
});

describe('security rules: images (CIS 4.x)', () => {
  function imageFindings(config: Record<string, unknown>, history?: string[]): string[] {
    const evaluator = new PolicyEvaluator(defaultPolicy());
    const info = {
      Id: 'sha256:abc',
      RepoTags: ['shop/web:1'],
      Config: config,
    } as unknown as Dockerode.ImageInspectInfo;
    const target = imageTarget(info, history);
    return evaluator
      .evaluate(RULES.image, target, target.object, { names: [], images: [], labels: {} })
      .findings.map((f) => (f.subject ? `${f.ruleId} ${f.subject}` : f.ruleId))
      .sort();
  }
  it('4.1 user and 4.6 health check', () => {
    assert.deepEqual(imageFindings({ User: 'app', Healthcheck: { Test: ['CMD-SHELL', 'true'] } }), []);
    assert.deepEqual(imageFindings({ User: '0:0' }), ['image-healthcheck', 'image-root-user']);
  });
  it('4.7 an update alone in a layer and 4.9 ADD, never the base layer', () => {
    const history = [
      '/bin/sh -c apt-get update && apt-get install -y curl',
      '/bin/sh -c apt-get update',
      '/bin/sh -c #(nop) ADD file:abc in /app',
      '/bin/sh -c #(nop) COPY file:def in /etc',
      '/bin/sh -c #(nop) ADD file:base in / ',
    ];
    assert.deepEqual(imageFindings({ User: 'app', Healthcheck: { Test: ['CMD', 'true'] } }, history), [
      'image-add-instruction history[2]',
      'image-update-alone history[1]',
    ]);
  });
});

describe('security rules: execs (Falco, CIS 5.23/5.24)', () => {
  function execFindings(process: Partial<ExecTarget['process']>, containerUser = '1000'): string[] {
    const evaluator = new PolicyEvaluator(defaultPolicy());
    const object = { kind: 'container' as const, id: 'c1', name: 'web', image: 'busybox' };
    const target: ExecTarget = {
      object,
      execId: 'e1',
      process: { tty: false, entrypoint: 'ls', arguments: [], privileged: false, ...process },
      containerUser,
    };
    return evaluator
      .evaluate(RULES.exec, target, object, { names: ['web'], images: ['busybox'], labels: {} })
      .findings.map((f) => f.ruleId)
      .sort();
  }
  it('a shell with a TTY is a terminal shell; without one (scripts, health checks) it is not', () => {
    assert.deepEqual(execFindings({ tty: true, entrypoint: 'sh' }), ['terminal-shell']);
    assert.deepEqual(execFindings({ tty: true, entrypoint: '/bin/bash', arguments: ['-l'] }), ['terminal-shell']);
    assert.deepEqual(execFindings({ tty: false, entrypoint: '/bin/sh', arguments: ['-c', 'exit 0'] }), []);
    assert.deepEqual(execFindings({ tty: true, entrypoint: 'top' }), []);
    assert.deepEqual(execFindings({ tty: true, entrypoint: '/usr/bin/env', arguments: ['bash'] }), ['terminal-shell']);
    assert.deepEqual(execFindings({ tty: true, entrypoint: 'busybox', arguments: ['sh'] }), ['terminal-shell']);
    assert.deepEqual(execFindings({ tty: false, entrypoint: 'env', arguments: ['bash'] }), []);
  });
  it('privileged and root execs; an exec without a user inherits the container user', () => {
    assert.deepEqual(execFindings({ privileged: true, user: 'nobody' }), ['privileged-exec']);
    assert.deepEqual(execFindings({ user: 'root' }), ['root-exec']);
    assert.deepEqual(execFindings({}, ''), ['root-exec']);
    assert.deepEqual(execFindings({}, '1000'), []);
  });
  it('package managers, network tools, remote copy tools: direct or inside sh -c', () => {
    assert.deepEqual(execFindings({ entrypoint: 'apk', arguments: ['add', 'curl'] }), ['package-manager-exec']);
    assert.deepEqual(
      execFindings({ entrypoint: 'sh', arguments: ['-c', 'cd /tmp && DEBIAN_FRONTEND=x apt-get install -y nmap'] }),
      ['package-manager-exec'],
    );
    assert.deepEqual(execFindings({ entrypoint: '/usr/bin/nc', arguments: ['-l', '4444'] }), ['network-tool-exec']);
    assert.deepEqual(execFindings({ entrypoint: 'sh', arguments: ['-c', 'echo x | sudo socat - TCP:a:1'] }), [
      'network-tool-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: 'wget', arguments: ['http://x/y'] }), ['remote-copy-exec']);
    assert.deepEqual(execFindings({ entrypoint: 'curl', arguments: ['-sSLo', '/tmp/x', 'http://x'] }), [
      'remote-copy-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: 'curl', arguments: ['-s', 'http://x/health'] }), []);
    assert.deepEqual(execFindings({ entrypoint: 'echo', arguments: ['apt-get'] }), []);
  });
  it('a wrapper (env, sudo, timeout, busybox) does not hide the program it runs', () => {
    assert.deepEqual(execFindings({ entrypoint: 'env', arguments: ['A=1', 'apt-get', 'install', 'x'] }), [
      'package-manager-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: '/usr/bin/sudo', arguments: ['-u', 'app', 'nmap', 'x'] }), [
      'network-tool-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: 'timeout', arguments: ['10', 'wget', 'http://x'] }), [
      'remote-copy-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: 'busybox', arguments: ['wget', 'http://x'] }), ['remote-copy-exec']);
    assert.deepEqual(execFindings({ entrypoint: 'env', arguments: ['sh', '-c', 'pip install x'] }), [
      'package-manager-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: 'env', arguments: ['ls'] }), []);
  });
  it('a wrapper chain or a flood of wrapper options is read quickly, without deep recursion', () => {
    const cpuMs = cpuMillisOf(() => {
      // Past the depth limit the chain is reported as undecidable rather than read on.
      assert.deepEqual(execFindings({ entrypoint: 'env', arguments: [...Array(60_000).fill('env'), 'apt-get'] }), [
        'undecidable-exec',
      ]);
      assert.deepEqual(execFindings({ entrypoint: 'env', arguments: [...Array(60_000).fill('-i'), 'apt-get'] }), [
        'package-manager-exec',
      ]);
      assert.deepEqual(execFindings({ entrypoint: 'sudo', arguments: ['env', 'nice', 'timeout', '5', 'apt-get'] }), [
        'package-manager-exec',
      ]);
    });
    assert.ok(cpuMs < 1_000, `${cpuMs.toFixed(0)} ms of CPU`);
  });
  it('a script given with combined shell options (bash -lc, sh -ec) is read too', () => {
    assert.deepEqual(execFindings({ entrypoint: 'bash', arguments: ['-lc', 'apt-get install -y nmap'] }), [
      'package-manager-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: '/bin/sh', arguments: ['-ec', 'nc -l 4444'] }), ['network-tool-exec']);
    assert.deepEqual(execFindings({ entrypoint: 'bash', arguments: ['--login', '-c', 'wget http://x'] }), [
      'remote-copy-exec',
    ]);
    // `bash -l apt-get` runs a script file named apt-get: its content is unknown, not a package manager.
    assert.deepEqual(execFindings({ entrypoint: 'bash', arguments: ['-l', 'apt-get'] }), ['undecidable-exec']);
    assert.deepEqual(execFindings({ entrypoint: 'sh', arguments: ['-c', "'apt-get' install x"] }), [
      'package-manager-exec',
    ]);
    assert.deepEqual(execFindings({ entrypoint: 'curl', arguments: ['--output=/tmp/x', 'http://x'] }), [
      'remote-copy-exec',
    ]);
  });
  it('launchedPrograms walks every command of a shell script, command substitutions included', () => {
    assert.deepEqual(
      launchedPrograms('/bin/sh', ['-c', 'A=1 env B=2 /usr/bin/pip install x; ls | grep y && $(which nc)']).map(
        (p) => p.program,
      ),
      ['sh', 'env', 'pip', 'ls', 'grep', 'which'],
    );
  });

  describe('sh -c scripts are parsed as a shell parses them (issue #13.3)', () => {
    const script = (text: string, process: Partial<ExecTarget['process']> = {}) =>
      execFindings({ entrypoint: 'sh', arguments: ['-c', text], ...process });
    it('a package manager inside if, a brace group, for, while, case, a subshell or a function is found', () => {
      assert.deepEqual(script('if true; then apk add curl; fi'), ['package-manager-exec']);
      assert.deepEqual(script('{ apk add curl; }'), ['package-manager-exec']);
      assert.deepEqual(script('for p in curl; do apk add $p; done'), ['package-manager-exec']);
      assert.deepEqual(script('while false; do :; done; until true; do apk add x; done'), ['package-manager-exec']);
      assert.deepEqual(script('case x in x) apk add curl;; esac'), ['package-manager-exec']);
      assert.deepEqual(script('(cd /tmp && apk add curl) || true'), ['package-manager-exec']);
      assert.deepEqual(script('f() { apk add curl; }; f'), ['package-manager-exec']);
      assert.deepEqual(script('echo "$(apk add curl)"'), ['package-manager-exec']);
      assert.deepEqual(script('x=`apk add curl`'), ['package-manager-exec']);
    });
    it('quotes and escapes joined into a name name the program (a\'\'pk, "ap"k, a\\pk)', () => {
      assert.deepEqual(script("a''pk add curl"), ['package-manager-exec']);
      assert.deepEqual(script('"ap"k add curl'), ['package-manager-exec']);
      assert.deepEqual(script('a\\pk add curl'), ['package-manager-exec']);
    });
    it('xargs, env, nohup and busybox applets forward to the program they name', () => {
      assert.deepEqual(script('echo curl | xargs apk add'), ['package-manager-exec']);
      assert.deepEqual(script('echo x | xargs -n 1 -I {} apk add {}'), ['package-manager-exec']);
      assert.deepEqual(script('nohup env A=1 busybox wget http://x &'), ['remote-copy-exec']);
      assert.deepEqual(execFindings({ entrypoint: 'xargs', arguments: ['-0', 'nc', '-l'] }), ['network-tool-exec']);
    });
    it('text that only mentions a program is not running it (printf "…; apk add curl" > /tmp/nc)', () => {
      assert.deepEqual(script('printf "#!/bin/sh\\necho hi; apk add curl\\n" > /tmp/nc'), []);
      assert.deepEqual(script("echo 'apk add curl; nc -l 1' >> /tmp/notes"), []);
      assert.deepEqual(script('# apk add curl\nexit 0'), []);
    });
    it('what cannot be decided statically is its own finding: eval, a variable program, a script piped into a shell', () => {
      assert.deepEqual(script('p=apk; $p add curl'), ['undecidable-exec']);
      assert.deepEqual(script('eval "$CMD"'), ['undecidable-exec']);
      assert.deepEqual(script('echo YXBrIGFkZCBjdXJs | base64 -d | sh'), ['undecidable-exec']);
      assert.deepEqual(script('$(echo apk) add curl'), ['undecidable-exec']);
      assert.deepEqual(script('. /tmp/env.sh'), ['undecidable-exec']);
      // eval of literal text is decided: it is parsed as the script it is.
      assert.deepEqual(script("eval 'apk add curl'"), ['package-manager-exec']);
      // `docker exec -i c sh < script` feeds a script nobody can see; with a terminal it is a person (terminal-shell).
      assert.deepEqual(execFindings({ entrypoint: 'sh', openStdin: true }), ['undecidable-exec']);
      assert.deepEqual(execFindings({ entrypoint: 'sh', openStdin: true, tty: true }), ['terminal-shell']);
    });
    it('a script that does not parse or is too long is undecidable, and parsing is bounded', () => {
      assert.deepEqual(script('if then fi ((('), ['undecidable-exec']);
      assert.deepEqual(script(`${'apk add x; '.repeat(1_000)}`), ['undecidable-exec']);
      // Nesting deeper than the parser's stack fails as a parse error, not a crash.
      assert.deepEqual(script('$('.repeat(4_000)), ['undecidable-exec']);
      assert.deepEqual(script('sh -c "sh -c \\"sh -c apk\\""'), ['package-manager-exec']);
    });
  });

  describe('drop and execute (Falco: Drop and execute new binary)', () => {
    it('a program run from a writable path, or a renamed copy of a known one, fires; the originals do not', () => {
      assert.deepEqual(execFindings({ entrypoint: '/tmp/busybox2', arguments: ['sh'] }), ['drop-and-execute']);
      assert.deepEqual(execFindings({ entrypoint: '/dev/shm/x' }), ['drop-and-execute']);
      assert.deepEqual(
        execFindings({ entrypoint: 'sh', arguments: ['-c', 'cp /bin/busybox /var/tmp/b && /var/tmp/b wget http://x'] }),
        ['drop-and-execute'],
      );
      assert.deepEqual(execFindings({ entrypoint: '/usr/local/bin/nc.orig', arguments: ['-l', '1'] }), [
        'drop-and-execute',
      ]);
      assert.deepEqual(execFindings({ entrypoint: '/bin/busybox', arguments: ['ls'] }), []);
      assert.deepEqual(execFindings({ entrypoint: '/tmpfiles/ls' }), []);
      assert.deepEqual(execFindings({ entrypoint: 'sha256sum', arguments: ['/etc/passwd'] }), []);
    });
  });
});

describe('security evidence never carries secrets', () => {
  const SECRETS = ['s3cr3t', 'hunter2', 'tok-123', 'pw9', 'abc.def', 'npm_xyz', 'sigval'];
  function assertClean(where: string, value: unknown): void {
    const text = JSON.stringify(value);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} leaks ${secret}: ${text}`);
  }
  function execFinding(entrypoint: string, args: string[], extra: Partial<ExecTarget['process']> = {}) {
    const evaluator = new PolicyEvaluator(defaultPolicy());
    const object = { kind: 'container' as const, id: 'c1', name: 'web', image: 'busybox' };
    const target: ExecTarget = {
      object,
      execId: 'e1',
      process: { tty: false, entrypoint, arguments: args, privileged: false, user: 'root', ...extra },
      containerUser: '1000',
    };
    return evaluator.evaluate(RULES.exec, target, object, { names: ['web'], images: ['busybox'], labels: {} }).findings;
  }

  it('exec command lines: tokens in assignments, flags, headers, URLs are masked; the program stays', () => {
    const findings = [
      ...execFinding('curl', [
        '-H',
        'Authorization: Bearer abc.def',
        '-u',
        'admin:hunter2',
        '-o',
        '/tmp/x',
        'https://bob:pw9@example.com/a?sig=sigval',
      ]),
      ...execFinding('sh', ['-c', 'TOKEN=s3cr3t wget -q https://x/y'], { tty: true, privileged: true }),
      ...execFinding('env', ['NPM_TOKEN=npm_xyz', 'npm', 'install', '--auth-token', 'tok-123']),
    ];
    assert.deepEqual([...new Set(findings.map((f) => f.ruleId))].sort(), [
      'package-manager-exec',
      'privileged-exec',
      'remote-copy-exec',
      'root-exec',
      'terminal-shell',
    ]);
    for (const f of findings) {
      assertClean(`${f.ruleId} message`, f.message);
      assertClean(`${f.ruleId} evidence`, f.evidence);
    }
    const curl = findings.find((f) => f.ruleId === 'remote-copy-exec' && f.message.includes('curl'))!;
    assert.match(
      curl.message,
      /curl -H Authorization: Bearer \*\*\* -u admin:\*\*\* -o \/tmp\/x https:\/\/bob:\*\*\*@example\.com\/a\?sig=\*\*\*/,
    );
  });

  it('a very long word is shown by its length, quickly (no pattern runs over it)', () => {
    const words = ['--' + '-a'.repeat(20_000), 'x?' + 'a.token'.repeat(6_000), 'eyJ' + 'x'.repeat(400)];
    const started = Date.now();
    const findings = execFinding('wget', words);
    assert.ok(Date.now() - started < 500, `${Date.now() - started} ms`);
    const copy = findings.find((f) => f.ruleId === 'remote-copy-exec')!;
    assert.equal(
      copy.message,
      `docker exec ran the remote copy tool wget: wget ***(40002 chars) ***(42002 chars) ***(403 chars)`,
    );
  });

  it("a container's command (sshd) and an image layer's build args are masked too", () => {
    // A shell-form CMD runs sshd inside sh -c (and the script may set secrets).
    const sshd = evaluate(
      (i) => (
        (i.HostConfig.PortBindings = {}),
        (i.Path = '/bin/sh'),
        (i.Args = ['-c', 'API_KEY=s3cr3t exec /usr/sbin/sshd -D'])
      ),
    ).findings;
    assert.deepEqual(
      sshd.map((f) => f.ruleId),
      ['sshd'],
    );
    assertClean('sshd in a script', sshd);
    assert.match(sshd[0]!.message, /API_KEY=\*\*\* exec \/usr\/sbin\/sshd -D/);
    const direct = evaluate(
      (i) => (
        (i.HostConfig.PortBindings = {}),
        (i.Path = '/usr/sbin/sshd'),
        (i.Args = ['-D', '-o', 'PASSWORD=hunter2'])
      ),
    ).findings;
    assert.deepEqual(
      direct.map((f) => f.ruleId),
      ['sshd'],
    );
    assertClean('sshd', direct);
    const evaluator = new PolicyEvaluator(defaultPolicy());
    const info = {
      Id: 'sha256:abc',
      RepoTags: ['shop/web:1'],
      Config: { User: 'app', Healthcheck: { Test: ['CMD', 'true'] } },
    } as unknown as Dockerode.ImageInspectInfo;
    const target = imageTarget(info, [
      '|2 NPM_TOKEN=npm_xyz VERSION=1 /bin/sh -c apt-get update',
      '/bin/sh -c #(nop) ADD https://u:hunter2@files.example.com/a.tgz in /app',
      'base',
    ]);
    const findings = evaluator.evaluate(RULES.image, target, target.object, {
      names: [],
      images: [],
      labels: {},
    }).findings;
    assert.deepEqual(findings.map((f) => f.ruleId).sort(), ['image-add-instruction', 'image-update-alone']);
    assertClean('image history', findings);
  });
});

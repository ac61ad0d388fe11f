/**
 * Every container check on the test engine: one container that violates it and one hardened
 * container that passes them all. Containers are created, not started (privileged ones cannot
 * start on these machines; inspect decides these checks either way).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { audit } from '../../agents/security-watcher/audit-command';
import { parsePolicy } from '../../agents/security-watcher/policy';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { removeTestContainers, TEST_LABEL, testDocker, testEnv, uniqueTag } from '../support/test-env';

type Create = Dockerode.ContainerCreateOptions;

/** Inventory rules on too, so that each check has its violating container. */
const POLICY = 'rules:\n  published-ports: on\n  default-ulimits: on\n  default-bridge: on\n';

describe('security-watcher checks on the test engine', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const network = uniqueTag('qs-sec-net');
  let dir: string;

  before(async () => {
    await docker.createNetwork({ Name: network, Labels: { [TEST_LABEL]: '1' } });
    dir = mkdtempSync(join(tmpdir(), 'qs-sec-'));
    symlinkSync('/etc', join(dir, 'etclink'));
  });
  after(async () => {
    await removeTestContainers(docker);
    await docker
      .getNetwork(network)
      .remove()
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Passes every container check. */
  function hardened(name: string): Create {
    return {
      name,
      Image: testEnv().images.busybox,
      Cmd: ['sleep', '60'],
      User: '1000:1000',
      Labels: { [TEST_LABEL]: '1' },
      Healthcheck: { Test: ['CMD', 'true'], Interval: 30_000_000_000 },
      HostConfig: {
        NetworkMode: network,
        Memory: 64 * 1024 * 1024,
        CpuShares: 512,
        PidsLimit: 64,
        ReadonlyRootfs: true,
        SecurityOpt: ['no-new-privileges'],
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
      },
    };
  }

  const socket = (): string => testEnv().docker.socket;
  const bind = (spec: string) => (c: Create) => void (c.HostConfig!.Binds = [spec]);
  // [the finding it must raise (rule and subject), how the container differs from the hardened one]
  const checks: Array<[string, (c: Create) => void]> = [
    ['privileged', (c) => void (c.HostConfig!.Privileged = true)],
    ['added-capabilities SYS_ADMIN', (c) => void (c.HostConfig!.CapAdd = ['SYS_ADMIN'])],
    ['sensitive-host-dir /host-etc', bind('/etc:/host-etc')],
    ['sshd', (c) => void (c.Cmd = ['/usr/sbin/sshd', '-D'])],
    [
      'privileged-port 80/tcp',
      (c) =>
        void (
          (c.ExposedPorts = { '80/tcp': {} }),
          (c.HostConfig!.PortBindings = { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '80' }] })
        ),
    ],
    ['host-network', (c) => void (c.HostConfig!.NetworkMode = 'host')],
    ['memory-limit', (c) => void delete c.HostConfig!.Memory],
    ['cpu-shares', (c) => void delete c.HostConfig!.CpuShares],
    ['writable-rootfs', (c) => void (c.HostConfig!.ReadonlyRootfs = false)],
    [
      'wildcard-binding 80/tcp',
      (c) =>
        void (
          (c.ExposedPorts = { '80/tcp': {} }),
          (c.HostConfig!.PortBindings = { '80/tcp': [{ HostIp: '', HostPort: '18080' }] })
        ),
    ],
    ['restart-policy', (c) => void (c.HostConfig!.RestartPolicy = { Name: 'always' })],
    ['host-pid', (c) => void (c.HostConfig!.PidMode = 'host')],
    ['host-ipc', (c) => void (c.HostConfig!.IpcMode = 'host')],
    [
      'host-devices /dev/xnull',
      (c) =>
        void (c.HostConfig!.Devices = [
          { PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rwm' },
        ]),
    ],
    ['default-ulimits', (c) => void delete c.HostConfig!.Ulimits],
    [
      'shared-propagation /x',
      (c) =>
        void (c.HostConfig!.Mounts = [
          { Type: 'bind', Source: dir, Target: '/x', BindOptions: { Propagation: 'rshared' } },
        ]),
    ],
    ['host-uts', (c) => void (c.HostConfig!.UTSMode = 'host')],
    ['seccomp-unconfined', (c) => void c.HostConfig!.SecurityOpt!.push('seccomp=unconfined')],
    ['cgroup-parent', (c) => void (c.HostConfig!.CgroupParent = '/qs-sec-custom')],
    ['no-new-privileges', (c) => void (c.HostConfig!.SecurityOpt = [])],
    ['no-healthcheck', (c) => void delete c.Healthcheck],
    ['pids-limit', (c) => void delete c.HostConfig!.PidsLimit],
    ['default-bridge', (c) => void (c.HostConfig!.NetworkMode = 'bridge')],
    ['host-userns', (c) => void (c.HostConfig!.UsernsMode = 'host')],
    ['docker-socket /engine.sock', (c) => bind(`${socket()}:/engine.sock:ro`)(c)],
    ['container-root-user', (c) => void (c.User = '0:0')],
    ['terminal-shell-container', (c) => void ((c.Cmd = ['sh']), (c.Tty = true), (c.OpenStdin = true))],
    ['sensitive-mount /host-etc', bind('/etc:/host-etc:ro')],
  ];

  it('each check: its violating container raises exactly it; the hardened container raises nothing', async () => {
    const ids = new Map<string, string>();
    const clean = await docker.createContainer(hardened(uniqueTag('qs-sec-ok')));
    for (const [expected, change] of checks) {
      const spec = hardened(uniqueTag('qs-sec-bad'));
      change(spec);
      ids.set(expected, (await docker.createContainer(spec)).id);
    }
    const reach = <T>(_what: string, call: () => Promise<T>) => call();
    const { findings } = await audit(
      docker,
      parsePolicy(POLICY, 'policy'),
      { container: [clean.id, ...ids.values()], image: [] },
      reach,
    );
    const about = (id: string) =>
      findings
        .filter((f) => f.object.id === id && f.ruleId !== 'published-ports')
        .map((f) => (f.subject ? `${f.ruleId} ${f.subject}` : f.ruleId))
        .sort();
    assert.deepEqual(about(clean.id), []);
    const failures: string[] = [];
    for (const [expected, id] of ids) {
      const got = about(id);
      // A writable /etc bind is also a sensitive mount; the socket too.
      const allowed = [
        expected,
        ...(expected.startsWith('sensitive-host-dir') ? ['sensitive-mount /host-etc'] : []),
        ...(expected.startsWith('docker-socket') ? ['sensitive-mount /engine.sock'] : []),
      ].sort();
      if (JSON.stringify(got) !== JSON.stringify(allowed))
        failures.push(`${expected}: got ${got.join(', ') || 'nothing'}`);
    }
    assert.deepEqual(failures, []);
    const privileged = findings.find((f) => f.object.id === ids.get('privileged'))!;
    assert.deepEqual(
      [privileged.evidence.field, privileged.evidence.value, privileged.evidence.cis],
      ['HostConfig.Privileged', true, '5.5'],
    );
    assert.ok(
      findings.some((f) => f.ruleId === 'published-ports' && f.object.id === ids.get('wildcard-binding 80/tcp')),
    );
  });

  it('a symlinked bind source and a parent directory of the engine socket are seen for what they are', async () => {
    const viaLink = await docker.createContainer({
      ...hardened(uniqueTag('qs-sec-link')),
      HostConfig: { ...hardened('x').HostConfig, Binds: [`${join(dir, 'etclink')}:/cfg`] },
    });
    const parent = await docker.createContainer({
      ...hardened(uniqueTag('qs-sec-run')),
      HostConfig: { ...hardened('x').HostConfig, Binds: [`${join(socket(), '..')}:/run-dir:ro`] },
    });
    const reach = <T>(_what: string, call: () => Promise<T>) => call();
    const { findings } = await audit(docker, parsePolicy('{}', 'p'), { container: [viaLink.id, parent.id] }, reach);
    const link = findings.find((f) => f.object.id === viaLink.id && f.ruleId === 'sensitive-host-dir');
    assert.ok(link, 'docker-bench misses a symlink to /etc');
    assert.equal(link.evidence.resolvedSource, '/etc');
    assert.deepEqual(link.evidence.value, { Source: join(dir, 'etclink'), Destination: '/cfg', RW: true });
    assert.ok(
      findings.some((f) => f.object.id === parent.id && f.ruleId === 'docker-socket'),
      'a mount of the socket directory',
    );
  });

  it('CIS gaps docker-bench shares (#13.5): joined host namespaces, a bind volume of /etc, sshd among the processes, CpuShares 1024; Podman sockets', async () => {
    const reach = <T>(_what: string, call: () => Promise<T>) => call();
    const create = (name: string, change: (c: Create) => void) => {
      const spec = hardened(uniqueTag(name));
      change(spec);
      return docker.createContainer(spec);
    };
    const hostMode = await create(
      'qs-sec-hostns',
      (c) => void ((c.HostConfig!.NetworkMode = 'host'), (c.HostConfig!.PidMode = 'host')),
    );
    const joiner = await create(
      'qs-sec-joiner',
      (c) =>
        void (
          (c.HostConfig!.NetworkMode = `container:${hostMode.id}`),
          (c.HostConfig!.PidMode = `container:${hostMode.id}`)
        ),
    );
    const volumeName = uniqueTag('qs-sec-etcvol');
    await docker.createVolume({
      Name: volumeName,
      Driver: 'local',
      DriverOpts: { type: 'none', o: 'bind', device: '/etc' },
      Labels: { [TEST_LABEL]: '1' },
    });
    const mounter = await create(
      'qs-sec-volume',
      (c) => void (c.HostConfig!.Mounts = [{ Type: 'volume', Source: volumeName, Target: '/cfg' }]),
    );
    const shares = await create('qs-sec-shares', (c) => void (c.HostConfig!.CpuShares = 1024));
    const podman = await create(
      'qs-sec-podman',
      (c) => void (c.HostConfig!.Binds = ['/run/podman/podman.sock:/p.sock:ro', `${dir}/api.sock:/api.sock:ro`]),
    );
    // sshd that only the process list shows: a script named sshd, started by an exec after the container.
    const sshd = await create(
      'qs-sec-sshd',
      (c) => void ((c.HostConfig!.ReadonlyRootfs = false), (c.User = '1000:1000')),
    );
    await sshd.start();
    const write = await sshd.exec({
      Cmd: ['sh', '-c', 'printf "#!/bin/sh\\nsleep 300\\n" > /tmp/sshd && chmod +x /tmp/sshd'],
    });
    await write
      .start({ hijack: true, stdin: false })
      .then((s) => new Promise((r) => (s.on('end', r), s.on('close', r), s.resume())));
    await (await sshd.exec({ Cmd: ['/tmp/sshd'] })).start({ Detach: true });
    try {
      let findings: Awaited<ReturnType<typeof audit>>['findings'] = [];
      const about = (id: string, rule: string) => findings.filter((f) => f.object.id === id && f.ruleId === rule);
      await eventually(
        async () => {
          ({ findings } = await audit(
            docker,
            parsePolicy('{}', 'p'),
            {
              container: [joiner.id, mounter.id, shares.id, podman.id, sshd.id],
              securityEngineSockets: [`${dir}/api.sock`],
            },
            reach,
          ));
          assert.equal(about(sshd.id, 'sshd').length, 1, 'the sshd process is listed');
        },
        15_000,
        200,
      );
      for (const rule of ['host-network', 'host-pid'])
        assert.match(about(joiner.id, rule)[0]?.message ?? 'none', /through container qs-sec-hostns/, rule);
      assert.deepEqual(
        findings
          .filter((f) => f.object.id === mounter.id && f.subject === '/cfg')
          .map((f) => f.ruleId)
          .sort(),
        ['sensitive-host-dir', 'sensitive-mount'],
      );
      assert.equal(about(mounter.id, 'sensitive-host-dir')[0]!.evidence.volume, volumeName);
      assert.match(about(shares.id, 'cpu-shares')[0]?.message ?? 'none', /CpuShares=1024/);
      assert.deepEqual(
        about(podman.id, 'docker-socket')
          .map((f) => f.subject)
          .sort(),
        ['/api.sock', '/p.sock'],
      );
      assert.match(about(sshd.id, 'sshd')[0]!.message, /a process runs sshd \(sshd: \/bin\/sh \/tmp\/sshd\)/);
    } finally {
      await removeTestContainers(docker);
      await docker
        .getVolume(volumeName)
        .remove()
        .catch(() => undefined);
    }
  });

  it('audit command: formats, --fail-on exit codes, a bad policy exits 2 naming file and line', async () => {
    const name = uniqueTag('qs-sec-audit');
    await docker.createContainer({
      name,
      Image: testEnv().images.busybox,
      Cmd: ['true'],
      Labels: { [TEST_LABEL]: '1' },
      HostConfig: { Privileged: true },
    });
    const env = { DOCKER_HOST: testEnv().docker.host };
    const base = ['security-watcher', 'audit', '--container', name];

    const json = await runCli([...base, '--format', 'json'], env);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout) as { findings: Array<{ ruleId: string; evidence: { cis?: string } }> };
    assert.ok(report.findings.some((f) => f.ruleId === 'privileged' && f.evidence.cis === '5.5'));

    const text = await runCli(base, env);
    assert.match(text.stdout, /privileged/);
    assert.equal(text.code, 1);
    const policy = join(dir, 'exempt.yaml');
    writeFileSync(policy, `exemptions:\n  - name: "${name}"\n    reason: test\n`);
    assert.equal((await runCli([...base, '--policy', policy], env)).code, 0, 'exempted');
    assert.equal(
      (
        await runCli(
          [...base, '--fail-on', 'critical', '--policy', join(__dirname, '..', 'fixtures', 'policies', 'example.yaml')],
          env,
        )
      ).code,
      1,
    );

    const sarif = JSON.parse((await runCli([...base, '--format', 'sarif'], env)).stdout) as {
      version: string;
      runs: Array<{ results: Array<{ ruleId: string; level: string }> }>;
    };
    assert.equal(sarif.version, '2.1.0');
    assert.ok(sarif.runs[0]!.results.some((r) => r.ruleId === 'privileged' && r.level === 'error'));
    const junit = await runCli([...base, '--format', 'junit'], env);
    assert.match(junit.stdout, /<testsuite [^>]*failures="[1-9]\d*"/);

    const bad = await runCli(
      [...base, '--policy', join(__dirname, '..', 'fixtures', 'policies', 'bad-action.yaml')],
      env,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad-action\.yaml:5: rules\.privileged\.action must be one of/);
    const missing = await runCli(['security-watcher', 'audit', '--container', 'qs-no-such-container'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--container 'qs-no-such-container': not found/);
    // A report that cannot be written is an input error (2), not "findings" (1).
    const unwritable = await runCli([...base, '--output', join(dir, 'no-such-dir', 'report.json')], env);
    assert.equal(unwritable.code, 2, unwritable.stderr);
    assert.match(
      unwritable.stderr,
      /^quayside: --output .*no-such-dir\/report\.json: cannot write the report: ENOENT/m,
    );

    // Whole engine, images included (the test image has no HEALTHCHECK and runs as root).
    const all = JSON.parse(
      (await runCli(['security-watcher', 'audit', '--format', 'json', '--fail-on', 'critical'], env, 60_000)).stdout,
    ) as { findings: Array<{ ruleId: string; object: { kind: string; name: string } }> };
    assert.ok(all.findings.some((f) => f.object.kind === 'image' && f.ruleId === 'image-healthcheck'));
  });
});

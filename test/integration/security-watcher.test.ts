/** The security-watcher live on the test engine: findings, execs, docker cp, enforcement, engine restarts. */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { agentArgs, capture, exited, runCli, startCli } from '../support/cli';
import { dockerCli } from '../support/docker-cli';
import { eventually } from '../support/eventually';
import {
  execIn,
  removeTestContainers,
  startEngine,
  stopEngine,
  TEST_LABEL,
  testDocker,
  testEnv,
  uniqueTag,
} from '../support/test-env';
import { freePort } from '../support/free-port';

interface FindingJson {
  ruleId: string;
  subject: string;
  severity: string;
  state: string;
  message: string;
  evidence: Record<string, unknown>;
  object: { kind: string; id: string; name: string };
}

interface LogLine {
  message: string;
  action?: string;
  result?: string;
  trigger?: string;
  latencyMs?: number;
  container?: string;
  rules?: string[];
}

describe('security-watcher on the test engine', function () {
  this.timeout(120_000);
  const docker = testDocker();
  let dir: string;
  let agent: ChildProcess | undefined;
  let output: ReturnType<typeof capture>;
  let port: number;

  before(async () => {
    await startEngine();
    dir = mkdtempSync(join(tmpdir(), 'qs-sec-live-'));
  });
  afterEach(async () => {
    if (agent) {
      agent.kill('SIGTERM');
      assert.equal(await exited(agent), 0, output.stderr());
      agent = undefined;
    }
    await removeTestContainers(docker);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function startWatcher(policy?: string): Promise<void> {
    // Asked of the kernel: a guessed port collides with other processes' (EADDRINUSE at start).
    port = await freePort();
    const args = agentArgs('security-watcher', { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true });
    if (policy !== undefined) {
      const file = join(dir, `${uniqueTag('policy')}.yaml`);
      writeFileSync(file, policy);
      args.push('--security-policy', file);
    }
    agent = startCli(args, { DOCKER_HOST: testEnv().docker.host });
    output = capture(agent);
    await eventually(
      async () => assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200),
      20_000,
      100,
    );
  }

  async function findings(state = 'open'): Promise<FindingJson[]> {
    return (
      (await (await fetch(`http://127.0.0.1:${port}/findings?agent=security-watcher&state=${state}`)).json()) as {
        findings: FindingJson[];
      }
    ).findings;
  }
  const about = async (id: string, state = 'open') =>
    (await findings(state))
      .filter((f) => f.object.id === id)
      .map((f) => f.ruleId)
      .sort();

  /** Enforcements on this file's containers: the engine may hold others (e.g. `npm run demo`'s). */
  function enforcements(): LogLine[] {
    return output
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"enforced: ') || line.includes('enforcement '))
      .map((line) => JSON.parse(line) as LogLine)
      .filter((record) => record.container?.startsWith('qs-sec-'));
  }

  function container(
    name: string,
    options: Partial<Dockerode.ContainerCreateOptions> = {},
    host: Dockerode.HostConfig = {},
  ): Promise<Dockerode.Container> {
    return docker.createContainer({
      name,
      Image: testEnv().images.busybox,
      Cmd: ['sleep', '300'],
      Labels: { [TEST_LABEL]: '1' },
      ...options,
      HostConfig: { RestartPolicy: { Name: 'no' }, ...host },
    });
  }

  it('says that image rules set to enforce only report, and does not list them as enforcing', async () => {
    await startWatcher(
      'rules:\n  image-healthcheck: { mode: enforce, action: stop }\n  memory-limit: { mode: enforce, action: pause }\n',
    );
    const lines = output
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { message: string; rules?: string[]; enforcing?: string[] });
    assert.deepEqual(lines.find((l) => l.message.startsWith('image rules cannot enforce'))?.rules, [
      'image-healthcheck',
    ]);
    assert.deepEqual(lines.find((l) => l.message === 'security-watcher watching')?.enforcing, ['memory-limit:pause']);
  });

  it('a bad policy stops the start with exit code 2, naming the file, the line and the problem', async () => {
    const policy = join(__dirname, '..', 'fixtures', 'policies', 'unknown-rule.yaml');
    const result = await runCli(agentArgs('security-watcher', { port: 0 }, '--security-policy', policy), {
      DOCKER_HOST: testEnv().docker.host,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /unknown-rule\.yaml:4: unknown rule 'privilegd'/);
  });

  it('finds a container at create, before it starts, and resolves its findings when it goes', async () => {
    await startWatcher();
    const c = await container(uniqueTag('qs-sec-caps'), {}, { CapAdd: ['NET_ADMIN'], Binds: ['/etc:/host-etc:ro'] });
    await eventually(async () => assert.ok((await about(c.id)).includes('added-capabilities')), 15_000);
    assert.equal((await c.inspect()).State.Status, 'created', 'found before start');
    const [caps] = (await findings()).filter((f) => f.object.id === c.id && f.ruleId === 'added-capabilities');
    assert.deepEqual(
      caps!.evidence,
      { cis: '5.4', field: 'HostConfig.CapAdd', value: ['NET_ADMIN'], mode: 'audit' },
      'as the API was given it',
    );
    assert.ok((await about(c.id)).includes('sensitive-mount'));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(
      metrics,
      /^quayside_findings_open\{agent="security-watcher",rule="added-capabilities",severity="high"\} 1$/m,
    );
    await c.remove({ force: true });
    await eventually(async () => assert.deepEqual(await about(c.id), []));
    assert.ok((await about(c.id, 'resolved')).includes('added-capabilities'));
    // Images are checked too (CIS 4.x): the test image has no HEALTHCHECK and runs as root.
    const image = (await findings())
      .filter((f) => f.object.kind === 'image' && f.object.name === testEnv().images.busybox)
      .map((f) => f.ruleId)
      .sort();
    assert.deepEqual(image, ['image-healthcheck', 'image-root-user']);
  });

  it('enforce: a container that is made to comply (docker update) is released', async () => {
    await startWatcher('rules:\n  memory-limit: { mode: enforce, action: pause }\n');
    const c = await container(uniqueTag('qs-sec-update'), { User: '1000' });
    await c.start();
    await eventually(async () => assert.equal((await c.inspect()).State.Paused, true), 15_000, 20);
    await c.update({ Memory: 64 * 1024 * 1024, MemorySwap: 128 * 1024 * 1024 });
    await eventually(async () => assert.ok(!(await about(c.id)).includes('memory-limit')), 15_000);
    await c.unpause();
    // A root exec after the unpause: its finding shows the watcher has handled the unpause (one queue per container).
    const marker = await c.exec({ Cmd: ['true'], User: 'root' });
    await marker.start({ Detach: true });
    await eventually(async () => assert.ok((await findings()).some((f) => f.subject === `exec ${marker.id}`)), 15_000);
    assert.equal((await c.inspect()).State.Paused, false, 'not paused again');
    assert.equal(enforcements().length, 1);
  });

  it('execs: a shell with a TTY fires, one without does not, health-check execs stay silent, docker cp is seen', async () => {
    await startWatcher();
    const app = await container(uniqueTag('qs-sec-exec'), { User: '1000' });
    // Runs as root with a health check every 200 ms: if its execs reached the rules, root-exec would fire.
    const healthy = await container(uniqueTag('qs-sec-health'), {
      Healthcheck: { Test: ['CMD-SHELL', 'exit 0'], Interval: 200_000_000 },
    });
    await app.start();
    await healthy.start();
    const quiet = await execIn(app, ['sh', '-c', 'true'], false);
    const shell = await execIn(app, ['sh', '-c', 'exit 0'], true);
    const root = await execIn(app, ['id'], false).then(async () => {
      const exec = await app.exec({ Cmd: ['id'], User: 'root', AttachStdout: true });
      await exec.start({ hijack: true, stdin: false }).then((s) => new Promise((r) => (s.on('end', r), s.resume())));
      return exec.id;
    });
    await eventually(async () => {
      const list = (await findings()).filter((f) => f.object.id === app.id && f.subject.startsWith('exec '));
      assert.deepEqual(
        list.map((f) => `${f.ruleId} ${f.subject}`).sort(),
        [`root-exec exec ${root}`, `terminal-shell exec ${shell}`].sort(),
      );
    }, 15_000);
    const terminal = (await findings()).find((f) => f.ruleId === 'terminal-shell')!;
    assert.deepEqual([terminal.evidence.field, terminal.evidence.value], ['ProcessConfig.tty', true]);
    assert.ok(!(await findings()).some((f) => f.subject === `exec ${quiet}`));

    // Let several health checks run, then make sure none produced a finding.
    await eventually(
      async () => assert.ok(((await healthy.inspect()).State.Health?.Log?.length ?? 0) >= 3),
      20_000,
      100,
    );
    assert.deepEqual(
      (await findings()).filter((f) => f.object.id === healthy.id && f.subject.startsWith('exec ')),
      [],
    );

    const file = join(dir, 'payload.txt');
    writeFileSync(file, 'x');
    await dockerCli(['cp', file, `${app.id}:/tmp/payload.txt`]);
    await eventually(async () => assert.ok((await about(app.id)).includes('docker-cp-into-container')), 15_000);
  });

  it("health-check lookalikes: the health command run as root, privileged, with a TTY or another PATH gives findings; the engine's probes stay hidden (#13.2)", async () => {
    await startWatcher();
    // Runs as root; each probe runs wget: a probe that reached the rules would fire root-exec and remote-copy-exec.
    const script = 'sleep 1; wget -q -T 1 -O /dev/null http://127.0.0.1:9/ || true';
    const healthy = await container(uniqueTag('qs-sec-lookalike'), {
      Healthcheck: { Test: ['CMD-SHELL', script], Interval: 300_000_000 },
    });
    await healthy.start();
    await eventually(
      async () => assert.ok(((await healthy.inspect()).State.Health?.Log?.length ?? 0) >= 3),
      30_000,
      100,
    );
    const lookalike = async (options: Partial<Dockerode.ExecCreateOptions>) => {
      const exec = await healthy.exec({
        Cmd: ['/bin/sh', '-c', script],
        AttachStdout: true,
        AttachStderr: true,
        ...options,
      });
      // `docker exec --privileged` cannot start on this machine (no capabilities to grant): its create is enough to judge it.
      await exec
        .start({ hijack: true, stdin: false, Tty: options.Tty === true })
        .then((s) => new Promise((r) => (s.on('end', r), s.on('close', r), s.resume())))
        .catch(() => undefined);
      return exec.id;
    };
    const privileged = await lookalike({ User: '0', Privileged: true, Tty: true });
    const terminal = await lookalike({ User: '0', Tty: true });
    const hijackedPath = await lookalike({ User: '0', Env: ['PATH=/tmp:/bin'] });
    // Same user as the probes (the container's), only the environment differs: seen while it runs.
    const envOnly = await lookalike({ Env: ['PATH=/tmp:/bin'] });
    await eventually(async () => {
      const subjects = new Set(
        (await findings())
          .filter((f) => f.object.id === healthy.id && f.ruleId === 'remote-copy-exec')
          .map((f) => f.subject),
      );
      for (const id of [privileged, terminal, hijackedPath, envOnly])
        assert.ok(subjects.has(`exec ${id}`), `exec ${id} has a finding`);
    }, 20_000);
    const mine = new Set([privileged, terminal, hijackedPath, envOnly].map((id) => `exec ${id}`));
    assert.ok((await findings()).some((f) => f.ruleId === 'privileged-exec' && f.subject === `exec ${privileged}`));
    // Probes went on meanwhile; none of them reached the rules.
    const probes = (await findings()).filter(
      (f) => f.object.id === healthy.id && f.subject.startsWith('exec ') && !mine.has(f.subject),
    );
    assert.deepEqual(probes, []);
  });

  it('execs: sh -c scripts are parsed; a package manager hidden in if…fi is found, text that mentions one is not (#13.3)', async () => {
    await startWatcher();
    const app = await container(uniqueTag('qs-sec-script'), { User: '1000' });
    await app.start();
    const hidden = await execIn(app, ['sh', '-c', "if true; then a''pk add curl; fi"]);
    const mention = await execIn(app, ['sh', '-c', 'printf "#!/bin/sh\\necho; apk add curl\\n" > /tmp/nc']);
    const variable = await execIn(app, ['sh', '-c', 'p=apk; $p add curl']);
    await eventually(async () => {
      const list = (await findings()).filter((f) => f.object.id === app.id).map((f) => `${f.ruleId} ${f.subject}`);
      assert.ok(list.includes(`package-manager-exec exec ${hidden}`), list.join('\n'));
      assert.ok(list.includes(`undecidable-exec exec ${variable}`), list.join('\n'));
    }, 15_000);
    assert.ok(!(await findings()).some((f) => f.subject === `exec ${mention}`), 'printf of a text is not running it');
  });

  it('enforce: pause on start within a measured time, re-paused when someone unpauses it', async () => {
    await startWatcher('rules:\n  added-capabilities: { mode: enforce, action: pause }\n');
    const c = await container(uniqueTag('qs-sec-pause'), {}, { CapAdd: ['NET_ADMIN'] });
    const compliant = await container(uniqueTag('qs-sec-fine'));
    await c.start();
    await compliant.start();
    await eventually(async () => assert.equal((await c.inspect()).State.Paused, true), 15_000, 20);
    // The log line follows the action: wait for it too.
    const [record] = await eventually(() => {
      assert.equal(enforcements().length, 1);
      return enforcements();
    });
    assert.equal(record!.action, 'pause');
    assert.equal(record!.result, 'ok');
    // Usually the start event's inspect; but an inspect for the create event that waits on the
    // container's lock while dockerd starts it (hundreds of ms under load) already sees it running.
    assert.ok(['start', 'create'].includes(record!.trigger ?? ''), `trigger ${record!.trigger}`);
    assert.deepEqual(record!.rules, ['added-capabilities']);
    assert.ok(typeof record!.latencyMs === 'number' && record!.latencyMs >= 0, JSON.stringify(record));
    assert.equal((await compliant.inspect()).State.Paused, false, 'only the violating container is touched');

    await c.unpause();
    await eventually(async () => assert.equal((await c.inspect()).State.Paused, true), 15_000, 20);
    await eventually(() => assert.equal(enforcements().filter((r) => r.result === 'ok').length, 2));
    assert.equal(enforcements()[1]!.trigger, 'unpause');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^quayside_security_enforcement_actions_total\{action="pause",result="ok"\} 2$/m);
    assert.match(metrics, /^quayside_security_enforcement_seconds_count\{action="pause"\} 2$/m);
  });

  it('enforce: stop, disconnect (again after a reconnect), and kill on an exec rule; exempted containers are left alone', async () => {
    const policy = [
      'rules:',
      '  host-pid: { mode: enforce, action: stop }',
      '  default-bridge: { enabled: true, mode: enforce, action: disconnect }',
      '  terminal-shell: { mode: enforce, action: kill }',
      'exemptions:',
      '  - label: com.example.exempt',
      '    rules: [host-pid]',
      '    reason: test exemption',
    ].join('\n');
    await startWatcher(policy);
    const stopped = await container(
      uniqueTag('qs-sec-stop'),
      { User: '1000' },
      { PidMode: 'host', NetworkMode: 'none' },
    );
    const exempt = await container(
      uniqueTag('qs-sec-exempt'),
      { Labels: { [TEST_LABEL]: '1', 'com.example.exempt': 'yes' } },
      { PidMode: 'host', NetworkMode: 'none' },
    );
    const bridged = await container(uniqueTag('qs-sec-bridge'), { User: '1000' }, { NetworkMode: 'bridge' });
    const shell = await container(uniqueTag('qs-sec-shell'), { User: '1000' }, { NetworkMode: 'none' });
    for (const c of [stopped, exempt, bridged, shell]) await c.start();

    await eventually(async () => assert.equal((await stopped.inspect()).State.Running, false), 20_000, 50);
    await eventually(
      async () => assert.deepEqual(Object.keys((await bridged.inspect()).NetworkSettings.Networks), []),
      20_000,
      50,
    );
    assert.equal((await bridged.inspect()).State.Running, true, 'disconnected, still running');
    await execIn(shell, ['sh'], true).catch(() => undefined);
    await eventually(async () => assert.equal((await shell.inspect()).State.Running, false), 20_000, 50);
    assert.equal((await exempt.inspect()).State.Running, true);
    await eventually(() => assert.equal(enforcements().length, 3));
    const byAction = Object.fromEntries(enforcements().map((r) => [r.action, r]));
    assert.equal(byAction.stop?.container, (await stopped.inspect()).Name.slice(1));
    assert.equal(byAction.disconnect?.result, 'ok');
    assert.equal(byAction.kill?.trigger, 'exec_create');
    const exemptName = (await exempt.inspect()).Name.slice(1);
    assert.ok(!enforcements().some((r) => r.container === exemptName));

    // Reconnected by hand: quarantined again.
    await docker.getNetwork('bridge').connect({ Container: bridged.id });
    await eventually(
      async () => assert.deepEqual(Object.keys((await bridged.inspect()).NetworkSettings.Networks), []),
      20_000,
      50,
    );
    await eventually(() => assert.equal(enforcements().at(-1)?.trigger, 'connect'));
  });

  it('enforce: a restart-policy container that comes back with the engine is contained again', async () => {
    await startWatcher('rules:\n  added-capabilities: { mode: enforce, action: kill }\n');
    const c = await container(
      uniqueTag('qs-sec-restart'),
      {},
      { CapAdd: ['NET_ADMIN'], RestartPolicy: { Name: 'always' } },
    );
    await c.start();
    await eventually(async () => assert.equal(enforcements().filter((r) => r.result === 'ok').length, 1), 15_000, 20);
    await eventually(async () => assert.equal((await c.inspect()).State.Running, false), 15_000, 50);

    await stopEngine();
    await startEngine();
    // dockerd restarts a killed restart=always container at start; the watcher, reconnected, kills it again.
    await eventually(
      async () => {
        const done = enforcements().filter((r) => r.result === 'ok');
        assert.equal(done.length, 2, output.stderr().slice(-2_000));
        assert.match(done[1]!.trigger!, /^(start|sync \(reconnect\))$/);
      },
      60_000,
      100,
    );
    await eventually(async () => assert.equal((await c.inspect()).State.Running, false), 15_000, 50);
    assert.ok((await c.inspect()).State.StartedAt > '', 'it did come back');
  });
});

/**
 * quayside registrator against the test engine and the Consul agent API double: the container
 * lifecycle, several ports, UDP, host network, env vs labels, Docker health feeding a TTL check,
 * pause, rename, an agent restart with containers that died meanwhile, Consul outages and an
 * empty restart, and an engine restart.
 */
import { strict as assert } from 'node:assert';
import { ConsulDouble } from '../consul/double';
import { eventually } from '../support/eventually';
import { runContainer, startRegistrator, type RunningRegistrator } from '../support/registrator-agent';
import { execIn, removeTestContainers, startEngine, stopEngine, testDocker, uniqueTag } from '../support/test-env';

const HOST_IP = '192.0.2.10';
const AGENT_ARGS = ['-ip', HOST_IP, '-resync', '1', '-retry-interval', '200', '--health-ttl', '30s'];

describe('quayside registrator with Consul', function () {
  this.timeout(120_000);
  const docker = testDocker();
  let consul: ConsulDouble;
  let agent: RunningRegistrator | undefined;
  let node = '';
  const run = uniqueTag('reg');

  before(async () => {
    await startEngine();
    await removeTestContainers(docker);
    node = ((await docker.info()) as { Name: string }).Name;
    consul = await new ConsulDouble({ enableScriptChecks: true }).start();
    agent = await startRegistrator(consul, AGENT_ARGS);
  });
  after(async () => {
    if (agent) assert.equal(await agent.stop(), 0, `graceful shutdown; stderr: ${agent.stderr().slice(-2000)}`);
    await removeTestContainers(docker);
    await consul.close();
  });

  const id = (name: string, port: number | string): string => `${node}:${name}:${port}`;
  const waitFor = (check: () => void, ms = 15_000): Promise<void> => eventually(check, ms, 50);

  it('registers a published port with the host address and host port, and removes it when the container stops', async () => {
    const name = `${run}-web`;
    const container = await runContainer(docker, {
      name,
      publish: { '80/tcp': 0 },
      env: ['SERVICE_TAGS=b,a', 'SERVICE_REGION=eu'],
    });
    const hostPort = Number((await container.inspect()).NetworkSettings.Ports['80/tcp']![0]!.HostPort);
    await waitFor(() => {
      const service = consul.services.get(id(name, 80));
      assert.ok(service, 'registered');
      assert.deepEqual(
        [service.Service, service.Address, service.Port, service.Tags, service.Meta.region, service.Meta.quayside_node],
        ['busybox', HOST_IP, hostPort, ['b', 'a'], 'eu', node],
      );
    });
    // Consul holds the service a moment before the agent has read the answer and logged it.
    await waitFor(() => assert.match(agent!.stderr(), new RegExp(`"message":"added".*"service":"${id(name, 80)}"`)));
    await container.stop({ t: 1 });
    await waitFor(() => assert.equal(consul.services.has(id(name, 80)), false));
    await waitFor(() => assert.match(agent!.stderr(), new RegExp(`"message":"removed".*"service":"${id(name, 80)}"`)));
  });

  it('re-registers after a restart, deregisters on kill and on rm -f', async () => {
    const name = `${run}-life`;
    const container = await runContainer(docker, { name, publish: { '80/tcp': 0 } });
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    await container.restart({ t: 1 });
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    const newPort = Number((await container.inspect()).NetworkSettings.Ports['80/tcp']![0]!.HostPort);
    await waitFor(() => assert.equal(consul.services.get(id(name, 80))?.Port, newPort));
    await container.kill();
    await waitFor(() => assert.equal(consul.services.has(id(name, 80)), false));
    await container.start();
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    await container.remove({ force: true });
    await waitFor(() => assert.equal(consul.services.has(id(name, 80)), false));
  });

  it('several ports get -<port> names; UDP gets :udp and the udp tag; labels beat env; checks land in Consul', async () => {
    const name = `${run}-multi`;
    await runContainer(docker, {
      name,
      publish: { '80/tcp': 0, '53/udp': 0 },
      env: [
        'SERVICE_NAME=fromenv',
        'SERVICE_80_CHECK_HTTP=/health',
        'SERVICE_80_CHECK_TCP=1',
        'SERVICE_CHECK_INTERVAL=5s',
      ],
      labels: { SERVICE_NAME: 'fromlabel' },
    });
    await waitFor(() => {
      assert.equal(consul.services.get(id(name, 80))?.Service, 'fromlabel-80');
      const udp = consul.services.get(`${id(name, 53)}:udp`);
      assert.equal(udp?.Service, 'fromlabel-53');
      assert.deepEqual(udp?.Tags, ['udp']);
    });
    const checks = consul
      .checksOf(id(name, 80))
      .map((c) => c.Type)
      .sort();
    assert.deepEqual(checks, ['http', 'tcp']);
    assert.equal(consul.checksOf(`${id(name, 53)}:udp`).length, 0);
  });

  it('host network: exposed ports with the host address', async () => {
    const name = `${run}-hostnet`;
    await runContainer(docker, { name, expose: ['9123/tcp'], networkMode: 'host' });
    await waitFor(() =>
      assert.deepEqual(
        [consul.services.get(id(name, 9123))?.Address, consul.services.get(id(name, 9123))?.Port],
        [HOST_IP, 9123],
      ),
    );
  });

  it('shows desired against registered per container on GET /services, with skipped ports and why', async () => {
    const name = `${run}-shown`;
    const container = await runContainer(docker, {
      name,
      publish: { '80/tcp': 0 },
      expose: ['81/tcp'],
      labels: { 'SERVICE_bad.key': 'x' },
    });
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    const report = await agent!.services();
    const entry = report.containers.find((c) => c.id === container.id);
    assert.deepEqual(
      entry?.services.map((s) => [s.id, s.registered, s.inSync]),
      [[id(name, 80), true, true]],
    );
    assert.deepEqual(entry?.skipped, [
      { port: '81/tcp', reason: 'not published on the host (use -internal to register the container port)' },
    ]);
    assert.ok(
      agent!
        .stderr()
        .split('\n')
        .some(
          (line) => line.includes('"message":"ignored container setting"') && line.includes('"key":"SERVICE_bad.key"'),
        ),
    );
  });

  it('feeds Docker health into a TTL check', async () => {
    const name = `${run}-health`;
    const container = await runContainer(docker, {
      name,
      cmd: ['sh', '-c', 'touch /tmp/ok; exec sleep 600'],
      publish: { '80/tcp': 0 },
      healthcheck: {
        Test: ['CMD-SHELL', 'test -f /tmp/ok'],
        Interval: 300_000_000,
        Timeout: 1_000_000_000,
        Retries: 1,
      },
    });
    const checkId = `service:${id(name, 80)}:docker-health`;
    await waitFor(() => assert.equal(consul.checks.get(checkId)?.Status, 'passing'), 20_000);
    await execIn(container, ['rm', '/tmp/ok']);
    await waitFor(() => assert.equal(consul.checks.get(checkId)?.Status, 'critical'), 20_000);
    assert.match(consul.checks.get(checkId)!.Output, /unhealthy/);
  });

  it("puts a paused container's services in maintenance and takes them out on unpause", async () => {
    const name = `${run}-pause`;
    const container = await runContainer(docker, { name, publish: { '80/tcp': 0 } });
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    await container.pause();
    await waitFor(() => assert.equal(consul.checks.get(`_service_maintenance:${id(name, 80)}`)?.Status, 'critical'));
    await container.unpause();
    await waitFor(() => assert.equal(consul.checks.has(`_service_maintenance:${id(name, 80)}`), false));
    assert.ok(consul.services.has(id(name, 80)));
  });

  it('follows a rename: the new ID is registered and the old one removed', async () => {
    const name = `${run}-old`;
    const container = await runContainer(docker, { name, publish: { '80/tcp': 0 } });
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    await container.rename({ name: `${run}-new` });
    await waitFor(() => {
      assert.ok(consul.services.has(id(`${run}-new`, 80)));
      assert.equal(consul.services.has(id(name, 80)), false);
    });
  });

  it('writes nothing while nothing changes (periodic reconcile reads only)', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // let health feeding from earlier tests settle
    const before = consul.writes().filter((w) => !w.path.startsWith('/v1/agent/check/update')).length;
    const lists = consul.requests.filter((r) => r.path === '/v1/agent/services').length;
    await eventually(
      () =>
        assert.ok(
          consul.requests.filter((r) => r.path === '/v1/agent/services').length >= lists + 2,
          'two periodic reconciles',
        ),
      10_000,
      100,
    );
    assert.equal(consul.writes().filter((w) => !w.path.startsWith('/v1/agent/check/update')).length, before);
  });

  it('refills a Consul agent that restarted empty, and registers nothing twice', async () => {
    const name = `${run}-refill`;
    await runContainer(docker, { name, publish: { '80/tcp': 0 } });
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))));
    const count = consul.services.size;
    consul.restartEmpty();
    await waitFor(() => assert.equal(consul.services.size, count), 10_000);
    assert.ok(consul.services.has(id(name, 80)));
  });

  it('rides out a Consul outage and 5xx answers: /readyz says why, everything converges after', async () => {
    await consul.down();
    const name = `${run}-outage`;
    const container = await runContainer(docker, { name, publish: { '80/tcp': 0 } });
    await eventually(
      async () => {
        const ready = await fetch(`${agent!.base}/readyz`);
        assert.equal(ready.status, 503);
        assert.match(await ready.text(), /cannot reach consul agent at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
      },
      15_000,
      100,
    );
    await consul.up();
    consul.fail(3, 500);
    await waitFor(() => assert.ok(consul.services.has(id(name, 80))), 30_000);
    await eventually(async () => assert.equal((await fetch(`${agent!.base}/readyz`)).status, 200), 15_000, 100);
    await container.remove({ force: true });
    await waitFor(() => assert.equal(consul.services.has(id(name, 80)), false));
    const registers = consul.requests.filter(
      (r) =>
        r.method === 'PUT' &&
        r.path === '/v1/agent/service/register' &&
        r.body.includes(`"${id(name, 80)}"`) &&
        r.status === 200,
    );
    assert.equal(registers.length, 1, 'registered once');
    const metrics = await (await fetch(`${agent!.base}/metrics`)).text();
    assert.match(metrics, /quayside_registrator_operations_total\{op="list",result="error"\} [1-9]/);
    assert.match(metrics, /quayside_registrator_services\{state="desired"\} \d+/);
    assert.match(metrics, /quayside_registrator_reconcile_duration_seconds_count\{scope="all"\} [1-9]/);
  });

  it('after its own restart, removes the services of containers that died meanwhile and keeps the rest', async () => {
    const stays = `${run}-stays`;
    const dies = `${run}-dies`;
    await runContainer(docker, { name: stays, publish: { '80/tcp': 0 } });
    const doomed = await runContainer(docker, { name: dies, publish: { '80/tcp': 0 } });
    await waitFor(() => assert.ok(consul.services.has(id(stays, 80)) && consul.services.has(id(dies, 80))));
    await agent!.kill();
    agent = undefined;
    await doomed.kill();
    const registersBefore = consul.requests.filter((r) => r.path === '/v1/agent/service/register').length;
    agent = await startRegistrator(consul, AGENT_ARGS);
    await waitFor(() => assert.equal(consul.services.has(id(dies, 80)), false));
    assert.ok(consul.services.has(id(stays, 80)));
    const reregistered =
      consul.requests.slice(0).filter((r) => r.path === '/v1/agent/service/register').length - registersBefore;
    assert.equal(
      reregistered,
      0,
      `nothing re-registered: unchanged services are left alone; got ${consul.requests
        .filter((r) => r.path === '/v1/agent/service/register')
        .slice(registersBefore)
        .map((r) => r.body)
        .join('\n')}`,
    );
  });

  it('converges after an engine restart: containers that did not come back are removed, those that did are registered', async () => {
    const back = `${run}-back`;
    const gone = `${run}-gone`;
    await runContainer(docker, { name: back, publish: { '80/tcp': 0 }, restart: 'always' });
    await runContainer(docker, { name: gone, publish: { '80/tcp': 0 } });
    await waitFor(() => assert.ok(consul.services.has(id(back, 80)) && consul.services.has(id(gone, 80))));
    await stopEngine();
    await startEngine();
    await waitFor(() => {
      assert.equal(consul.services.has(id(gone, 80)), false);
      assert.ok(consul.services.has(id(back, 80)));
    }, 60_000);
    const port = Number((await docker.getContainer(back).inspect()).NetworkSettings.Ports['80/tcp']![0]!.HostPort);
    await waitFor(() => assert.equal(consul.services.get(id(back, 80))?.Port, port), 30_000);
  });
});

describe('quayside registrator -internal -deregister on-success', function () {
  this.timeout(90_000);
  const docker = testDocker();
  let consul: ConsulDouble;
  let agent: RunningRegistrator;
  const run = uniqueTag('regi');
  const node = 'internal-node';
  const net = `${run}-net`;

  before(async () => {
    await startEngine();
    await docker.createNetwork({ Name: net, Labels: { 'quayside.test': '1' } });
    consul = await new ConsulDouble({ token: 'tok' }).start();
    agent = await startRegistrator(
      consul,
      ['-internal', '-deregister', 'on-success', '--node-name', node, '-resync', '1'],
      { CONSUL_HTTP_TOKEN: 'tok' },
    );
  });
  after(async () => {
    await agent?.stop();
    await removeTestContainers(docker);
    await docker
      .getNetwork(net)
      .remove()
      .catch(() => undefined);
    await consul.close();
  });

  it('sends CONSUL_HTTP_TOKEN as X-Consul-Token', () => {
    const tokens = new Set(consul.requests.filter((r) => r.path !== '/v1/status/leader').map((r) => r.token));
    assert.deepEqual([...tokens], ['tok']);
  });

  it('registers the container address and port on the user-defined network, follows connect and disconnect', async () => {
    const name = `${run}-app`;
    const container = await runContainer(docker, { name, expose: ['7000/tcp'], networkMode: net });
    const ipOn = async (network: string): Promise<string> =>
      (await container.inspect()).NetworkSettings.Networks[network]!.IPAddress;
    const sid = `${node}:${name}:7000`;
    await waitUntil(async () =>
      assert.deepEqual([consul.services.get(sid)?.Address, consul.services.get(sid)?.Port], [await ipOn(net), 7000]),
    );
    // SERVICE_NETWORK would pin it; without it the network of the network mode wins, so moving it there and back changes the address
    await docker.getNetwork(net).disconnect({ Container: container.id });
    await waitUntil(async () => assert.equal(consul.services.has(sid), false));
    await docker.getNetwork(net).connect({ Container: container.id });
    await waitUntil(async () => assert.equal(consul.services.get(sid)?.Address, await ipOn(net)));
  });

  it('on-success keeps the services of a container that failed, and removes them when it is removed', async () => {
    const name = `${run}-fails`;
    const container = await runContainer(docker, {
      name,
      expose: ['7000/tcp'],
      networkMode: net,
      cmd: exitWhenTold(3),
    });
    const sid = `${node}:${name}:7000`;
    await waitUntil(async () => assert.ok(consul.services.has(sid)));
    await execIn(container, ['touch', '/tmp/exit']);
    await container.wait();
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a die and one periodic reconcile
    assert.ok(consul.services.has(sid), 'kept after exit 3');
    await container.remove();
    await waitUntil(async () => assert.equal(consul.services.has(sid), false));
  });

  it('on-success removes the services of a container that exited 0', async () => {
    const name = `${run}-done`;
    const container = await runContainer(docker, {
      name,
      expose: ['7000/tcp'],
      networkMode: net,
      cmd: exitWhenTold(0),
    });
    const sid = `${node}:${name}:7000`;
    await waitUntil(async () => assert.ok(consul.services.has(sid)));
    await execIn(container, ['touch', '/tmp/exit']);
    await container.wait();
    await waitUntil(async () => assert.equal(consul.services.has(sid), false));
  });

  const waitUntil = (check: () => Promise<void>): Promise<void> => eventually(check, 15_000, 50);
  /** Runs until told (a file appears), then exits with `code`: registered first, whatever the load. */
  const exitWhenTold = (code: number): string[] => [
    'sh',
    '-c',
    `while [ ! -f /tmp/exit ]; do sleep 0.1; done; exit ${code}`,
  ];
});

describe('quayside registrator consulkv://', function () {
  this.timeout(60_000);
  const docker = testDocker();
  let consul: ConsulDouble;
  let agent: RunningRegistrator | undefined;
  const run = uniqueTag('regkv');

  before(async () => {
    await startEngine();
    consul = await new ConsulDouble().start();
    // The prefix does not exist yet: the agent must start and be ready all the same.
    agent = await startRegistrator(
      consul,
      ['-ip', HOST_IP, '-resync', '1', '--node-name', 'kv-node'],
      {},
      `consulkv://${consul.address}/services/${run}`,
    );
  });
  after(async () => {
    if (agent) assert.equal(await agent.stop(), 0);
    await removeTestContainers(docker);
    await consul.close();
  });

  it('writes <prefix>/<name>/<id> = ip:port, rewrites nothing when nothing changed, deletes it when the container goes', async () => {
    const name = `${run}-web`;
    const container = await runContainer(docker, { name, publish: { '80/tcp': 0 } });
    const hostPort = (await container.inspect()).NetworkSettings.Ports['80/tcp']![0]!.HostPort;
    const key = `services/${run}/busybox/kv-node:${name}:80`;
    await eventually(() => assert.equal(consul.kv.get(key)?.value.toString(), `${HOST_IP}:${hostPort}`), 15_000, 50);
    const writes = consul.writes().length;
    const lists = consul.requests.filter((r) => r.path.startsWith('/v1/kv/') && r.method === 'GET').length;
    await eventually(
      () =>
        assert.ok(
          consul.requests.filter((r) => r.path.startsWith('/v1/kv/') && r.method === 'GET').length >= lists + 2,
        ),
      10_000,
      100,
    );
    assert.equal(consul.writes().length, writes, 'idle reconciles write nothing');
    await container.remove({ force: true });
    await eventually(() => assert.equal(consul.kv.has(key), false), 15_000, 50);
  });
});

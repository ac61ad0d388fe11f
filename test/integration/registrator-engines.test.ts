/**
 * quayside registrator against each engine of the environment (Docker, and Podman on its
 * Docker-compatible socket): services registered on start, following network disconnect and
 * connect, kept after a failure and removed when the container is removed. `-resync 0`: nothing
 * but the events can do it (Podman's `remove` and its network events used to be ignored, so
 * removed containers lingered until the next full sync).
 */
import { strict as assert } from 'node:assert';
import { ConsulDouble } from '../consul/double';
import { testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { runContainer, startRegistrator, type RunningRegistrator } from '../support/registrator-agent';
import { removeTestContainers, uniqueTag } from '../support/test-env';

for (const engine of testEngines()) {
  describe(`quayside registrator on ${engine.name}`, function () {
    this.timeout(120_000);
    const docker = engine.docker();
    const node = `${engine.name}-node`;
    const run = uniqueTag(`rege-${engine.name}`);
    let consul: ConsulDouble;
    let agent: RunningRegistrator | undefined;
    let network = '';

    before(async () => {
      await removeTestContainers(docker);
      network = await engine.extraNetwork();
      consul = await new ConsulDouble().start();
      agent = await startRegistrator(
        consul,
        ['-internal', '-deregister', 'on-success', '--node-name', node, '-resync', '0'],
        { DOCKER_HOST: engine.host },
      );
    });
    after(async () => {
      if (agent) assert.equal(await agent.stop(), 0, `graceful shutdown; stderr: ${agent.stderr().slice(-2000)}`);
      await removeTestContainers(docker);
      await consul.close();
    });

    const waitUntil = (check: () => Promise<void> | void): Promise<void> => eventually(check, 15_000, 50);
    const exitWhenTold = (code: number): string[] => [
      'sh',
      '-c',
      `while [ ! -f /tmp/exit ]; do sleep 0.1; done; exit ${code}`,
    ];

    it('registers the container address on its network, follows disconnect and connect', async () => {
      const name = `${run}-app`;
      const container = await runContainer(docker, { name, expose: ['7000/tcp'], networkMode: network });
      const ipOn = async (): Promise<string | undefined> =>
        (await container.inspect()).NetworkSettings.Networks[network]?.IPAddress;
      const sid = `${node}:${name}:7000`;
      await waitUntil(async () =>
        assert.deepEqual([consul.services.get(sid)?.Address, consul.services.get(sid)?.Port], [await ipOn(), 7000]),
      );
      await engine.cli(['network', 'disconnect', network, name]);
      await waitUntil(() => assert.equal(consul.services.has(sid), false, 'removed on disconnect'));
      await engine.cli(['network', 'connect', network, name]);
      const address = await ipOn();
      assert.ok(address, 'connected again');
      await waitUntil(() =>
        assert.equal(consul.services.get(sid)?.Address, address, 'back on connect, with the new address'),
      );
    });

    it('keeps the services of a container that failed (on-success), and removes them on rm', async () => {
      const name = `${run}-fails`;
      const container = await runContainer(docker, {
        name,
        expose: ['7000/tcp'],
        networkMode: network,
        cmd: exitWhenTold(3),
      });
      const sid = `${node}:${name}:7000`;
      await waitUntil(() => assert.ok(consul.services.has(sid)));
      await engine.cli(['exec', name, 'touch', '/tmp/exit']);
      await container.wait();
      // The agent counts an event as it reads it; its `die` handler (exit 3: keep) does no I/O.
      await waitUntil(async () =>
        assert.match(
          await (await fetch(`${agent!.base}/metrics`)).text(),
          /^quayside_docker_events_total\{type="container",action="die"\} [1-9]/m,
        ),
      );
      assert.ok(consul.services.has(sid), 'kept after exit 3');
      await engine.cli(['rm', name]);
      await waitUntil(() => assert.equal(consul.services.has(sid), false, 'removed with the container'));
    });
  });
}

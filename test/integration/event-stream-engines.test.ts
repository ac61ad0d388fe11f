/**
 * The shared event core against each engine of the environment: the same container lifecycle
 * arrives as the same normalized events from Docker and from Podman, filters given in Docker's
 * terms work on both, and `quayside all` survives the engine's own `run` (Podman's emits an image
 * `pull` with an empty ID, which killed it).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerClient } from '../../shared/docker/connection';
import type { DockerEvent } from '../../shared/docker/event';
import { EventStream } from '../../shared/docker/event-stream';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import { testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { TEST_LABEL, removeTestContainers, uniqueTag } from '../support/test-env';

for (const engine of testEngines()) {
  describe(`event core on ${engine.name}`, function () {
    this.timeout(90_000);
    const docker = createDockerClient({ host: engine.host, tlsVerify: false });
    const streams: EventStream[] = [];
    afterEach(async () => {
      await Promise.all(streams.splice(0).map((s) => s.stop()));
      await removeTestContainers(engine.docker());
    });

    async function follow(filters?: Record<string, string[]>): Promise<{ events: DockerEvent[]; stream: EventStream }> {
      const events: DockerEvent[] = [];
      const stream = new EventStream({ docker, filters });
      streams.push(stream);
      stream.subscribe({ name: 'test', healthChecks: true, onEvent: (e) => void events.push(e) });
      stream.start();
      await stream.waitUntilConnected(15_000);
      return { events, stream };
    }

    it('normalizes a lifecycle with exec, health check and network changes to the same events', async () => {
      const { events, stream } = await follow();
      assert.equal(stream.engine, engine.name, 'engine detected');
      const network = await engine.extraNetwork();
      const name = uniqueTag('qs-ev');
      const id = await engine.cli([
        'run',
        '-d',
        '--name',
        name,
        '--label',
        `${TEST_LABEL}=1`,
        '--health-cmd',
        'true',
        '--health-interval',
        '1s',
        'busybox:test',
        'sleep',
        '300',
      ]);
      const about = (): DockerEvent[] => events.filter((e) => e.id === id || e.attributes.container === id);
      // Docker's timer runs the first check after its interval; Podman's runs when asked.
      await eventually(
        async () => {
          await engine.runHealthcheck(name);
          assert.ok(
            about().some((e) => e.action === 'health_status'),
            'a health_status event',
          );
        },
        20_000,
        250,
      );
      await engine.cli(['exec', name, 'cat', '/etc/passwd']);
      await engine.cli(['network', 'connect', network, name]);
      await engine.cli(['network', 'disconnect', network, name]);
      await engine.cli(['stop', '-t', '1', name]);
      await engine.cli(['rm', name]);

      await eventually(
        () =>
          assert.ok(
            about().some((e) => e.action === 'destroy'),
            about()
              .map((e) => e.action)
              .join(' '),
          ),
        20_000,
      );
      const actions = about()
        .filter((e) => e.type === 'container')
        .map((e) => e.action);
      const lifecycle = ['create', 'start', 'exec_start', 'exec_die', 'die', 'destroy'];
      assert.deepEqual(
        actions.filter((a) => lifecycle.includes(a) && a !== 'exec_start' && a !== 'exec_die'),
        ['create', 'start', 'die', 'destroy'],
      );
      assert.ok(actions.includes('exec_start') && actions.includes('exec_die'), actions.join(' '));
      assert.ok(
        !actions.some((a) => ['remove', 'died', 'exec', 'exec_died'].includes(a)),
        `no dialect left: ${actions.join(' ')}`,
      );

      assert.match(about().find((e) => e.action === 'health_status')!.detail, /^(starting|healthy)$/);

      const net = about()
        .filter((e) => e.type === 'network')
        .map((e) => `${e.action} ${e.attributes.container}`);
      // Docker also reports its default network's connect (start) and disconnect (stop).
      assert.ok(
        net.includes(`connect ${id}`) && net.includes(`disconnect ${id}`),
        `network events name the container: ${net.join(', ')}`,
      );
      assert.equal(about().find((e) => e.action === 'create')?.name, name);
    });

    it("applies filters given in Docker's terms", async () => {
      const { events } = await follow({ event: ['die', 'destroy'], type: ['container'] });
      const name = uniqueTag('qs-evf');
      const id = await engine.cli(['run', '-d', '--name', name, '--label', `${TEST_LABEL}=1`, 'busybox:test', 'true']);
      await engine.cli(['wait', name]);
      await engine.cli(['rm', name]);
      await eventually(
        () =>
          assert.deepEqual(
            events.filter((e) => e.id === id).map((e) => e.action),
            ['die', 'destroy'],
          ),
        15_000,
      );
      assert.deepEqual([...new Set(events.map((e) => e.action))].sort(), ['destroy', 'die'], 'nothing else');
    });

    it(`quayside all survives ${engine.name} run and stays ready`, async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'qs-all-engine-'));
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const child = startCli(agentArgs('all', { port, stateDir, jsonLogs: true }), { DOCKER_HOST: engine.host });
      const output = capture(child);
      try {
        await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 20_000, 100);
        const name = uniqueTag('qs-all');
        await engine.nativeCli(['run', '--name', name, '--label', `${TEST_LABEL}=1`, 'busybox:test', 'true']);
        await engine.nativeCli(['rm', name]);
        await eventually(
          async () => {
            assert.match(
              await (await fetch(`${base}/metrics`)).text(),
              /^quayside_docker_events_total\{type="container",action="destroy"\} [1-9]/m,
            );
          },
          20_000,
          100,
        );
        await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 10_000, 100);
        assert.equal(child.exitCode, null, output.stderr().slice(-2000));
      } finally {
        child.kill('SIGTERM');
        const code = await exited(child);
        rmSync(stateDir, { recursive: true, force: true });
        assert.equal(code, 0, `exit ${code}: ${output.stderr().slice(-2000)}`);
      }
    });
  });
}

/**
 * The stats-exporter on every engine of the test environment (issue #14.4), checked against the
 * kernel's own counters: the Docker API collector's network bytes and packets as the container's
 * eth0 counts them (Podman's answer has the bytes swapped and no packets), the cgroup of a container found without the host's
 * /proc (Podman's libpod-<id> cgroups), and a removed container's series gone at once.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { agentArgs, capture, exited, startCli } from '../support/cli';
import { testEngines, type TestEngine } from '../support/engines';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { parseSampleLine, type ExpositionSample } from '../support/prometheus-text';
import { removeTestContainers, TEST_LABEL, testEnv, uniqueTag } from '../support/test-env';

/** eth0's counters as the kernel shows them inside the container. */
async function eth0Counters(
  engine: TestEngine,
  container: string,
): Promise<{ receive: number; transmit: number; receivePackets: number; transmitPackets: number }> {
  const line = (await engine.cli(['exec', container, 'cat', '/proc/net/dev']))
    .split('\n')
    .find((l) => l.trim().startsWith('eth0:'));
  assert.ok(line, 'eth0 in /proc/net/dev');
  const fields = line.split(':')[1]!.trim().split(/\s+/).map(Number);
  return { receive: fields[0]!, transmit: fields[8]!, receivePackets: fields[1]!, transmitPackets: fields[9]! };
}

for (const engine of testEngines()) {
  describe(`quayside stats-exporter on ${engine.name}`, function () {
    this.timeout(180_000);
    const docker = engine.docker();
    const run = uniqueTag(`sxe${engine.name[0]}`);
    const exporters: Array<{ child: ReturnType<typeof startCli>; output: ReturnType<typeof capture> }> = [];

    async function startExporter(extra: string[]): Promise<string> {
      const port = await freePort();
      const child = startCli(
        agentArgs(
          'stats-exporter',
          { port, stateDir: join(testEnv().root, `state-${run}`), jsonLogs: true },
          '--stats-include',
          `label=qs.stats.run=${run}`,
          ...extra,
        ),
        { DOCKER_HOST: engine.host },
      );
      exporters.push({ child, output: capture(child) });
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => assert.equal((await fetch(`${base}/readyz`)).status, 200), 20_000, 100);
      return base;
    }

    /** The container's samples of one family, or of every family when `name` is undefined. */
    async function samples(base: string, name: string | undefined, containerName: string): Promise<ExpositionSample[]> {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name === undefined ? 'container_' : `${name}{`))
        .map(parseSampleLine)
        .filter((s) => s.labels.name === containerName);
    }

    async function runContainer(name: string, script: string): Promise<Dockerode.Container> {
      const container = await docker.createContainer({
        name,
        Image: testEnv().images.busybox,
        Cmd: ['sh', '-c', script],
        Labels: { [TEST_LABEL]: '1', 'qs.stats.run': run },
      });
      await container.start();
      return container;
    }

    after(async () => {
      for (const { child, output } of exporters) {
        child.kill('SIGTERM');
        assert.equal(await exited(child), 0, `graceful shutdown; stderr: ${output.stderr().slice(-1500)}`);
      }
      await removeTestContainers(docker);
    });

    it("reports the Docker API's network bytes and packets as the container's eth0 counts them (received many, sent few)", async () => {
      // A web server and a client that downloads 3 MB from it once: eth0 receives far more than it sends.
      const server = await runContainer(
        `${run}-web`,
        'mkdir /www && dd if=/dev/zero of=/www/big bs=1M count=3 2>/dev/null && exec httpd -f -p 8080 -h /www',
      );
      const serverIp = await eventually(
        async () => {
          const networks = Object.values((await server.inspect()).NetworkSettings.Networks);
          assert.ok(networks[0]?.IPAddress, 'the server has an address');
          return networks[0].IPAddress;
        },
        20_000,
        100,
      );
      await runContainer(
        `${run}-client`,
        `until wget -q -O /dev/null http://${serverIp}:8080/big; do usleep 100000; done; exec sleep 600`,
      );
      const kernel = await eventually(
        async () => {
          const counters = await eth0Counters(engine, `${run}-client`);
          assert.ok(counters.receive > 3_000_000, `downloaded so far: ${counters.receive} bytes`);
          return counters;
        },
        60_000,
        250,
      );
      const base = await startExporter(['--stats-collector', 'docker-api', '--stats-api-cache', '0s']);
      await eventually(
        async () => {
          const [receive] = await samples(base, 'container_network_receive_bytes_total', `${run}-client`);
          const [transmit] = await samples(base, 'container_network_transmit_bytes_total', `${run}-client`);
          assert.equal(receive?.labels.interface, 'eth0');
          // Only ARP and the like move the counters now.
          assert.ok(
            Math.abs(receive!.value - kernel.receive) < 20_000,
            `received ${receive!.value}, the kernel counted ${kernel.receive}`,
          );
          assert.ok(
            Math.abs(transmit!.value - kernel.transmit) < 20_000,
            `transmitted ${transmit!.value}, the kernel counted ${kernel.transmit}`,
          );
          // Packets too (Podman's answer has none: they come from the container's /proc/<pid>/net/dev).
          const [receivePackets] = await samples(base, 'container_network_receive_packets_total', `${run}-client`);
          const [transmitPackets] = await samples(base, 'container_network_transmit_packets_total', `${run}-client`);
          // Only ARP and the like move them now: within 10 of the kernel's count, which is well above that.
          assert.ok(
            kernel.receivePackets > 20 && kernel.transmitPackets > 20,
            `the download's packets: ${JSON.stringify(kernel)}`,
          );
          assert.ok(
            Math.abs(receivePackets!.value - kernel.receivePackets) <= 10,
            `received ${receivePackets?.value} packets, the kernel counted ${kernel.receivePackets}`,
          );
          assert.ok(
            Math.abs(transmitPackets!.value - kernel.transmitPackets) <= 10,
            `transmitted ${transmitPackets?.value} packets, the kernel counted ${kernel.transmitPackets}`,
          );
        },
        30_000,
        500,
      );
    });

    it("finds a container's cgroup without the host's /proc, and drops its series as soon as it is removed", async () => {
      const container = await runContainer(`${run}-cpu`, 'while :; do :; done');
      const id = (await container.inspect()).Id;
      const base = await startExporter(['--stats-proc-root', '/nonexistent']);
      const cpu = () => samples(base, 'container_cpu_usage_seconds_total', `${run}-cpu`);
      const found = await eventually(
        async () => {
          const [series] = await cpu();
          assert.ok(series && series.value > 0, 'CPU counted');
          return series;
        },
        30_000,
        250,
      );
      assert.ok(found.labels.id?.endsWith(id), `cgroup ${found.labels.id}`);
      if (engine.name === 'podman') assert.equal(found.labels.id, `/libpod_parent/libpod-${id}`);
      assert.ok((await samples(base, 'container_last_seen', `${run}-cpu`)).length > 0);
      await container.remove({ force: true });
      // Every series, container_last_seen included (a stopped container keeps it 5 minutes); not at
      // the next full sync (5 minutes) but on the engine's removal event.
      await eventually(
        async () =>
          assert.deepEqual(
            (await samples(base, undefined, `${run}-cpu`)).map((s) => s.name),
            [],
          ),
        20_000,
        250,
      );
    });
  });
}

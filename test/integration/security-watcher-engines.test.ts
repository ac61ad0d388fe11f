/**
 * The security-watcher on every engine of the test environment (issue #14.5): host IPC (Podman says
 * IpcMode=shareable for --ipc host), the engine's own socket mounted into a container, and exec
 * rules on execs (Podman's exec events carry no exec ID and no command).
 */
import { strict as assert } from 'node:assert';
import type Dockerode from 'dockerode';
import { agentOnEngine, testEngines } from '../support/engines';
import { eventually } from '../support/eventually';
import { TEST_LABEL, testEnv, uniqueTag } from '../support/test-env';

interface FindingJson {
  ruleId: string;
  evidence: Record<string, unknown>;
  object: { id: string };
}

for (const engine of testEngines()) {
  describe(`security-watcher on ${engine.name}`, function () {
    this.timeout(120_000);
    const docker = engine.docker();
    const agent = agentOnEngine('security-watcher', engine);

    async function findingsAbout(id: string): Promise<FindingJson[]> {
      const body = (await (await fetch(agent.url(`/findings?agent=security-watcher&state=open`))).json()) as {
        findings: FindingJson[];
      };
      return body.findings.filter((f) => f.object.id === id);
    }
    const rulesAbout = async (id: string) => (await findingsAbout(id)).map((f) => f.ruleId);

    async function running(name: string, host: Dockerode.HostConfig = {}, user = ''): Promise<Dockerode.Container> {
      const container = await docker.createContainer({
        name,
        User: user,
        Image: testEnv().images.busybox,
        Cmd: ['sleep', '600'],
        Labels: { [TEST_LABEL]: '1' },
        HostConfig: host,
      });
      await container.start();
      return container;
    }

    it('finds a container sharing the host IPC namespace, and not one with its own', async () => {
      const shared = await running(uniqueTag('qs-swe-ipc'), { IpcMode: 'host' });
      const own = await running(uniqueTag('qs-swe-noipc'));
      await eventually(
        async () =>
          assert.ok(
            (await rulesAbout(shared.id)).includes('host-ipc'),
            `findings: ${(await rulesAbout(shared.id)).join(', ')}`,
          ),
        30_000,
        250,
      );
      // Both were checked at their start: the second one's findings are in, without host-ipc.
      await eventually(async () => assert.ok((await rulesAbout(own.id)).length > 0), 30_000, 250);
      assert.ok(!(await rulesAbout(own.id)).includes('host-ipc'));
    });

    it("finds the engine's API socket mounted into a container", async () => {
      const mounted = await running(uniqueTag('qs-swe-sock'), { Binds: [`${engine.socket}:/run/podman/podman.sock`] });
      await eventually(
        async () => {
          const socket = (await findingsAbout(mounted.id)).find((f) => f.ruleId === 'docker-socket');
          assert.deepEqual(socket?.evidence.value, {
            Source: engine.socket,
            Destination: '/run/podman/podman.sock',
            RW: true,
          });
        },
        30_000,
        250,
      );
    });

    it('fires an exec rule on an exec: a shell with a terminal', async () => {
      const app = await running(uniqueTag('qs-swe-exec'), {}, '1000');
      await eventually(async () => assert.ok((await rulesAbout(app.id)).length > 0, 'checked at start'), 30_000, 250);
      assert.ok(!(await rulesAbout(app.id)).includes('terminal-shell'));
      await engine.cli(['exec', '-t', app.id, 'sh', '-c', 'exit 0']);
      await eventually(
        async () =>
          assert.ok(
            (await rulesAbout(app.id)).includes('terminal-shell'),
            `findings: ${(await rulesAbout(app.id)).join(', ')}; agent: ${agent.stderr().slice(-1500)}`,
          ),
        30_000,
        250,
      );
    });
  });
}

import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import Dockerode from 'dockerode';
import { createDockerClient } from '../../shared/docker/connection';
import { openEventsStream } from '../../shared/docker/events-request';
import { applyRequestDeadlines, isDockerDeadline, withDockerDeadline } from '../../shared/docker/request-deadline';
import { FakeEngine } from '../support/fake-engine';

describe('Docker request deadlines (against an engine that never answers some requests)', () => {
  let engine: FakeEngine;
  beforeEach(async () => {
    engine = await new FakeEngine().start();
    engine.unanswered = [/^\/containers\/wedged\//];
  });
  afterEach(() => engine.close());

  it('fails a request the engine never answers, naming it, within the deadline', async () => {
    const docker = applyRequestDeadlines(new Dockerode({ socketPath: engine.socketPath }), 150);
    const began = Date.now();
    await assert.rejects(docker.getContainer('wedged').inspect(), (error: unknown) => {
      assert.ok(isDockerDeadline(error), String(error));
      assert.match((error as Error).message, /GET \/containers\/wedged\/json: Docker did not answer within 150 ms/);
      return true;
    });
    assert.ok(Date.now() - began < 2_000);
  });

  it('gives every client from createDockerClient a deadline', async () => {
    const docker = createDockerClient({ host: `unix://${engine.socketPath}`, tlsVerify: false }, 100);
    await assert.rejects(
      docker.getContainer('wedged').pause(),
      /POST \/containers\/wedged\/pause: Docker did not answer within 100 ms/,
    );
  });

  it('lets withDockerDeadline give the requests of one call another deadline', async () => {
    const docker = applyRequestDeadlines(new Dockerode({ socketPath: engine.socketPath }), 5_000);
    await assert.rejects(
      withDockerDeadline(80, () => docker.getContainer('wedged').inspect()),
      /within 80 ms/,
    );
    // Outside the call the default holds again; other requests are answered.
    assert.ok(Array.isArray(await docker.listContainers()));
  });

  it("keeps the caller's own abort signal working", async () => {
    const docker = applyRequestDeadlines(new Dockerode({ socketPath: engine.socketPath }), 5_000);
    const abort = new AbortController();
    const inspecting = docker
      .getContainer('wedged')
      .inspect({ abortSignal: abort.signal } as Dockerode.ContainerInspectOptions);
    abort.abort();
    await assert.rejects(inspecting, (error: unknown) => !isDockerDeadline(error));
  });

  it('does not cut a stream once its headers came: only the connect and headers phase has the deadline', async () => {
    const docker = applyRequestDeadlines(new Dockerode({ socketPath: engine.socketPath }), 100);
    const abort = new AbortController();
    const response: IncomingMessage = await openEventsStream(docker, { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 300)); // three deadlines
    assert.equal(response.destroyed, false);
    engine.send(1, '{"ok":1}');
    const chunk = await new Promise<string>((resolve) =>
      response.once('data', (data: Buffer) => resolve(String(data))),
    );
    assert.match(chunk, /"ok":1/);
    abort.abort();
  });

  it('fails a stream whose headers never come', async () => {
    engine.stalledEvents = 1;
    const docker = applyRequestDeadlines(new Dockerode({ socketPath: engine.socketPath }), 100);
    await assert.rejects(
      openEventsStream(docker, { signal: new AbortController().signal }),
      /GET \/events: Docker did not answer within 100 ms/,
    );
  });
});

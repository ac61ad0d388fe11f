/**
 * No engine answer can crash a process: redirects, empty and cut bodies, garbage JSON, silence and
 * malformed events, from an engine on a unix socket (test/support/odd-engine.ts), against the
 * Docker client, the event core and `quayside all` (dist/, built before the tests).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerClient } from '../../shared/docker/connection';
import type { DockerEvent } from '../../shared/docker/event';
import { EventStream } from '../../shared/docker/event-stream';
import { DockerDeadlineError } from '../../shared/docker/request-deadline';
import { DockerAnswerError, InvalidDockerRequestError } from '../../shared/docker/request-guard';
import { capture, exited, startCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import { answers, OddEngine } from '../support/odd-engine';

const PULL_WITHOUT_ID =
  '{"status":"pull","Type":"image","Action":"pull","Actor":{"ID":"","Attributes":{"containerExitCode":"0","image":"","name":"busybox:test","podId":""}},"scope":"local","time":1796303053,"timeNano":1796303053964665635}';
const CONTAINER = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const containerEvent = (action: string, n: number, id = CONTAINER): string =>
  `{"Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":{"name":"odd","image":"busybox:test"}},"scope":"local","time":1796303060,"timeNano":179630306000000000${n}}`;
const MALFORMED = [
  '{"Type":',
  'null',
  '[1,2]',
  '{"Actor":{"ID":"x"},"timeNano":1}',
  '\u0000\u0001garbage',
  `{"Type":"container","Action":"start","Actor":"x","time":-1}`,
];

describe('odd engine answers', function () {
  this.timeout(30_000);
  let engine: OddEngine;

  afterEach(() => engine?.close());

  describe('through the Docker client', () => {
    const client = () => createDockerClient({ host: `unix://${engine.socketPath}`, tlsVerify: false }, 1_500);

    async function rejection(call: () => Promise<unknown>): Promise<Error & { statusCode?: number }> {
      return call().then(
        (value) => assert.fail(`resolved with ${JSON.stringify(value)}`),
        (error: Error & { statusCode?: number }) => error,
      );
    }

    it('never sends a request for an empty ID', async () => {
      engine = await new OddEngine().start();
      const error = await rejection(() => client().getImage('').inspect());
      assert.ok(error instanceof InvalidDockerRequestError, error.message);
      assert.match(error.message, /GET \/images\/\/json: not sent, an empty ID or name/);
      assert.deepEqual(engine.requests, []);
    });

    it('fails on a redirect instead of following it (301 to a path, 302 to another host)', async () => {
      engine = await new OddEngine()
        .on(/^\/images\//, answers.redirect('/images/json'))
        .on(/^\/containers\//, answers.redirect('http://elsewhere.invalid/x', 302))
        .start();
      assert.equal((await rejection(() => client().getImage('busybox:test').inspect())).statusCode, 301);
      assert.equal((await rejection(() => client().getContainer(CONTAINER).inspect())).statusCode, 302);
      assert.deepEqual(
        engine.requests,
        ['GET /images/busybox:test/json', `GET /containers/${CONTAINER}/json`],
        'no redirect followed',
      );
    });

    for (const [what, answer, expected] of [
      ['an empty body', answers.emptyBody(), /an empty body/],
      ['garbage JSON', answers.garbage(), /not JSON/],
      ['a body shorter than its Content-Length', answers.shortBody(), /did not answer within 1500 ms/],
    ] as const) {
      it(`fails an inspect answered with ${what}`, async () => {
        engine = await new OddEngine().on(/./, answer).start();
        const error = await rejection(() => client().getContainer(CONTAINER).inspect());
        assert.match(error.message, expected);
        const listing = await rejection(() => client().listContainers({ all: true }));
        assert.match(listing.message, expected);
      });
    }

    it('names the engine answering with no JSON body as what it is', async () => {
      engine = await new OddEngine().on(/./, answers.garbage('<html>')).start();
      assert.ok((await rejection(() => client().info())) instanceof DockerAnswerError);
    });

    it('fails an HTML error page and a request never answered', async () => {
      engine = await new OddEngine()
        .on(/^\/info/, answers.html(502))
        .on(/./, answers.hang())
        .start();
      assert.equal((await rejection(() => client().info())).statusCode, 502);
      assert.ok((await rejection(() => client().getContainer(CONTAINER).inspect())) instanceof DockerDeadlineError);
    });
  });

  describe('through the event core', () => {
    it('skips malformed events, normalizes the empty-ID pull, and keeps handlers failing on odd answers apart', async () => {
      engine = await new OddEngine()
        .on(/^\/containers\/json$/, answers.json([]))
        .on(/^\/images\/busybox:test\/json$/, answers.redirect('/images/json'))
        .on(/^\/containers\//, answers.garbage())
        .start();
      const docker = createDockerClient({ host: `unix://${engine.socketPath}`, tlsVerify: false }, 1_500);
      const stream = new EventStream({ docker });
      const seen: DockerEvent[] = [];
      stream.subscribe({
        name: 'inspector',
        onEvent: async (event) => {
          seen.push(event);
          // What the agents do with each event: look at its object.
          if (event.type === 'image') await docker.getImage(event.id).inspect();
          if (event.type === 'container') await docker.getContainer(event.id).inspect();
        },
      });
      stream.start();
      try {
        await stream.waitUntilConnected(10_000);
        assert.equal(stream.engine, 'podman', 'known by the Server header of /events');
        engine.sendEvents(...MALFORMED, PULL_WITHOUT_ID, containerEvent('remove', 1), containerEvent('start', 2, ''));
        // The redirect, the garbage inspect, the empty ID: each fails its own handler.
        await eventually(() => assert.equal(stream.stats.handlerErrors, 3), 10_000);
        assert.equal(stream.stats.malformed, MALFORMED.length);
        assert.deepEqual(
          seen.map((e) => `${e.type} ${e.action} ${e.id.slice(0, 12)}`),
          ['image pull busybox:test', 'container destroy c0ffee00c0ff', 'container start '],
        );
        assert.ok(engine.requests.includes('GET /images/busybox:test/json'));
        assert.ok(
          !engine.requests.some((r) => r.includes('//')),
          `no request with an empty ID: ${engine.requests.join(', ')}`,
        );
        assert.ok(stream.connected, 'still connected');
      } finally {
        await stream.stop();
      }
    });
  });

  describe('through quayside all', () => {
    let stateDir = '';
    beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'qs-odd-state-'))));
    afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

    it('stays up and answers /healthz while the engine sends odd events and odd answers', async () => {
      engine = await new OddEngine()
        .on(/^\/(containers|images|networks|volumes)\/json$/, answers.json([]))
        .on(/^\/info$/, answers.json({ Name: 'odd-engine', ID: 'odd', OperatingSystem: 'odd', SecurityOptions: [] }))
        .on(
          /^\/version$/,
          answers.json({ Components: [{ Name: 'Podman Engine', Version: '4.3.1' }], ApiVersion: '1.41' }),
        )
        .on(/^\/_ping$/, (res) => res.writeHead(200).end('OK'))
        .on(/^\/images\//, answers.redirect('/images/json'))
        .on(/^\/containers\/[^/]+\/json$/, answers.shortBody())
        .on(/^\/containers\//, answers.garbage())
        .on(/^\/exec\//, answers.emptyBody())
        .start();
      const port = await freePort();
      const child = startCli(
        ['all', '--listen', `127.0.0.1:${port}`, '--state-dir', stateDir, '--log-format', 'json'],
        { DOCKER_HOST: `unix://${engine.socketPath}` },
      );
      const output = capture(child);
      try {
        await eventually(() => assert.ok(engine.eventStreams > 0, 'subscribed to /events'), 15_000, 50);
        engine.sendEvents(
          ...MALFORMED,
          PULL_WITHOUT_ID,
          containerEvent('create', 1),
          containerEvent('start', 2),
          containerEvent('exec', 3),
          containerEvent('health_status', 4),
          `{"Type":"network","Action":"connect","Actor":{"ID":"${CONTAINER}","Attributes":{"name":"odd"}},"time":1796303060,"timeNano":1796303060000000005}`,
          containerEvent('remove', 6),
        );
        // Every agent had a look at the image and the container, and got its odd answer.
        await eventually(
          () => {
            assert.ok(engine.requests.includes('GET /images/busybox:test/json'), engine.requests.join(', '));
            assert.ok(engine.requests.includes(`GET /containers/${CONTAINER}/json`), engine.requests.join(', '));
          },
          15_000,
          50,
        );
        assert.ok(!engine.requests.some((r) => r.includes('//')), 'no request with an empty ID');
        assert.equal(child.exitCode, null, `quayside all died: ${output.stderr().slice(-2000)}`);
        assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      } finally {
        child.kill('SIGTERM');
        const code = await exited(child);
        assert.equal(code, 0, `exit ${code}: ${output.stderr().slice(-2000)}`);
      }
    });
  });
});

/** The label-inspector live on the test engine, its sinks, and `label-inspector check`. */
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { buildImage, dockerCli } from '../support/docker-cli';
import { agentArgs, capture, exited, runCli, startCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/free-port';
import {
  createContainer,
  removeTestContainers,
  startEngine,
  testDocker,
  testEnv,
  uniqueTag,
} from '../support/test-env';

interface FindingJson {
  agent: string;
  ruleId: string;
  subject: string;
  severity: string;
  state: string;
  object: { kind: string; id: string; name: string };
}

const BAD_LABELS = `LABEL Bad_Key=1 com.docker.custom=x com.example.cfg="{oops" org.opencontainers.image.title=shop`;

let schemas = 0;
/** A schema file in the test root. */
function writeSchema(schema: object): string {
  const file = join(testEnv().root, `schema-${process.pid}-${(schemas += 1)}.json`);
  writeFileSync(file, JSON.stringify(schema));
  return file;
}

describe('label-inspector on the test engine', function () {
  this.timeout(60_000);
  const docker = testDocker();
  const images: string[] = [];

  before(() => startEngine());
  afterEach(async () => {
    await removeTestContainers(docker);
    for (const image of images.splice(0)) await dockerCli(['rmi', '-f', image]).catch(() => undefined);
  });

  async function badImage(): Promise<{ tag: string; id: string }> {
    const tag = `${uniqueTag('qs-labels-bad')}:1`;
    images.push(tag);
    return { tag, id: await buildImage(tag, `FROM ${testEnv().images.busybox}\n${BAD_LABELS}\n`) };
  }

  it('finds image and container label problems live and resolves them when the objects go', async () => {
    const { tag, id } = await badImage(); // built before the agent starts: found by the first sync
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const webhook: FindingJson[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        webhook.push((JSON.parse(body) as { finding: FindingJson }).finding);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const stream = uniqueTag('qs-findings');
    const { redis } = testEnv();
    const agent = startCli(
      agentArgs(
        'label-inspector',
        { port, stateDir: join(testEnv().root, 'state'), jsonLogs: true },
        '--label-require',
        'org.opencontainers.image.version',
        '--findings-redis-url',
        `redis://${redis.host}:${redis.port}`,
        '--findings-redis-stream',
        stream,
        '--findings-webhook-url',
        `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      ),
      { DOCKER_HOST: testEnv().docker.host },
    );
    const output = capture(agent);
    const findings = async (query = ''): Promise<FindingJson[]> =>
      ((await (await fetch(`http://127.0.0.1:${port}/findings${query}`)).json()) as { findings: FindingJson[] })
        .findings;
    const about = (list: FindingJson[], objectId: string) =>
      list
        .filter((f) => f.object.id === objectId)
        .map((f) => `${f.ruleId} ${f.subject}`)
        .sort();
    try {
      await eventually(
        async () =>
          assert.deepEqual(about(await findings(), id), [
            'label-json-value com.example.cfg',
            'label-key-format Bad_Key',
            'label-required-missing org.opencontainers.image.version',
            'label-reserved-namespace com.docker.custom',
            'label-unprefixed-key Bad_Key',
          ]),
        15_000,
      );

      // Containers are checked for their own labels; those inherited from the image stay with the image.
      const container = await createContainer(docker, {
        name: uniqueTag('qs-labelled'),
        cmd: ['true'],
        labels: { Runtime: 'yes' },
      });
      const containerInfo = await container.inspect();
      assert.equal(containerInfo.Image.startsWith('sha256:'), true);
      const child = await docker.createContainer({ Image: tag, Cmd: ['true'], Labels: { 'quayside.test': '1' } });
      const containerFindings = [
        'label-key-format Runtime',
        'label-shallow-prefix quayside.test',
        'label-unprefixed-key Runtime',
      ];
      await eventually(async () => assert.deepEqual(about(await findings(), container.id), containerFindings));
      await eventually(async () =>
        assert.ok((await findings()).some((f) => f.object.id === child.id && f.subject === 'quayside.test')),
      );
      assert.deepEqual(
        about(await findings(), child.id),
        ['label-shallow-prefix quayside.test'],
        'inherited labels stay with the image',
      );

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(
        metrics,
        /^quayside_findings_open\{agent="label-inspector",rule="label-key-format",severity="medium"\} [2-9]$/m,
      );

      await container.remove();
      await child.remove();
      await eventually(async () => assert.deepEqual(about(await findings(), container.id), []));
      assert.deepEqual(about(await findings('?state=resolved'), container.id), containerFindings);

      await dockerCli(['rmi', tag]);
      await eventually(async () => assert.deepEqual(about(await findings(), id), []));

      // Every opening and resolution also reached Redis and the webhook.
      const client = new Redis(redis.port, redis.host);
      try {
        await eventually(async () => {
          const entries = await client.xrange(stream, '-', '+');
          const events = entries.map(([, fields]) => `${fields[1]} ${fields[5]}`);
          assert.ok(
            events.includes('opened label-reserved-namespace') && events.includes('resolved label-reserved-namespace'),
            events.join(', '),
          );
        });
      } finally {
        client.disconnect();
      }
      await eventually(() => assert.ok(webhook.some((f) => f.ruleId === 'label-json-value' && f.state === 'resolved')));
    } finally {
      agent.kill('SIGTERM');
      hook.close();
    }
    assert.equal(await exited(agent), 0, output.stderr());
  });

  /** The agent with `args`, its findings and a way to time /healthz, stopped (exit 0 expected) by `run`'s end. */
  async function withAgent(
    args: string[],
    run: (agent: { base: string; findings(): Promise<FindingJson[]> }) => Promise<void>,
  ): Promise<void> {
    const port = await freePort();
    const child = startCli(agentArgs('label-inspector', { port, stateDir: join(testEnv().root, 'state') }, ...args), {
      DOCKER_HOST: testEnv().docker.host,
    });
    const output = capture(child);
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => assert.equal((await fetch(`${base}/healthz`)).status, 200), 15_000, 50);
      await run({
        base,
        findings: async () =>
          ((await (await fetch(`${base}/findings`)).json()) as { findings: FindingJson[] }).findings,
      });
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited(child), 0, output.stderr());
  }

  /** How long /healthz takes to answer, the agent busy or not. */
  async function healthzMs(base: string): Promise<number> {
    const started = Date.now();
    assert.equal((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) })).status, 200);
    return Date.now() - started;
  }

  it('reports a label that makes a backtracking pattern explode as a finding, and keeps serving (ReDoS)', async () => {
    const schema = writeSchema({
      type: 'object',
      properties: { 'com.example.name': { type: 'string', pattern: '^([a-z0-9]+-?)+$' } },
    });
    await withAgent(['--label-schema', schema], async ({ base, findings }) => {
      const hostile = await createContainer(docker, {
        name: uniqueTag('qs-redos'),
        cmd: ['true'],
        labels: { 'com.example.name': `${'a'.repeat(42)}!` },
      });
      const created = Date.now();
      await eventually(
        async () =>
          assert.ok((await findings()).some((f) => f.object.id === hostile.id && f.ruleId === 'label-schema')),
        10_000,
        20,
      );
      assert.ok(Date.now() - created < 2_000, `found after ${Date.now() - created} ms, beyond the 2 s check deadline`);
      assert.ok((await healthzMs(base)) < 1_000);
      assert.match(
        await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text(),
        /^quayside_findings_open\{agent="label-inspector",rule="label-schema"/m,
      );
    });
  });

  it('turns a check that overruns its deadline into a finding about the object, and goes on with the next', async () => {
    // Linear matching is still work: 60 patterns that each scan a 1 MB label take seconds, not 20 ms.
    const patterns = Array.from({ length: 60 }, (_, i) => `^(?:[ab]|x${i})*c$`);
    const schema = writeSchema({
      type: 'object',
      additionalProperties: { type: 'string', allOf: patterns.map((pattern) => ({ pattern })) },
    });
    await withAgent(['--label-schema', schema, '--label-check-timeout', '20ms'], async ({ base, findings }) => {
      const heavy = await createContainer(docker, {
        name: uniqueTag('qs-heavy'),
        cmd: ['true'],
        labels: { 'com.example.blob': `${'ab'.repeat(1 << 19)}c` },
      });
      const light = await createContainer(docker, {
        name: uniqueTag('qs-light'),
        cmd: ['true'],
        labels: { 'com.example.ok': 'q7x' },
      });
      await eventually(
        async () => {
          const list = await findings();
          assert.deepEqual(
            list.filter((f) => f.object.id === heavy.id).map((f) => f.ruleId),
            ['label-check-incomplete'],
          );
          assert.ok(
            list.some((f) => f.object.id === light.id && f.ruleId === 'label-schema'),
            'the next object is checked by a new worker',
          );
        },
        15_000,
        50,
      );
      assert.ok((await healthzMs(base)) < 1_000);
    });
  });

  it('exits 2 at start for a schema that cannot evaluate or uses a pattern RE2 cannot run', async () => {
    const env = { DOCKER_HOST: testEnv().docker.host };
    const loop = await runCli(
      agentArgs('label-inspector', { port: 0 }, '--label-schema', writeSchema({ $ref: '#' })),
      env,
    );
    assert.equal(loop.code, 2, loop.stderr);
    assert.match(loop.stderr, /label schema .*\.json: cannot be evaluated: Maximum call stack size exceeded/);
    const lookahead = await runCli(
      [
        'label-inspector',
        'check',
        '--all',
        '--schema',
        writeSchema({ patternProperties: { '^(?!x)': { type: 'string' } } }),
      ],
      env,
    );
    assert.equal(lookahead.code, 2, lookahead.stderr);
    assert.match(lookahead.stderr, /invalid schema: .*unsupported Perl syntax: `\(\?!`/);
  });

  it('warns once about a format it does not know', async () => {
    const schema = writeSchema({ type: 'object', additionalProperties: { type: 'string', format: 'team-name' } });
    const result = await runCli(['label-inspector', 'check', '--image', testEnv().images.busybox, '--schema', schema], {
      DOCKER_HOST: testEnv().docker.host,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.match(/unknown format "team-name"/g)?.length, 1, result.stderr);
  });

  it('check: reports an image in each format and sets the exit code by --fail-on', async () => {
    const { tag } = await badImage();
    const env = { DOCKER_HOST: testEnv().docker.host };
    const json = await runCli(['label-inspector', 'check', '--image', tag, '--format', 'json'], env);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout) as { findings: FindingJson[] };
    assert.deepEqual(report.findings.map((f) => f.ruleId).sort(), [
      'label-json-value',
      'label-key-format',
      'label-reserved-namespace',
      'label-unprefixed-key',
    ]);

    assert.equal((await runCli(['label-inspector', 'check', '--image', tag, '--fail-on', 'high'], env)).code, 0);
    const sarif = await runCli(['label-inspector', 'check', '--image', tag, '--format', 'sarif'], env);
    const log = JSON.parse(sarif.stdout) as {
      version: string;
      runs: Array<{ results: Array<{ ruleId: string; level: string }> }>;
    };
    assert.equal(log.version, '2.1.0');
    assert.ok(log.runs[0]!.results.some((r) => r.ruleId === 'label-reserved-namespace' && r.level === 'warning'));
    const junit = await runCli(['label-inspector', 'check', '--image', tag, '--format', 'junit'], env);
    assert.match(junit.stdout, /<testsuite [^>]*failures="4"/);

    const clean = await runCli(['label-inspector', 'check', '--image', testEnv().images.busybox], env);
    assert.equal(clean.code, 0, clean.stdout);
  });

  it('check: a container alone is checked with all its labels, with --all only with its own', async () => {
    const { tag } = await badImage();
    const name = uniqueTag('qs-check');
    await docker.createContainer({
      name,
      Image: tag,
      Cmd: ['true'],
      Labels: { 'quayside.test': '1', 'com.example.owner': 'team' },
    });
    const env = { DOCKER_HOST: testEnv().docker.host };
    const alone = await runCli(['label-inspector', 'check', '--container', name, '--format', 'json'], env);
    const aloneReport = JSON.parse(alone.stdout) as { findings: FindingJson[] };
    assert.deepEqual(aloneReport.findings.map((f) => `${f.ruleId} ${f.subject}`).sort(), [
      'label-json-value com.example.cfg',
      'label-key-format Bad_Key',
      'label-reserved-namespace com.docker.custom',
      'label-shallow-prefix quayside.test',
      'label-unprefixed-key Bad_Key',
    ]);
    const all = await runCli(['label-inspector', 'check', '--all', '--format', 'json'], env);
    const allReport = JSON.parse(all.stdout) as { findings: FindingJson[] };
    const mine = allReport.findings.filter((f) => f.object.name === name).map((f) => `${f.ruleId} ${f.subject}`);
    assert.deepEqual(mine, ['label-shallow-prefix quayside.test']);
    assert.ok(
      allReport.findings.some(
        (f) => f.object.kind === 'image' && f.object.name === tag && f.ruleId === 'label-key-format',
      ),
    );
  });

  it('check: exits 2 naming what could not be read', async () => {
    const env = { DOCKER_HOST: testEnv().docker.host };
    const missing = await runCli(['label-inspector', 'check', '--image', 'qs-no-such-image:1'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--image 'qs-no-such-image:1': not found/);
    const nothing = await runCli(['label-inspector', 'check'], env);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to check/);
    const schema = await runCli(
      [
        'label-inspector',
        'check',
        '--all',
        '--schema',
        join(__dirname, '..', 'fixtures', 'schemas', 'invalid-type.json'),
      ],
      env,
    );
    assert.equal(schema.code, 2);
    assert.match(schema.stderr, /invalid-type\.json: invalid schema/);
    const dockerfile = await runCli(['label-inspector', 'check', '--dockerfile', '/nonexistent/Dockerfile']);
    assert.equal(dockerfile.code, 2);
    assert.match(dockerfile.stderr, /--dockerfile \/nonexistent\/Dockerfile: cannot read it/);
  });
});

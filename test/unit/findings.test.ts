import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { AgentContext } from '../../shared/agent';
import { ConfigError } from '../../shared/config/errors';
import { attachFindings } from '../../shared/findings/board';
import type { FindingDraft } from '../../shared/findings/finding';
import { DeliveryQueue, PermanentDeliveryError } from '../../shared/findings/sinks/delivery-queue';
import { withoutPassword } from '../../shared/config/uri';
import { webhookSender } from '../../shared/findings/sinks/webhook';
import { FindingStore } from '../../shared/findings/store';
import { OpsServer } from '../../shared/ops/http-server';
import { silentLogger } from '../../shared/ops/logger';
import { eventually } from '../support/eventually';

const image = { kind: 'image' as const, id: 'sha256:1', name: 'shop/web:1', image: '' };
function draft(ruleId: string, subject: string, severity: FindingDraft['severity'] = 'medium'): FindingDraft {
  return {
    ruleId,
    severity,
    title: ruleId,
    message: `${ruleId} on ${subject}`,
    object: image,
    subject,
    evidence: {},
    remediation: 'fix it',
  };
}

describe('FindingStore', () => {
  it('opens new findings, keeps first-seen for those that persist and resolves the rest', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const store = new FindingStore(() => now);
    const events: string[] = [];
    store.listen({
      opened: (f) => events.push(`opened ${f.subject}`),
      resolved: (f) => events.push(`resolved ${f.subject}`),
    });

    store.report(image, [draft('r1', 'a'), draft('r1', 'b')]);
    now = new Date('2026-01-01T00:01:00Z');
    store.report(image, [draft('r1', 'b')]);
    assert.deepEqual(events, ['opened a', 'opened b', 'resolved a']);
    const [open] = store.list('open');
    assert.equal(open!.subject, 'b');
    assert.equal(open!.firstSeen, '2026-01-01T00:00:00.000Z');
    assert.equal(open!.lastSeen, '2026-01-01T00:01:00.000Z');
    assert.deepEqual(store.objectIds('image'), ['sha256:1']);

    store.forget(image);
    assert.deepEqual(events.slice(3), ['resolved b']);
    assert.deepEqual(store.list('open'), []);
    assert.deepEqual(
      store.list('resolved').map((f) => [f.subject, f.state]),
      [
        ['a', 'resolved'],
        ['b', 'resolved'],
      ],
    );
    assert.deepEqual(store.objectIds('image'), []);
  });
});

describe('DeliveryQueue', () => {
  const fast = { initialMs: 1, maxMs: 4, factor: 2 };

  it('delivers in order, retrying a failing sink until it accepts', async () => {
    const delivered: number[] = [];
    let failures = 3;
    const queue = new DeliveryQueue<number>(
      'test',
      async (n) => {
        if (failures-- > 0) throw new Error('sink down');
        delivered.push(n);
      },
      silentLogger,
      100,
      fast,
    );
    [1, 2, 3].forEach((n) => queue.push(n));
    await eventually(() => assert.deepEqual(delivered, [1, 2, 3]));
    assert.equal(queue.stats.failedAttempts, 3);
    assert.equal(queue.failing, undefined);
  });

  it('drops an item the sink refuses for good and goes on', async () => {
    const delivered: number[] = [];
    const queue = new DeliveryQueue<number>(
      'test',
      async (n) => {
        if (n === 2) throw new PermanentDeliveryError('400 bad request');
        delivered.push(n);
      },
      silentLogger,
      100,
      fast,
    );
    [1, 2, 3].forEach((n) => queue.push(n));
    await eventually(() => assert.deepEqual(delivered, [1, 3]));
    assert.equal(queue.stats.rejected, 1);
  });

  it('never drops the item being sent: a failed send is retried after an overflow', async () => {
    const delivered: string[] = [];
    let release: (ok: boolean) => void = () => undefined;
    let first = true;
    const queue = new DeliveryQueue<string>(
      'test',
      async (item) => {
        if (first) {
          first = false;
          if (!(await new Promise<boolean>((resolve) => (release = resolve)))) throw new Error('timed out');
        }
        delivered.push(item);
      },
      silentLogger,
      3,
      fast,
    );
    ['a', 'b', 'c'].forEach((item) => queue.push(item));
    queue.push('d'); // full while 'a' is in flight: 'b' goes
    release(false);
    await eventually(() => assert.deepEqual(delivered, ['a', 'c', 'd']));
    assert.equal(queue.stats.dropped, 1);
  });

  it('closes by the deadline even while a send hangs', async () => {
    const queue = new DeliveryQueue<number>('test', () => new Promise(() => undefined), silentLogger, 10, fast);
    queue.push(1);
    const began = Date.now();
    await queue.close(50);
    assert.ok(Date.now() - began < 1_000);
    assert.equal(queue.pending, 1);
  });

  it('drops the oldest items when the sink stays down and the queue is full', async () => {
    const queue = new DeliveryQueue<number>(
      'test',
      async () => {
        throw new Error('down');
      },
      silentLogger,
      3,
      fast,
    );
    [1, 2, 3, 4, 5].forEach((n) => queue.push(n));
    assert.equal(queue.stats.dropped, 2);
    assert.equal(queue.pending, 3);
    await queue.close(20);
    assert.equal(queue.pending, 3, 'unsent items are counted, not silently lost');
  });
});

describe('Redis stream sink', () => {
  it('keeps the password out of what it reports', () => {
    assert.equal(withoutPassword('redis://:s3cret@10.0.0.5:6379/2'), 'redis://:***@10.0.0.5:6379/2');
    assert.equal(withoutPassword('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
    assert.equal(withoutPassword('tcp://admin:s3cret@exa mple:2375'), 'tcp://admin:***@exa mple:2375', 'not a URL');
    assert.equal(
      withoutPassword('admin:s3cret@consul:8500'),
      'admin:***@consul:8500',
      'CONSUL_HTTP_ADDR without scheme',
    );
    assert.equal(withoutPassword('ssh://user@host'), 'ssh://user@host');
  });
});

describe('webhook sender', () => {
  it('posts the event as JSON with the bearer token; retries 5xx, gives up on 4xx', async () => {
    const statuses = [503, 400, 204];
    const received: Array<{ auth?: string; body: unknown }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(statuses.shift() ?? 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const send = webhookSender(url, 's3cret');
      const event = {
        event: 'opened' as const,
        agent: 'label-inspector',
        finding: { ...draft('r1', 'a'), firstSeen: 't', lastSeen: 't', state: 'open' as const },
      };
      await assert.rejects(send(event), (e: Error) => !(e instanceof PermanentDeliveryError) && /503/.test(e.message));
      await assert.rejects(send(event), (e: Error) => e instanceof PermanentDeliveryError && /400/.test(e.message));
      await send(event);
      assert.equal(received.length, 3);
      assert.equal(received[0]!.auth, 'Bearer s3cret');
      assert.deepEqual((received[2]!.body as { finding: { ruleId: string } }).finding.ruleId, 'r1');
    } finally {
      server.close();
    }
  });
});

describe('findings board', () => {
  it('refuses a webhook URL with credentials at load, naming the option and not the password', () => {
    for (const url of ['https://alice:Hunter2pw@127.0.0.1:1/hook', 'https://Hunter2pw@127.0.0.1:1/hook']) {
      const registry = new Registry();
      const context = { http: new OpsServer(registry, silentLogger), metrics: registry, logger: silentLogger };
      assert.throws(
        () =>
          attachFindings(context as unknown as AgentContext, 'security-watcher', new FindingStore(), {
            findingsWebhookUrl: url,
          }),
        (error: Error) =>
          error instanceof ConfigError &&
          /--findings-webhook-url .*--findings-webhook-token/.test(error.message) &&
          !error.message.includes('Hunter2pw'),
      );
    }
  });

  it("serves every agent's findings on /findings, with filters, and counts them in metrics", async () => {
    const registry = new Registry();
    const http = new OpsServer(registry, silentLogger);
    const context = { http, metrics: registry, logger: silentLogger } as unknown as AgentContext;
    const labels = new FindingStore();
    const security = new FindingStore();
    attachFindings(context, 'label-inspector', labels, {});
    attachFindings(context, 'security-watcher', security, {});
    labels.report(image, [draft('label-key-format', 'Bad', 'medium'), draft('label-unprefixed-key', 'env', 'info')]);
    security.report(image, [draft('cis-5.4', '', 'high')]);
    const { port } = await http.listen({ host: '127.0.0.1', port: 0 });
    try {
      const get = async (query: string) =>
        (await fetch(`http://127.0.0.1:${port}/findings${query}`)).json() as Promise<{
          findings: Array<{ agent: string; ruleId: string }>;
        }>;
      assert.equal((await get('')).findings.length, 3);
      assert.deepEqual((await get('?severity=medium')).findings.map((f) => f.ruleId).sort(), [
        'cis-5.4',
        'label-key-format',
      ]);
      assert.deepEqual(
        (await get('?agent=security-watcher')).findings.map((f) => f.agent),
        ['security-watcher'],
      );
      labels.forget(image);
      assert.equal((await get('?state=resolved')).findings.length, 2);
      assert.equal((await fetch(`http://127.0.0.1:${port}/findings?state=bogus`)).status, 400);
      const metrics = await registry.metrics();
      assert.match(metrics, /^quayside_findings_open\{agent="security-watcher",rule="cis-5\.4",severity="high"\} 1$/m);
      assert.doesNotMatch(metrics, /quayside_findings_open\{agent="label-inspector"/);
      assert.match(
        metrics,
        /^quayside_findings_events_total\{agent="label-inspector",rule="label-key-format",severity="medium",event="resolved"\} 1$/m,
      );
    } finally {
      await http.close();
    }
  });
});

/**
 * Where the findings of every agent in the process meet: one `GET /findings`, one set of
 * `quayside_findings_*` metrics, one connection per remote sink, whether one agent finds or
 * several (`quayside all`).
 */
import { Counter, Gauge } from 'prom-client';
import type { AgentContext } from '../agent';
import { ConfigError } from '../config/errors';
import { withoutPassword } from '../config/uri';
import { addToConsole } from '../ops/console/host-console';
import { sendJson } from '../ops/http-server';
import type { Logger } from '../ops/logger';
import { FindingsSection } from './console-section';
import { atLeast, SEVERITIES, type Finding, type Severity } from './finding';
import type { FindingsSinkSettings } from './options';
import { DeliveryQueue } from './sinks/delivery-queue';
import type { FindingEvent } from './sinks/finding-event';
import { redisStreamSink } from './sinks/redis-stream';
import { webhookSender } from './sinks/webhook';
import type { FindingStore } from './store';

const boards = new WeakMap<AgentContext['http'], FindingsBoard>();

/** The board of this process (created on first use), with the given agent's store on it. */
export function attachFindings(
  context: AgentContext,
  agent: string,
  store: FindingStore,
  settings: FindingsSinkSettings,
): FindingsBoard {
  let board = boards.get(context.http);
  if (!board) {
    board = new FindingsBoard(context, settings);
    boards.set(context.http, board);
  }
  board.add(agent, store);
  return board;
}

export class FindingsBoard {
  private readonly stores = new Map<string, FindingStore>();
  private readonly queues: Array<DeliveryQueue<FindingEvent>> = [];
  private readonly closers: Array<() => Promise<void>> = [];
  private readonly logger: Logger;
  private readonly changes: Counter<'agent' | 'rule' | 'severity' | 'event'>;

  constructor(context: AgentContext, settings: FindingsSinkSettings) {
    this.logger = context.logger.child({ component: 'findings' });
    this.changes = new Counter({
      name: 'quayside_findings_events_total',
      help: 'Findings opened and resolved, by agent, rule and severity.',
      labelNames: ['agent', 'rule', 'severity', 'event'],
      registers: [context.metrics],
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the gauge as `this`
    const board = this;
    new Gauge({
      name: 'quayside_findings_open',
      help: 'Open findings, by agent, rule and severity.',
      labelNames: ['agent', 'rule', 'severity'],
      registers: [context.metrics],
      collect() {
        this.reset();
        for (const [agent, store] of board.stores) {
          for (const f of store.list('open')) this.inc({ agent, rule: f.ruleId, severity: f.severity });
        }
      },
    });
    this.addRemoteSinks(context, settings);
    context.http.addRoute(
      '/findings',
      (request, response) => {
        const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
        try {
          sendJson(response, 200, this.select(query));
        } catch (error) {
          sendJson(response, 400, { error: (error as Error).message });
        }
      },
      { access: 'sensitive' },
    );
    addToConsole(context.http, new FindingsSection(this.stores));
  }

  add(agent: string, store: FindingStore): void {
    this.stores.set(agent, store);
    store.listen({
      opened: (finding) => this.publish('opened', agent, finding),
      resolved: (finding) => this.publish('resolved', agent, finding),
    });
  }

  /** Flushes the remote sinks within the deadline, then closes them. */
  async close(deadlineMs: number): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close(deadlineMs)));
    await Promise.all(this.closers.map((close) => close()));
  }

  private publish(event: FindingEvent['event'], agent: string, finding: Finding): void {
    this.changes.inc({ agent, rule: finding.ruleId, severity: finding.severity, event });
    const fields = {
      agent,
      rule: finding.ruleId,
      severity: finding.severity,
      object: finding.object.name || finding.object.id,
      kind: finding.object.kind,
      subject: finding.subject,
    };
    if (event === 'opened')
      this.logger[atLeast(finding.severity, 'medium') ? 'warn' : 'info'](`finding opened: ${finding.message}`, fields);
    else this.logger.info(`finding resolved: ${finding.title}`, fields);
    // Sinks get a snapshot: the store keeps updating its own object.
    const copy: Finding = structuredClone(finding);
    for (const queue of this.queues) queue.push({ event, agent, finding: copy });
  }

  /** GET /findings?state=open|resolved|all&severity=<at least>&agent=<name> */
  private select(query: URLSearchParams): { findings: Array<Finding & { agent: string }> } {
    const state = query.get('state') ?? 'open';
    if (state !== 'open' && state !== 'resolved' && state !== 'all')
      throw new Error(`state must be open, resolved or all, not '${state}'`);
    const severity = query.get('severity');
    if (severity !== null && !SEVERITIES.includes(severity as Severity))
      throw new Error(`severity must be one of ${SEVERITIES.join(', ')}`);
    const agentFilter = query.get('agent');
    const findings: Array<Finding & { agent: string }> = [];
    for (const [agent, store] of this.stores) {
      if (agentFilter && agent !== agentFilter) continue;
      for (const f of store.list(state)) {
        if (severity === null || atLeast(f.severity, severity as Severity)) findings.push({ agent, ...f });
      }
    }
    return { findings };
  }

  private addRemoteSinks(context: AgentContext, settings: FindingsSinkSettings): void {
    const add = (name: string, send: (event: FindingEvent) => Promise<void>): void => {
      const queue = new DeliveryQueue(name, send, this.logger);
      this.queues.push(queue);
      context.http.addReadinessCheck(`findings-${name}`, () =>
        queue.failing
          ? { ready: false, detail: `cannot deliver findings: ${queue.failing}` }
          : { ready: true, detail: `${queue.stats.sent} delivered` },
      );
      new Gauge({
        name: `quayside_findings_${name}_pending`,
        help: `Findings waiting to be delivered to the ${name} sink.`,
        registers: [context.metrics],
        collect() {
          this.set(queue.pending);
        },
      });
      new Gauge({
        name: `quayside_findings_${name}_dropped`,
        help: `Findings dropped because the ${name} sink stayed down while its queue was full.`,
        registers: [context.metrics],
        collect() {
          this.set(queue.stats.dropped);
        },
      });
    };
    if (settings.findingsRedisUrl) {
      assertUrl('--findings-redis-url (QUAYSIDE_FINDINGS_REDIS_URL)', settings.findingsRedisUrl, ['redis:', 'rediss:']);
      const redis = redisStreamSink(settings.findingsRedisUrl, settings.findingsRedisStream ?? 'quayside:findings');
      add('redis', (event) => redis.send(event));
      this.closers.push(() => redis.close());
    }
    if (settings.findingsWebhookUrl) {
      const option = '--findings-webhook-url (QUAYSIDE_FINDINGS_WEBHOOK_URL)';
      assertUrl(option, settings.findingsWebhookUrl, ['http:', 'https:']);
      // fetch() refuses such a URL, and its error quotes the URL, password included, in logs and /readyz.
      const { username, password } = new URL(settings.findingsWebhookUrl);
      if (username !== '' || password !== '')
        throw new ConfigError(`${option}: a URL with user:password@ cannot be sent; use --findings-webhook-token`);
      add('webhook', webhookSender(settings.findingsWebhookUrl, settings.findingsWebhookToken));
    }
  }
}

function assertUrl(option: string, value: string, schemes: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${option} is not a URL`);
  }
  if (!schemes.includes(url.protocol))
    throw new ConfigError(
      `${option} '${withoutPassword(value)}': expected ${schemes.map((s) => `${s}//`).join(' or ')}`,
    );
}

/**
 * The host console: one page at `/` showing what the agents of this process see and do. Each
 * agent adds its section (containers, services, routes, findings…); the page gets them over ONE
 * server-sent-events connection, with each section sent again only when it changed, at most once
 * a second, and nothing computed while no page is open.
 *
 * Routes: `/` and `/console/assets/*` are public (the shell holds no data); `/console/session`,
 * `/console/stream` and `/console/logs` are sensitive (token, session cookie or loopback).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventStream } from '../../docker/event-stream';
import { sendJson, type OpsServer } from '../http-server';
import { errorMessage, type Logger } from '../logger';
import { ConsoleAssets } from './assets';
import { EventsSection } from './events-section';
import { sendAsset, sendPage } from './page';
import type { ConsoleSection, LogTail } from './section';
import { sendEvent, startEventStream } from './sse';

/** Open pages at once; more are refused (503), so no number of tabs can load the agent. */
export const MAX_PAGES = 8;
const UPDATE_INTERVAL_MS = 1_000;
/** A page this far behind is disconnected (it reconnects and starts afresh). */
const SLOW_PAGE_BYTES = 16 << 20;
/** A comment now and then keeps idle proxies from closing the stream. */
const KEEPALIVE_MS = 15_000;

export interface HostConsoleOptions {
  http: OpsServer;
  events: EventStream;
  logger: Logger;
  /** The agents running in this process, for the page to say what it cannot show. */
  agents: readonly string[];
  assets?: ConsoleAssets;
}

const consoles = new WeakMap<OpsServer, HostConsole>();

/** The console on this HTTP server, if the runtime started one (not in unit tests of an agent). */
export function consoleOf(http: OpsServer): HostConsole | undefined {
  return consoles.get(http);
}

/** Adds the section to the console on this server; false when there is none (nothing to feed). */
export function addToConsole(http: OpsServer, section: ConsoleSection): boolean {
  const hostConsole = consoles.get(http);
  hostConsole?.addSection(section);
  return hostConsole !== undefined;
}

export class HostConsole {
  private readonly sections = new Map<string, ConsoleSection>();
  private readonly pages = new Set<ServerResponse>();
  /** The text last sent of each section: a section is sent again only when it differs. */
  private readonly sent = new Map<string, string>();
  private readonly assets: ConsoleAssets;
  private readonly logger: Logger;
  private readonly unsubscribe: () => void;
  private logTail: LogTail | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastWrite = 0;

  constructor(private readonly options: HostConsoleOptions) {
    this.assets = options.assets ?? new ConsoleAssets();
    this.logger = options.logger;
    const events = new EventsSection();
    this.unsubscribe = events.subscribe(options.events);
    this.addSection(events);
    const { http } = options;
    http.addRoute('/', (_request, response) => sendPage(response, this.assets), { access: 'public' });
    http.addRoute(
      '/console/assets',
      (request, response) =>
        sendAsset(
          response,
          this.assets,
          pathOf(request).slice('/console/assets/'.length),
          request.headers['if-none-match'],
        ),
      { access: 'public', prefix: true },
    );
    http.addRoute('/console/session', (request, response) => this.session(request, response), { access: 'sensitive' });
    http.addRoute('/console/stream', (request, response) => this.stream(request, response), { access: 'sensitive' });
    http.addRoute('/console/logs', (request, response) => this.logs(request, response), { access: 'sensitive' });
    consoles.set(http, this);
  }

  addSection(section: ConsoleSection): void {
    if (this.sections.has(section.name)) throw new Error(`console section ${section.name} is already taken`);
    this.sections.set(section.name, section);
  }

  setLogTail(tail: LogTail): void {
    this.logTail = tail;
  }

  /** Ends every page's stream (the HTTP server cannot close while they are open). */
  close(): void {
    this.unsubscribe();
    for (const page of [...this.pages]) page.end();
    this.pages.clear();
    this.stopTicker();
  }

  /** A client that showed the token gets the session cookie its browser sends from then on. */
  private session(request: IncomingMessage, response: ServerResponse): void {
    const cookie = this.options.http.access.sessionCookie(request);
    if (cookie) response.setHeader('Set-Cookie', cookie);
    response.setHeader('Cache-Control', 'no-store');
    sendJson(response, 200, {
      agents: this.options.agents,
      sections: [...this.sections.keys()],
      updateIntervalMs: UPDATE_INTERVAL_MS,
    });
  }

  private stream(request: IncomingMessage, response: ServerResponse): void {
    if (this.pages.size >= MAX_PAGES) {
      response.setHeader('Retry-After', '10');
      return sendJson(response, 503, { error: `${MAX_PAGES} console pages already open (the limit)` });
    }
    startEventStream(response);
    sendEvent(
      response,
      'hello',
      JSON.stringify({
        agents: this.options.agents,
        sections: [...this.sections.keys()],
        updateIntervalMs: UPDATE_INTERVAL_MS,
      }),
    );
    const first = this.pages.size === 0;
    for (const section of this.sections.values()) {
      const text = this.render(section);
      sendEvent(response, 'section', text);
      // The first page sets what the others have seen; a later one may get a section twice.
      if (first) this.sent.set(section.name, text);
    }
    this.pages.add(response);
    request.on('close', () => {
      this.pages.delete(response);
      if (this.pages.size === 0) this.stopTicker();
    });
    this.startTicker();
  }

  private logs(request: IncomingMessage, response: ServerResponse): void {
    if (!this.logTail)
      return sendJson(response, 404, { error: 'no live logs: the logrouter does not run in this process' });
    const id = new URL(request.url ?? '/', 'http://localhost').searchParams.get('id') ?? undefined;
    if (id !== undefined && !/^[0-9a-f]{12,64}$/.test(id))
      return sendJson(response, 400, {
        error: `id must be a container ID (12 to 64 hex digits), not '${id.slice(0, 80)}'`,
      });
    this.logTail(request, response, id);
  }

  private startTicker(): void {
    this.ticker ??= setInterval(() => this.update(), UPDATE_INTERVAL_MS);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.sent.clear();
  }

  /** Sends each section that changed since it was last sent to every open page. */
  private update(): void {
    for (const section of this.sections.values()) {
      const text = this.render(section);
      if (this.sent.get(section.name) === text) continue;
      this.sent.set(section.name, text);
      this.broadcast('section', text);
    }
    if (Date.now() - this.lastWrite > KEEPALIVE_MS) {
      for (const page of this.pages) page.write(': keep-alive\n\n');
      this.lastWrite = Date.now();
    }
  }

  private broadcast(event: string, text: string): void {
    this.lastWrite = Date.now();
    for (const page of [...this.pages]) {
      if (page.writableLength > SLOW_PAGE_BYTES) {
        this.logger.warn('a console page reads too slowly; disconnected', { behindBytes: page.writableLength });
        this.pages.delete(page);
        page.destroy();
        continue;
      }
      sendEvent(page, event, text);
    }
  }

  private render(section: ConsoleSection): string {
    try {
      return JSON.stringify({ name: section.name, data: section.snapshot() });
    } catch (error) {
      this.logger.debug('console section failed', { section: section.name, error: errorMessage(error) });
      return JSON.stringify({ name: section.name, error: errorMessage(error) });
    }
  }
}

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://localhost').pathname;
}

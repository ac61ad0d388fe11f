/**
 * The console's routes section (each route's rates, queue and last error) and its live tail,
 * which is a client of the same LiveLogs as GET /logs: one engine stream per container however
 * many pages and curl clients follow it, and the same client limit (--log-api-max-clients).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleSection, LogTail } from '../../shared/ops/console/section';
import { sendEvent, startEventStream } from '../../shared/ops/console/sse';
import { sendJson } from '../../shared/ops/http-server';
import type { LiveClient, LiveLogs } from './live-logs';
import type { RouteView } from './stats';

interface Previous {
  at: number;
  lines: number;
  bytes: number;
}

export class RoutesSection implements ConsoleSection {
  readonly name = 'routes';
  /** Counters at the previous snapshot, for the rates. */
  private readonly previous = new Map<string, Previous>();

  constructor(
    private readonly routes: () => RouteView[],
    private readonly now: () => number = Date.now,
  ) {}

  snapshot(): { routes: unknown[] } {
    const at = this.now();
    const views = this.routes();
    const seen = new Set<string>();
    const routes = views.map((view) => {
      seen.add(view.id);
      const before = this.previous.get(view.id);
      const seconds = before ? (at - before.at) / 1000 : 0;
      const rate = (now: number, then: number | undefined) =>
        before && seconds > 0 ? Math.max(0, (now - then!) / seconds) : 0;
      const linesPerSecond = rate(view.stats.linesOut, before?.lines);
      const bytesPerSecond = rate(view.stats.bytesOut, before?.bytes);
      this.previous.set(view.id, { at, lines: view.stats.linesOut, bytes: view.stats.bytesOut });
      return {
        id: view.id,
        connected: view.connected,
        linesPerSecond: Math.round(linesPerSecond * 10) / 10,
        bytesPerSecond: Math.round(bytesPerSecond),
        queueDepth: view.depth,
        linesOut: view.stats.linesOut,
        dropped: view.stats.dropped.queue_full + view.stats.dropped.rejected,
        retries: view.stats.retries,
        reconnects: view.reconnects,
        lastError: view.lastError ?? null,
      };
    });
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);
    return { routes };
  }
}

/** Live lines as server-sent events `line`: {id, name, source, time, text}. One container, or all. */
export function liveTail(live: LiveLogs): LogTail {
  return (request: IncomingMessage, response: ServerResponse, containerId: string | undefined) => {
    const client: LiveClient = {
      wants: (container) => containerId === undefined || container.id.startsWith(containerId),
      send(container, line) {
        const text = line.data.toString('utf8');
        sendEvent(
          response,
          'line',
          JSON.stringify({ id: container.id, name: container.name, source: line.source, time: line.ts, text }),
        );
      },
      backlog: () => response.writableLength,
      drop: () => response.destroy(),
    };
    if (!live.add(client)) {
      response.setHeader('Retry-After', '10');
      return sendJson(response, 503, {
        error: `${live.maxClients} live log clients already connected (the limit, --log-api-max-clients)`,
      });
    }
    startEventStream(response);
    request.on('close', () => live.remove(client));
  };
}

/** Server-sent events on a plain response: the headers, and one event written whole. */
import type { ServerResponse } from 'node:http';

export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    // Proxies (nginx) must not hold events back in a buffer.
    'X-Accel-Buffering': 'no',
  });
  response.flushHeaders();
}

/** One event; `data` is JSON, on one line (JSON.stringify escapes every newline inside strings). */
export function sendEvent(response: ServerResponse, event: string, data: string): void {
  response.write(`event: ${event}\ndata: ${data}\n\n`);
}

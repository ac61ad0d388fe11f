/** One GET /events request, through dockerode's modem so every DOCKER_HOST transport works. */
import type { IncomingMessage } from 'node:http';
import type Dockerode from 'dockerode';

export interface EventsRequest {
  /** `<sec>.<nsec>`; the engine replays buffered events from here (inclusive). */
  since?: string;
  /** Server-side filters, as `docker events --filter`. */
  filters?: Record<string, string[]>;
  signal: AbortSignal;
}

export function openEventsStream(docker: Dockerode, request: EventsRequest): Promise<IncomingMessage> {
  const options: Record<string, unknown> = {};
  if (request.since !== undefined) options.since = request.since;
  if (request.filters && Object.keys(request.filters).length > 0) options.filters = request.filters;
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/events?',
        method: 'GET',
        options,
        abortSignal: request.signal,
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      },
      (error: unknown, response: unknown) => (error ? reject(error) : resolve(response as IncomingMessage)),
    );
  });
}

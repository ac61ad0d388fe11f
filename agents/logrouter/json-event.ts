/** The logstash-style JSON document Redis, HTTP and stdout routes send for each message. */
import { hostname } from 'node:os';
import type { LogMessage } from './message';

const HOST = hostname();

export function jsonEvent(message: LogMessage): Record<string, unknown> {
  const c = message.container;
  const event: Record<string, unknown> = {
    ...message.fields,
    '@timestamp': message.ts,
    '@version': '1',
    message: typeof message.fields?.message === 'string' ? message.fields.message : message.data.toString('utf8'),
    stream: message.source,
    host: HOST,
    docker: { id: c.id, name: c.name, image: c.image, hostname: c.hostname, labels: c.labels },
  };
  if (message.part) event.part = message.part.index;
  if (message.part) event.partial = !message.part.last;
  return event;
}

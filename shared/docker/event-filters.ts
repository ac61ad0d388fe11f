/**
 * `docker events --filter` filters, in Docker's terms, for either engine.
 *
 * Docker applies them all. Podman 4.3 knows fewer keys and other event names: an unknown key
 * (network, scope, daemon…) makes it answer nothing at all, silently, and `event=die` or
 * `event=destroy` match nothing (it wants `died`, `remove`). So for Podman the event names are
 * translated, and what it cannot filter is filtered here, on the normalized events. `until` is
 * never sent: Podman ends the stream at once, missing live events.
 */
import type { DockerEvent } from './event';
import type { EngineKind } from './engine-kind';

export type EventFilters = Readonly<Record<string, readonly string[]>>;

export interface FilterPlan {
  /** Sent with GET /events. */
  server: Record<string, string[]>;
  /** Checked here on each normalized event (`matchesFilters`). */
  client: Record<string, string[]>;
}

/** Keys Podman 4.3 filters as Docker does (with the event names translated). */
const PODMAN_SERVER_KEYS = new Set(['container', 'event', 'image', 'label', 'type']);

/** Docker's event names that Podman calls otherwise (Podman's `remove` is both destroy and delete). */
const PODMAN_EVENT_NAMES: Readonly<Record<string, string>> = {
  die: 'died',
  destroy: 'remove',
  delete: 'remove',
  exec_start: 'exec',
  exec_die: 'exec_died',
};

/** Docker's event names with no Podman counterpart: filtered here, so they match nothing there. */
const DOCKER_ONLY_EVENTS = new Set(['exec_create', 'exec_detach']);

export function planFilters(filters: EventFilters | undefined, engine: EngineKind): FilterPlan {
  const plan: FilterPlan = { server: {}, client: {} };
  for (const [key, values] of Object.entries(filters ?? {})) {
    if (values.length === 0) continue;
    if (engine === 'docker') plan.server[key] = [...values];
    else if (!PODMAN_SERVER_KEYS.has(key) || (key === 'event' && values.some((v) => DOCKER_ONLY_EVENTS.has(v))))
      plan.client[key] = [...values];
    else if (key !== 'event') plan.server[key] = [...values];
    else {
      // Podman's `remove` is both destroy and delete: the normalized name is checked here too.
      plan.server.event = [...new Set(values.map((v) => PODMAN_EVENT_NAMES[v] ?? v))];
      plan.client.event = [...values];
    }
  }
  return plan;
}

/** Docker's semantics: values of one key are alternatives, keys must all match. */
export function matchesFilters(event: DockerEvent, filters: EventFilters): boolean {
  return Object.entries(filters).every(
    ([key, values]) => values.length === 0 || values.some((value) => matchesOne(event, key, value)),
  );
}

function matchesOne(event: DockerEvent, key: string, value: string): boolean {
  switch (key) {
    case 'event':
      return event.action === value;
    case 'type':
      return event.type === value;
    case 'scope':
      return event.scope === value;
    case 'label': {
      const equals = value.indexOf('=');
      return equals < 0
        ? value in event.attributes
        : event.attributes[value.slice(0, equals)] === value.slice(equals + 1);
    }
    case 'container':
      return (
        isObject(event, 'container', value) || (event.type !== 'container' && event.attributes.container === value)
      );
    case 'image':
      return isObject(event, 'image', value) || (event.type === 'container' && event.image === value);
    default:
      // network, volume, daemon, plugin, service, node, secret, config: events about that object.
      return isObject(event, key, value);
  }
}

function isObject(event: DockerEvent, type: string, value: string): boolean {
  return event.type === type && value !== '' && (event.id === value || event.name === value);
}

/**
 * Docker engine events, normalized.
 *
 * We key on `Type`/`Action`/`Actor.ID` (API >= 1.22) and never on the deprecated
 * `status`/`id`/`from`, except as a fallback for engines that predate them.
 * `timeNano` stays a decimal string: it exceeds Number.MAX_SAFE_INTEGER, and losing
 * nanoseconds would break exact resume with `since`.
 *
 * Podman's dialect becomes Docker's here (see `fromPodman`), so agents never special-case an engine.
 */
import type { EngineKind } from './engine-kind';

export interface DockerEvent {
  /** container, image, network, volume, daemon, plugin, service, node, secret, config */
  type: string;
  /** The action before any `:`, e.g. `exec_start` for `exec_start: sh -c date`. */
  action: string;
  /** What followed the `:` (the exec command, the health status), or ''. */
  detail: string;
  /** Actor.ID: container ID, image reference, network ID, volume name… */
  id: string;
  /** Actor.Attributes.name, or ''. */
  name: string;
  /** Actor.Attributes.image for containers, or ''. */
  image: string;
  attributes: Readonly<Record<string, string>>;
  scope: string;
  /** Nanoseconds since the epoch, exact, as decimal digits. */
  timeNano: string;
}

export class MalformedEventError extends Error {
  constructor(
    reason: string,
    readonly line: string,
  ) {
    super(`malformed Docker event (${reason}): ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`);
    this.name = 'MalformedEventError';
  }
}

interface RawEvent {
  Type?: unknown;
  Action?: unknown;
  Actor?: { ID?: unknown; Attributes?: unknown };
  status?: unknown;
  id?: unknown;
  from?: unknown;
  scope?: unknown;
  time?: unknown;
  /** Podman: the health status, outside the action. */
  HealthStatus?: unknown;
}

// Attribute values are always JSON strings, so the only bare digits after this key are the
// top-level timeNano. Reading it from the text keeps every nanosecond.
const TIME_NANO = /"timeNano"\s*:\s*(\d+)/;

/**
 * Parses one line of the `/events` stream of an engine of that kind. Throws MalformedEventError,
 * never anything else.
 */
export function parseEventLine(line: string, engine: EngineKind = 'docker'): DockerEvent {
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    throw new MalformedEventError('not JSON', line);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MalformedEventError('not an object', line);
  }
  const timeNano = TIME_NANO.exec(line)?.[1] ?? secondsToNano(raw.time);
  if (timeNano === undefined) throw new MalformedEventError('no time', line);
  const event = normalizeEvent(raw, timeNano, line);
  return engine === 'podman' ? fromPodman(event, raw) : event;
}

function normalizeEvent(raw: RawEvent, timeNano: string, line: string): DockerEvent {
  // Engines before API 1.22 sent only container events as {status, id, from}.
  const type = asString(raw.Type) || (raw.status !== undefined ? 'container' : '');
  const fullAction = asString(raw.Action) || asString(raw.status);
  const id = asString(raw.Actor?.ID) || asString(raw.id);
  if (!type || !fullAction) throw new MalformedEventError('no Type or Action', line);

  const attributes = stringRecord(raw.Actor?.Attributes);
  const colon = fullAction.indexOf(':');
  const action = colon < 0 ? fullAction : fullAction.slice(0, colon);
  const detail = colon < 0 ? '' : fullAction.slice(colon + 1).trim();
  return {
    type,
    action,
    detail,
    id,
    name: attributes.name ?? '',
    image: type === 'container' ? (attributes.image ?? asString(raw.from)) : '',
    attributes,
    scope: asString(raw.scope) || 'local',
    timeNano,
  };
}

/** Podman's actions that have another name in Docker's dialect, per event type. */
const PODMAN_ACTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // Podman 4.3 already renames `died` to `die` on this API; older and newer ones may not.
  container: { remove: 'destroy', died: 'die', exec: 'exec_start', exec_died: 'exec_die' },
  image: { remove: 'delete' },
};

/**
 * Podman's events in Docker's terms. What stays different: exec events carry neither the command
 * nor an execID (and there is no exec_create); health_status lags one check behind the container's
 * state; network events do not name the network (id and name are empty); `init`, `cleanup`, `sync`
 * and `attach` are Podman's own actions and keep their names.
 */
function fromPodman(event: DockerEvent, raw: RawEvent): DockerEvent {
  const action = PODMAN_ACTIONS[event.type]?.[event.action] ?? event.action;
  // Every Podman event carries these two, whatever it is about.
  const { containerExitCode: _exit, podId: _pod, ...attributes } = event.attributes;
  const out: DockerEvent = { ...event, action, attributes };
  if (action === 'health_status' && !out.detail) out.detail = asString(raw.HealthStatus);
  if (event.type === 'network') {
    // Docker: Actor.ID is the network and attributes.container the container. Podman: Actor.ID
    // is the container, its name in `name`, and the network is not said.
    const { name: _container, image: _image, ...rest } = attributes;
    return { ...out, id: '', name: '', attributes: { ...rest, container: event.id } };
  }
  // `pull` names its image only by reference, with an empty Actor.ID; Docker's ID is the reference.
  if (event.type === 'image' && !event.id) out.id = event.name;
  return out;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== 'object') return out;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

function secondsToNano(time: unknown): string | undefined {
  return typeof time === 'number' && Number.isInteger(time) && time >= 0 ? `${time}000000000` : undefined;
}

/**
 * The key whose events must be handled in order. Network and volume events that concern a
 * container (connect, disconnect, mount, unmount) are ordered with that container's events.
 * Image events name their image by reference (pull) or by ID (tag, delete), so one image's events
 * cannot be matched by key: all image events share one key (they are few).
 */
export function orderingKey(event: DockerEvent): string {
  if (event.type === 'image') return 'image';
  const container = event.attributes.container;
  if ((event.type === 'network' || event.type === 'volume') && container) return containerKey(container);
  return `${event.type}:${event.id}`;
}

/** The ordering key of one container's events, for `SyncSnapshot.followUp`. */
export function containerKey(containerId: string): string {
  return `container:${containerId}`;
}

/** True for the exec events that `docker exec` and health checks produce. */
export function isExecEvent(event: DockerEvent): boolean {
  return event.type === 'container' && event.action.startsWith('exec_');
}

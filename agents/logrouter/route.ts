/**
 * Routes as logspout spells them: `adapter[+transport]://host:port[/path]?filter.name=web-*&opt=v`,
 * and as its /routes API carries them (JSON with filter_* fields). A route parsed from a URI gets
 * an ID derived from the URI, so its checkpoints survive restarts.
 */
import { createHash } from 'node:crypto';
import type { LogSource } from './message';

export interface RouteFilters {
  /** Container ID prefix. */
  id?: string;
  /** Glob on the container name (`*`, `?`). */
  name?: string;
  /** Glob on the image name. */
  image?: string;
  sources?: LogSource[];
  /** Every `key:valueGlob` must match; a bare `key` means the label exists. */
  labels?: Array<{ key: string; value?: string }>;
  composeProject?: string;
  composeService?: string;
}

export interface RouteSpec {
  id: string;
  /** `syslog+tcp`, `redis`, `https`…, as written. */
  adapter: string;
  /** host:port, or '' for stdout. */
  address: string;
  /** The URL path (Redis key, HTTP path), '' when none. */
  path: string;
  filters: RouteFilters;
  /** Every query key that is not a filter, passed to the adapter. */
  options: Record<string, string>;
}

export class RouteError extends Error {
  /** What is wrong without the route's name (logspout's API answers `Bad route: <reason>`). */
  readonly reason: string;

  constructor(message: string, reason = message) {
    super(message);
    this.name = 'RouteError';
    this.reason = reason;
  }
}

/** Parses one route URI; throws RouteError naming what is wrong. */
export function parseRouteUri(uri: string): RouteSpec {
  const text = uri.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new RouteError(`route ${JSON.stringify(uri)}: expected adapter[+transport]://host:port`);
  let url: URL;
  const rest = text.slice(scheme.length + 3);
  // `stdout://` and `stdout://?filter.name=x` have no host.
  const hostless = rest === '' || rest.startsWith('?') || rest.startsWith('/');
  try {
    // Parse as http so that WHATWG URL treats host, port and path the usual way for any scheme.
    url = new URL(`http://${hostless ? `none.invalid${rest}` : rest}`);
  } catch {
    throw new RouteError(`route ${JSON.stringify(uri)}: not a valid URI`);
  }
  const filters: RouteFilters = {};
  const options: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('filter.')) applyFilter(filters, key, value, uri);
    else options[key] = value;
  }
  // `redis://:password@host:port/key`: the password in the user part, as Redis URLs write it.
  if (!hostless && url.password !== '' && options.password === undefined) options.password = decodeURIComponent(url.password);
  const port = url.port || /:(\d+)$/.exec(url.host)?.[1] || '';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const address = hostless || host === '' ? '' : port ? `${url.hostname}:${port}` : url.hostname;
  const spec: RouteSpec = {
    id: routeIdOf(text),
    adapter: scheme,
    address,
    path: decodeURIComponent(url.pathname === '/' ? '' : url.pathname),
    filters,
    options,
  };
  return spec;
}

export function routeIdOf(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 12);
}

function applyFilter(filters: RouteFilters, key: string, value: string, uri: string): void {
  switch (key) {
    case 'filter.id':
      filters.id = value;
      return;
    case 'filter.name':
      filters.name = value;
      return;
    case 'filter.image':
      filters.image = value;
      return;
    case 'filter.sources':
      filters.sources = parseSources(value, uri);
      return;
    case 'filter.labels':
      filters.labels = parseLabelFilters(value);
      return;
    case 'filter.compose_project':
      filters.composeProject = value;
      return;
    case 'filter.compose_service':
      filters.composeService = value;
      return;
    default:
      throw new RouteError(
        `route ${JSON.stringify(uri)}: unknown filter ${key} (known: filter.id, filter.name, filter.image, filter.sources, filter.labels, filter.compose_project, filter.compose_service)`,
      );
  }
}

export function parseSources(value: string | readonly string[], where: string): LogSource[] {
  const items = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (item !== 'stdout' && item !== 'stderr') throw new RouteError(`route ${JSON.stringify(where)}: filter.sources takes stdout and/or stderr, not ${JSON.stringify(item)}`);
  }
  return items as LogSource[];
}

export function parseLabelFilters(value: string | readonly string[]): Array<{ key: string; value?: string }> {
  const items = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter((s) => s !== '');
  return items.map((item) => {
    const colon = item.indexOf(':');
    return colon < 0 ? { key: item } : { key: item.slice(0, colon), value: item.slice(colon + 1) };
  });
}

/** Splits `ROUTE_URIS` / operands on commas, as logspout does (write `%2C` for a comma in a value). */
export function splitRouteUris(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The JSON of logspout's /routes API (plus our extra filters). */
export interface RouteJson {
  id?: string;
  adapter: string;
  address?: string;
  path?: string;
  filter_id?: string;
  filter_name?: string;
  filter_image?: string;
  filter_sources?: string[];
  filter_labels?: string[];
  filter_compose_project?: string;
  filter_compose_service?: string;
  options?: Record<string, string>;
}

export function routeToJson(spec: RouteSpec): RouteJson {
  const f = spec.filters;
  const json: RouteJson = { id: spec.id, adapter: spec.adapter, address: spec.address };
  if (spec.path) json.path = spec.path;
  if (f.id) json.filter_id = f.id;
  if (f.name) json.filter_name = f.name;
  if (f.image) json.filter_image = f.image;
  if (f.sources) json.filter_sources = f.sources;
  if (f.labels) json.filter_labels = f.labels.map((l) => (l.value === undefined ? l.key : `${l.key}:${l.value}`));
  if (f.composeProject) json.filter_compose_project = f.composeProject;
  if (f.composeService) json.filter_compose_service = f.composeService;
  json.options = { ...spec.options };
  return json;
}

const STRING_FIELDS = ['id', 'adapter', 'address', 'path', 'filter_id', 'filter_name', 'filter_image', 'filter_compose_project', 'filter_compose_service'] as const;

/** Reads a route from API/persisted JSON; throws RouteError naming the bad field. */
export function routeFromJson(value: unknown, newId: () => string): RouteSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RouteError('a route must be a JSON object');
  const json = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (json[field] !== undefined && typeof json[field] !== 'string') throw new RouteError(`route field ${field} must be a string`);
  }
  for (const field of ['filter_sources', 'filter_labels'] as const) {
    const list = json[field];
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))) throw new RouteError(`route field ${field} must be an array of strings`);
  }
  const options = json.options ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options) || Object.values(options).some((v) => typeof v !== 'string')) {
    throw new RouteError('route field options must be an object of strings');
  }
  if (typeof json.adapter !== 'string' || json.adapter === '') throw new RouteError('route field adapter is required (e.g. "syslog+tcp")');
  const id = (json.id as string | undefined) || newId();
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new RouteError(`route id ${JSON.stringify(id)}: use letters, digits, ".", "_" or "-" (at most 64)`);
  const filters: RouteFilters = {};
  if (json.filter_id) filters.id = json.filter_id as string;
  if (json.filter_name) filters.name = json.filter_name as string;
  if (json.filter_image) filters.image = json.filter_image as string;
  if (json.filter_sources) filters.sources = parseSources(json.filter_sources as string[], id);
  if (json.filter_labels) filters.labels = parseLabelFilters(json.filter_labels as string[]);
  if (json.filter_compose_project) filters.composeProject = json.filter_compose_project as string;
  if (json.filter_compose_service) filters.composeService = json.filter_compose_service as string;
  return {
    id,
    adapter: json.adapter.toLowerCase(),
    address: (json.address as string | undefined) ?? '',
    path: (json.path as string | undefined) ?? '',
    filters,
    options: { ...(options as Record<string, string>) },
  };
}

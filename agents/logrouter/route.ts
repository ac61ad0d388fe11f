/**
 * Routes as logspout spells them: `adapter[+transport]://host:port[/path]?filter.name=web-*&opt=v`,
 * and as its /routes API carries them (JSON with filter_* fields). A route parsed from a URI gets
 * an ID derived from the URI, so its checkpoints survive restarts.
 */
import { createHash } from 'node:crypto';
import { MASKED, splitAtPassword } from '../../shared/config/uri';
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

/**
 * Parses one route URI; throws RouteError naming what is wrong. With `env`, `$NAME` and `${NAME}`
 * are first replaced by environment values, as logspout does (os.ExpandEnv); the route's ID comes
 * from the URI as written, so it stays the same when a variable changes.
 */
export function parseRouteUri(uri: string, env?: NodeJS.ProcessEnv): RouteSpec {
  const written = uri.trim();
  const text = readableUserinfo(env ? expandEnv(written, env) : written);
  // Errors name the route without what may be secret: the password and the query (API keys).
  const shown = withoutSecrets(written);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new RouteError(`route ${JSON.stringify(shown)}: expected adapter[+transport]://host:port`);
  let url: URL;
  const rest = text.slice(scheme.length + 3);
  // `stdout://` and `stdout://?filter.name=x` have no host.
  const hostless = rest === '' || rest.startsWith('?') || rest.startsWith('/');
  try {
    // Parse as http so that WHATWG URL treats host, port and path the usual way for any scheme.
    url = new URL(`http://${hostless ? `none.invalid${rest}` : rest}`);
  } catch {
    throw new RouteError(`route ${JSON.stringify(shown)}: not a valid URI`);
  }
  const filters: RouteFilters = {};
  const options: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('filter.')) applyFilter(filters, key, value, shown);
    else options[key] = value;
  }
  // `redis://:password@host:port/key`, `https://user:password@host/path`: credentials in the user
  // part go to the options (shown masked), never into the address (shown in logs and /readyz).
  if (!hostless) takeCredentials(options, safeDecode(url.username), safeDecode(url.password));
  const port = url.port || /:(\d+)$/.exec(url.host)?.[1] || '';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const address = hostless || host === '' ? '' : port ? `${url.hostname}:${port}` : url.hostname;
  // logspout's multiline adapter wraps another (`multiline+syslog+tcp://`): here it is an option.
  const multiline = scheme.startsWith('multiline+');
  if (multiline) options.multiline ??= 'true';
  const spec: RouteSpec = {
    id: routeIdOf(written),
    adapter: multiline ? scheme.slice('multiline+'.length) : scheme,
    address,
    path: decodeURIComponent(url.pathname === '/' ? '' : url.pathname),
    filters,
    options,
  };
  return spec;
}

/**
 * The URI with its password percent-encoded, read where masking reads it: WHATWG URL would end the
 * userinfo at a `/`, `?` or `#` in the password (`redis://:pa/ss@host`) and take its head for the host.
 */
function readableUserinfo(uri: string): string {
  const { head, password, tail } = splitAtPassword(uri);
  return password === undefined ? uri : `${head}${encodeURIComponent(safeDecode(password))}${tail}`;
}

/** A route URI as errors show it: `scheme://user:***@host/***`, without the query or the path (a token). */
function withoutSecrets(uri: string): string {
  const { head, password, tail } = splitAtPassword(uri);
  const authorityEnd = tail.search(/[/?#]/);
  const authority = authorityEnd < 0 ? tail : tail.slice(0, authorityEnd);
  const path = authorityEnd < 0 ? '' : tail.slice(authorityEnd).replace(/[?#].*$/s, '');
  return `${head}${password === undefined ? '' : MASKED}${authority}${path.length > 1 ? `/${MASKED}` : path}`;
}

/** An HTTP route's path may be its credential: Loggly's `/inputs/<token>/`, Sumo Logic's `/receiver/v1/http/<code>`. */
function shownPath(spec: RouteSpec): string {
  return spec.path !== '' && /^https?$/.test(spec.adapter) ? `/${MASKED}` : spec.path;
}

/** `adapter://address/path (id)`: which route, without what may be secret (the query, an HTTP path). */
export function describeRoute(spec: RouteSpec): string {
  return `${spec.adapter}://${spec.address}${shownPath(spec)} (id ${spec.id})`;
}

/** `user` and `password` into the options unless given there already. */
function takeCredentials(options: Record<string, string>, user: string, password: string): void {
  if (user !== '' && options.username === undefined) options.username = user;
  if (password !== '' && options.password === undefined) options.password = password;
}

/** `user:password@host:port` (an address from /routes JSON): the credentials, and the address without them. */
function splitCredentials(address: string): { address: string; user: string; password: string } {
  const at = address.lastIndexOf('@');
  if (at < 0) return { address, user: '', password: '' };
  const userinfo = address.slice(0, at);
  const colon = userinfo.indexOf(':');
  return {
    address: address.slice(at + 1),
    user: safeDecode(colon < 0 ? userinfo : userinfo.slice(0, colon)),
    password: colon < 0 ? '' : safeDecode(userinfo.slice(colon + 1)),
  };
}

/** A URI component decoded, or as it is when it is not valid percent-encoding. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Option keys whose values are secrets: passwords, tokens and keys. `structured_data` often
 * carries a service's token (Loggly's `<token>@41058`). TLS file paths (`tls.key`) are not secrets.
 */
const SECRET_OPTION =
  /^(?!tls\.)[\w.-]*(?:pass(?:word)?|passwd|pwd|secret|token|api[-_]?key|auth\w*|credentials?|cookie|signature|session)[\w.-]*$|^structured_data$/i;

/** The only headers shown: services name their credential headers freely (`X-Honeycomb-Team`). */
const PLAIN_HEADERS = new Set(['content-type', 'content-encoding', 'user-agent', 'accept']);

export function isSecretOption(key: string): boolean {
  if (key.toLowerCase().startsWith('header.')) return !PLAIN_HEADERS.has(key.slice('header.'.length).toLowerCase());
  return SECRET_OPTION.test(key);
}

/**
 * `$NAME` and `${NAME}` replaced by their values. Unlike logspout, which puts an empty string in
 * place of an unset variable (and then retries a broken host forever), an unset one is an error
 * naming it. A `$` not followed by a name stays as it is.
 */
function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare)!;
      const value = env[name];
      if (value === undefined)
        throw new RouteError(`a route URI names the environment variable ${name}, which is not set`);
      return value;
    },
  );
}

/**
 * The ID of a route URI as written: a label in the public /metrics, so it is computed without the
 * password and secret option values, or anyone could test guesses of a weak password against it.
 * A URI without secrets keeps the ID it always had.
 */
function routeIdOf(written: string): string {
  return createHash('sha1').update(withoutSecretValues(written)).digest('hex').slice(0, 12);
}

/** `scheme://user:***@host/path?apikey=***&x=1`; `$NAME` references stay, they are not the secret. */
function withoutSecretValues(uri: string): string {
  const { head, password, tail } = splitAtPassword(uri);
  const shownPassword = password === undefined || ENV_REFERENCE.test(password) ? (password ?? '') : MASKED;
  const query = tail.indexOf('?');
  const base = `${head}${shownPassword}${query < 0 ? tail : tail.slice(0, query)}`;
  if (query < 0) return base;
  const params = tail
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const [key, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      return isSecretOption(safeDecode(key)) && !ENV_REFERENCE.test(value) ? `${key}=${MASKED}` : pair;
    });
  return `${base}?${params.join('&')}`;
}

const ENV_REFERENCE = /^\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$/;

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

function parseSources(value: string | readonly string[], where: string): LogSource[] {
  const items = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (item !== 'stdout' && item !== 'stderr')
      throw new RouteError(
        `route ${JSON.stringify(where)}: filter.sources takes stdout and/or stderr, not ${JSON.stringify(item)}`,
      );
  }
  return items as LogSource[];
}

function parseLabelFilters(value: string | readonly string[]): Array<{ key: string; value?: string }> {
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

/**
 * The route as logspout's JSON. Secret options and an HTTP path are masked unless `revealSecrets` (only for the
 * route's own 0600 file in the state folder).
 */
export function routeToJson(spec: RouteSpec, { revealSecrets = false } = {}): RouteJson {
  const f = spec.filters;
  const json: RouteJson = { id: spec.id, adapter: spec.adapter, address: spec.address };
  if (spec.path) json.path = revealSecrets ? spec.path : shownPath(spec);
  if (f.id) json.filter_id = f.id;
  if (f.name) json.filter_name = f.name;
  if (f.image) json.filter_image = f.image;
  if (f.sources) json.filter_sources = f.sources;
  if (f.labels) json.filter_labels = f.labels.map((l) => (l.value === undefined ? l.key : `${l.key}:${l.value}`));
  if (f.composeProject) json.filter_compose_project = f.composeProject;
  if (f.composeService) json.filter_compose_service = f.composeService;
  json.options = revealSecrets ? { ...spec.options } : maskOptions(spec.options);
  return json;
}

function maskOptions(options: Readonly<Record<string, string>>): Record<string, string> {
  const masked: Record<string, string> = {};
  for (const [key, value] of Object.entries(options))
    masked[key] = isSecretOption(key) && value !== '' ? MASKED : value;
  return masked;
}

const STRING_FIELDS = [
  'id',
  'adapter',
  'address',
  'path',
  'filter_id',
  'filter_name',
  'filter_image',
  'filter_compose_project',
  'filter_compose_service',
] as const;

/** Reads a route from API/persisted JSON; throws RouteError naming the bad field. */
export function routeFromJson(value: unknown, newId: () => string): RouteSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RouteError('a route must be a JSON object');
  const json = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (json[field] !== undefined && typeof json[field] !== 'string')
      throw new RouteError(`route field ${field} must be a string`);
  }
  for (const field of ['filter_sources', 'filter_labels'] as const) {
    const list = json[field];
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string')))
      throw new RouteError(`route field ${field} must be an array of strings`);
  }
  const options = json.options ?? {};
  if (
    typeof options !== 'object' ||
    options === null ||
    Array.isArray(options) ||
    Object.values(options).some((v) => typeof v !== 'string')
  ) {
    throw new RouteError('route field options must be an object of strings');
  }
  if (typeof json.adapter !== 'string' || json.adapter === '')
    throw new RouteError('route field adapter is required (e.g. "syslog+tcp")');
  const id = (json.id as string | undefined) || newId();
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
    throw new RouteError(`route id ${JSON.stringify(id)}: use letters, digits, ".", "_" or "-" (at most 64)`);
  const filters: RouteFilters = {};
  if (json.filter_id) filters.id = json.filter_id as string;
  if (json.filter_name) filters.name = json.filter_name as string;
  if (json.filter_image) filters.image = json.filter_image as string;
  if (json.filter_sources) filters.sources = parseSources(json.filter_sources as string[], id);
  if (json.filter_labels) filters.labels = parseLabelFilters(json.filter_labels as string[]);
  if (json.filter_compose_project) filters.composeProject = json.filter_compose_project as string;
  if (json.filter_compose_service) filters.composeService = json.filter_compose_service as string;
  const copied = { ...(options as Record<string, string>) };
  const { address, user, password } = splitCredentials((json.address as string | undefined) ?? '');
  takeCredentials(copied, user, password);
  return {
    id,
    adapter: json.adapter.toLowerCase(),
    address,
    path: (json.path as string | undefined) ?? '',
    filters,
    options: copied,
  };
}

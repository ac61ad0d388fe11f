/** The page's parts, one function each; semantic tables with captions, labelled controls, no mouse-only actions. */
import { html } from 'htm/preact';
import type { Actions } from './app';
import { bytes, duration, localTime, percent, perSecond, utcTime } from './format';
import type { ContainerRow, FindingRow, LogLineEvent, Sections } from './types';

export interface ViewState {
  connection: 'connecting' | 'live' | 'reconnecting' | 'offline' | 'needs-token' | 'signing-in';
  signInError?: string;
  agents: string[];
  sections: Sections;
  containerFilter: string;
  findingFilter: string;
  findingSeverity: string;
  tail: {
    containerId: string;
    lines: LogLineEvent[];
    filter: string;
    paused: boolean;
    held: LogLineEvent[];
    error: string;
  };
}

interface Props {
  state: ViewState;
  actions: Actions;
}

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

const CONNECTION_TEXT: Record<ViewState['connection'], string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  offline: 'offline',
  'needs-token': 'token needed',
  'signing-in': 'signing in…',
};

export function App({ state, actions }: Props) {
  const running = (agent: string) => state.agents.includes(agent);
  const s = state.sections;
  return html`
    <header>
      <h1>quayside <span class="muted">host console</span></h1>
      <p class="status" role="status" aria-live="polite">
        <span class=${`dot ${state.connection}`} aria-hidden="true"></span>${CONNECTION_TEXT[state.connection]}
        ${state.agents.length > 0 && html` · agents: ${state.agents.join(', ')}`}
      </p>
      ${
        state.connection === 'live' &&
        html`<nav aria-label="Sections">
          <a href="#containers">Containers</a><a href="#services">Services</a><a href="#routes">Log routes</a
          ><a href="#findings">Findings</a><a href="#events">Events</a>
        </nav>`
      }
    </header>
    <main>
      ${
        state.connection === 'needs-token' || state.connection === 'signing-in'
          ? html`<${SignIn} state=${state} actions=${actions} />`
          : html`
              <${Containers}
                data=${s.containers}
                filter=${state.containerFilter}
                actions=${actions}
                running=${running('stats-exporter')}
              />
              <${Services} data=${s.services} running=${running('registrator')} />
              <${Routes} data=${s.routes} running=${running('logrouter')} />
              ${running('logrouter') && html`<${Tail} state=${state} actions=${actions} />`}
              <${Findings}
                state=${state}
                actions=${actions}
                running=${running('label-inspector') || running('security-watcher')}
              />
              ${s.enforcement && html`<${Enforcement} data=${s.enforcement} />`}
              <${Events} data=${s.events} />
            `
      }
    </main>
  `;
}

function SignIn({ state, actions }: Props) {
  const submit = (event: Event) => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    void actions.signIn(input.value);
  };
  return html`<section aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in</h2>
    <p>
      This page shows container data to loopback clients and to holders of the API token (<code>--api-token</code>). The
      token is sent once; the browser then keeps a session cookie that only reads.
    </p>
    <form onSubmit=${submit}>
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required />
      <button type="submit" disabled=${state.connection === 'signing-in'}>Sign in</button>
    </form>
    ${state.signInError && html`<p class="error" role="alert">${state.signInError}</p>`}
  </section>`;
}

function NotRunning({ id, title, agent, why }: { id: string; title: string; agent: string; why?: string }) {
  return html`<section id=${id} aria-labelledby=${`${id}-title`}>
    <h2 id=${`${id}-title`}>${title}</h2>
    <p class="muted">${why ?? `The ${agent} does not run in this process, so there is nothing to show here.`}</p>
  </section>`;
}

function Time({ ms, short = false }: { ms: number; short?: boolean }) {
  return html`<time datetime=${new Date(ms).toISOString()} title=${utcTime(ms)}
    >${short ? new Date(ms).toLocaleTimeString() : localTime(ms)}</time
  >`;
}

function Sparkline({ values, label, format }: { values: number[]; label: string; format: (v: number) => string }) {
  if (values.length < 2) return html`<span class="muted">${values.length === 1 ? format(values[0]!) : '—'}</span>`;
  const max = Math.max(...values, 1e-9);
  const w = 120;
  const h = 24;
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
  const last = values[values.length - 1]!;
  return html`<span class="spark">
    <svg
      class="sparkline"
      viewBox=${`0 0 ${w} ${h}`}
      width=${w}
      height=${h}
      role="img"
      aria-label=${`${label}: ${format(last)} now, at most ${format(max)}`}
    >
      <polyline points=${points} fill="none" />
    </svg>
    <span class="value">${format(last)}</span>
  </span>`;
}

function Containers({
  data,
  filter,
  actions,
  running,
}: {
  data: Sections['containers'];
  filter: string;
  actions: Actions;
  running: boolean;
}) {
  if (!running)
    return html`<${NotRunning}
      id="containers"
      title="Containers"
      agent="stats-exporter"
      why="The stats-exporter does not run in this process: no container list or CPU and memory readings."
    />`;
  const rows = (data?.containers ?? []).filter(
    (c) => filter === '' || c.name.includes(filter) || c.image.includes(filter),
  );
  const minutes = data ? Math.round((data.sampleIntervalMs * 180) / 60_000) : 15;
  const now = Date.now() / 1000;
  return html`<section id="containers" aria-labelledby="containers-title">
    <h2 id="containers-title">Containers <span class="count">${data?.containers.length ?? 0}</span></h2>
    <div class="filter">
      <label for="containers-filter">Filter containers</label
      ><input
        id="containers-filter"
        type="search"
        placeholder="name or image"
        value=${filter}
        onInput=${(e: Event) => actions.filterContainers((e.target as HTMLInputElement).value)}
      />
    </div>
    <table>
      <caption class="sr-only">
        Containers with state, health, image, uptime, restarts, and CPU and memory over the last ${minutes} minutes
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">State</th>
          <th scope="col">Health</th>
          <th scope="col">Image</th>
          <th scope="col">Uptime</th>
          <th scope="col">Restarts</th>
          <th scope="col">CPU (${minutes} min)</th>
          <th scope="col">Memory (${minutes} min)</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (c: ContainerRow) =>
            html`<tr key=${c.id} data-container=${c.name}>
              <th scope="row" title=${c.id}>${c.name}</th>
              <td><span class=${`badge ${c.state}`}>${c.state}</span></td>
              <td>
                ${c.health ? html`<span class=${`badge ${c.health}`}>${c.health}</span>` : html`<span class="muted">none</span>`}
              </td>
              <td class="mono">${c.image}</td>
              <td>
                ${c.startedAt ? html`<span title=${`started ${utcTime(c.startedAt * 1000)}`}>${duration(now - c.startedAt)}</span>` : html`<span class="muted">not running</span>`}
              </td>
              <td class="num">${c.restarts}</td>
              <td><${Sparkline} values=${c.cpuPercent} label=${`CPU of ${c.name}`} format=${percent} /></td>
              <td><${Sparkline} values=${c.memoryBytes} label=${`Memory of ${c.name}`} format=${bytes} /></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Services({ data, running }: { data: Sections['services']; running: boolean }) {
  if (!running || !data)
    return html`<${NotRunning}
      id="services"
      title="Services"
      agent="registrator"
      why=${running ? 'Waiting for the registrator…' : 'The registrator does not run in this process (or has no registry URI).'}
    />`;
  const rows = data.containers.flatMap((c) => c.services.map((s) => ({ container: c.name, ...s })));
  return html`<section id="services" aria-labelledby="services-title">
    <h2 id="services-title">Services <span class="count">${rows.length}</span></h2>
    <p>
      ${data.registry}:
      ${data.reachable ? html`<span class="badge ok">reachable</span>` : html`<span class="badge bad">unreachable</span> ${data.lastError ?? ''}`}
      ${data.pendingRemoval.length > 0 && html` · ${data.pendingRemoval.length} to remove`}
    </p>
    <table>
      <caption class="sr-only">
        Services registered per container, and whether the registry matches
      </caption>
      <thead>
        <tr>
          <th scope="col">Container</th>
          <th scope="col">Service ID</th>
          <th scope="col">Name</th>
          <th scope="col">Address</th>
          <th scope="col">Registered</th>
          <th scope="col">In sync</th>
          <th scope="col">Why not</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr key=${r.id} data-service=${r.id}>
              <th scope="row">${r.container}</th>
              <td class="mono">${r.id}</td>
              <td>${r.name}</td>
              <td class="mono">${r.address}:${r.port}</td>
              <td>${r.registered ? 'yes' : 'no'}</td>
              <td><span class=${`badge ${r.inSync ? 'ok' : 'bad'}`}>${r.inSync ? 'in sync' : 'out of sync'}</span></td>
              <td>${r.error ?? (r.maintenance ? 'in maintenance' : '')}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Routes({ data, running }: { data: Sections['routes']; running: boolean }) {
  if (!running) return html`<${NotRunning} id="routes" title="Log routes" agent="logrouter" />`;
  const routes = data?.routes ?? [];
  return html`<section id="routes" aria-labelledby="routes-title">
    <h2 id="routes-title">Log routes <span class="count">${routes.length}</span></h2>
    ${
      routes.length === 0
        ? html`<p class="muted">
            No routes: give route URIs to the logrouter. The live tail below works without them.
          </p>`
        : html`<table>
            <caption class="sr-only">
              Log routes with their rates, queue and last error
            </caption>
            <thead>
              <tr>
                <th scope="col">Route</th>
                <th scope="col">State</th>
                <th scope="col">Lines</th>
                <th scope="col">Bytes</th>
                <th scope="col">Queue</th>
                <th scope="col">Dropped</th>
                <th scope="col">Retries</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              ${routes.map(
                (r) =>
                  html`<tr key=${r.id}>
                    <th scope="row" class="mono">${r.id}</th>
                    <td>
                      <span class=${`badge ${r.connected ? 'ok' : 'bad'}`}
                        >${r.connected ? 'delivering' : 'failing'}</span
                      >
                    </td>
                    <td class="num">${perSecond(r.linesPerSecond, 'lines')}</td>
                    <td class="num">${bytes(r.bytesPerSecond)}/s</td>
                    <td class="num">${r.queueDepth} lines</td>
                    <td class="num">${r.dropped} lines</td>
                    <td class="num">${r.retries}</td>
                    <td>${r.lastError ?? ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}

function Tail({ state, actions }: Props) {
  const t = state.tail;
  const containers = (state.sections.containers?.containers ?? []).filter((c) => c.state === 'running');
  const needle = t.filter.toLowerCase();
  const lines = needle === '' ? t.lines : t.lines.filter((l) => l.text.toLowerCase().includes(needle));
  return html`<section id="tail" aria-labelledby="tail-title">
    <h2 id="tail-title">Live logs</h2>
    <div class="controls">
      <label for="tail-container">Container</label
      ><select
        id="tail-container"
        value=${t.containerId}
        onChange=${(e: Event) => actions.followLogs((e.target as HTMLSelectElement).value)}
      >
        <option value="">— choose one —</option>
        ${containers.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
      </select>
      <label for="tail-filter">Filter lines</label
      ><input
        id="tail-filter"
        type="search"
        value=${t.filter}
        onInput=${(e: Event) => actions.filterTail((e.target as HTMLInputElement).value)}
      />
      <button type="button" aria-pressed=${t.paused} onClick=${actions.togglePause} disabled=${t.containerId === ''}>
        ${t.paused ? `Resume (${t.held.length} held)` : 'Pause'}
      </button>
    </div>
    ${t.error && html`<p class="error" role="alert">${t.error}</p>`}
    <ol class="tail mono" aria-live="off" aria-label="Log lines, oldest first">
      ${lines.map((l, i) => html`<li key=${i} class=${l.source}><${Time} ms=${Date.parse(l.time)} short=${true} /> ${l.text}</li>`)}
    </ol>
  </section>`;
}

function Findings({ state, actions, running }: Props & { running: boolean }) {
  if (!running)
    return html`<${NotRunning} id="findings" title="Findings" agent="label-inspector or security-watcher" />`;
  const data = state.sections.findings;
  const rank = SEVERITIES.indexOf(state.findingSeverity);
  const needle = state.findingFilter.toLowerCase();
  const rows = (data?.findings ?? []).filter(
    (f) =>
      SEVERITIES.indexOf(f.severity) >= rank &&
      (needle === '' || `${f.ruleId} ${f.title} ${f.object.name} ${f.message}`.toLowerCase().includes(needle)),
  );
  return html`<section id="findings" aria-labelledby="findings-title">
    <h2 id="findings-title">Findings <span class="count">${data?.total ?? 0} open</span></h2>
    <div class="controls">
      <label for="findings-severity">Severity at least</label
      ><select
        id="findings-severity"
        value=${state.findingSeverity}
        onChange=${(e: Event) => actions.severityAtLeast((e.target as HTMLSelectElement).value)}
      >
        ${SEVERITIES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
      <label for="findings-filter">Filter findings</label
      ><input
        id="findings-filter"
        type="search"
        placeholder="rule, object or text"
        value=${state.findingFilter}
        onInput=${(e: Event) => actions.filterFindings((e.target as HTMLInputElement).value)}
      />
    </div>
    <table>
      <caption class="sr-only">
        Open findings, newest first
      </caption>
      <thead>
        <tr>
          <th scope="col">Severity</th>
          <th scope="col">Rule</th>
          <th scope="col">Object</th>
          <th scope="col">Finding</th>
          <th scope="col">Evidence</th>
          <th scope="col">Since</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (f: FindingRow) =>
            html`<tr
              key=${`${f.ruleId}|${f.object.id}|${f.firstSeen}`}
              data-rule=${f.ruleId}
              data-object=${f.object.name}
            >
              <td><span class=${`badge sev-${f.severity}`}>${f.severity}</span></td>
              <th scope="row" class="mono" title=${f.title}>${f.ruleId}</th>
              <td>${f.object.kind} <span class="mono">${f.object.name || f.object.id.slice(0, 12)}</span></td>
              <td>${f.message}</td>
              <td class="mono evidence">${JSON.stringify(f.evidence)}</td>
              <td><${Time} ms=${Date.parse(f.firstSeen)} /></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Enforcement({ data }: { data: NonNullable<Sections['enforcement']> }) {
  return html`<section id="enforcement" aria-labelledby="enforcement-title">
    <h2 id="enforcement-title">Enforcement actions <span class="count">${data.actions.length}</span></h2>
    ${
      data.actions.length === 0
        ? html`<p class="muted">None taken.</p>`
        : html`<table>
            <caption class="sr-only">
              Enforcement actions, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Container</th>
                <th scope="col">Action</th>
                <th scope="col">Result</th>
                <th scope="col">Rules</th>
                <th scope="col">Latency</th>
              </tr>
            </thead>
            <tbody>
              ${data.actions.map(
                (a, i) =>
                  html`<tr key=${i}>
                    <td><${Time} ms=${a.time} /></td>
                    <th scope="row">${a.name}</th>
                    <td>${a.action}</td>
                    <td>${a.result}${a.error ? `: ${a.error}` : ''}</td>
                    <td class="mono">${a.rules.join(', ')}</td>
                    <td class="num">${a.latencyMs === undefined ? '' : `${a.latencyMs} ms`}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}

function Events({ data }: { data: Sections['events'] }) {
  const events = data?.events ?? [];
  return html`<section id="events" aria-labelledby="events-title">
    <h2 id="events-title">Events <span class="count">${events.length} newest</span></h2>
    <table>
      <caption class="sr-only">
        Docker events as the agents receive them, newest first
      </caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Type</th>
          <th scope="col">Action</th>
          <th scope="col">Name</th>
          <th scope="col">Image</th>
        </tr>
      </thead>
      <tbody>
        ${events.map(
          (e, i) =>
            html`<tr key=${`${e.time}-${i}`}>
              <td><${Time} ms=${e.time} /></td>
              <td>${e.type}</td>
              <td>${e.action}${e.detail ? `: ${e.detail}` : ''}</td>
              <th scope="row">${e.name || e.id.slice(0, 12)}</th>
              <td class="mono">${e.image}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

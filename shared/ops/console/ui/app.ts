/**
 * The host console page: state from /console/stream (one EventSource), rendered with preact + htm
 * synchronously on each change, so the time to apply an update is measurable (window.consoleTimings,
 * read by the end-to-end test). The live tail is a second EventSource, opened only once a container
 * is chosen.
 */
import { html, render } from 'htm/preact';
import type { LogLineEvent, Sections } from './types';
import { App, type ViewState } from './views';

/** Lines kept in the tail; older ones scroll away. */
const TAIL_LINES = 500;

export interface Timings {
  /** Milliseconds from navigation start to the stream's first event (the server's answer). */
  connected?: number;
  /** Milliseconds from navigation start to the first render with the containers. */
  firstRender?: number;
  /** Milliseconds each section update took to apply and render, in order. */
  updates: number[];
}

const timings: Timings = { updates: [] };
(window as unknown as { consoleTimings: Timings }).consoleTimings = timings;

const state: ViewState = {
  connection: 'connecting',
  agents: [],
  sections: {},
  containerFilter: '',
  findingFilter: '',
  findingSeverity: 'info',
  tail: { containerId: '', lines: [], filter: '', paused: false, held: [], error: '' },
};

const root = document.getElementById('app')!;
let stream: EventSource | undefined;
let tail: EventSource | undefined;

function draw(): void {
  render(html`<${App} state=${state} actions=${actions} />`, root);
}

function update(change: Partial<ViewState>): void {
  Object.assign(state, change);
  draw();
}

const actions = {
  signIn: async (token: string) => {
    update({ connection: 'signing-in' });
    const response = await fetch('/console/session', {
      headers: { Authorization: `Bearer ${token}` },
      credentials: 'same-origin',
    });
    if (response.ok) connect();
    else
      update({
        connection: 'needs-token',
        signInError:
          response.status === 401 ? 'That token was not accepted.' : `The server answered ${response.status}.`,
      });
  },
  filterContainers: (text: string) => update({ containerFilter: text }),
  filterFindings: (text: string) => update({ findingFilter: text }),
  severityAtLeast: (severity: string) => update({ findingSeverity: severity }),
  followLogs: (containerId: string) => {
    tail?.close();
    tail = undefined;
    state.tail = { ...state.tail, containerId, lines: [], held: [], error: '' };
    if (containerId) openTail(containerId);
    draw();
  },
  filterTail: (text: string) => update({ tail: { ...state.tail, filter: text } }),
  togglePause: () => {
    const paused = !state.tail.paused;
    // Lines that came while paused are shown on resume (up to the same limit).
    const lines = paused ? state.tail.lines : keepLast([...state.tail.lines, ...state.tail.held]);
    update({ tail: { ...state.tail, paused, lines, held: [] } });
  },
};

export type Actions = typeof actions;

function keepLast(lines: LogLineEvent[]): LogLineEvent[] {
  return lines.length > TAIL_LINES ? lines.slice(-TAIL_LINES) : lines;
}

/** Asks whether this browser is admitted (loopback, or a session cookie) before opening the stream. */
async function start(): Promise<void> {
  const response = await fetch('/console/session', { credentials: 'same-origin' }).catch(() => undefined);
  if (response?.ok) connect();
  else
    update({
      connection: response && (response.status === 401 || response.status === 403) ? 'needs-token' : 'offline',
    });
}

function connect(): void {
  stream?.close();
  stream = new EventSource('/console/stream');
  update({ connection: 'connecting', signInError: undefined });
  stream.addEventListener('hello', (event) => {
    timings.connected ??= performance.now();
    const hello = JSON.parse((event as MessageEvent<string>).data) as { agents: string[] };
    update({ connection: 'live', agents: hello.agents, sections: {} });
  });
  stream.addEventListener('section', (event) => {
    const started = performance.now();
    const { name, data } = JSON.parse((event as MessageEvent<string>).data) as { name: keyof Sections; data: never };
    state.sections = { ...state.sections, [name]: data };
    draw();
    const finished = performance.now();
    if (timings.firstRender === undefined && name === 'containers') timings.firstRender = finished;
    else timings.updates.push(finished - started);
  });
  // EventSource reconnects by itself; say so meanwhile. It gives up on a refusal (an expired session
  // among them): ask again whether this browser is admitted, which shows the sign-in form if not.
  stream.onerror = () => {
    if (stream?.readyState === EventSource.CLOSED) void start();
    else update({ connection: 'reconnecting' });
  };
}

function openTail(containerId: string): void {
  tail = new EventSource(`/console/logs?id=${encodeURIComponent(containerId)}`);
  tail.addEventListener('line', (event) => {
    const line = JSON.parse((event as MessageEvent<string>).data) as LogLineEvent;
    const t = state.tail;
    if (t.paused) state.tail = { ...t, held: keepLast([...t.held, line]) };
    else state.tail = { ...t, lines: keepLast([...t.lines, line]) };
    draw();
  });
  tail.onerror = () =>
    update({
      tail: {
        ...state.tail,
        error:
          tail?.readyState === EventSource.CLOSED ? 'The live tail was refused (too many clients?).' : 'Reconnecting…',
      },
    });
  tail.onopen = () => update({ tail: { ...state.tail, error: '' } });
}

draw();
void start();

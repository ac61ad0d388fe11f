/**
 * Syslog messages: RFC 5424 (default) and RFC 3164, with RFC 6587 framing on streams.
 *
 * RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`. TIMESTAMP is Docker's own
 * (microseconds, the RFC's limit of 6 fraction digits), never the time we read the line.
 * HOSTNAME ≤ 255, APP-NAME ≤ 48, PROCID ≤ 128, MSGID ≤ 32 printable US-ASCII characters.
 * RFC 3164: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG` in UTC, TAG ≤ 32 characters.
 */
import { readFileSync } from 'node:fs';
import type { LogMessage } from '../message';
import { choiceOption, stringOption } from '../../../shared/config/options';
import { onTransports, optional, routeOptionValues } from '../route-options';
import { compileByteTemplate, compileTemplate, TemplateError, type Template } from '../template';

type SyslogFormat = 'rfc5424' | 'rfc3164';
type Framing = 'lf' | 'octet-counted';

export interface SyslogSettings {
  format: SyslogFormat;
  framing: Framing;
  facility: number;
  severity: { stdout: number; stderr: number };
  hostname: Template;
  tag: Template;
  procid: Template;
  msgid: string;
  /** SD written as is inside `[...]` (SYSLOG_STRUCTURED_DATA, a template as in logspout). */
  structuredData: Template | undefined;
  /** SYSLOG_PRIORITY: the PRI from a template (`.Priority` is the facility and severity's). */
  priority: Template | undefined;
  /** SYSLOG_TIMESTAMP: the TIMESTAMP from a template instead of Docker's time. */
  timestamp: Template | undefined;
  /** SYSLOG_DATA: the MSG from a template; `{{.Data}}` keeps the container's bytes. */
  data: ((message: LogMessage, extras?: { Priority: number }) => Buffer) | undefined;
  /** Label keys sent as an SD element `labels@32473`. */
  labels: string[];
}

const FACILITIES: readonly string[] = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];
const SEVERITIES: readonly string[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
/** The example enterprise number (RFC 5612) for our own SD-IDs. */
const PEN = '32473';

/**
 * logspout's Swarm trick: a non-empty `/etc/host_hostname` (the host's /etc/hostname mounted
 * there) is the HOSTNAME of every message, before SYSLOG_HOSTNAME; a route's `hostname=` still wins.
 */
const HOST_HOSTNAME_FILE = '/etc/host_hostname';

function hostHostname(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : text.replace(/[{}]/g, '');
  } catch {
    return undefined;
  }
}

/** A template option of a syslog field; `env` gives its default as in logspout. */
function templateOption(help: string, env?: string) {
  return optional(stringOption({ help, env, placeholder: '<template>' }));
}

/** What syslog and RELP routes read to build a message. */
export const syslogMessageOptions = {
  format: choiceOption({
    help: 'The syslog message format',
    env: 'SYSLOG_FORMAT',
    default: 'rfc5424',
    choices: ['rfc5424', 'rfc3164'] as const,
  }),
  facility: choiceOption({
    help: `The facility: ${FACILITIES.join(', ')}`,
    env: 'SYSLOG_FACILITY',
    default: 'user',
    choices: FACILITIES,
    placeholder: '<facility>',
  }),
  'severity.stdout': choiceOption({
    help: `Severity of stdout lines: ${SEVERITIES.join(', ')}`,
    default: 'info',
    choices: SEVERITIES,
    placeholder: '<severity>',
  }),
  'severity.stderr': choiceOption({
    help: 'Severity of stderr lines',
    default: 'err',
    choices: SEVERITIES,
    placeholder: '<severity>',
  }),
  hostname: templateOption(
    'HOSTNAME; default a non-empty /etc/host_hostname, else SYSLOG_HOSTNAME, else {{.Container.Config.Hostname}}',
  ),
  tag: templateOption('APP-NAME (RFC 3164: TAG); default {{.ContainerName}}', 'SYSLOG_TAG'),
  append_tag: templateOption('Appended to the tag (logspout)'),
  procid: templateOption('PROCID; default {{.Container.State.Pid}}', 'SYSLOG_PID'),
  msgid: optional(stringOption({ help: 'MSGID (RFC 5424); default -' })),
  priority: templateOption(
    'The PRI, from 0 to 191 (checked at start); default {{.Priority}}: facility × 8 + severity',
    'SYSLOG_PRIORITY',
  ),
  timestamp: templateOption("TIMESTAMP; default Docker's time of the line", 'SYSLOG_TIMESTAMP'),
  data: templateOption("MSG; default {{.Data}}: the line's bytes as written", 'SYSLOG_DATA'),
  structured_data: templateOption(
    'SD, wrapped in [...] (Loggly: <token>@41058); default none',
    'SYSLOG_STRUCTURED_DATA',
  ),
  labels: optional(
    stringOption({
      help: 'Label keys (comma-separated) sent as an SD element [labels@32473 key="value"] (RFC 5424)',
      placeholder: '<keys>',
    }),
  ),
};

/** How messages are delimited on a stream (TCP, TLS). */
const framing = choiceOption({
  help: 'lf (traditional) or octet-counted, RFC 6587: LEN SP MSG',
  env: 'SYSLOG_TCP_FRAMING',
  default: 'lf',
  choices: ['lf', 'traditional', 'octet-counted'] as const,
});
export const syslogFramingOption = onTransports(['tcp', 'tls'], { framing });

export function syslogSettings(
  options: Record<string, string>,
  env: NodeJS.ProcessEnv,
  hostHostnameFile = HOST_HOSTNAME_FILE,
): SyslogSettings {
  const values = routeOptionValues({ ...syslogMessageOptions, ...syslogFramingOption }, options, env);
  const sd = (values.structured_data ?? '').replace(/^\[|\]$/g, '');
  const priorityText = values.priority;
  const dataText = values.data;
  return {
    format: values.format,
    framing: values.framing === 'traditional' ? 'lf' : values.framing,
    facility: FACILITIES.indexOf(values.facility),
    severity: {
      stdout: SEVERITIES.indexOf(values['severity.stdout']),
      stderr: SEVERITIES.indexOf(values['severity.stderr']),
    },
    hostname: compileTemplate(
      options.hostname ?? hostHostname(hostHostnameFile) ?? env.SYSLOG_HOSTNAME ?? '{{.Container.Config.Hostname}}',
      'syslog hostname (SYSLOG_HOSTNAME)',
      ['Priority'],
    ),
    tag: compileTemplate((values.tag ?? '{{.ContainerName}}') + (values.append_tag ?? ''), 'syslog tag (SYSLOG_TAG)', [
      'Priority',
    ]),
    procid: compileTemplate(values.procid ?? '{{.Container.State.Pid}}', 'syslog procid (SYSLOG_PID)', ['Priority']),
    msgid: header(values.msgid ?? '-', 32),
    structuredData:
      sd === '' ? undefined : compileTemplate(sd, 'syslog structured data (SYSLOG_STRUCTURED_DATA)', ['Priority']),
    priority:
      priorityText === undefined || priorityText === '{{.Priority}}'
        ? undefined
        : checkedPriority(compileTemplate(priorityText, 'syslog priority (SYSLOG_PRIORITY)', ['Priority'])),
    timestamp:
      values.timestamp === undefined
        ? undefined
        : compileTemplate(values.timestamp, 'syslog timestamp (SYSLOG_TIMESTAMP)', ['Priority']),
    data:
      dataText === undefined || dataText === '{{.Data}}'
        ? undefined
        : compileByteTemplate(dataText, 'syslog data (SYSLOG_DATA)', ['Priority']),
    labels: (values.labels ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  };
}

const SAMPLE: LogMessage = {
  container: {
    id: '0'.repeat(64),
    name: 'sample',
    image: 'sample',
    hostname: 'sample',
    pid: 1,
    labels: {},
    tty: false,
  },
  source: 'stdout',
  ts: '2006-01-02T15:04:05.000000000Z',
  data: Buffer.from('sample'),
  done: () => undefined,
};

/**
 * SYSLOG_PRIORITY must give a PRI (0 to 191). One that depends only on the message's source and
 * `.Priority` is checked at start, so a typo is a configuration error rather than bad lines.
 */
function checkedPriority(template: Template): Template {
  for (const source of ['stdout', 'stderr'] as const) {
    const value = template({ ...SAMPLE, source }, { Priority: 14 });
    if (!/^\d{1,3}$/.test(value) || Number(value) > 191)
      throw new TemplateError(
        `syslog priority (SYSLOG_PRIORITY) must give a number from 0 to 191, not ${JSON.stringify(value)}`,
      );
  }
  return template;
}

/** Printable US-ASCII only, cut to `max`; `-` (the NILVALUE) when nothing is left. */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

function sdName(value: string): string {
  return value.replace(/[^\x21-\x7e]|[= \]"]/g, '_').slice(0, 32);
}

function sdValue(value: string): string {
  return value.replace(/[\\"\]]/g, '\\$&');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Builds the syslog message (without framing) of one log message: a header string and the bytes. */
export function syslogMessage(settings: SyslogSettings, message: LogMessage): { head: string; body: Buffer } {
  const computed = settings.facility * 8 + settings.severity[message.source];
  const extras = { Priority: computed };
  const pri = settings.priority ? priorityOf(settings.priority(message, extras), computed) : computed;
  const host = header(settings.hostname(message, extras), 255);
  const body = settings.data ? settings.data(message, extras) : message.data;
  // Printable only, spaces kept: an RFC 3164 layout (`Jan _2 15:04:05`) has them.
  const custom = settings.timestamp
    ? settings
        .timestamp(message, extras)
        .replace(/[^\x20-\x7e]/g, '')
        .slice(0, 64)
    : undefined;
  if (settings.format === 'rfc3164') {
    const ts = message.ts;
    const month = MONTHS[Number(ts.slice(5, 7)) - 1];
    const day = ts.slice(8, 10).replace(/^0/, ' ');
    const tag = header(settings.tag(message, extras), 32);
    const pid = settings.procid(message, extras);
    const pidPart = pid && pid !== '0' ? `[${header(pid, 128)}]` : '';
    return { head: `<${pri}>${custom ?? `${month} ${day} ${ts.slice(11, 19)}`} ${host} ${tag}${pidPart}: `, body };
  }
  const time = custom ?? `${message.ts.slice(0, 26)}Z`;
  const app = header(settings.tag(message, extras), 48);
  const pid = settings.procid(message, extras);
  const procid = pid === '0' ? '-' : header(pid, 128);
  const fixedSd = settings.structuredData?.(message, extras);
  let sd = fixedSd ? `[${fixedSd}]` : '';
  if (settings.labels.length > 0) {
    const params = settings.labels
      .filter((key) => message.container.labels[key] !== undefined)
      .map((key) => ` ${sdName(key)}="${sdValue(message.container.labels[key]!)}"`)
      .join('');
    if (params) sd += `[labels@${PEN}${params}]`;
  }
  if (message.part) sd += `[part@${PEN} index="${message.part.index}" last="${message.part.last}"]`;
  return { head: `<${pri}>1 ${time} ${host} ${app} ${procid} ${settings.msgid} ${sd || '-'} `, body };
}

/** A PRI from SYSLOG_PRIORITY, or the computed one when the template gave something else. */
function priorityOf(text: string, fallback: number): number {
  const value = Number(text);
  return /^\d{1,3}$/.test(text) && value <= 191 ? value : fallback;
}

/** Frames messages for a stream: LF-terminated, or `LEN SP MSG` (RFC 6587 octet counting). */
export function frameForStream(settings: SyslogSettings, messages: readonly LogMessage[]): Buffer {
  const parts: Buffer[] = [];
  for (const message of messages) {
    const { head, body } = syslogMessage(settings, message);
    const headBytes = Buffer.from(head, 'utf8');
    if (settings.framing === 'octet-counted') {
      parts.push(Buffer.from(`${headBytes.length + body.length} `, 'latin1'), headBytes, body);
    } else {
      parts.push(headBytes, body, NEWLINE);
    }
  }
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

/** One datagram per message, cut to `max` bytes (or undefined to drop it when `truncate` is off). */
export function datagram(
  settings: SyslogSettings,
  message: LogMessage,
  max: number,
  truncate: boolean,
): Buffer | undefined {
  const { head, body } = syslogMessage(settings, message);
  const bytes = Buffer.concat([Buffer.from(head, 'utf8'), body]);
  if (bytes.length <= max) return bytes;
  return truncate ? bytes.subarray(0, max) : undefined;
}

/**
 * The few Go-template fields logspout users put in SYSLOG_HOSTNAME, SYSLOG_TAG, RAW_FORMAT…,
 * compiled once into a function. Anything else in `{{ }}` is a configuration error naming it.
 */
import { hostname } from 'node:os';
import type { LogMessage } from './message';

type Field = (message: LogMessage) => string;

const FIELDS: Record<string, Field> = {
  '.Data': (m) => m.data.toString('utf8'),
  '.Source': (m) => m.source,
  '.Time': (m) => m.ts,
  '.Timestamp': (m) => m.ts,
  '.ContainerName': (m) => m.container.name,
  '.Container.Name': (m) => m.container.name,
  '.Container.ID': (m) => m.container.id,
  '.Container.Config.Hostname': (m) => m.container.hostname,
  '.Container.Config.Image': (m) => m.container.image,
  '.Container.State.Pid': (m) => String(m.container.pid),
  '.Hostname': () => hostname(),
  'toJSON .Data': (m) => JSON.stringify(m.data.toString('utf8')),
};

export class TemplateError extends Error {}

export type Template = (message: LogMessage) => string;

export function compileTemplate(text: string, where: string): Template {
  const parts: Array<string | Field> = [];
  const pattern = /\{\{\s*(.*?)\s*\}\}/g;
  let last = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    parts.push(text.slice(last, match.index));
    parts.push(fieldOf(match[1]!, where));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  const compact = parts.filter((p) => p !== '');
  if (compact.every((p) => typeof p === 'string')) {
    const constant = compact.join('');
    return () => constant;
  }
  return (message) => {
    let out = '';
    for (const part of compact) out += typeof part === 'string' ? part : part(message);
    return out;
  };
}

function fieldOf(expression: string, where: string): Field {
  const field = FIELDS[expression];
  if (field) return field;
  const label = /^index \.Container\.Config\.Labels "([^"]+)"$/.exec(expression);
  if (label) return (m) => m.container.labels[label[1]!] ?? '';
  throw new TemplateError(`${where}: unknown template field {{${expression}}} (known: ${Object.keys(FIELDS).join(', ')}, index .Container.Config.Labels "key")`);
}

/** Like compileTemplate, but `{{.Data}}` stays the container's bytes (invalid UTF-8 included). */
export function compileByteTemplate(text: string, where: string): (message: LogMessage) => Buffer {
  const pieces = text.split(/\{\{\s*\.Data\s*\}\}/).map((piece) => compileTemplate(piece, where));
  return (message) => {
    const parts: Buffer[] = [];
    pieces.forEach((piece, i) => {
      if (i > 0) parts.push(message.data);
      const rendered = piece(message);
      if (rendered !== '') parts.push(Buffer.from(rendered, 'utf8'));
    });
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };
}

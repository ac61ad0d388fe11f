/**
 * Merges continuation lines (stack traces) into one message, per container and stream.
 * A line continues the open message when it matches `continue` (default: starts with white space),
 * or, with a `start` pattern, when it does not match `start`. A message closes at the next start,
 * at `maxLines`, after `timeoutMs` without a line, or at the end of the stream.
 */
import type { LogMessage, LogSource } from './message';
import { RouteError } from './route';

export interface MultilineSettings {
  start?: RegExp;
  continue?: RegExp;
  maxLines: number;
  timeoutMs: number;
  separator: Buffer;
}

export function multilineSettings(options: Record<string, string>): MultilineSettings | undefined {
  if (options.multiline !== 'true' && options['multiline.start'] === undefined && options['multiline.continue'] === undefined) return undefined;
  const regex = (key: string): RegExp | undefined => {
    const source = options[key];
    if (source === undefined) return undefined;
    try {
      return new RegExp(source);
    } catch (error) {
      throw new RouteError(`${key}: ${(error as Error).message}`);
    }
  };
  const start = regex('multiline.start');
  const maxLines = Number(options['multiline.max_lines'] ?? 200);
  const timeoutMs = Number(options['multiline.timeout'] ?? 500);
  if (!Number.isInteger(maxLines) || maxLines < 1) throw new RouteError('multiline.max_lines must be a positive integer');
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) throw new RouteError('multiline.timeout must be a positive number of milliseconds');
  return { start, continue: regex('multiline.continue') ?? (start ? undefined : /^\s/), maxLines, timeoutMs, separator: Buffer.from(options['multiline.separator'] ?? '\n') };
}

interface Group {
  messages: LogMessage[];
  timer: NodeJS.Timeout;
}

export class MultilineMerger {
  private readonly groups: Partial<Record<LogSource, Group>> = {};

  constructor(private readonly settings: MultilineSettings, private readonly emit: (message: LogMessage) => void) {}

  push(message: LogMessage): void {
    const group = this.groups[message.source];
    if (group && group.messages.length < this.settings.maxLines && this.continues(message)) {
      group.messages.push(message);
      group.timer.refresh();
      return;
    }
    if (group) this.flush(message.source);
    this.groups[message.source] = { messages: [message], timer: setTimeout(() => this.flush(message.source), this.settings.timeoutMs) };
  }

  /** Emits the open message of one stream (a line that cannot be merged comes next). */
  flushSource(source: LogSource): void {
    this.flush(source);
  }

  /** Emits every open message (end of the stream). */
  flushAll(): void {
    this.flush('stdout');
    this.flush('stderr');
  }

  private continues(message: LogMessage): boolean {
    const text = message.data.toString('utf8');
    if (this.settings.continue) return this.settings.continue.test(text);
    return this.settings.start !== undefined && !this.settings.start.test(text);
  }

  private flush(source: LogSource): void {
    const group = this.groups[source];
    if (!group) return;
    delete this.groups[source];
    clearTimeout(group.timer);
    const [first] = group.messages;
    if (group.messages.length === 1) return this.emit(first!);
    const parts: Buffer[] = [];
    group.messages.forEach((m, i) => {
      if (i > 0) parts.push(this.settings.separator);
      parts.push(m.data);
    });
    const members = group.messages;
    this.emit({ ...first!, data: Buffer.concat(parts), done: () => members.forEach((m) => m.done()) });
  }
}

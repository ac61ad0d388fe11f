/**
 * Merges continuation lines (stack traces) into one message, per container and stream.
 * A line continues the open message when it matches `continue` (default: starts with white space),
 * or, with a `start` pattern, when it does not match `start`. A message closes at the next start,
 * at `maxLines`, after `timeoutMs` without a line, or at the end of the stream.
 */
import { booleanOption, durationOption, integerOption, stringOption } from '../../shared/config/options';
import { linearRegExp, type LinearRegExp } from '../../shared/linear-regexp';
import type { LogMessage, LogSource } from './message';
import { routeOptionValues, type RouteOptionDecl } from './route-options';

export interface MultilineSettings {
  start?: LinearRegExp;
  continue?: LinearRegExp;
  maxLines: number;
  timeoutMs: number;
  separator: Buffer;
}

/** Tested on every log line, which a tenant writes: RE2, so no line can stall the logrouter. */
function regexOption(help: string): RouteOptionDecl<LinearRegExp | undefined> {
  return { help, placeholder: '<regexp>', parse: linearRegExp };
}

/** Every route's line merging (`multiline+` before a scheme is `multiline=true`). */
export const multilineRouteOptions = {
  multiline: booleanOption({
    help: 'Merge continuation lines (stack traces) per container and stream',
    default: false,
  }),
  'multiline.start': regexOption(
    'A line matching it starts a message, any other continues one (turns merging on; RE2 syntax)',
  ),
  'multiline.continue': regexOption(
    'A line matching it continues the message (turns merging on; RE2 syntax); default ^\\s when no start is given',
  ),
  'multiline.max_lines': integerOption({ help: 'Most lines in one message', default: 200, min: 1, max: 100_000 }),
  'multiline.timeout': durationOption({
    help: 'How long after its last line a message is closed, e.g. 1s',
    default: 500,
    minMs: 1,
    maxMs: 3_600_000,
    bareUnit: 'ms',
  }),
  'multiline.separator': stringOption({ help: 'What joins the lines of a message', default: '\n', defaultText: '\\n' }),
};

export function multilineSettings(options: Record<string, string>): MultilineSettings | undefined {
  const values = routeOptionValues(multilineRouteOptions, options, {});
  const start = values['multiline.start'];
  if (!values.multiline && start === undefined && values['multiline.continue'] === undefined) return undefined;
  return {
    start,
    continue: values['multiline.continue'] ?? (start ? undefined : /^\s/),
    maxLines: values['multiline.max_lines'],
    timeoutMs: values['multiline.timeout'],
    separator: Buffer.from(values['multiline.separator']),
  };
}

interface Group {
  messages: LogMessage[];
  timer: NodeJS.Timeout;
}

export class MultilineMerger {
  private readonly groups: Partial<Record<LogSource, Group>> = {};

  constructor(
    private readonly settings: MultilineSettings,
    private readonly emit: (message: LogMessage) => void,
  ) {}

  push(message: LogMessage): void {
    const group = this.groups[message.source];
    if (group && group.messages.length < this.settings.maxLines && this.continues(message)) {
      group.messages.push(message);
      group.timer.refresh();
      return;
    }
    if (group) this.flush(message.source);
    this.groups[message.source] = {
      messages: [message],
      timer: setTimeout(() => this.flush(message.source), this.settings.timeoutMs),
    };
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

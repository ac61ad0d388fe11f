import type { Finding } from '../finding';

/** What remote sinks receive: one finding that opened or resolved, and which agent saw it. */
export interface FindingEvent {
  event: 'opened' | 'resolved';
  agent: string;
  finding: Finding;
}

/**
 * The console's findings section: the open findings of every finding agent in the process, newest
 * first, as GET /findings has them (evidence masked by the agents before it reaches the store).
 * At most MAX_SHOWN are sent, with the total, so one noisy rule cannot make the page heavy
 * (500 containers with two label findings each were 300 kB a second before).
 */
import type { ConsoleSection } from '../ops/console/section';
import type { Finding } from './finding';
import type { FindingStore } from './store';

const MAX_SHOWN = 200;

/** A finding as the page shows it: without lastSeen (it moves at every check and would resend the list) or the rule's remediation text. */
export type ShownFinding = Omit<Finding, 'lastSeen' | 'remediation'> & { agent: string };

export class FindingsSection implements ConsoleSection {
  readonly name = 'findings';

  constructor(private readonly stores: ReadonlyMap<string, FindingStore>) {}

  snapshot(): { total: number; findings: ShownFinding[] } {
    const all: ShownFinding[] = [];
    for (const [agent, store] of this.stores) {
      for (const { lastSeen: _moves, remediation: _long, ...finding } of store.list('open'))
        all.push({ agent, ...finding });
    }
    all.sort(
      (a, b) =>
        b.firstSeen.localeCompare(a.firstSeen) ||
        a.ruleId.localeCompare(b.ruleId) ||
        a.object.id.localeCompare(b.object.id) ||
        a.subject.localeCompare(b.subject),
    );
    return { total: all.length, findings: all.slice(0, MAX_SHOWN) };
  }
}

/**
 * The console's findings section: the open findings of every finding agent in the process, newest
 * first, as GET /findings has them (evidence masked by the agents before it reaches the store).
 * At most MAX_SHOWN are sent, with the total, so one noisy rule cannot make the page heavy.
 */
import type { ConsoleSection } from '../ops/console/section';
import type { Finding } from './finding';
import type { FindingStore } from './store';

const MAX_SHOWN = 500;

export class FindingsSection implements ConsoleSection {
  readonly name = 'findings';

  constructor(private readonly stores: ReadonlyMap<string, FindingStore>) {}

  snapshot(): { total: number; findings: Array<Finding & { agent: string }> } {
    const all: Array<Finding & { agent: string }> = [];
    for (const [agent, store] of this.stores) for (const finding of store.list('open')) all.push({ agent, ...finding });
    all.sort((a, b) => b.firstSeen.localeCompare(a.firstSeen) || a.ruleId.localeCompare(b.ruleId));
    return { total: all.length, findings: all.slice(0, MAX_SHOWN) };
  }
}

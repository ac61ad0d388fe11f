/** The console's enforcement section: the newest actions enforce mode took, with their results and latency. */
import { Ring } from '../../shared/ops/console/ring';
import type { ConsoleSection } from '../../shared/ops/console/section';
import type { EnforcementRecord } from './enforcement';

const KEPT_ACTIONS = 100;

export class EnforcementSection implements ConsoleSection {
  readonly name = 'enforcement';
  private readonly actions = new Ring<EnforcementRecord & { time: number }>(KEPT_ACTIONS);

  constructor(private readonly now: () => number = Date.now) {}

  record(action: EnforcementRecord): void {
    this.actions.push({ ...action, time: this.now() });
  }

  /** Newest first. */
  snapshot(): { actions: Array<EnforcementRecord & { time: number }> } {
    return { actions: this.actions.toArray().reverse() };
  }
}

/**
 * The current findings of one agent. Rules report what they see on an object; the store opens
 * new findings, keeps the first-seen time of those that persist, and resolves those that no
 * longer hold or whose object went away. Sinks hear about every opening and resolution.
 */
import { findingKey, objectKey, type Finding, type FindingDraft, type FindingObject } from './finding';

export interface FindingListener {
  opened?(finding: Finding): void;
  resolved?(finding: Finding): void;
}

const RESOLVED_KEPT = 1_000;

export class FindingStore {
  private readonly open = new Map<string, Finding>();
  /** Open finding keys per object, so an object's findings resolve together. */
  private readonly byObject = new Map<string, Set<string>>();
  private readonly resolved: Finding[] = [];
  private readonly listeners: FindingListener[] = [];

  constructor(private readonly clock: () => Date = () => new Date()) {}

  listen(listener: FindingListener): void {
    this.listeners.push(listener);
  }

  /** Replaces what is known about one object with what the rules found now. */
  report(object: Pick<FindingObject, 'kind' | 'id'>, drafts: readonly FindingDraft[]): void {
    const now = this.clock().toISOString();
    const key = objectKey(object);
    const current = new Set<string>();
    for (const draft of drafts) {
      const id = findingKey(draft);
      current.add(id);
      const existing = this.open.get(id);
      if (existing) {
        Object.assign(existing, draft, { lastSeen: now });
        continue;
      }
      const finding: Finding = { ...draft, firstSeen: now, lastSeen: now, state: 'open' };
      this.open.set(id, finding);
      this.listeners.forEach((l) => l.opened?.(finding));
    }
    for (const id of this.byObject.get(key) ?? []) {
      if (!current.has(id)) this.resolve(id, now);
    }
    if (current.size > 0) this.byObject.set(key, current);
    else this.byObject.delete(key);
  }

  /** The object is gone: every finding about it resolves. */
  forget(object: Pick<FindingObject, 'kind' | 'id'>): void {
    this.report(object, []);
  }

  /** Objects of a kind that have open findings, to reconcile against what exists. */
  objectIds(kind: FindingObject['kind']): string[] {
    const prefix = `${kind}:`;
    return [...this.byObject.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  list(state: 'open' | 'resolved' | 'all' = 'open'): Finding[] {
    if (state === 'open') return [...this.open.values()];
    if (state === 'resolved') return [...this.resolved];
    return [...this.open.values(), ...this.resolved];
  }

  private resolve(id: string, now: string): void {
    const finding = this.open.get(id);
    if (!finding) return;
    this.open.delete(id);
    finding.state = 'resolved';
    finding.lastSeen = now;
    this.resolved.push(finding);
    if (this.resolved.length > RESOLVED_KEPT) this.resolved.shift();
    this.listeners.forEach((l) => l.resolved?.(finding));
  }
}

/**
 * The last N events delivered, kept as plain references (one array slot per event, no work on
 * the hot path). At a resume, their identities tell which replayed events were already delivered:
 * `since` is inclusive and we start a little early. N comfortably exceeds the 256 events the
 * engine keeps for replay.
 */
import type { DockerEvent } from './event';
import { compareTimeNano } from './time';

export class RecentEvents {
  private readonly ring: Array<DockerEvent | undefined>;
  private next = 0;

  constructor(capacity: number) {
    this.ring = new Array<DockerEvent | undefined>(capacity);
  }

  add(event: DockerEvent): void {
    this.ring[this.next] = event;
    this.next = (this.next + 1) % this.ring.length;
  }

  /** A guard that recognizes replays of what was delivered so far. */
  replayGuard(): ReplayGuard {
    const seen = new Set<string>();
    let newest: string | undefined;
    for (const event of this.ring) {
      if (!event) continue;
      seen.add(eventIdentity(event));
      if (newest === undefined || compareTimeNano(event.timeNano, newest) > 0) newest = event.timeNano;
    }
    return new ReplayGuard(seen, newest);
  }
}

export class ReplayGuard {
  constructor(
    private readonly seen: Set<string>,
    private readonly newest: string | undefined,
  ) {}

  /** True for an event that was delivered before the resume. Newer events are never replays. */
  isReplay(event: DockerEvent): boolean {
    if (this.newest === undefined || compareTimeNano(event.timeNano, this.newest) > 0) return false;
    return this.seen.has(eventIdentity(event));
  }
}

function eventIdentity(event: DockerEvent): string {
  const exec = event.attributes.execID ?? '';
  return `${event.timeNano}|${event.type}|${event.action}|${event.detail}|${event.id}|${exec}`;
}

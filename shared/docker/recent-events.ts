/**
 * Remembers the identities of the last N events delivered, so that the overlap replayed after a
 * resume (`since` is inclusive and we start a little early) is not delivered twice.
 * N comfortably exceeds the 256 events the engine keeps for replay.
 */
import type { DockerEvent } from './event';

export class RecentEvents {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Adds the event; false when it was already there. */
  add(event: DockerEvent): boolean {
    const identity = eventIdentity(event);
    if (this.seen.has(identity)) return false;
    this.seen.add(identity);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

function eventIdentity(event: DockerEvent): string {
  const exec = event.attributes.execID ?? '';
  return `${event.timeNano}|${event.type}|${event.action}|${event.detail}|${event.id}|${exec}`;
}

/**
 * The console's events section: the newest normalized Docker events as the agents receive them.
 * Attributes are left out (they carry every label) and so are exec commands (they may carry secrets).
 */
import type { DockerEvent } from '../../docker/event';
import type { EventStream } from '../../docker/event-stream';
import { Ring } from './ring';
import type { ConsoleSection } from './section';

const KEPT_EVENTS = 200;

interface ShownEvent {
  type: string;
  action: string;
  /** Only where it is a state (health_status: healthy), never an exec's command. */
  detail: string;
  id: string;
  name: string;
  image: string;
  /** Milliseconds since the epoch. */
  time: number;
}

export class EventsSection implements ConsoleSection {
  readonly name = 'events';
  private readonly events = new Ring<ShownEvent>(KEPT_EVENTS);

  /** Receives every event the stream delivers (health-check execs aside); returns the unsubscribe. */
  subscribe(stream: EventStream): () => void {
    return stream.subscribe({ name: 'console', onEvent: (event) => this.record(event) });
  }

  record(event: DockerEvent): void {
    this.events.push({
      type: event.type,
      action: event.action,
      detail: event.action === 'health_status' ? event.detail : '',
      id: event.id,
      name: event.name,
      image: event.image,
      time: /^\d{7,}$/.test(event.timeNano) ? Number(event.timeNano.slice(0, -6)) : Date.now(),
    });
  }

  /** Newest first. */
  snapshot(): { events: ShownEvent[] } {
    return { events: this.events.toArray().reverse() };
  }
}

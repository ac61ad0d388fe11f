/** What an agent adds to the host console: a named part of the page and the data it shows. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ConsoleSection {
  /** Its key on the page: `containers`, `services`, `routes`, `findings`, `enforcement`. */
  readonly name: string;
  /**
   * What the page shows now, as JSON-ready data (no secrets: the same masking as the agent's
   * other endpoints). Called at most once a second, and only while a page is open.
   */
  snapshot(): unknown;
}

/** The live tail of container logs behind `GET /console/logs` (the logrouter's). */
export type LogTail = (request: IncomingMessage, response: ServerResponse, containerId: string | undefined) => void;

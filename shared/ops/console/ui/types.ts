/** The sections as the server sends them (see the *console-section.ts files beside each agent). */

export interface ContainerRow {
  id: string;
  name: string;
  image: string;
  state: string;
  health: string | null;
  /** Unix seconds. */
  createdAt: number;
  startedAt: number | null;
  restarts: number;
  cpuPercent: number[];
  memoryBytes: number[];
}

interface ServiceRow {
  id: string;
  name: string;
  address: string;
  port: number;
  registered: boolean;
  inSync: boolean;
  maintenance?: boolean;
  error?: string;
}

interface ServicesData {
  registry: string;
  reachable: boolean;
  lastError?: string;
  containers: Array<{ id: string; name: string; services: ServiceRow[]; skipped: unknown[] }>;
  pendingRemoval: string[];
}

interface RouteRow {
  id: string;
  connected: boolean;
  linesPerSecond: number;
  bytesPerSecond: number;
  queueDepth: number;
  linesOut: number;
  dropped: number;
  retries: number;
  reconnects: number;
  lastError: string | null;
}

export interface FindingRow {
  agent: string;
  ruleId: string;
  severity: string;
  title: string;
  message: string;
  object: { kind: string; id: string; name: string; image?: string };
  evidence: Record<string, unknown>;
  firstSeen: string;
}

interface EnforcementRow {
  name: string;
  containerId: string;
  action: string;
  rules: string[];
  result: string;
  error?: string;
  latencyMs?: number;
  trigger: string;
  time: number;
}

interface EventRow {
  type: string;
  action: string;
  detail: string;
  id: string;
  name: string;
  image: string;
  time: number;
}

export interface Sections {
  containers?: { sampleIntervalMs: number; containers: ContainerRow[] };
  services?: ServicesData;
  routes?: { routes: RouteRow[] };
  findings?: { total: number; findings: FindingRow[] };
  enforcement?: { actions: EnforcementRow[] };
  events?: { events: EventRow[] };
}

export interface LogLineEvent {
  id: string;
  name: string;
  source: string;
  time: string;
  text: string;
}

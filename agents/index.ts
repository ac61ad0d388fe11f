/** Every agent, by name. Adding an agent is one folder and one line here. */
import type { AgentDefinition } from '../shared/agent';
import { labelInspectorAgent } from './label-inspector';
import { logrouterAgent } from './logrouter';
import { registratorAgent } from './registrator';
import { securityWatcherAgent } from './security-watcher';
import { statsExporterAgent } from './stats-exporter';

export const AGENTS: readonly AgentDefinition[] = [
  registratorAgent,
  logrouterAgent,
  statsExporterAgent,
  labelInspectorAgent,
  securityWatcherAgent,
];

import { defineAgent } from '../../shared/agent';

export const securityWatcherAgent = defineAgent({
  name: 'security-watcher',
  summary: "Flags, and optionally stops, containers that break a security policy",
  options: {},
  plannedIn: 'issue #7',
});

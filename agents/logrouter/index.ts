import { defineAgent } from '../../shared/agent';

export const logrouterAgent = defineAgent({
  name: 'logrouter',
  summary: "Ships every container's stdout and stderr to syslog, Redis and HTTP log services",
  options: {},
  plannedIn: 'issue #4',
});

import { defineAgent } from '../../shared/agent';

export const registratorAgent = defineAgent({
  name: 'registrator',
  summary: "Registers each container's services in Consul and removes them when they go",
  options: {},
  plannedIn: 'issue #3',
});

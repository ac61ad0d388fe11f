import { defineAgent } from '../../shared/agent';

export const labelInspectorAgent = defineAgent({
  name: 'label-inspector',
  summary: "Checks container and image labels against Docker's guidelines or a JSON schema",
  options: {},
  plannedIn: 'issue #6',
});

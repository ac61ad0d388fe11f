import { defineAgent } from '../../shared/agent';
import { findingsSinkOptions } from '../../shared/findings/options';
import { startLabelInspector } from './agent';
import { LABEL_RULE_IDS } from './checker';
import { addCheckCommand } from './check-command';
import { DeadlineChecker } from './deadline-checker';
import { labelOptions, labelSettings } from './options';

export const labelInspectorAgent = defineAgent({
  name: 'label-inspector',
  summary: "Checks container and image labels against Docker's guidelines or a JSON schema",
  options: { ...labelOptions, ...findingsSinkOptions },
  async start(context, options) {
    const settings = labelSettings(options, LABEL_RULE_IDS);
    return startLabelInspector(context, settings, new DeadlineChecker(options, options.labelCheckTimeout), options);
  },
  extendCommand: addCheckCommand,
});

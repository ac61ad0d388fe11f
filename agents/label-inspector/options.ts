/** The label-inspector's options, declared once, and the settings the rules read made from them. */
import { ConfigError } from '../../shared/config/errors';
import {
  choiceOption,
  durationOption,
  integerOption,
  listOption,
  optionalStringOption,
  type OptionValues,
} from '../../shared/config/options';
import { globMatcher } from '../../shared/glob';
import { KEY_PROFILE_NAMES, KEY_PROFILES } from './profiles';
import { expandRequired, REQUIRED_PRESETS } from './rules/required';
import type { LabelSettings } from './rules/rule';
import { loadLabelSchema } from './rules/schema';

/** Tool-owned keys that break the guidelines by design: Compose, Swarm, and the legacy maintainer. */
const DEFAULT_ALLOWED_KEYS = ['com.docker.compose.*', 'com.docker.stack.*', 'com.docker.swarm.*', 'maintainer'];

export const labelOptions = {
  labelProfile: choiceOption({
    help: 'Label-key rule profile',
    env: 'QUAYSIDE_LABEL_PROFILE',
    default: 'docker',
    choices: KEY_PROFILE_NAMES,
  }),
  labelSchema: optionalStringOption({
    help: 'JSON Schema file (draft-07 or 2020-12) the labels object must match',
    env: 'QUAYSIDE_LABEL_SCHEMA',
    placeholder: '<file>',
  }),
  labelRequire: listOption({
    help: `Keys every image must have, and presets: ${Object.keys(REQUIRED_PRESETS).join(', ')}`,
    env: 'QUAYSIDE_LABEL_REQUIRE',
    default: [],
  }),
  labelAllow: listOption({
    help: 'Keys exempt from the key rules (globs with *), added to the built-in ones',
    env: 'QUAYSIDE_LABEL_ALLOW',
    default: [],
  }),
  labelDisable: listOption({ help: 'Rule IDs to turn off', env: 'QUAYSIDE_LABEL_DISABLE', default: [] }),
  labelMaxValueBytes: integerOption({
    help: 'Largest label value, in bytes',
    env: 'QUAYSIDE_LABEL_MAX_VALUE_BYTES',
    default: 4_096,
    min: 1,
    max: 1_048_576,
  }),
  labelMaxTotalBytes: integerOption({
    help: 'Largest total of keys and values of one object, in bytes',
    env: 'QUAYSIDE_LABEL_MAX_TOTAL_BYTES',
    default: 65_536,
    min: 1,
    max: 16 * 1_048_576,
  }),
  labelCheckTimeout: durationOption({
    help: 'Deadline for checking the labels of one object; an overrun is a label-check-incomplete finding about it',
    env: 'QUAYSIDE_LABEL_CHECK_TIMEOUT',
    default: 2_000,
    minMs: 10,
    maxMs: 60_000,
  }),
};

/** What the rules' settings are made of: every label option but the per-object deadline. */
export type LabelOptionValues = Omit<OptionValues<typeof labelOptions>, 'labelCheckTimeout'>;

/** Only the label options, as plain data a worker thread can be given. */
export function labelOptionValues(values: LabelOptionValues): LabelOptionValues {
  const { labelProfile, labelSchema, labelRequire, labelAllow, labelDisable, labelMaxValueBytes, labelMaxTotalBytes } =
    values;
  return { labelProfile, labelSchema, labelRequire, labelAllow, labelDisable, labelMaxValueBytes, labelMaxTotalBytes };
}

export function labelSettings(values: LabelOptionValues, knownRuleIds: readonly string[]): LabelSettings {
  const profile = KEY_PROFILES[values.labelProfile];
  if (!profile)
    throw new ConfigError(
      `label profile '${values.labelProfile}' is unknown; expected one of ${KEY_PROFILE_NAMES.join(', ')}`,
    );
  const unknown = values.labelDisable.filter((id) => !knownRuleIds.includes(id));
  if (unknown.length > 0)
    throw new ConfigError(
      `--label-disable: unknown rule ${unknown.join(', ')}; the rules are ${knownRuleIds.join(', ')}`,
    );
  return {
    profile,
    schema: values.labelSchema ? loadLabelSchema(values.labelSchema) : undefined,
    required: expandRequired(values.labelRequire),
    isAllowed: globMatcher([...DEFAULT_ALLOWED_KEYS, ...values.labelAllow]),
    disabled: new Set(values.labelDisable),
    maxValueBytes: values.labelMaxValueBytes,
    maxTotalBytes: values.labelMaxTotalBytes,
  };
}

/**
 * Required keys (opt-in): named keys, or the `oci` and `label-schema` presets. The two schemes
 * map onto each other, so a missing key whose counterpart is present gets a migration hint.
 */
import { finding, type LabelRule } from './rule';

const OCI = 'org.opencontainers.image.';
const LABEL_SCHEMA = 'org.label-schema.';

/** label-schema rc1 → OCI image annotations (the image-spec back-compat table). */
const LABEL_SCHEMA_TO_OCI: Readonly<Record<string, string>> = {
  [`${LABEL_SCHEMA}build-date`]: `${OCI}created`,
  [`${LABEL_SCHEMA}name`]: `${OCI}title`,
  [`${LABEL_SCHEMA}description`]: `${OCI}description`,
  [`${LABEL_SCHEMA}usage`]: `${OCI}documentation`,
  [`${LABEL_SCHEMA}url`]: `${OCI}url`,
  [`${LABEL_SCHEMA}vcs-url`]: `${OCI}source`,
  [`${LABEL_SCHEMA}vcs-ref`]: `${OCI}revision`,
  [`${LABEL_SCHEMA}vendor`]: `${OCI}vendor`,
  [`${LABEL_SCHEMA}version`]: `${OCI}version`,
};
const OCI_TO_LABEL_SCHEMA = Object.fromEntries(Object.entries(LABEL_SCHEMA_TO_OCI).map(([from, to]) => [to, from]));

export const REQUIRED_PRESETS: Readonly<Record<string, readonly string[]>> = {
  oci: ['created', 'title', 'version', 'revision', 'source', 'licenses'].map((k) => OCI + k),
  'label-schema': ['schema-version', 'build-date', 'name', 'version', 'vcs-url', 'vcs-ref'].map(
    (k) => LABEL_SCHEMA + k,
  ),
};

/** `oci,com.example.team` → the keys; presets expand, plain keys stay. */
export function expandRequired(entries: readonly string[]): string[] {
  return [...new Set(entries.flatMap((entry) => REQUIRED_PRESETS[entry] ?? [entry]))];
}

const requiredMissing: LabelRule = {
  id: 'label-required-missing',
  title: 'Required label is missing',
  severity: 'high',
  remediation: 'Set the label when building the image (LABEL in the Dockerfile, or docker build --label).',
  check(target, settings) {
    if (!target.requireKeys) return [];
    return settings.required
      .filter((key) => !(key in target.labels))
      .map((key) => {
        const counterpart = LABEL_SCHEMA_TO_OCI[key] ?? OCI_TO_LABEL_SCHEMA[key];
        const hint =
          counterpart && counterpart in target.labels
            ? `; it has ${counterpart}, whose value belongs under ${key}`
            : '';
        return finding(
          this,
          target,
          key,
          `required label '${key}' is missing${hint}`,
          counterpart ? { key, counterpart, counterpartPresent: counterpart in target.labels } : { key },
        );
      });
  },
};

export const REQUIRED_RULES: LabelRule[] = [requiredMissing];

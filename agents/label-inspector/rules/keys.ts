/** Docker's label-key guidelines. */
import { checkedKeys, finding, type LabelRule } from './rule';

const RESERVED_NAMESPACES = ['com.docker', 'io.docker', 'org.dockerproject'];
const GUIDELINES = 'https://docs.docker.com/engine/manage-resources/labels/';

const keyFormat: LabelRule = {
  id: 'label-key-format',
  title: 'Label key breaks the key guidelines',
  severity: 'medium',
  remediation:
    "Use lower-case letters, digits, '.' and '-' only, beginning and ending as the profile requires, e.g. com.example.my-key.",
  reference: GUIDELINES,
  check(target, settings) {
    return checkedKeys(target, settings).flatMap((key) => {
      const problems = settings.profile.formatProblems(key);
      return problems.length === 0
        ? []
        : [
            finding(this, target, key, `label key '${key}' ${problems.join('; ')} (profile ${settings.profile.name})`, {
              key,
            }),
          ];
    });
  },
};

const keySeparators: LabelRule = {
  id: 'label-key-separators',
  title: 'Label key has consecutive separators',
  severity: 'medium',
  remediation: "Separate namespace fields with a single '.' and words with a single '-'.",
  reference: GUIDELINES,
  check(target, settings) {
    return checkedKeys(target, settings).flatMap((key) => {
      const run = settings.profile.consecutive.exec(key);
      return run
        ? [finding(this, target, key, `label key '${key}' has the consecutive separators '${run[0]}'`, { key })]
        : [];
    });
  },
};

const reservedNamespace: LabelRule = {
  id: 'label-reserved-namespace',
  title: 'Label key uses a namespace reserved by Docker',
  severity: 'medium',
  remediation:
    'Prefix the key with the reverse DNS name of a domain you own; com.docker.*, io.docker.* and org.dockerproject.* are for Docker itself.',
  reference: GUIDELINES,
  check(target, settings) {
    return checkedKeys(target, settings).flatMap((key) => {
      const namespace = RESERVED_NAMESPACES.find((ns) => key === ns || key.startsWith(`${ns}.`));
      return namespace
        ? [
            finding(this, target, key, `label key '${key}' is in the reserved namespace ${namespace}.*`, {
              key,
              namespace,
            }),
          ]
        : [];
    });
  },
};

const unprefixedKey: LabelRule = {
  id: 'label-unprefixed-key',
  title: 'Label key has no namespace',
  severity: 'info',
  remediation: 'Keys without a namespace are reserved for interactive CLI use; prefix it, e.g. com.example.role.',
  reference: GUIDELINES,
  check(target, settings) {
    return checkedKeys(target, settings)
      .filter((key) => !key.includes('.'))
      .map((key) => finding(this, target, key, `label key '${key}' has no namespace`, { key }));
  },
};

const shallowPrefix: LabelRule = {
  id: 'label-shallow-prefix',
  title: 'Label key prefix is not a reverse DNS name',
  severity: 'low',
  remediation: 'Use the full reverse DNS name of a domain you own as the prefix (com.example.role, not example.role).',
  reference: GUIDELINES,
  check(target, settings) {
    return checkedKeys(target, settings)
      .filter((key) => key.split('.').length === 2)
      .map((key) =>
        finding(this, target, key, `label key '${key}' has a one-part prefix '${key.split('.')[0]}'`, { key }),
      );
  },
};

export const KEY_RULES: LabelRule[] = [keyFormat, keySeparators, reservedNamespace, unprefixedKey, shallowPrefix];

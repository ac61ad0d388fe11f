/** The security-watcher's options, declared once, and the settings they make. */
import { ConfigError } from '../../shared/config/errors';
import { booleanOption, listOption, optionalStringOption, type OptionValues } from '../../shared/config/options';
import { defaultPolicy, loadPolicyFile, PolicyError, type Policy } from './policy';

export const securityOptions = {
  securityPolicy: optionalStringOption({
    help: 'YAML policy file (rules, severities, modes and actions, exemptions, image allow-list); the built-in default audits every rule but the inventory ones',
    env: 'QUAYSIDE_SECURITY_POLICY',
    placeholder: '<file>',
  }),
  securityHostRoot: optionalStringOption({
    help: "Where the host's filesystem is mounted when the watcher runs in a container, to resolve symlinked bind sources",
    env: 'QUAYSIDE_SECURITY_HOST_ROOT',
    placeholder: '<dir>',
  }),
  securityEngineSockets: listOption({
    help: "More container-engine API sockets on the host (comma-separated paths) whose mount into a container is as dangerous as docker.sock; Docker's and Podman's usual ones are known",
    env: 'QUAYSIDE_SECURITY_ENGINE_SOCKETS',
    placeholder: '<paths>',
    default: [],
    parseItem(item) {
      if (!item.startsWith('/')) throw new Error(`${JSON.stringify(item)} is not an absolute path`);
      return item;
    },
  }),
  securityDryRun: booleanOption({
    help: 'Log and count what enforce-mode rules would do, without doing it',
    env: 'QUAYSIDE_SECURITY_DRY_RUN',
    default: false,
  }),
};

export type SecurityOptionValues = OptionValues<typeof securityOptions>;

export interface SecuritySettings {
  policy: Policy;
  hostRoot: string;
  /** Engine sockets named by the operator, besides the known ones. */
  engineSockets: string[];
  dryRun: boolean;
}

/** Reads the policy; a bad one is a ConfigError (exit 2) naming the file, line and problem. */
export function loadPolicy(file: string | undefined): Policy {
  if (!file) return defaultPolicy();
  try {
    return loadPolicyFile(file);
  } catch (error) {
    if (error instanceof PolicyError) throw new ConfigError(`--security-policy ${error.message}`);
    throw error;
  }
}

export function securitySettings(values: SecurityOptionValues): SecuritySettings {
  return {
    policy: loadPolicy(values.securityPolicy),
    hostRoot: values.securityHostRoot ?? '',
    engineSockets: values.securityEngineSockets ?? [],
    dryRun: values.securityDryRun,
  };
}

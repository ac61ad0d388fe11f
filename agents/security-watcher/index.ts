import { defineAgent } from '../../shared/agent';
import { findingsSinkOptions } from '../../shared/findings/options';
import { startSecurityWatcher } from './agent';
import { addAuditCommand } from './audit-command';
import { securityOptions, securitySettings } from './options';

export const securityWatcherAgent = defineAgent({
  name: 'security-watcher',
  summary: 'Flags, and optionally contains, containers and execs that break a security policy (CIS Docker Benchmark 4-5, Falco container rules)',
  options: { ...securityOptions, ...findingsSinkOptions },
  async start(context, options) {
    return startSecurityWatcher(context, securitySettings(options), options);
  },
  extendCommand: addAuditCommand,
});

import { defineAgent } from '../../shared/agent';
import { findingsSinkOptions } from '../../shared/findings/options';
import { addToConsole } from '../../shared/ops/console/host-console';
import { startSecurityWatcher } from './agent';
import { addAuditCommand } from './audit-command';
import { EnforcementSection } from './console-section';
import { securityOptions, securitySettings } from './options';

export const securityWatcherAgent = defineAgent({
  name: 'security-watcher',
  summary:
    'Flags, and optionally contains, containers and execs that break a security policy (CIS Docker Benchmark 4-5, Falco container rules)',
  options: { ...securityOptions, ...findingsSinkOptions },
  async start(context, options) {
    const enforcement = new EnforcementSection();
    addToConsole(context.http, enforcement);
    return startSecurityWatcher(context, securitySettings(options), options, {
      enforced: (action) => enforcement.record(action),
    });
  },
  extendCommand: addAuditCommand,
});

/** Where findings go besides the log, /findings and /metrics; shared by every agent that finds. */
import { optionalStringOption, type OptionValues } from '../config/options';

/** One heading for these options wherever they are listed: each agent that finds, and `all`. */
const FINDINGS_GROUP = 'Findings options (label-inspector, security-watcher):';

export const findingsSinkOptions = {
  findingsRedisUrl: optionalStringOption({
    help: 'Also append findings to a Redis stream at this URL (redis://[:password@]host:port[/db])',
    env: 'QUAYSIDE_FINDINGS_REDIS_URL',
    secret: true, // redis://:password@…
    placeholder: '<url>',
    helpGroup: FINDINGS_GROUP,
  }),
  findingsRedisStream: {
    ...optionalStringOption({
      help: 'Name of that Redis stream',
      env: 'QUAYSIDE_FINDINGS_REDIS_STREAM',
      placeholder: '<key>',
      helpGroup: FINDINGS_GROUP,
    }),
    default: 'quayside:findings',
  },
  findingsWebhookUrl: optionalStringOption({
    help: 'Also POST each opened and resolved finding as JSON to this URL (retried until accepted)',
    env: 'QUAYSIDE_FINDINGS_WEBHOOK_URL',
    secret: true, // Slack-style webhook URLs are themselves the credential
    placeholder: '<url>',
    helpGroup: FINDINGS_GROUP,
  }),
  findingsWebhookToken: optionalStringOption({
    help: 'Bearer token for the webhook; prefer the environment variable to the flag',
    env: 'QUAYSIDE_FINDINGS_WEBHOOK_TOKEN',
    secret: true,
    placeholder: '<token>',
    helpGroup: FINDINGS_GROUP,
  }),
};

/** Partial: a caller may leave out the sinks it does not use. */
export type FindingsSinkSettings = Partial<OptionValues<typeof findingsSinkOptions>>;

/** Where findings go besides the log, /findings and /metrics; shared by every agent that finds. */
import { optionalStringOption } from '../config/options';

export const findingsSinkOptions = {
  findingsRedisUrl: optionalStringOption({
    help: 'Also append findings to a Redis stream at this URL (redis://[:password@]host:port[/db])',
    env: 'QUAYSIDE_FINDINGS_REDIS_URL',
    secret: true, // redis://:password@…
    placeholder: '<url>',
  }),
  findingsRedisStream: {
    ...optionalStringOption({
      help: 'Name of that Redis stream',
      env: 'QUAYSIDE_FINDINGS_REDIS_STREAM',
      placeholder: '<key>',
    }),
    default: 'quayside:findings',
  },
  findingsWebhookUrl: optionalStringOption({
    help: 'Also POST each opened and resolved finding as JSON to this URL (retried until accepted)',
    env: 'QUAYSIDE_FINDINGS_WEBHOOK_URL',
    secret: true, // Slack-style webhook URLs are themselves the credential
    placeholder: '<url>',
  }),
  findingsWebhookToken: optionalStringOption({
    help: 'Bearer token for the webhook; prefer the environment variable to the flag',
    env: 'QUAYSIDE_FINDINGS_WEBHOOK_TOKEN',
    secret: true,
    placeholder: '<token>',
  }),
};

export interface FindingsSinkSettings {
  findingsRedisUrl?: string;
  findingsRedisStream?: string;
  findingsWebhookUrl?: string;
  findingsWebhookToken?: string;
}

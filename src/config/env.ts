import { z } from 'zod';
import { LOG_LEVELS } from '../logger.js';

/** The environment: secrets, ports and URLs. Values are never echoed in errors: they may be secrets. */

export const envSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string({ error: 'is required (the bot token, xoxb-…)' })
    .regex(/^xoxb-\S+$/, 'must be a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: z.string().min(1, 'must not be empty').optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-\S+$/, 'must be an app-level token starting with xapp- (or unset for HTTP mode)')
    .optional(),
  SLACK_API_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://slack.com/api/' })
    .default('https://slack.com/api/'),
  SLACK_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(100, 'must be between 100 and 120000 milliseconds')
    .max(120_000, 'must be between 100 and 120000 milliseconds')
    .default(10_000),
  DATABASE_URL: z
    .string()
    .regex(
      /^postgres(ql)?:\/\/\S+$/,
      'must be a postgres:// or postgresql:// URL (or unset for embedded PGlite)',
    )
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(3000),
  INCIDENT_CONFIG: z.string().min(1).optional(),
  ONCALL_ICAL_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (it is the secret in the calendar feed URL)')
    .regex(/^[A-Za-z0-9._~-]+$/, 'must be URL-safe: letters, digits, . _ ~ -')
    .optional(),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (a bearer token for GET /metrics)')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces (it travels in an Authorization header)')
    .optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

import { z } from 'zod';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../webhooks/model.js';

/**
 * The `webhooks:` section of the config file: endpoints that hear of incidents, alert groups, follow-ups
 * and postmortems, signed as Standard Webhooks specifies. The secret is read from the environment.
 */

export interface WebhookEndpoint {
  url: string;
  /** The HMAC key: the bytes of a `whsec_<base64>` secret. */
  key: Uint8Array;
  /** Where the secret came from, for messages that must not show it. */
  secretEnv: string;
  /** The events it wants (all when the config names none). */
  events: WebhookEvent[];
  /** Private incidents are sent only to endpoints that opt in. */
  includePrivate: boolean;
  /** Deliver to private, loopback and link-local addresses (refused otherwise: server-side request forgery). */
  allowPrivate: boolean;
}

export const webhooksSchema = z
  .array(
    z.strictObject({
      url: z.url({
        protocol: /^https?$/,
        error: 'must be an http(s) URL such as https://hooks.example.com/incidents',
      }),
      secret_env: z
        .string({ error: 'is required: the environment variable holding the whsec_… secret' })
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as WEBHOOK_SECRET_OPS'),
      events: z
        .array(z.enum(WEBHOOK_EVENTS, { error: `must be one of ${WEBHOOK_EVENTS.join(', ')}` }))
        .min(1)
        .optional(),
      include_private: z.boolean().default(false),
      allow_private: z.boolean().default(false),
    }),
  )
  .max(50, 'must list at most 50 endpoints');

export type WebhooksInput = z.output<typeof webhooksSchema>;

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
function secretKey(value: string | undefined): Uint8Array | string {
  if (!value) return 'is not set (it must hold the endpoint’s whsec_… secret)';
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  const bytes = m ? Buffer.from(m[1] as string, 'base64') : undefined;
  if (!bytes || bytes.length < 24 || bytes.length > 64)
    return 'must hold a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes';
  return new Uint8Array(bytes);
}

export function resolveWebhooks(
  input: WebhooksInput,
  env: Record<string, string | undefined>,
): { endpoints: WebhookEndpoint[]; problems: string[] } {
  const problems: string[] = [];
  const endpoints: WebhookEndpoint[] = [];
  input.forEach((w, i) => {
    const key = secretKey(env[w.secret_env]);
    if (typeof key === 'string') {
      problems.push(`webhooks[${i}].secret_env: ${w.secret_env} ${key}`);
      return;
    }
    if (w.url.startsWith('http:') && !w.allow_private)
      problems.push(
        `webhooks[${i}].url: must be https (plain http only with allow_private: true, for a private network)`,
      );
    endpoints.push({
      url: w.url,
      key,
      secretEnv: w.secret_env,
      events: w.events ?? [...WEBHOOK_EVENTS],
      includePrivate: w.include_private,
      allowPrivate: w.allow_private,
    });
  });
  return { endpoints, problems };
}

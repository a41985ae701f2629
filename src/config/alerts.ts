import { z } from 'zod';
import { INTEGRATION_TYPES, type IntegrationType, LABEL_NAME } from '../alerts/model.js';
import { channelId, duration } from './atoms.js';

/**
 * The `alerts:` section of the config file: the hub's triage channel, how alerts group, the monitoring
 * tools that may send (each with a secret key read from the environment, never from the file), and the
 * routes that decide what a new group does. Absent, the hub is off and its endpoints answer 404.
 */

export interface AlertsConfig {
  /** Where each alert group gets its one message (unless a route says otherwise). */
  channel: string;
  /** Labels whose values put alerts into one group. */
  groupBy: string[];
  /** An alert firing again this soon after its group resolved reopens it (a flap). */
  reopenWithinMs: number;
  integrations: Integration[];
  /** First match wins; no match: post in the channel, page nobody. */
  routes: AlertRoute[];
}

export interface Integration {
  /** The URL path segment: POST /alerts/<name>. */
  name: string;
  type: IntegrationType;
  /** The secret key senders present (Bearer token, URL segment, or PagerDuty routing_key). */
  key: string;
  /** Where the key came from, for messages that must not show it. */
  keyEnv: string;
  /** webhook: where things are in the JSON body (dot paths). */
  fields?: WebhookFields;
}

export interface WebhookFields {
  dedupKey: string;
  summary: string;
  severity?: string;
  status?: string;
  labels?: string;
}

/** A label value to match: exactly, or by a regular expression written /like this/ (flags allowed). */
export type Matcher = { equals: string } | { regex: RegExp };

export interface AlertRoute {
  match: Record<string, Matcher>;
  /** Declare an incident of this severity for the group (once per group). */
  declare?: string;
  /** Page through this escalation policy until someone acknowledges. */
  escalationPolicy?: string;
  channel?: string;
  groupBy?: string[];
}

const labelName = z.string().regex(LABEL_NAME, 'must be a label name such as alertname (letters, digits, _)');
const groupBy = z
  .array(labelName)
  .min(1, 'must name at least one label')
  .max(20, 'must name at most 20 labels');
const fieldPath = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a dot path such as data.id');

const REGEX = /^\/(.+)\/([a-z]*)$/s;

const matcher = z
  .string({ error: 'must be a label value, or /a regular expression/' })
  .transform((v, ctx) => {
    const m = REGEX.exec(v);
    if (!m) return { equals: v } as Matcher;
    try {
      return { regex: new RegExp(m[1] as string, m[2]) } as Matcher;
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid regular expression (${err instanceof Error ? err.message : String(err)})`,
      });
      return z.NEVER;
    }
  });

const integrationSchema = z.strictObject({
  name: z
    .string({ error: 'is required (the URL path segment, such as prometheus)' })
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,39}$/,
      'must be 1-40 lowercase letters, digits, - or _ (such as prometheus)',
    ),
  type: z.enum(INTEGRATION_TYPES, { error: `must be one of ${INTEGRATION_TYPES.join(', ')}` }),
  key_env: z
    .string({ error: 'is required (the environment variable holding the secret key)' })
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as ALERTS_KEY_PROMETHEUS'),
  fields: z
    .strictObject({
      dedup_key: fieldPath,
      summary: fieldPath,
      severity: fieldPath.optional(),
      status: fieldPath.optional(),
      labels: fieldPath.optional(),
    })
    .optional(),
});

const routeSchema = z.strictObject({
  match: z.record(z.string(), matcher).default({}),
  declare: z.string().min(1).optional(),
  escalation_policy: z.string().min(1).optional(),
  channel: channelId.optional(),
  group_by: groupBy.optional(),
});

export const alertsSchema = z.strictObject({
  channel: z
    .string({ error: 'is required to enable the hub (the triage channel ID, such as C0ALERTS)' })
    .pipe(channelId),
  group_by: groupBy.default(['alertname']),
  reopen_within: duration.default(5 * 60_000),
  integrations: z
    .array(integrationSchema)
    .min(1, 'must list at least one integration')
    .max(50, 'must list at most 50 integrations'),
  routes: z.array(routeSchema).max(100, 'must list at most 100 routes').default([]),
});

/** What the rest of the file offers that the alerts section refers to. */
export interface AlertsContext {
  severities: { id: string }[];
  policies: string[];
  env: Record<string, string | undefined>;
}

/** The checks that need the environment or other sections; one line per problem, naming its path. */
export function resolveAlerts(
  raw: z.output<typeof alertsSchema>,
  context: AlertsContext,
  at: (path: string) => string,
): { alerts: AlertsConfig; problems: string[] } {
  const problems: string[] = [];
  const names = new Set<string>();
  const pagerdutyKeys = new Set<string>();
  const integrations: Integration[] = [];
  raw.integrations.forEach((i, n) => {
    const path = `alerts.integrations[${n}]`;
    if (names.has(i.name)) problems.push(at(`${path}.name: "${i.name}" is used twice`));
    names.add(i.name);
    if (i.type === 'webhook' && !i.fields)
      problems.push(at(`${path}.fields: is required for a webhook (at least dedup_key and summary)`));
    if (i.type !== 'webhook' && i.fields)
      problems.push(at(`${path}.fields: only a webhook integration takes fields (this one is ${i.type})`));
    const key = context.env[i.key_env];
    if (!key) {
      problems.push(
        at(`${path}.key_env: ${i.key_env} is not set (it must hold the integration's secret key)`),
      );
    } else if (i.type === 'pagerduty' && !/^[\x21-\x7e]{32}$/.test(key)) {
      problems.push(
        at(
          `${path}.key_env: ${i.key_env} must hold 32 printable characters, as a PagerDuty routing key does`,
        ),
      );
    } else if (key.length < 16) {
      problems.push(at(`${path}.key_env: ${i.key_env} must hold at least 16 characters`));
    } else if (i.type === 'pagerduty' && pagerdutyKeys.has(key)) {
      problems.push(
        at(`${path}.key_env: ${i.key_env} holds the same routing key as another pagerduty integration`),
      );
    }
    if (i.type === 'pagerduty' && key) pagerdutyKeys.add(key);
    integrations.push({
      name: i.name,
      type: i.type,
      key: key ?? '',
      keyEnv: i.key_env,
      ...(i.fields
        ? {
            fields: {
              dedupKey: i.fields.dedup_key,
              summary: i.fields.summary,
              ...(i.fields.severity ? { severity: i.fields.severity } : {}),
              ...(i.fields.status ? { status: i.fields.status } : {}),
              ...(i.fields.labels ? { labels: i.fields.labels } : {}),
            },
          }
        : {}),
    });
  });

  const severityIds = new Map(context.severities.map((s) => [s.id.toUpperCase(), s.id]));
  const routes: AlertRoute[] = raw.routes.map((r, n) => {
    const path = `alerts.routes[${n}]`;
    const declare = r.declare ? severityIds.get(r.declare.toUpperCase()) : undefined;
    if (r.declare && !declare)
      problems.push(at(`${path}.declare: "${r.declare}" is not a severity in severities`));
    if (r.escalation_policy && !context.policies.includes(r.escalation_policy))
      problems.push(
        at(`${path}.escalation_policy: "${r.escalation_policy}" is not a policy in escalation_policies`),
      );
    for (const [label, m] of Object.entries(r.match)) {
      if (!LABEL_NAME.test(label))
        problems.push(at(`${path}.match.${label}: is not a label name (letters, digits, _)`));
      if (label === 'integration' && 'equals' in m && !names.has(m.equals))
        problems.push(
          at(`${path}.match.integration: "${m.equals}" is not an integration in alerts.integrations`),
        );
    }
    return {
      match: r.match,
      ...(declare ? { declare } : {}),
      ...(r.escalation_policy ? { escalationPolicy: r.escalation_policy } : {}),
      ...(r.channel ? { channel: r.channel } : {}),
      ...(r.group_by ? { groupBy: r.group_by } : {}),
    };
  });
  return {
    alerts: {
      channel: raw.channel,
      groupBy: raw.group_by,
      reopenWithinMs: raw.reopen_within,
      integrations,
      routes,
    },
    problems,
  };
}

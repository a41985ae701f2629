import { IANAZone } from 'luxon';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { ROLES, type Role } from '../incidents/model.js';
import { SCHEDULE_TARGET_PREFIX, type Schedule } from '../oncall/model.js';
import { type AlertsConfig, alertsSchema, resolveAlerts } from './alerts.js';
import { channelId, duration, notifyId, userId } from './atoms.js';
import { ConfigError, issuesToLines } from './problems.js';
import { resolveSchedules, schedulesSchema } from './schedules.js';
import { resolveStatusPage, type StatusPageConfig, statusPageSchema } from './statuspage.js';
import { resolveWebhooks, type WebhookEndpoint, webhooksSchema } from './webhooks.js';

/** The YAML config file: how the team runs incidents. Each error names its exact path. */

const severitySchema = z.strictObject({
  id: z
    .string({ error: 'is required (a short name such as SEV1)' })
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,19}$/, 'must be a short name such as SEV1 (letters, digits, - or _)'),
  description: z.string().trim().min(1, 'must not be empty').max(150, 'must be at most 150 characters'),
  escalation_policy: z.string().min(1).optional(),
  update_every: duration.optional(),
  postmortem_due: z
    .union([z.string(), z.number()], { error: 'is not a duration like 3d, or business days like 5bd' })
    .transform((v, ctx): PostmortemDue => {
      const business = /^\s*([1-9]\d{0,2})bd\s*$/.exec(String(v));
      if (business) return { businessDays: Number(business[1]) };
      const ms = parseDuration(String(v));
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'is not a duration like 3d, or business days like 5bd' });
        return z.NEVER;
      }
      return { ms };
    })
    .optional(),
});

const policySchema = z
  .strictObject({
    tiers: z
      .array(
        z.strictObject({
          after: duration,
          notify: z.array(notifyId).min(1, 'must name at least one person or group'),
        }),
      )
      .min(1, 'must have at least one tier')
      .max(20, 'must have at most 20 tiers'),
    repeat: z.number().int('must be a whole number').min(0).max(10, 'must be at most 10').default(0),
  })
  .superRefine((policy, ctx) => {
    policy.tiers.forEach((tier, i) => {
      const before = policy.tiers[i - 1];
      if (before && tier.after <= before.after) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', i, 'after'],
          message: `must be later than tier ${i}'s`,
        });
      }
    });
  });

export const DEFAULT_SEVERITIES: Severity[] = [
  { id: 'SEV1', description: 'Critical: large customer impact, SLA broken or data at risk; public notice' },
  { id: 'SEV2', description: 'Major: many customers affected, core function down' },
  { id: 'SEV3', description: 'Partial loss of function, or likely to become SEV2' },
  { id: 'SEV4', description: 'Minor, no customer impact' },
  { id: 'SEV5', description: 'Cosmetic; track as a ticket' },
];

/** What each role means, from PROCESS.md; sent to whoever is given the role. Overridable per role. */
export const DEFAULT_ROLE_DESCRIPTIONS: Record<Role, string> = {
  commander:
    'You are the Incident Commander: the single source of truth and authority. Delegate, do not fix; approve external messages; hand over command explicitly when you leave.',
  deputy:
    'You are the Deputy: hot standby for the commander. Watch the clock, call out each 10-minute mark, and chase time-boxed tasks that are due.',
  liaison:
    'You are the Liaison: draft and post status updates once the commander approves. First post within 5 minutes, then at least every 20 minutes, each with the time of the next update.',
  scribe:
    'You are the Scribe: keep the timeline with `/incident note`, and mark follow-ups for the postmortem.',
};

const incidentConfigSchema = z.strictObject({
  admins: z.array(userId).default([]),
  escalation_policies: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be a name of letters, digits, - or _'),
      policySchema,
    )
    .default({}),
  reminders: z
    .strictObject({ missing_commander_after: duration.optional(), deputy_callouts: duration.optional() })
    .default({}),
  roles: z
    .strictObject(
      Object.fromEntries(
        ROLES.map((r) => [
          r,
          z
            .strictObject({
              description: z.string().trim().min(1).max(1500, 'must be at most 1500 characters'),
            })
            .optional(),
        ]),
      ) as Record<Role, z.ZodOptional<z.ZodObject<{ description: z.ZodString }>>>,
    )
    .default({}),
  announcements_channel: channelId.optional(),
  business_time_zone: z
    .string()
    .refine(
      (zone) => IANAZone.isValidZone(zone),
      'is not a time zone known to this platform (an IANA name such as Europe/Berlin)',
    )
    .default('UTC'),
  alerts: alertsSchema.optional(),
  schedules: schedulesSchema.default({}),
  webhooks: webhooksSchema.default([]),
  status_page: statusPageSchema,
  channel_prefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,19}$/, 'must be 1-20 lowercase letters, digits, - or _ (such as inc)')
    .default('inc'),
  severities: z
    .array(severitySchema)
    .min(1, 'must list at least one severity')
    .max(100, 'must list at most 100 severities')
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((s, i) => {
        const key = s.id.toUpperCase();
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'is listed twice' });
        seen.add(key);
      });
    })
    .default(DEFAULT_SEVERITIES),
});

export interface Severity {
  id: string;
  description: string;
  /** Name of the escalation policy that pages for this severity; none means no paging. */
  escalationPolicy?: string;
  /** Status-update reminder cadence. */
  updateEveryMs?: number;
  /** When the postmortem is due after resolution: a duration, or business days in `businessTimeZone`. */
  postmortemDue?: PostmortemDue;
}

export type PostmortemDue = { ms: number } | { businessDays: number };

export interface EscalationPolicy {
  name: string;
  tiers: { afterMs: number; notify: string[] }[];
  /** How many more times to start over after the last tier. */
  repeat: number;
}

export interface IncidentConfig {
  announcementsChannel: string | undefined;
  escalationPolicies: Record<string, EscalationPolicy>;
  reminders: { missingCommanderAfterMs?: number; deputyCalloutsMs?: number };
  /** User IDs who may do everything a commander may. */
  admins: string[];
  roleDescriptions: Record<Role, string>;
  channelPrefix: string;
  severities: Severity[];
  /** The alert hub; undefined (off) without an `alerts:` section. */
  alerts: AlertsConfig | undefined;
  /** Where business days are counted (postmortem due dates) and follow-up dates live. */
  businessTimeZone: string;
  /** On-call schedules by name; tiers page them as `schedule:<name>`. */
  schedules: Record<string, Schedule>;
  /** Outgoing webhook endpoints. */
  webhooks: WebhookEndpoint[];
  /** The public status page; undefined (its routes off) without a `status_page:` section. */
  statusPage: StatusPageConfig | undefined;
}

/** Parses the YAML config text; `source` names the file in error lines; `env` holds the alert keys. */
export function parseIncidentConfig(
  text: string,
  source: string,
  env: Record<string, string | undefined> = {},
): IncidentConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const line = e.linePos?.[0];
        const reason = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${source}${line ? `:${line.line}:${line.col}` : ''}: not valid YAML (${reason})`;
      }),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([`${source}: must be a YAML mapping of settings (such as channel_prefix: inc)`]);
  }
  const parsed = incidentConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(issuesToLines(`${source}: `, parsed.error, raw, true));
  const unknownPolicies = parsed.data.severities.flatMap((s, i) =>
    s.escalation_policy && !Object.hasOwn(parsed.data.escalation_policies, s.escalation_policy)
      ? [
          `${source}: severities[${i}].escalation_policy: "${s.escalation_policy}" is not a policy in escalation_policies`,
        ]
      : [],
  );
  const resolved = parsed.data.alerts
    ? resolveAlerts(
        parsed.data.alerts,
        {
          severities: parsed.data.severities,
          policies: Object.keys(parsed.data.escalation_policies),
          env,
        },
        (line) => `${source}: ${line}`,
      )
    : undefined;
  const schedules = resolveSchedules(parsed.data.schedules);
  const unknownSchedules = Object.entries(parsed.data.escalation_policies).flatMap(([name, policy]) =>
    policy.tiers.flatMap((tier, t) =>
      tier.notify.flatMap((target, n) => {
        const schedule = target.startsWith(SCHEDULE_TARGET_PREFIX)
          ? target.slice(SCHEDULE_TARGET_PREFIX.length)
          : undefined;
        return schedule !== undefined && !Object.hasOwn(schedules.schedules, schedule)
          ? [
              `${source}: escalation_policies.${name}.tiers[${t}].notify[${n}]: "${target}" names no schedule in schedules`,
            ]
          : [];
      }),
    ),
  );
  const webhooks = resolveWebhooks(parsed.data.webhooks, env);
  const problems = [
    ...unknownPolicies,
    ...webhooks.problems.map((line) => `${source}: ${line}`),
    ...unknownSchedules,
    ...schedules.problems.map((line) => `${source}: ${line}`),
    ...(resolved?.problems ?? []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  const roles = parsed.data.roles as Partial<Record<Role, { description: string } | undefined>>;
  return {
    alerts: resolved?.alerts,
    schedules: byName(schedules.schedules),
    webhooks: webhooks.endpoints,
    statusPage: resolveStatusPage(parsed.data.status_page),
    announcementsChannel: parsed.data.announcements_channel,
    businessTimeZone: parsed.data.business_time_zone,
    admins: parsed.data.admins,
    roleDescriptions: Object.fromEntries(
      ROLES.map((r) => [r, roles[r]?.description ?? DEFAULT_ROLE_DESCRIPTIONS[r]]),
    ) as Record<Role, string>,
    channelPrefix: parsed.data.channel_prefix,
    severities: parsed.data.severities.map((s) => ({
      id: s.id,
      description: s.description,
      ...(s.escalation_policy ? { escalationPolicy: s.escalation_policy } : {}),
      ...(s.update_every !== undefined ? { updateEveryMs: s.update_every } : {}),
      ...(s.postmortem_due !== undefined ? { postmortemDue: s.postmortem_due } : {}),
    })),
    escalationPolicies: byName(
      Object.fromEntries(
        Object.entries(parsed.data.escalation_policies).map(([name, p]) => [
          name,
          { name, repeat: p.repeat, tiers: p.tiers.map((t) => ({ afterMs: t.after, notify: t.notify })) },
        ]),
      ),
    ),
    reminders: {
      ...(parsed.data.reminders.missing_commander_after !== undefined
        ? { missingCommanderAfterMs: parsed.data.reminders.missing_commander_after }
        : {}),
      ...(parsed.data.reminders.deputy_callouts !== undefined
        ? { deputyCalloutsMs: parsed.data.reminders.deputy_callouts }
        : {}),
    },
  };
}

/**
 * A lookup table of config names with no prototype: a name from a message or a URL (`constructor`,
 * `toString`) finds nothing rather than an inherited property.
 */
function byName<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

export const DEFAULT_INCIDENT_CONFIG: IncidentConfig = parseIncidentConfig('{}', 'defaults');

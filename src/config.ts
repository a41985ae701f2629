import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { ROLES, type Role } from './incidents/model.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';

/**
 * Settings come from two places, each parsed once at startup with zod:
 * the environment (secrets, ports, URLs) and the YAML config file (how the team runs incidents).
 * Every problem becomes one line naming the variable or config path, what is wrong and what is expected.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const envSchema = z.object({
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
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID such as C0123ABCD');

/** A duration like `30s`, `5m`, `1h`, `2h30m` or `3d`, as milliseconds. */
const duration = z
  .union([z.string(), z.number()], { error: 'is not a duration like 5m' })
  .transform((v, ctx) => {
    const ms = parseDuration(String(v));
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is not a duration like 5m' });
      return z.NEVER;
    }
    return ms;
  });

const severitySchema = z.strictObject({
  id: z
    .string({ error: 'is required (a short name such as SEV1)' })
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,19}$/, 'must be a short name such as SEV1 (letters, digits, - or _)'),
  description: z.string().trim().min(1, 'must not be empty').max(150, 'must be at most 150 characters'),
  escalation_policy: z.string().min(1).optional(),
  update_every: duration.optional(),
  postmortem_due: duration.optional(),
});

const notifyId = z
  .string()
  .regex(/^[UWS][A-Z0-9]{2,}$/, 'must be a user ID (U…, W…) or a user-group ID (S…)');

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

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a user ID such as U0123ABCD');

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
  /** Postmortem reminder, this long after resolution. */
  postmortemDueMs?: number;
}

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
}

export interface Config {
  slack: {
    botToken: string;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string;
    /** How long one Web API call may take before it counts as failed (and is retried by the job). */
    timeoutMs: number;
  };
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configPath: string | undefined;
  incident: IncidentConfig;
}

/** Formats a zod path like ['severities', 2, 'id'] as `severities[2].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function describeValue(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}… ` : `${text} `;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function issuesToLines(prefix: string, error: z.ZodError, input: unknown, showValues: boolean): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path) || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `${prefix}${where}: unknown setting${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    }
    const shown = showValues ? describeValue(valueAt(input, issue.path)) : '';
    return `${prefix}${where}: ${shown}${issue.message}`;
  });
}

/** Parses the YAML config text; `source` names the file in error lines. */
export function parseIncidentConfig(text: string, source: string): IncidentConfig {
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
    s.escalation_policy && !parsed.data.escalation_policies[s.escalation_policy]
      ? [
          `${source}: severities[${i}].escalation_policy: "${s.escalation_policy}" is not a policy in escalation_policies`,
        ]
      : [],
  );
  if (unknownPolicies.length > 0) throw new ConfigError(unknownPolicies);
  const roles = parsed.data.roles as Partial<Record<Role, { description: string } | undefined>>;
  return {
    announcementsChannel: parsed.data.announcements_channel,
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
      ...(s.postmortem_due !== undefined ? { postmortemDueMs: s.postmortem_due } : {}),
    })),
    escalationPolicies: Object.fromEntries(
      Object.entries(parsed.data.escalation_policies).map(([name, p]) => [
        name,
        { name, repeat: p.repeat, tiers: p.tiers.map((t) => ({ afterMs: t.after, notify: t.notify })) },
      ]),
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

export const DEFAULT_INCIDENT_CONFIG: IncidentConfig = parseIncidentConfig('{}', 'defaults');

export interface LoadOptions {
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
  fileExists?: (path: string) => boolean;
}

/** Reads and validates every setting, collecting all problems before failing. */
export function loadConfig({
  env,
  readFile = (p) => readFileSync(p, 'utf8'),
  fileExists = existsSync,
}: LoadOptions): Config {
  const problems: string[] = [];
  // Empty variables count as unset: `FOO=` in an env file should not mean "the empty string".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  // Values are never echoed for env problems: they may be secrets.
  const parsedEnv = envSchema.safeParse(cleaned);
  if (!parsedEnv.success) problems.push(...issuesToLines('', parsedEnv.error, cleaned, false));
  if (!cleaned.SLACK_APP_TOKEN && !cleaned.SLACK_SIGNING_SECRET) {
    problems.push(
      'SLACK_SIGNING_SECRET: is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }

  let incident = DEFAULT_INCIDENT_CONFIG;
  const explicitPath = cleaned.INCIDENT_CONFIG;
  const configPath =
    explicitPath ?? (fileExists('./incident.config.yml') ? './incident.config.yml' : undefined);
  if (configPath) {
    let text: string | undefined;
    try {
      text = readFile(configPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`INCIDENT_CONFIG: cannot read ${configPath} (${code}); expected a readable YAML file`);
    }
    if (text !== undefined) {
      try {
        incident = parseIncidentConfig(text, configPath);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
    }
  }

  if (problems.length > 0 || !parsedEnv.success) throw new ConfigError(problems);
  const e = parsedEnv.data;
  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
      timeoutMs: e.SLACK_TIMEOUT_MS,
    },
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    configPath,
    incident,
  };
}

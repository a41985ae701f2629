import { existsSync, readFileSync } from 'node:fs';
import type { LogLevel } from '../logger.js';
import { envSchema } from './env.js';
import { DEFAULT_INCIDENT_CONFIG, type IncidentConfig, parseIncidentConfig } from './file.js';
import { ConfigError, issuesToLines } from './problems.js';

/**
 * Settings come from two places, each parsed once at startup with zod: the environment (secrets, ports,
 * URLs; env.ts) and the YAML config file (how the team runs incidents; file.ts). Every problem becomes
 * one line naming the variable or config path, what is wrong and what is expected (problems.ts).
 */

export type { AlertRoute, AlertsConfig, Integration, Matcher, WebhookFields } from './alerts.js';
export {
  DEFAULT_INCIDENT_CONFIG,
  DEFAULT_ROLE_DESCRIPTIONS,
  DEFAULT_SEVERITIES,
  type EscalationPolicy,
  type IncidentConfig,
  type PostmortemDue,
  parseIncidentConfig,
  type Severity,
} from './file.js';
export { ConfigError, formatPath } from './problems.js';
export type { StatusPageConfig } from './statuspage.js';
export type { WebhookEndpoint } from './webhooks.js';

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
  /** The secret of the on-call calendar feeds (GET /oncall/<schedule>.ics); unset, the feeds are off. */
  oncallIcalToken: string | undefined;
  /** The bearer token GET /metrics asks for; unset, it asks for none. */
  metricsToken: string | undefined;
  incident: IncidentConfig;
}

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
        incident = parseIncidentConfig(text, configPath, cleaned);
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
    oncallIcalToken: e.ONCALL_ICAL_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    incident,
  };
}

import pino from 'pino';

/**
 * Structured logs: pino, one JSON object per line on stdout, so `incident_id`, `team_id`, `job_kind` or
 * `job_key` can be queried in a log system. Child loggers carry those fields (`logger.child({ job_kind })`).
 * Bolt and the Web API client log through the same sink (slack/bolt-logger.ts).
 *
 * Secrets never reach the sink: pino's `redact` blanks fields that hold credentials wherever they appear,
 * and every finished line is also scrubbed of anything shaped like a Slack token (xox?-…, xapp-…) and of
 * each registered secret (the signing secret), wherever a library put them (an error message, a URL).
 */

export type Logger = pino.Logger;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// No word boundary before it: in a finished JSON line a token after a newline follows the `n` of `\n`.
const TOKEN_PATTERN = /x(?:ox[a-z]|app)-[A-Za-z0-9-]+/g;
const REDACTED = '[redacted]';
/** Fields that hold credentials, at the top level or one object down. */
const SECRET_FIELDS = [
  'token',
  'authorization',
  'signingSecret',
  'botToken',
  'appToken',
  'secret',
  'password',
];

export function createLogger(options: {
  level: LogLevel;
  secrets?: (string | undefined)[];
  /** Receives each finished line (without its newline); stdout by default. */
  sink?: (line: string) => void;
}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => !!s && s.length >= 6);
  // A secret appears in a JSON line as JSON escapes it.
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
  const scrub = (line: string): string => {
    let out = line.replace(TOKEN_PATTERN, REDACTED);
    for (const needle of needles) out = out.split(needle).join(REDACTED);
    return out;
  };
  const sink = options.sink;
  const destination = {
    write: sink
      ? (line: string) => sink(scrub(line.endsWith('\n') ? line.slice(0, -1) : line))
      : (line: string) => process.stdout.write(scrub(line)),
  };
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `headers.${f}`, `*.headers.${f}`]),
        censor: REDACTED,
      },
    },
    destination,
  );
}

import { type Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/bolt';
import type { LogLevel } from './config.js';

/**
 * One JSON line per log record on stdout. Implements Bolt's Logger so Bolt, the Web API client and our
 * own code share one sink, and every line passes through redaction: Slack tokens (xox?-…, xapp-…) and
 * any registered secret (the signing secret) are replaced before the line is written.
 */

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const TOKEN_PATTERN = /\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g;

export interface Logger extends BoltLogger {
  child(name: string): Logger;
}

export type LogSink = (line: string) => void;

export function createLogger(options: {
  level: LogLevel;
  secrets?: (string | undefined)[];
  sink?: LogSink;
  name?: string;
}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => !!s && s.length >= 6);
  const sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  const state = { level: options.level };

  const redact = (text: string): string => {
    let out = text.replace(TOKEN_PATTERN, '[redacted]');
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };

  const render = (arg: unknown): string => {
    if (arg instanceof Error) return arg.stack ?? `${arg.name}: ${arg.message}`;
    if (typeof arg === 'string') return arg;
    try {
      return JSON.stringify(arg);
    } catch {
      return String(arg);
    }
  };

  const make = (name: string): Logger => {
    const write = (level: LogLevel, args: unknown[]) => {
      if (ORDER[level] < ORDER[state.level]) return;
      const msg = redact(args.map(render).join(' '));
      sink(JSON.stringify({ time: new Date().toISOString(), level, name, msg }));
    };
    return {
      debug: (...args: unknown[]) => write('debug', args),
      info: (...args: unknown[]) => write('info', args),
      warn: (...args: unknown[]) => write('warn', args),
      error: (...args: unknown[]) => write('error', args),
      setLevel: (level: BoltLogLevel) => {
        state.level = level as LogLevel;
      },
      getLevel: () => state.level as BoltLogLevel,
      // Bolt and the Web API client rename the logger they are given; keep our own name instead so that
      // one logger object can be shared.
      setName: () => {},
      child: (child: string) => make(`${name}:${child}`),
    };
  };
  return make(options.name ?? 'incident-bot');
}

export { BoltLogLevel };

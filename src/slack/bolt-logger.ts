import type { Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/bolt';
import type { Logger } from '../logger.js';

/** Bolt's Logger interface over a pino logger: Bolt and the Web API client pass any number of values. */
export function boltLogger(logger: Logger): BoltLogger {
  const line = (values: unknown[]) =>
    values
      .map((v) => (v instanceof Error ? (v.stack ?? v.message) : typeof v === 'string' ? v : safeJson(v)))
      .join(' ');
  return {
    debug: (...values: unknown[]) => {
      if (logger.isLevelEnabled('debug')) logger.debug(line(values));
    },
    info: (...values: unknown[]) => logger.info(line(values)),
    warn: (...values: unknown[]) => logger.warn(line(values)),
    error: (...values: unknown[]) => logger.error(line(values)),
    setLevel: (level: BoltLogLevel) => {
      logger.level = level;
    },
    getLevel: () => logger.level as BoltLogLevel,
    // Bolt and the Web API client name the logger they are given; the component field already says who.
    setName: () => {},
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

import { createLogger, type Logger } from '../../src/logger.js';

/** A logger that keeps its lines for assertions (and prints them when LOG_TESTS is set). */
export function captureLogger(secrets: string[] = []): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    secrets,
    sink: (line) => {
      lines.push(line);
      if (process.env.LOG_TESTS) console.log(line);
    },
  });
  return { logger, lines };
}

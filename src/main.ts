import { startBot } from './bot.js';
import { ConfigError, loadConfig } from './config/index.js';
import { postgresPatchProblem } from './db/postgres-patch.js';
import { PermanentError, RetryableError } from './errors.js';
import { createLogger } from './logger.js';

/** Process entry (`npm start`): fail fast on bad settings with one line per problem, stop cleanly on SIGTERM. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`config error: ${problem}`);
      process.exit(1);
    }
    throw err;
  }
  // The patch guards PostgreSQL connections; embedded PGlite does not use postgres.js.
  const unpatched = config.databaseUrl ? postgresPatchProblem() : undefined;
  if (unpatched) {
    console.error(`startup error: ${unpatched}`);
    process.exit(1);
  }
  const logger = createLogger({
    level: config.logLevel,
    secrets: [
      config.slack.botToken,
      config.slack.signingSecret,
      config.slack.appToken,
      ...(config.incident.alerts?.integrations.map((i) => i.key) ?? []),
      config.oncallIcalToken,
      config.metricsToken,
    ],
  });

  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot({ config, logger });
  } catch (err) {
    if (
      err instanceof PermanentError &&
      ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked'].includes(err.code)
    ) {
      logger.error(
        `SLACK_BOT_TOKEN: Slack rejected the token (${err.code}); expected a valid bot token (xoxb-…)`,
      );
    } else if (err instanceof RetryableError) {
      logger.error(`SLACK_API_URL: cannot reach Slack at ${config.slack.apiUrl} (${err.message})`);
    } else {
      logger.error(`startup failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.exit(1);
  }

  // A rejection nobody handled (a library's detached promise) is logged, not fatal: one bad request must
  // not take every workspace's bot down, and durable jobs do not depend on this process surviving anyway.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    logger.info(`${signal} received, shutting down`);
    bot.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();

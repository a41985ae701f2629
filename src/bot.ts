import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@slack/bolt';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import {
  escalationStepHandler,
  pageDeliveryHandler,
  pageTargetsHandler,
  reminderHandler,
} from './escalation/handlers.js';
import { DELIVER_KIND, PAGE_KIND, REMIND_KIND, STEP_KIND } from './escalation/timers.js';
import { PROVISION_KIND } from './incidents/declare.js';
import { inviteHandler, postHandler, refreshHandler } from './incidents/effects.js';
import { INVITE_KIND, POST_KIND, REFRESH_KIND } from './incidents/run.js';
import { incidentSetupHandler } from './incidents/setup.js';
import type { Logger } from './logger.js';
import { buildApp, createReceiver } from './slack/app.js';
import { SlackGateway } from './slack/gateway.js';
import { TimerEngine } from './timers/engine.js';

/** The composition root: config → database (+ migrations) → Slack gateway → timer engine → Bolt app. */

export interface Bot {
  app: App;
  database: Database;
  engine: TimerEngine;
  slack: SlackGateway;
  /** The HTTP port actually listened on (useful with PORT=0). */
  port: number;
  stop(): Promise<void>;
}

export interface BotOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** An already opened database (tests); otherwise DATABASE_URL or embedded PGlite. */
  database?: Database;
  processBeforeResponse?: boolean;
  /** Tick the timer engine with node-cron (default true). */
  tick?: boolean;
  leaseMs?: number;
}

export async function startBot(options: BotOptions): Promise<Bot> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const database =
    options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  await database.migrate();
  logger.info(
    `database ready (${database.kind}${database.kind === 'pglite' ? ` in ${config.dataDir}` : ''})`,
  );

  const slack = new SlackGateway({
    token: config.slack.botToken,
    apiUrl: config.slack.apiUrl,
    logger,
    timeoutMs: config.slack.timeoutMs,
  });
  let bot: Awaited<ReturnType<SlackGateway['authTest']>>;
  try {
    bot = await slack.authTest();
  } catch (err) {
    if (!options.database) await database.close();
    throw err;
  }

  const effects = {
    db: database.jobs,
    slack,
    config: config.incident,
    clock,
    logger: logger.child('effects'),
  };
  const engine = new TimerEngine({
    db: database.jobs,
    clock,
    logger: logger.child('timers'),
    leaseMs: options.leaseMs,
    handlers: {
      [PROVISION_KIND]: incidentSetupHandler({ ...effects, logger: logger.child('setup') }),
      [REFRESH_KIND]: refreshHandler(effects),
      [POST_KIND]: postHandler(effects),
      [INVITE_KIND]: inviteHandler(effects),
      [STEP_KIND]: escalationStepHandler(effects),
      [PAGE_KIND]: pageTargetsHandler(effects),
      [DELIVER_KIND]: pageDeliveryHandler(effects),
      [REMIND_KIND]: reminderHandler(effects),
    },
  });

  const receiver = createReceiver({
    config,
    logger: logger.child('http'),
    health: database,
    processBeforeResponse: options.processBeforeResponse,
  });
  const app = buildApp({
    receiver,
    config,
    bot: { userId: bot.userId, botId: bot.botId },
    deps: {
      config: config.incident,
      db: database.db,
      clock,
      logger: logger.child('slack'),
      slack,
      kickJobs: () => void engine.kick(),
    },
  });

  const started = (await app.start(config.port)) as unknown;
  // HTTP mode: app.start returns the server. Socket Mode: the receiver's own server serves the health routes.
  const server = config.slack.appToken
    ? (receiver as unknown as { httpServer?: Server }).httpServer
    : (started as Server);
  if (server && !server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const port = (server?.address() as AddressInfo | null)?.port ?? config.port;
  if (options.tick !== false) engine.start();
  // Jobs left by a previous run (or a crashed replica) start now rather than at the first tick.
  void engine.kick();
  logger.info(
    `listening on port ${port} (${config.slack.appToken ? 'Socket Mode' : 'HTTP, POST /slack/events'})`,
  );

  let stopping: Promise<void> | undefined;
  return {
    app,
    database,
    engine,
    slack,
    port,
    stop() {
      stopping ??= (async () => {
        await app.stop().catch((err: unknown) => logger.warn('stopping the receiver:', err));
        await engine.stop();
        if (!options.database) await database.close();
      })();
      return stopping;
    },
  };
}

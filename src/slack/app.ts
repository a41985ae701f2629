import { App, type LogLevel, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { Config } from '../config/index.js';
import type { IncidentDeps } from '../incidents/unit-of-work.js';
import type { Logger } from '../logger.js';
import { boltLogger } from './bolt-logger.js';
import type { SlackGateway } from './gateway.js';
import { registerActions } from './listeners/actions.js';
import { registerAlertActions } from './listeners/alerts.js';
import { registerCommands } from './listeners/commands.js';
import { registerHome } from './listeners/home.js';
import { registerLearn } from './listeners/learn.js';
import { registerOncall } from './listeners/oncall.js';
import { Listeners } from './listeners/registry.js';
import { registerViews } from './listeners/views.js';
import { registerWebhooks } from './listeners/webhooks.js';
import { SlackHttpReceiver } from './receiver.js';

/**
 * Slack as a transport: Bolt with our receiver in HTTP mode (requests arrive on the bot's own HTTP server
 * at POST /slack/events), or Bolt's Socket Mode receiver (a WebSocket to Slack; no public URL).
 */

export interface SlackTransport {
  app: App;
  /** HTTP mode: the handler for POST /slack/events. Socket Mode: undefined. */
  handleEvents: SlackHttpReceiver['handle'] | undefined;
  listeners: Listeners;
}

export function buildSlack(options: {
  config: Config;
  logger: Logger;
  incidents: IncidentDeps;
  slack: SlackGateway;
  bot: { userId: string; botId: string | undefined };
  /** Tests set true so the HTTP response waits for the listener (deterministic assertions). */
  processBeforeResponse?: boolean;
}): SlackTransport {
  const { config, logger } = options;
  const http = config.slack.appToken
    ? undefined
    : new SlackHttpReceiver({
        signingSecret: config.slack.signingSecret ?? '',
        logger: logger.child({ component: 'slack-receiver' }),
        processBeforeResponse: options.processBeforeResponse,
      });
  const receiver: Receiver =
    http ??
    new SocketModeReceiver({
      appToken: config.slack.appToken as string,
      logger: boltLogger(logger.child({ component: 'socket-mode' })),
      installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
    });
  const app = new App({
    receiver,
    token: config.slack.botToken,
    botUserId: options.bot.userId,
    botId: options.bot.botId,
    tokenVerificationEnabled: false,
    // Bolt's conversation store keeps per-conversation state for listeners that use `context.conversation`;
    // none do, and it cost a map lookup and a promise chain on every request.
    convoStore: false,
    logger: boltLogger(logger.child({ component: 'bolt' })),
    // Without it Bolt sets its logger to info, whatever LOG_LEVEL says.
    logLevel: config.logLevel as LogLevel,
    clientOptions: { slackApiUrl: config.slack.apiUrl },
  });
  const listenerLogger = logger.child({ component: 'slack' });
  const listeners = new Listeners(app, listenerLogger);
  const deps = {
    config: config.incident,
    incidents: options.incidents,
    alerts: { db: options.incidents.db, clock: options.incidents.clock, config: config.incident },
    logger: listenerLogger,
    slack: options.slack,
    on: listeners,
  };
  registerCommands(deps);
  registerViews(deps);
  registerActions(deps);
  registerAlertActions(deps);
  registerOncall(deps);
  registerLearn(deps);
  registerHome(deps);
  registerWebhooks(deps);
  return { app, handleEvents: http?.handle, listeners };
}

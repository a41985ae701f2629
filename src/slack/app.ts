import { App, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { CustomRoute } from '@slack/bolt/dist/receivers/custom-routes.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { registerActions } from './listeners/actions.js';
import { registerCommands } from './listeners/commands.js';
import type { ListenerDeps } from './listeners/deps.js';
import { registerUnknownHandler } from './listeners/unknown.js';
import { registerViews } from './listeners/views.js';
import { installReceiverGuards } from './receiver-guards.js';

export interface HealthChecks {
  /** Throws while the database is unreachable or not migrated. */
  ready(): Promise<void>;
}

/** GET /healthz (the process is up) and GET /readyz (the database answers and is migrated). */
export function healthRoutes(health: HealthChecks, logger: Logger): CustomRoute[] {
  const json = (res: import('node:http').ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  return [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => json(res, 200, { status: 'ok' }) },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        health.ready().then(
          () => json(res, 200, { status: 'ready' }),
          (err: unknown) => {
            logger.warn('not ready:', err instanceof Error ? err.message : String(err));
            json(res, 503, { status: 'unavailable', reason: 'database unreachable or not migrated' });
          },
        );
      },
    },
  ];
}

export interface ReceiverOptions {
  config: Config;
  logger: Logger;
  health: HealthChecks;
  /** Tests set true so the HTTP response waits for the listener (deterministic assertions). */
  processBeforeResponse?: boolean;
}

/** HTTP mode serves POST /slack/events; Socket Mode (SLACK_APP_TOKEN set) needs no public URL. Both serve health. */
export function createReceiver(options: ReceiverOptions): Receiver {
  const { config, logger } = options;
  const customRoutes = healthRoutes(options.health, logger);
  if (config.slack.appToken) {
    return new SocketModeReceiver({
      appToken: config.slack.appToken,
      logger,
      customRoutes,
      installerOptions: { port: config.port, clientOptions: { slackApiUrl: config.slack.apiUrl } },
    });
  }
  installReceiverGuards();
  return new HTTPReceiver({
    signingSecret: config.slack.signingSecret ?? '',
    endpoints: '/slack/events',
    processBeforeResponse: options.processBeforeResponse ?? false,
    customRoutes,
    logger,
    // Slack sends small bodies; anything larger is refused with 413 before it is buffered.
    bodyLimit: 1024 * 1024,
  });
}

/** Builds the Bolt app with every listener registered. No side effects until the receiver starts. */
export function buildApp(options: {
  receiver: Receiver;
  config: Config;
  deps: ListenerDeps;
  bot: { userId: string; botId: string | undefined };
}): App {
  const app = new App({
    receiver: options.receiver,
    token: options.config.slack.botToken,
    botUserId: options.bot.userId,
    botId: options.bot.botId,
    tokenVerificationEnabled: false,
    logger: options.deps.logger.child('bolt'),
    clientOptions: { slackApiUrl: options.config.slack.apiUrl },
  });
  registerUnknownHandler(app, options.deps.logger);
  registerCommands(app, options.deps);
  registerViews(app, options.deps);
  registerActions(app, options.deps);
  return app;
}

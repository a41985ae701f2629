import type { App } from '@slack/bolt';
import { groupJobs } from './alerts/groups.js';
import { Inbox } from './alerts/inbox.js';
import { alertIncidentJobs } from './alerts/incidents.js';
import { ingestJobs } from './alerts/ingest.js';
import { pagingJobs } from './alerts/paging.js';
import { renderJobs } from './alerts/render.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config/index.js';
import { type Database, openDatabase } from './db/client.js';
import { pageJobs } from './escalation/pages.js';
import { escalationControl, stepJobs } from './escalation/steps.js';
import { alertRoutes } from './http/alerts.js';
import { healthRoutes } from './http/health.js';
import { metricsRoutes } from './http/metrics.js';
import { oncallRoutes } from './http/oncall.js';
import { type HttpServer, type Route, startHttpServer } from './http/server.js';
import { statusPageRoutes } from './http/statuspage.js';
import { followupJobs } from './incidents/followups.js';
import { notifyJobs } from './incidents/notify.js';
import { reminderJobs } from './incidents/reminders.js';
import { setupJobs } from './incidents/setup.js';
import type { IncidentDeps } from './incidents/unit-of-work.js';
import { JobEngine } from './jobs/engine.js';
import { registerDatabaseMetrics } from './learn/metrics.js';
import { postmortemJobs } from './learn/postmortems.js';
import { statsJobs } from './learn/stats.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { oncallJobs, startOncall } from './oncall/handoffs.js';
import { buildSlack } from './slack/app.js';
import { SlackChat } from './slack/chat.js';
import { SlackGateway } from './slack/gateway.js';
import { startWebhooks, webhookJobs } from './webhooks/deliveries.js';

/**
 * The composition root, the one place that knows every part: config → database (+ migrations) → Slack
 * gateway → capabilities and their jobs → job engine → transports (Slack, HTTP). Everything else gets
 * what it needs as parameters.
 */

export interface Bot {
  app: App;
  database: Database;
  engine: JobEngine;
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
  /** Tick the job engine with node-cron every second (default true); commits wake it either way. */
  tick?: boolean;
  leaseMs?: number;
  /** How many received alert notifications may wait before the alert endpoints answer 503 (tests). */
  alertInboxBound?: number;
}

export async function startBot(options: BotOptions): Promise<Bot> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  // What /metrics serves: this process's counts, and the database's figures read at each scrape.
  const metrics = new Metrics();
  const slack = new SlackGateway({
    token: config.slack.botToken,
    apiUrl: config.slack.apiUrl,
    logger,
    timeoutMs: config.slack.timeoutMs,
    metrics,
  });
  // Who the bot is, asked while the database opens and migrates: a start waits for the slower of the
  // two rather than for both in turn (a replica's first job comes that much sooner).
  const identity = slack.authTest();
  identity.catch(() => {}); // awaited below, unless the database fails first
  const database =
    options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  await database.migrate();
  logger.info(
    `database ready (${database.kind}${database.kind === 'pglite' ? ` in ${config.dataDir}` : ''})`,
  );
  registerDatabaseMetrics(metrics, { db: database.db, clock });
  let bot: Awaited<typeof identity>;
  try {
    bot = await identity;
  } catch (err) {
    if (!options.database) await database.close();
    throw err;
  }

  // Capabilities: incidents, with escalation plugged in; both reach Slack only through the chat port.
  const chat = new SlackChat(slack, config.incident);
  const incidents: IncidentDeps = {
    db: database.db,
    clock,
    config: config.incident,
    escalation: escalationControl(config.incident),
    // A declaration's setup job goes straight to this process's engine (built below, with the handlers
    // that need these deps; nothing declares before the bot has started).
    jobs: { leaseNewJob: () => engine.leaseNewJob(), runLeasedJob: (job) => engine.runLeasedJob(job) },
  };
  const jobDeps = { db: database.jobs, chat, clock, config: config.incident };
  const engine = new JobEngine({
    db: database.jobs,
    clock,
    logger: logger.child({ component: 'jobs' }),
    leaseMs: options.leaseMs,
    jobs: [
      ...setupJobs(jobDeps),
      ...notifyJobs(jobDeps),
      ...reminderJobs(jobDeps),
      ...stepJobs(jobDeps),
      ...pageJobs(jobDeps),
      ...ingestJobs(jobDeps),
      ...renderJobs(jobDeps),
      ...groupJobs(jobDeps),
      ...pagingJobs(jobDeps),
      ...alertIncidentJobs({ ...jobDeps, incidents: { ...incidents, db: database.jobs } }),
      ...oncallJobs(jobDeps),
      ...followupJobs(jobDeps),
      ...postmortemJobs(jobDeps),
      ...statsJobs(jobDeps),
      ...webhookJobs({ ...jobDeps, logger: logger.child({ component: 'webhooks' }) }),
    ],
  });

  // Transports.
  const transport = buildSlack({
    config,
    logger,
    incidents,
    slack,
    bot: { userId: bot.userId, botId: bot.botId },
    processBeforeResponse: options.processBeforeResponse,
  });
  const routes: Route[] = [...healthRoutes(database, logger.child({ component: 'http' }))];
  if (transport.handleEvents)
    routes.push({ method: 'POST', path: '/slack/events', handle: transport.handleEvents });
  // The alert hub, when the config file has an alerts section.
  const hub = config.incident.alerts;
  const inbox = hub
    ? new Inbox(database.db, logger.child({ component: 'alerts' }), options.alertInboxBound)
    : undefined;
  if (hub && inbox) {
    await inbox.start();
    routes.push(
      ...alertRoutes({
        hub,
        store: { db: database.db, clock },
        inbox,
        logger: logger.child({ component: 'alerts' }),
        metrics,
      }),
    );
  }
  if (config.incident.statusPage)
    routes.push(...statusPageRoutes({ page: { db: database.db, config: config.incident, clock } }));
  routes.push(
    ...metricsRoutes({ metrics, token: config.metricsToken, logger: logger.child({ component: 'metrics' }) }),
  );
  if (config.oncallIcalToken)
    routes.push(
      ...oncallRoutes({
        oncall: { db: database.db, config: config.incident, clock },
        token: config.oncallIcalToken,
        logger: logger.child({ component: 'oncall' }),
      }),
    );
  let server: HttpServer;
  try {
    server = await startHttpServer({
      port: config.port,
      routes,
      logger: logger.child({ component: 'http' }),
      metrics,
    });
    await transport.app.start();
  } catch (err) {
    if (!options.database) await database.close();
    throw err;
  }

  // Without LISTEN (a connection pooler that does not pass it on) jobs still run, from the next tick.
  await engine
    .listen((channel, onSignal) => database.listen(channel, onSignal))
    .catch((err: unknown) =>
      logger.warn({ err }, 'cannot LISTEN for new jobs; they will start at the next tick'),
    );
  // Handoffs missed while the bot was down are done now, the next ones armed, user groups reconciled.
  await startOncall({ db: database.db, clock, config: config.incident });
  await startWebhooks({ db: database.db, clock, config: config.incident });
  if (options.tick !== false) engine.start();
  // Jobs left by a previous run (or a crashed replica) start now rather than at the first tick.
  void engine.kick();
  logger.info(
    `listening on port ${server.port} (${config.slack.appToken ? 'Socket Mode' : 'HTTP, POST /slack/events'})`,
  );

  let stopping: Promise<void> | undefined;
  return {
    app: transport.app,
    database,
    engine,
    slack,
    port: server.port,
    stop() {
      stopping ??= (async () => {
        inbox?.stop();
        await server.close().catch((err: unknown) => logger.warn({ err }, 'stopping the HTTP server'));
        await transport.app.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the receiver'));
        await engine.stop();
        if (!options.database) await database.close();
      })();
      return stopping;
    },
  };
}

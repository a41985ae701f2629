import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlertEvent } from '../alerts/event.js';
import type { Inbox } from '../alerts/inbox.js';
import { type ReceiveDeps, receiveAlerts } from '../alerts/ingest.js';
import { ALERT_BODY_LIMIT } from '../alerts/model.js';
import { normalizeAlertmanager } from '../alerts/sources/alertmanager.js';
import { pagerDutyAnswer, parsePagerDuty } from '../alerts/sources/pagerduty.js';
import { normalizeWebhook } from '../alerts/sources/webhook.js';
import type { AlertsConfig, Integration } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { readBody } from './body.js';
import { bearer, sameSecret } from './secrets.js';
import type { Route } from './server.js';

/**
 * The alert endpoints. Store first, answer second: a 2xx means the notification is committed to
 * PostgreSQL. 401 for a wrong key (compared in constant time, never logged), 404 for an unknown
 * integration, 400 naming what is malformed, 413 over the size limit, and 503 with Retry-After while the
 * database is unavailable or the inbox is full. Never 429: Alertmanager drops any 4xx for good.
 *
 * - POST /alerts/<integration> with `Authorization: Bearer <key>`, or POST /alerts/<integration>/<key>
 *   for senders that can only set a URL: Alertmanager's and Grafana's webhooks, or a generic webhook.
 * - POST /v2/enqueue: PagerDuty's Events API v2, answered as PagerDuty answers.
 */

export interface AlertRouteDeps {
  hub: AlertsConfig;
  /** Counts notifications by integration and outcome. */
  metrics?: Metrics;
  /** What receiving needs (the database, the clock): handed on, never used here. */
  store: ReceiveDeps;
  inbox: Inbox;
  logger: Logger;
}

const RETRY_AFTER_S = 5;

/** The outcome label of each answer. */
const OUTCOMES: Record<number, string> = {
  202: 'accepted',
  400: 'invalid',
  401: 'unauthorized',
  404: 'unknown_integration',
  413: 'too_large',
  503: 'unavailable',
};

const json = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};

function normalize(integration: Integration, body: unknown) {
  switch (integration.type) {
    case 'alertmanager':
      return normalizeAlertmanager(body);
    case 'webhook':
      return normalizeWebhook(body, integration.fields ?? { dedupKey: 'id', summary: 'summary' });
    case 'pagerduty':
      return { ok: false as const, errors: ['PagerDuty events go to POST /v2/enqueue'] };
  }
}

export function alertRoutes(deps: AlertRouteDeps): Route[] {
  const { hub, logger } = deps;

  /** Commits the notification; answers `accepted` after the commit, 503 if it cannot be kept. */
  async function keep(
    res: ServerResponse,
    integration: Integration,
    events: AlertEvent[],
    truncated: number,
    accepted: () => void,
    unavailable: (reason: string) => object,
  ) {
    try {
      await receiveAlerts(deps.store, { integration: integration.name, events, truncated });
    } catch (err) {
      logger.error({ err, integration: integration.name }, 'could not store received alerts');
      json(res, 503, unavailable('the database is unavailable'), { 'retry-after': String(RETRY_AFTER_S) });
      return;
    }
    deps.metrics?.alertsReceived.inc({ integration: integration.name }, events.length);
    accepted();
  }

  async function webhook(
    req: IncomingMessage,
    res: ServerResponse,
    params: Record<string, string>,
    seen: { integration?: string },
  ) {
    const integration = hub.integrations.find((i) => i.name === params.integration);
    if (!integration) return json(res, 404, { error: `no integration named "${params.integration}"` });
    seen.integration = integration.name;
    if (integration.type === 'pagerduty')
      return json(res, 404, {
        error: `integration "${integration.name}" takes PagerDuty events at POST /v2/enqueue`,
      });
    const given = params.key ?? bearer(req);
    if (!given || !sameSecret(given, integration.key)) {
      logger.warn({ integration: integration.name }, 'alert refused: wrong or missing key');
      return json(
        res,
        401,
        { error: 'wrong or missing key (Authorization: Bearer <key>, or POST /alerts/<integration>/<key>)' },
        { 'www-authenticate': 'Bearer' },
      );
    }
    const refusal = deps.inbox.refusal();
    if (refusal)
      return json(
        res,
        503,
        { error: `try again later: ${refusal}` },
        { 'retry-after': String(RETRY_AFTER_S) },
      );
    const text = await readBody(req, ALERT_BODY_LIMIT);
    if (text === 'too_large')
      return json(res, 413, { error: `body over ${ALERT_BODY_LIMIT} bytes` }, { connection: 'close' });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return json(res, 400, {
        error: `body is not JSON (${err instanceof Error ? err.message : String(err)})`,
      });
    }
    const normalized = normalize(integration, body);
    if (!normalized.ok) return json(res, 400, { error: 'malformed body', problems: normalized.errors });
    await keep(
      res,
      integration,
      normalized.events,
      normalized.truncated,
      () => json(res, 202, { status: 'accepted', alerts: normalized.events.length }),
      (reason) => ({ error: `try again later: ${reason}` }),
    );
  }

  const pagerduty = hub.integrations.filter((i) => i.type === 'pagerduty');

  async function enqueue(req: IncomingMessage, res: ServerResponse, seen: { integration?: string }) {
    const text = await readBody(req, ALERT_BODY_LIMIT);
    if (text === 'too_large')
      return json(res, 413, pagerDutyAnswer.invalid(['Event object is too large']), { connection: 'close' });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(res, 400, pagerDutyAnswer.unreadable());
    }
    const parsed = parsePagerDuty(body);
    if (!parsed.ok) return json(res, 400, pagerDutyAnswer.invalid(parsed.errors));
    // Every key is compared, so the time taken says nothing about which one nearly matched.
    const matches = pagerduty.filter((i) => sameSecret(parsed.pd.routingKey, i.key));
    const integration = matches[0];
    seen.integration = integration?.name;
    if (!integration) {
      logger.warn('PagerDuty event refused: unknown routing key');
      return json(res, 400, pagerDutyAnswer.invalid(["'routing_key' is not the key of an integration here"]));
    }
    const refusal = deps.inbox.refusal();
    const busy = (reason: string) => ({
      status: 'unavailable',
      message: `Try again later: ${reason}`,
      errors: [reason],
    });
    if (refusal) return json(res, 503, busy(refusal), { 'retry-after': String(RETRY_AFTER_S) });
    await keep(
      res,
      integration,
      [parsed.pd.event],
      0,
      () => json(res, 202, pagerDutyAnswer.accepted(parsed.pd.dedupKey)),
      busy,
    );
  }

  /** Runs a handler, then counts its answer by integration (a configured one, else `unknown`) and outcome. */
  const counted =
    (
      handler: (
        req: IncomingMessage,
        res: ServerResponse,
        params: Record<string, string>,
        seen: { integration?: string },
      ) => Promise<void>,
    ) =>
    async (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => {
      const seen: { integration?: string } = {};
      try {
        await handler(req, res, params, seen);
      } finally {
        deps.metrics?.alertNotifications.inc({
          integration: seen.integration ?? 'unknown',
          outcome: OUTCOMES[res.statusCode] ?? `http_${res.statusCode}`,
        });
      }
    };

  return [
    { method: 'POST', path: '/alerts/:integration', handle: counted(webhook) },
    { method: 'POST', path: '/alerts/:integration/:key', handle: counted(webhook) },
    { method: 'POST', path: '/v2/enqueue', handle: counted((req, res, _p, seen) => enqueue(req, res, seen)) },
  ];
}

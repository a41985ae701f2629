import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { IncidentConfig, WebhookEndpoint } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { PermanentError, RetryableError, UserError } from '../errors.js';
import {
  ensureScheduled,
  handle,
  type JobBinding,
  jobKey,
  jobType,
  schedule,
  scheduleOnce,
} from '../jobs/job.js';
import type { Logger } from '../logger.js';
import { buildEvent } from './events.js';
import { WEBHOOK_BACKOFF_MS, WEBHOOK_DATA_VERSION, type WebhookEvent } from './model.js';
import { postWebhook, RefusedAddress } from './send.js';
import { signatureHeaders } from './sign.js';
import { type DeliveryRow, webhookDeliveries, webhookOutbox, webhookSettings } from './tables.js';

/**
 * From the outbox to the endpoints. The drain job (every second while webhooks are on) turns outbox rows
 * into deliveries — one per endpoint that wants the event, each with its own `webhook-id` — and removes
 * them, in one transaction. A delivery is a job: POST, signed afresh each attempt (the timestamp is the
 * attempt's) with the same id; only a 2xx counts; otherwise it is tried again after 5 s, 5 m, 30 m, 2 h,
 * 5 h, 10 h and 10 h, then given up and logged. `/incident webhooks` shows them, with Redeliver.
 */

export const drainJob = jobType('webhooks.drain', z.object({}));
export const deliverJob = jobType('webhooks.deliver', z.object({ deliveryId: z.string() }));

const DRAIN_KEY = jobKey('webhooks', 'drain');
const deliverKey = (id: string) => jobKey('webhooks', 'delivery', id);
const DRAIN_EVERY_MS = 1000;
const DRAIN_BATCH = 200;

export interface WebhookDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
  logger: Logger;
}

const newId = () => `msg_${randomUUID().replace(/-/g, '')}`;

/** The body as signed and sent: `{ id, type, timestamp, data }`. */
const envelope = (id: string, type: WebhookEvent, at: Date, data: Record<string, unknown>) =>
  JSON.stringify({ id, type, timestamp: at.toISOString(), data });

async function queueDelivery(
  tx: Tx,
  endpoint: WebhookEndpoint,
  type: WebhookEvent,
  at: Date,
  data: Record<string, unknown>,
  now: Date,
) {
  const id = newId();
  await tx.insert(webhookDeliveries).values({
    id,
    endpoint: endpoint.url,
    eventType: type,
    body: envelope(id, type, at, data),
    createdAt: now,
  });
  await scheduleOnce(tx, deliverJob, { key: deliverKey(id), dueAt: now, payload: { deliveryId: id } }, now);
}

/** At startup: whether the outbox is written at all, and the drain running when it is. */
export async function startWebhooks(deps: Pick<WebhookDeps, 'db' | 'clock' | 'config'>): Promise<void> {
  const enabled = deps.config.webhooks.length > 0;
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    await tx
      .insert(webhookSettings)
      .values({ id: 1, enabled })
      .onConflictDoUpdate({ target: webhookSettings.id, set: { enabled } });
    if (enabled) await ensureScheduled(tx, drainJob, { key: DRAIN_KEY, dueAt: now, payload: {} }, now);
  });
}

/** `/incident webhooks ping`: a ping to every endpoint. */
export async function pingEndpoints(
  deps: Pick<WebhookDeps, 'db' | 'clock' | 'config'>,
  actorId: string,
): Promise<number> {
  if (!deps.config.admins.includes(actorId))
    throw new UserError('forbidden', 'Only admins can ping the webhooks.');
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    for (const endpoint of deps.config.webhooks)
      if (endpoint.events.includes('ping'))
        await queueDelivery(
          tx,
          endpoint,
          'ping',
          now,
          { version: WEBHOOK_DATA_VERSION, actor_id: actorId },
          now,
        );
  });
  return deps.config.webhooks.filter((e) => e.events.includes('ping')).length;
}

/** `/incident webhooks`: the latest deliveries (admins only). */
export async function recentDeliveries(
  deps: Pick<WebhookDeps, 'db' | 'config'>,
  actorId: string,
  limit = 20,
): Promise<DeliveryRow[]> {
  if (!deps.config.admins.includes(actorId))
    throw new UserError('forbidden', 'Only admins can see the webhook deliveries.');
  return deps.db
    .select()
    .from(webhookDeliveries)
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
}

/** Redeliver: the same delivery (the same webhook-id) tried again from now, its attempts counted afresh. */
export async function redeliver(
  deps: Pick<WebhookDeps, 'db' | 'clock' | 'config'>,
  input: { deliveryId: string; actorId: string },
) {
  if (!deps.config.admins.includes(input.actorId))
    throw new UserError('forbidden', 'Only admins can redeliver webhooks.');
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending', attempts: 0 })
      .where(eq(webhookDeliveries.id, input.deliveryId))
      .returning();
    if (!row) throw new UserError('not_found', 'That delivery no longer exists.');
    await schedule(
      tx,
      deliverJob,
      { key: deliverKey(row.id), dueAt: now, payload: { deliveryId: row.id } },
      now,
    );
    return row;
  });
}

export function webhookJobs(deps: WebhookDeps): JobBinding[] {
  const { db, clock, config } = deps;
  const endpointOf = (url: string) => config.webhooks.find((e) => e.url === url);
  return [
    handle(drainJob, {
      async run() {
        const now = clock.now();
        await db.transaction(async (tx) => {
          const rows = await tx
            .select()
            .from(webhookOutbox)
            .orderBy(asc(webhookOutbox.id))
            .limit(DRAIN_BATCH)
            .for('update', { skipLocked: true });
          for (const row of rows) {
            const built = await buildEvent(tx, row);
            if (!built) continue;
            for (const endpoint of config.webhooks) {
              if (!endpoint.events.includes(built.type)) continue;
              if (built.private && !endpoint.includePrivate) continue;
              await queueDelivery(tx, endpoint, built.type, built.at, built.data, now);
            }
          }
          if (rows.length > 0)
            await tx.delete(webhookOutbox).where(
              inArray(
                webhookOutbox.id,
                rows.map((r) => r.id),
              ),
            );
          // A full batch: more are waiting, drain again at once; otherwise look again in a second.
          const next = rows.length === DRAIN_BATCH ? now : new Date(now.getTime() + DRAIN_EVERY_MS);
          if (config.webhooks.length > 0)
            await schedule(tx, drainJob, { key: DRAIN_KEY, dueAt: next, payload: {} }, now);
        });
      },
    }),

    handle(deliverJob, {
      async run(p, ctx) {
        const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, p.deliveryId));
        if (row?.status !== 'pending') return;
        const endpoint = endpointOf(row.endpoint);
        // What this attempt writes applies only to the delivery as it read it: a Redeliver clicked while it
        // was in flight (attempts counted afresh) is not undone by its outcome; the Redeliver's run follows.
        const asRead = and(
          eq(webhookDeliveries.id, row.id),
          eq(webhookDeliveries.status, 'pending'),
          eq(webhookDeliveries.attempts, row.attempts),
        );
        const finish = (values: Partial<DeliveryRow>) =>
          db.update(webhookDeliveries).set(values).where(asRead);
        if (!endpoint) {
          await finish({ status: 'failed', lastError: 'the endpoint is no longer in the config' });
          return;
        }
        const now = clock.now();
        const attempts = row.attempts + 1;
        let status: number | undefined;
        let error: string | undefined;
        try {
          status = (
            await postWebhook(
              row.endpoint,
              row.body,
              signatureHeaders(endpoint.key, { id: row.id, timestamp: now, body: row.body }),
              {
                allowPrivate: endpoint.allowPrivate,
              },
            )
          ).status;
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
          if (err instanceof RefusedAddress) {
            await finish({ status: 'failed', attempts, lastError: `refused: ${error}`, lastAttemptAt: now });
            ctx.log.warn(
              { endpoint_host: new URL(row.endpoint).host, delivery: row.id },
              `webhook refused: ${error}`,
            );
            return;
          }
        }
        if (status !== undefined && status >= 200 && status < 300) {
          await finish({
            status: 'delivered',
            attempts,
            lastStatus: status,
            lastError: null,
            lastAttemptAt: now,
            deliveredAt: now,
          });
          return;
        }
        const why = error ?? `HTTP ${status}`;
        const wait = WEBHOOK_BACKOFF_MS[attempts - 1];
        if (wait === undefined) {
          await finish({
            status: 'failed',
            attempts,
            lastStatus: status ?? null,
            lastError: why,
            lastAttemptAt: now,
          });
          ctx.log.warn(
            { endpoint_host: new URL(row.endpoint).host, delivery: row.id, attempts },
            `webhook given up after ${attempts} attempts: ${why}`,
          );
          return;
        }
        await db
          .update(webhookDeliveries)
          .set({ attempts, lastStatus: status ?? null, lastError: why, lastAttemptAt: now })
          .where(asRead);
        throw new RetryableError(`webhook to ${new URL(row.endpoint).host}: ${why}`, wait);
      },
      async onGiveUp(p, error) {
        await db
          .update(webhookDeliveries)
          .set({ status: 'failed', lastError: error instanceof PermanentError ? error.code : error.message })
          .where(and(eq(webhookDeliveries.id, p.deliveryId), eq(webhookDeliveries.status, 'pending')));
      },
    }),
  ];
}

export type { DeliveryRow };

import { bigint, bigserial, boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { DeliveryStatus } from './model.js';

/**
 * Webhooks' own tables. Only webhooks/ imports this file (the dependency rules say so).
 *
 * The outbox is written by database triggers in the very transaction that changes an incident (a timeline
 * event) or an alert group: nothing committed can miss its webhook, and nothing rolled back sends one.
 * A drain job turns outbox rows into deliveries, one per endpoint that wants the event.
 */

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * One row: whether any endpoint is configured (set at every start). The outbox triggers write nothing
 * while it is off, so a deployment without webhooks pays one indexed lookup per event and stores nothing.
 */
export const webhookSettings = pgTable('webhook_settings', {
  id: integer('id').primaryKey(),
  enabled: boolean('enabled').notNull(),
});

export const webhookOutbox = pgTable('webhook_outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  /** `timeline` (ref: a timeline event id) or an alert group event (`alert_group.opened` …; ref: its id). */
  source: text('source').notNull(),
  ref: bigint('ref', { mode: 'number' }).notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

/** One event to one endpoint: the body as signed, and how delivering it went. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    /** The webhook-id, the same on every attempt (`msg_…`). */
    id: text('id').primaryKey(),
    endpoint: text('endpoint').notNull(),
    eventType: text('event_type').notNull(),
    body: text('body').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: tstz('created_at').notNull(),
    lastAttemptAt: tstz('last_attempt_at'),
    deliveredAt: tstz('delivered_at'),
  },
  (t) => [index('webhook_deliveries_created_idx').on(t.createdAt)],
);

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

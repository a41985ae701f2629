import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { AlertLink } from './event.js';
import type { AlertSeverity, AlertStatus } from './model.js';

/**
 * The alert hub's own tables. Only alerts/ imports this file (the dependency rules say so); other
 * capabilities read alerts through alerts/queries.ts.
 */

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const GROUP_STATUSES = ['open', 'resolved'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

/**
 * Alerts that belong together (same route, same values of the group_by labels): one Slack message each.
 * At most one group is open per key, which the database enforces.
 */
export const alertGroups = pgTable(
  'alert_groups',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The route (its index in alerts.routes, -1 for none) and the group_by label values. */
    groupKey: text('group_key').notNull(),
    routeIndex: integer('route_index').notNull(),
    /** The group_by labels and their values. */
    groupLabels: jsonb('group_labels').$type<Record<string, string>>().notNull(),
    title: text('title').notNull(),
    /** Where the group's message is (the route's channel, else the hub's). */
    channelId: text('channel_id').notNull(),
    status: text('status').$type<GroupStatus>().notNull().default('open'),
    /** The worst severity among its alerts. */
    severity: text('severity').$type<AlertSeverity>().notNull(),
    firingCount: integer('firing_count').notNull().default(0),
    alertCount: integer('alert_count').notNull().default(0),
    /** Alerts senders left out of their notifications (Alertmanager's max_alerts), last reported. */
    truncated: integer('truncated').notNull().default(0),
    flaps: integer('flaps').notNull().default(0),
    openedAt: tstz('opened_at').notNull(),
    resolvedAt: tstz('resolved_at'),
    acknowledgedAt: tstz('acknowledged_at'),
    /** A user id, or `integration:<name>` for a PagerDuty acknowledge event. */
    acknowledgedBy: text('acknowledged_by'),
    silencedUntil: tstz('silenced_until'),
    /** The incident declared for the group, if any. */
    incidentId: uuid('incident_id'),
    /** The group's Slack message, once posted. */
    messageTs: text('message_ts'),
    /** When the message was last posted or edited: edits are at most one per 5 s. */
    renderedAt: tstz('rendered_at'),
    /** The last alert event told in the message's thread. */
    threadCursor: bigint('thread_cursor', { mode: 'number' }).notNull().default(0),
    /** The last alert event told in the linked incident's channel, and when (relays are coalesced). */
    incidentCursor: bigint('incident_cursor', { mode: 'number' }).notNull().default(0),
    relayedAt: tstz('relayed_at'),
    /** Paging for the group (its route's escalation policy): which, since when, and the next step. */
    escalationPolicy: text('escalation_policy'),
    escalationStartedAt: tstz('escalation_started_at'),
    escalationStep: integer('escalation_step').notNull().default(0),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('alert_groups_open_key_uq').on(t.groupKey).where(sql`${t.status} = 'open'`),
    index('alert_groups_status_idx').on(t.status, t.id),
    index('alert_groups_incident_idx').on(t.incidentId),
  ],
);

/** One alert: an integration's dedup key while it is open (and, within reopen_within of resolving, after). */
export const alerts = pgTable(
  'alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    groupId: bigint('group_id', { mode: 'number' })
      .notNull()
      .references(() => alertGroups.id, { onDelete: 'cascade' }),
    integration: text('integration').notNull(),
    dedupKey: text('dedup_key').notNull(),
    status: text('status').$type<AlertStatus>().notNull(),
    severity: text('severity').$type<AlertSeverity>().notNull(),
    summary: text('summary').notNull(),
    source: text('source'),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    links: jsonb('links').$type<AlertLink[]>().notNull(),
    /** As the sender reported them. */
    startedAt: tstz('started_at'),
    endedAt: tstz('ended_at'),
    firstSeenAt: tstz('first_seen_at').notNull(),
    lastSeenAt: tstz('last_seen_at').notNull(),
    /** When the last report applied to it was received: an older report never undoes a newer one. */
    lastReportAt: tstz('last_report_at').notNull(),
    resolvedAt: tstz('resolved_at'),
    acknowledgedAt: tstz('acknowledged_at'),
    occurrences: integer('occurrences').notNull().default(1),
    flaps: integer('flaps').notNull().default(0),
  },
  (t) => [
    uniqueIndex('alerts_open_key_uq').on(t.integration, t.dedupKey).where(sql`${t.status} <> 'resolved'`),
    index('alerts_key_resolved_idx').on(t.integration, t.dedupKey, t.resolvedAt),
    index('alerts_group_idx').on(t.groupId),
  ],
);

export const ALERT_EVENT_KINDS = ['fired', 'reopened', 'acknowledged', 'resolved', 'paged'] as const;
export type AlertEventKind = (typeof ALERT_EVENT_KINDS)[number];

/** What a `paged` event says: which tier, and who. */
export interface PagedData {
  label: string;
  users: string[];
  /** Nobody to page: the tier paged at once instead, or null. */
  skippedTo?: string | null;
}

/** What changed in a group, in order: the thread under its message tells these, coalesced. */
export const alertEvents = pgTable(
  'alert_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    groupId: bigint('group_id', { mode: 'number' })
      .notNull()
      .references(() => alertGroups.id, { onDelete: 'cascade' }),
    /** The alert it is about; none for what happened to the whole group (a page). */
    alertId: bigint('alert_id', { mode: 'number' }).references(() => alerts.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<AlertEventKind>().notNull(),
    at: tstz('at').notNull(),
    data: jsonb('data').$type<PagedData>(),
  },
  (t) => [index('alert_events_group_idx').on(t.groupId, t.id)],
);

/** When the next new message may go to a channel: Slack takes about one per second per channel. */
export const channelPace = pgTable('alert_channel_pace', {
  channelId: text('channel_id').primaryKey(),
  nextAt: tstz('next_at').notNull(),
});

export type AlertGroupRow = typeof alertGroups.$inferSelect;
export type AlertRow = typeof alerts.$inferSelect;

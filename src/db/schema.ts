import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type {
  FollowupStatus,
  IncidentStatus,
  PostmortemStatus,
  Role,
  UpdateAudience,
} from '../incidents/model.js';
import type { ComponentImpact } from '../statuspage/model.js';
import type { TimelineKind } from '../timeline/model.js';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** One row per workspace: the last incident number handed out (gapless, see declare). */
export const teamCounters = pgTable('team_counters', {
  teamId: text('team_id').primaryKey(),
  lastNumber: integer('last_number').notNull(),
});

export const incidents = pgTable(
  'incidents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    teamId: text('team_id').notNull(),
    /**
     * Per-workspace number, 1, 2, 3 … The declaring transaction inserts 0 and takes the real number last,
     * so the workspace's counter row stays locked for as short a time as possible (0 is outside the
     * unique index).
     */
    number: integer('number').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull().default(''),
    severity: text('severity').notNull(),
    status: text('status').$type<IncidentStatus>().notNull().default('investigating'),
    isPrivate: boolean('is_private').notNull().default(false),
    isTest: boolean('is_test').notNull().default(false),
    reporterId: text('reporter_id').notNull(),
    /** Where /incident was typed; may be a DM or a channel the bot is not in. */
    sourceChannelId: text('source_channel_id'),
    /** Idempotency key of the declaration (the modal's view.id): a retried submission finds its incident. */
    declareKey: text('declare_key').notNull(),
    /** The channel name the bot intends to use (recorded before conversations.create is called). */
    channelName: text('channel_name').notNull(),
    channelId: text('channel_id'),
    cardTs: text('card_ts'),
    announcementChannelId: text('announcement_channel_id'),
    announcementTs: text('announcement_ts'),
    // Setup steps after the channel and card: true once settled, i.e. done or failed for good (the timeline
    // says which). A retried setup job skips settled steps, so nothing is done twice.
    invitesSettled: boolean('invites_settled').notNull().default(false),
    topicSettled: boolean('topic_settled').notNull().default(false),
    pinSettled: boolean('pin_settled').notNull().default(false),
    announceSettled: boolean('announce_settled').notNull().default(false),
    notifySettled: boolean('notify_settled').notNull().default(false),
    /** Per-incident task numbers (1, 2, 3 …), incremented under the incident's row lock. */
    lastTaskNumber: integer('last_task_number').notNull().default(0),
    lastUpdateAt: tstz('last_update_at'),
    /** The next status update the last one promised. */
    nextUpdateAt: tstz('next_update_at'),
    resolutionSummary: text('resolution_summary'),
    /** The topic last set on the channel, so a refresh calls conversations.setTopic (Tier 2) only on change. */
    lastTopic: text('last_topic'),
    declaredAt: tstz('declared_at').notNull(),
    acknowledgedAt: tstz('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    /** The escalation policy whose steps are planned (none: no paging), and how many steps have paged. */
    escalationPolicy: text('escalation_policy'),
    escalationStartedAt: tstz('escalation_started_at'),
    escalationStep: integer('escalation_step').notNull().default(0),
    /** Unresolved alerts of the alert groups declared as this incident; none linked: null. */
    alertsFiring: integer('alerts_firing'),
    mitigatedAt: tstz('mitigated_at'),
    resolvedAt: tstz('resolved_at'),
    /** How often it was reopened after a resolve (resolvedAt is the final resolve). */
    reopenCount: integer('reopen_count').notNull().default(0),
    /** The postmortem: its owner (none: the commander), review status (none: not started), due date. */
    postmortemOwnerId: text('postmortem_owner_id'),
    postmortemStatus: text('postmortem_status').$type<PostmortemStatus>(),
    postmortemDueAt: tstz('postmortem_due_at'),
    /** The channel canvas the postmortem lives in, once made. */
    postmortemCanvasId: text('postmortem_canvas_id'),
    /** Per-incident follow-up numbers (1, 2, 3 …), incremented under the incident's row lock. */
    lastFollowupNumber: integer('last_followup_number').notNull().default(0),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('incidents_team_number_uq').on(t.teamId, t.number).where(sql`${t.number} > 0`),
    uniqueIndex('incidents_team_declare_key_uq').on(t.teamId, t.declareKey),
    uniqueIndex('incidents_team_channel_uq').on(t.teamId, t.channelId),
  ],
);

/** Role assignments with their history: the current holder has relieved_at null. */
export const incidentRoles = pgTable(
  'incident_roles',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: uuid('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    role: text('role').$type<Role>().notNull(),
    userId: text('user_id').notNull(),
    assignedBy: text('assigned_by').notNull(),
    assignedAt: tstz('assigned_at').notNull(),
    relievedAt: tstz('relieved_at'),
  },
  (t) => [
    uniqueIndex('incident_roles_current_uq').on(t.incidentId, t.role).where(sql`${t.relievedAt} is null`),
  ],
);

/** The append-only memory of an incident; every state change writes here in its own transaction. */
export const timelineEvents = pgTable(
  'timeline_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: uuid('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<TimelineKind>().notNull(),
    actorId: text('actor_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: tstz('occurred_at').notNull(),
  },
  (t) => [index('timeline_events_incident_idx').on(t.incidentId, t.id)],
);

/** Status updates as posted by the liaison (or commander, deputy). */
export const statusUpdates = pgTable(
  'status_updates',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: uuid('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    status: text('status').$type<IncidentStatus>().notNull(),
    message: text('message').notNull(),
    audience: text('audience').$type<UpdateAudience>().notNull(),
    postedBy: text('posted_by').notNull(),
    postedAt: tstz('posted_at').notNull(),
    nextUpdateAt: tstz('next_update_at'),
    /** Customer-facing updates on the status page: its title and text there (null: the incident's, the message). */
    publicTitle: text('public_title'),
    publicBody: text('public_body'),
    /** The components it affects, and their state then. */
    components: jsonb('components').$type<ComponentImpact[]>().notNull().default([]),
  },
  (t) => [
    index('status_updates_incident_idx').on(t.incidentId, t.id),
    index('status_updates_public_idx').on(t.audience, t.postedAt),
  ],
);

/** Time-boxed tasks inside an incident, numbered per incident. */
export const tasks = pgTable(
  'tasks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: uuid('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    text: text('text').notNull(),
    assigneeId: text('assignee_id'),
    createdBy: text('created_by').notNull(),
    createdAt: tstz('created_at').notNull(),
    dueAt: tstz('due_at'),
    doneAt: tstz('done_at'),
    doneBy: text('done_by'),
  },
  (t) => [uniqueIndex('tasks_incident_number_uq').on(t.incidentId, t.number)],
);

/** Follow-ups (action items) of an incident, numbered per incident; they outlive it. */
export const followups = pgTable(
  'followups',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: uuid('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    text: text('text').notNull(),
    ownerId: text('owner_id'),
    /** A local date in business_time_zone. */
    dueOn: date('due_on', { mode: 'string' }),
    status: text('status').$type<FollowupStatus>().notNull().default('open'),
    dropReason: text('drop_reason'),
    /** The message it was made from (the Create follow-up shortcut). */
    sourceUrl: text('source_url'),
    createdBy: text('created_by').notNull(),
    createdAt: tstz('created_at').notNull(),
    closedBy: text('closed_by'),
    closedAt: tstz('closed_at'),
  },
  (t) => [
    uniqueIndex('followups_incident_number_uq').on(t.incidentId, t.number),
    index('followups_open_idx').on(t.status, t.dueOn),
  ],
);

export const schema = {
  teamCounters,
  incidents,
  incidentRoles,
  timelineEvents,
  statusUpdates,
  tasks,
  followups,
};

export type IncidentRow = typeof incidents.$inferSelect;
export type TimelineEventRow = typeof timelineEvents.$inferSelect;
export type RoleRow = typeof incidentRoles.$inferSelect;
export type TaskRow = typeof tasks.$inferSelect;
export type StatusUpdateRow = typeof statusUpdates.$inferSelect;
export type FollowupRow = typeof followups.$inferSelect;

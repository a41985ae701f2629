import { sql } from 'drizzle-orm';
import { bigserial, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * On-call's own tables. Only oncall/ imports this file (the dependency rules say so). Schedules
 * themselves are config; what people change from Slack (overrides) and what the bot last told (who it
 * announced as on call) live here.
 */

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Someone else on call for a while. Removing one keeps the row (who removed it, when): the record. */
export const oncallOverrides = pgTable(
  'oncall_overrides',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    schedule: text('schedule').notNull(),
    userId: text('user_id').notNull(),
    startsAt: tstz('starts_at').notNull(),
    endsAt: tstz('ends_at').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: tstz('created_at').notNull(),
    /** Whom it relieved when it was set (everyone with a shift inside it), as the schedule stood then. */
    relievedUserIds: text('relieved_user_ids').array().notNull().default(sql`'{}'::text[]`),
    removedBy: text('removed_by'),
    removedAt: tstz('removed_at'),
  },
  (t) => [index('oncall_overrides_schedule_idx').on(t.schedule, t.endsAt)],
);

/**
 * Per schedule, who the bot last handed the shift to: a handoff job compares with it, so the incoming
 * person hears once per change however often the job runs, and a change missed while the bot was down is
 * announced when it is back.
 */
export const oncallHandoffs = pgTable('oncall_handoffs', {
  schedule: text('schedule').primaryKey(),
  userId: text('user_id'),
  since: tstz('since').notNull(),
});

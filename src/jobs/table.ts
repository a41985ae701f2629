import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The jobs' own table. Only jobs/ imports it (the dependency rules say so): capabilities schedule, cancel
 * and ask `isPending` through jobs/job.ts, never by querying it.
 */

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const JOB_STATUSES = ['pending', 'done', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * Durable timers and jobs (the table keeps its first name). Only jobs/ reads or writes it. A row is claimable when pending and due; claiming moves due_at forward by
 * the lease, so a crashed worker's row becomes due again when its lease runs out. The partial index on
 * due_at keeps a claim proportional to the rows that are due, not to the table.
 */
export const timers = pgTable(
  'timers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<JobStatus>().notNull().default('pending'),
    /** When the timer was meant to fire (firing lag is measured from here). */
    scheduledFor: tstz('scheduled_for').notNull(),
    /** When it may next be claimed: scheduled_for, then lease expiry or the retry backoff. */
    dueAt: tstz('due_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Fencing token of the current lease: only its holder may complete or release the row. */
    leaseToken: text('lease_token'),
    /**
     * The key of a job whose progress this one needs (the incident's setup making its channel): that job
     * wakes it (`wakeWaiters`) instead of it polling; `due_at` is the fallback should the wake be lost.
     */
    waitingFor: text('waiting_for'),
    /**
     * Scheduled again while it was running: when to run again once this run ends. A job never runs twice
     * at once; scheduling it while it runs means "once more, after".
     */
    rerunAt: tstz('rerun_at'),
    lastError: text('last_error'),
    createdAt: tstz('created_at').notNull(),
    finishedAt: tstz('finished_at'),
  },
  (t) => [
    uniqueIndex('timers_key_uq').on(t.key),
    index('timers_pending_due_idx').on(t.dueAt).where(sql`${t.status} = 'pending'`),
    index('timers_waiting_idx')
      .on(t.waitingFor)
      .where(sql`${t.status} = 'pending' and ${t.waitingFor} is not null`),
  ],
);

export type JobRow = typeof timers.$inferSelect;

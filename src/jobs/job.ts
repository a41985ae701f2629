import { and, count, eq, inArray, isNull, like, lte, type SQL, sql, type WithSubquery } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import { reusable } from '../db/prepared.js';
import type { Logger } from '../logger.js';
import { timers } from './table.js';

/**
 * What a capability needs to say "this must happen": a job type (kind + the zod schema of its payload), a
 * key that says what the job is for, and when. Each capability defines its job types, key builders and
 * handlers together in its own folder; the engine knows none of them. Payloads carry ids and small facts,
 * never rendered messages: the handler reads the committed state when it runs.
 */

export interface JobType<P> {
  readonly kind: string;
  readonly payload: z.ZodType<P>;
}

export function jobType<S extends z.ZodType>(kind: string, payload: S): JobType<z.output<S>> {
  return { kind, payload: payload as unknown as z.ZodType<z.output<S>> };
}

declare const brand: unique symbol;
/** The full key of one job, e.g. `incident:<id>:refresh`: scheduling the same key again re-plans that job. */
export type JobKey = string & { readonly [brand]: 'JobKey' };
/** A key prefix ending in `:`, e.g. `incident:<id>:escalation:`: cancels a family of jobs. */
export type JobKeyPrefix = string & { readonly [brand]: 'JobKeyPrefix' };

export const jobKey = (...parts: (string | number)[]): JobKey => parts.join(':') as JobKey;
export const jobKeyPrefix = (...parts: (string | number)[]): JobKeyPrefix =>
  `${parts.join(':')}:` as JobKeyPrefix;

export interface Scheduled<P> {
  key: JobKey;
  dueAt: Date;
  payload: P;
  /**
   * A job whose progress this one needs first (an incident's setup, for a post that needs its channel).
   * The job then runs when that job calls `wakeWaiters`, or `WAIT_FALLBACK_MS` after `dueAt` should the
   * wake be lost. Decide it, and wake, under a lock both sides take (the incident's row), so that a wake
   * cannot slip between "not there yet" and the wait.
   */
  after?: JobKey;
}

/** How long a waiting job waits when the job it waits for never wakes it. */
export const WAIT_FALLBACK_MS = 2000;

const dueOf = (job: Scheduled<unknown>) =>
  job.after ? new Date(job.dueAt.getTime() + WAIT_FALLBACK_MS) : job.dueAt;

/**
 * Creates or re-plans the job with this key (an upsert: re-planning never makes a second job). Runs inside
 * the caller's transaction, so the job commits with the change that needs it; the commit wakes the
 * engines (a trigger NOTIFYs them, see drizzle/0004). A job that is running is not disturbed: it runs
 * once more, at `dueAt`, after this run ends, so a key never runs twice at once.
 */
export function schedule<P>(tx: Db | Tx, type: JobType<P>, job: Scheduled<P>, now: Date): Promise<void> {
  return upsertJob(tx, type, job, now, { leaveWaiting: false });
}

/**
 * Makes sure the job runs after this transaction commits, without moving it if it is still waiting to
 * run: creates it, re-arms it (due at `dueAt`) when it has run or is running, and leaves a pending job as it
 * is — it has not started, so it will see what this transaction commits. For a job that works through
 * whatever is there when it runs (a sender keeping its own pace), told of every change: a waiting one is
 * neither rewritten nor made due earlier than it chose.
 */
export function ensureScheduled<P>(
  tx: Db | Tx,
  type: JobType<P>,
  job: Scheduled<P>,
  now: Date,
): Promise<void> {
  return upsertJob(tx, type, job, now, { leaveWaiting: true });
}

/**
 * The upsert behind `schedule` and `ensureScheduled`, built once per variant (db/prepared.ts): it runs in
 * nearly every transaction the bot makes. A running job (pending with a lease) keeps its lease and due
 * time and is asked to run again after (`rerun_at`); any other is re-armed from the new values.
 */
const upsertStatement = (leaveWaiting: boolean) =>
  reusable(leaveWaiting ? 'jobs_upsert_leave_waiting' : 'jobs_upsert', (db) => {
    // Running: leased by a claim (pending), or cancelled while it ran (the run keeps its lease).
    const running = sql`(${timers.leaseToken} is not null)`;
    const excluded = (column: keyof typeof timers.$inferInsert) => sql.raw(`excluded.${timers[column].name}`);
    return db
      .insert(timers)
      .values({
        key: sql.placeholder('key'),
        kind: sql.placeholder('kind'),
        payload: sql.placeholder('payload'),
        status: 'pending',
        scheduledFor: sql.placeholder('scheduledFor'),
        dueAt: sql.placeholder('dueAt'),
        attempts: 0,
        leaseToken: null,
        waitingFor: sql.placeholder('waitingFor'),
        lastError: null,
        createdAt: sql.placeholder('now'),
        finishedAt: null,
      })
      .onConflictDoUpdate({
        target: timers.key,
        set: {
          kind: excluded('kind'),
          payload: excluded('payload'),
          status: sql`'pending'`,
          scheduledFor: excluded('scheduledFor'),
          waitingFor: excluded('waitingFor'),
          lastError: sql`null`,
          // Kept on a running row: set there, it says the row was cancelled during this run (engine.ts).
          finishedAt: sql`case when ${running} then ${timers.finishedAt} else null end`,
          attempts: sql`case when ${running} then ${timers.attempts} else 0 end`,
          dueAt: sql`case when ${running} then ${timers.dueAt} else excluded.due_at end`,
          leaseToken: sql`case when ${running} then ${timers.leaseToken} else null end`,
          rerunAt: sql`case when ${running} then excluded.due_at else null end`,
        },
        ...(leaveWaiting
          ? { setWhere: sql`not (${timers.status} = 'pending' and ${timers.leaseToken} is null)` }
          : {}),
      });
  });
const upsert = { replan: upsertStatement(false), leaveWaiting: upsertStatement(true) };

async function upsertJob<P>(
  tx: Db | Tx,
  type: JobType<P>,
  job: Scheduled<P>,
  now: Date,
  options: { leaveWaiting: boolean },
): Promise<void> {
  await (options.leaveWaiting ? upsert.leaveWaiting : upsert.replan)(tx, {
    key: job.key,
    kind: type.kind,
    payload: type.payload.parse(job.payload),
    scheduledFor: job.dueAt,
    dueAt: dueOf(job),
    waitingFor: job.after ?? null,
    now,
  });
}

/** Creates the job unless one with this key exists already (in any state): for work that must happen once. */
export async function scheduleOnce<P>(
  tx: Db | Tx,
  type: JobType<P>,
  job: Scheduled<P>,
  now: Date,
): Promise<void> {
  await tx
    .insert(timers)
    .values({
      key: job.key,
      kind: type.kind,
      payload: type.payload.parse(job.payload) as Record<string, unknown>,
      scheduledFor: job.dueAt,
      dueAt: dueOf(job),
      waitingFor: job.after ?? null,
      createdAt: now,
    })
    .onConflictDoNothing({ target: timers.key });
}

/**
 * A lease on a job the caller's statement is about to create, from the engine of this process
 * (`NewJobStarter.leaseNewJob`): the job is created claimed by this process, its first attempt under
 * way, and is handed to the engine to run as soon as the statement has committed
 * (`NewJobStarter.runLeasedJob`), with no NOTIFY, no claim and no wait for either. Should the process die
 * before it runs it, the lease runs out like any claim's and another replica runs it, as a second attempt.
 */
export interface JobLease {
  token: string;
  until: Date;
}

/** A job created under a lease, as the engine runs it: what a claim would have brought back. */
export interface LeasedJob {
  id: number;
  key: JobKey;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  leaseToken: string;
  createdAt: Date;
}

/** The job engine of this process, as a use-case that creates a job it wants run at once sees it. */
export interface NewJobStarter {
  /** A lease for a job about to be created; none when this process cannot run it now (stopping, full). */
  leaseNewJob(): JobLease | undefined;
  /** Runs the job created under its lease, once the statement that created it has committed. */
  runLeasedJob(job: LeasedJob): void;
}

/**
 * A new job as a CTE to put beside `change` (the CTE creating what the job is for) in one statement: it
 * is created only when `change` returned a row. Only for a key that cannot exist yet (it names the row
 * `change` creates), so there is nothing to re-plan; a key that does exist fails the statement. Built once
 * with the statement (db/prepared.ts): the values are placeholders, filled by `newJobValues`. Its one
 * column, `jobId`, is the new row's id (for `NewJobStarter.runLeasedJob` when the job was created leased).
 */
export function newJobWith(db: Db | Tx, change: WithSubquery) {
  const t = timers;
  const columns = [
    t.key,
    t.kind,
    t.payload,
    t.scheduledFor,
    t.dueAt,
    t.waitingFor,
    t.createdAt,
    t.attempts,
    t.leaseToken,
  ];
  const p = (name: keyof ReturnType<typeof newJobValues>) => sql.placeholder(name);
  return db.$with('new_job', { jobId: sql<number>`id`.mapWith(Number).as('job_id') }).as(
    sql`insert into ${t} (${sql.join(
      columns.map((c) => sql.identifier(c.name)),
      sql`, `,
    )})
      select ${p('job_key')}, ${p('job_kind')}, ${p('job_payload')}::jsonb, ${p('job_scheduled_for')}::timestamptz,
        ${p('job_due_at')}::timestamptz, ${p('job_waiting_for')}, ${p('job_now')}::timestamptz,
        ${p('job_attempts')}::integer, ${p('job_lease_token')}
      where exists (select 1 from ${change})
      returning id as job_id`,
  );
}

/**
 * The placeholder values of `newJobWith` for this job (its payload checked as `schedule` checks it). With
 * a lease, the job is created as a claim would leave it: its first attempt counted, due again only when
 * the lease runs out (and so waking no engine: the wake trigger skips leased rows).
 */
export function newJobValues<P>(type: JobType<P>, job: Scheduled<P>, now: Date, lease?: JobLease) {
  return {
    job_key: job.key as string,
    job_kind: type.kind,
    job_payload: JSON.stringify(type.payload.parse(job.payload)),
    job_scheduled_for: job.dueAt.toISOString(),
    job_due_at: (lease ? lease.until : dueOf(job)).toISOString(),
    job_waiting_for: (job.after ?? null) as string | null,
    job_now: now.toISOString(),
    job_attempts: lease ? 1 : 0,
    job_lease_token: lease?.token ?? null,
  };
}

/** The job `newJobValues` described, created under `lease` as row `id`, as the engine runs it. */
export function leasedJob<P>(
  type: JobType<P>,
  job: Scheduled<P>,
  now: Date,
  lease: JobLease,
  id: number,
): LeasedJob {
  return {
    id,
    key: job.key,
    kind: type.kind,
    // Parsed again by the engine, as every payload it runs is.
    payload: job.payload as Record<string, unknown>,
    attempts: 1,
    leaseToken: lease.token,
    createdAt: now,
  };
}

/**
 * Which waiters a wake reaches, and what it does to them. One that is not running is due at `at`. One that
 * is running keeps its lease (never due twice); if its run has already asked to run again after what it
 * waits for (`runAgain` with `after`, as a tier does that found the tier before it unpaged), that re-run
 * comes at `at` instead of at its fallback, minutes later. One that is running and has asked nothing
 * (claimed after its fallback, still marked as waiting from when it was scheduled) is left alone: its run
 * may be about to succeed, and a second run counted as a first would not look for what the first did.
 */
const wakeable = and(
  eq(timers.status, 'pending'),
  sql`(${timers.leaseToken} is null or ${timers.rerunAt} is not null)`,
);
const woken = (at: SQL) => ({
  dueAt: sql`case when ${timers.leaseToken} is null then ${at} else ${timers.dueAt} end`,
  rerunAt: sql`case when ${timers.leaseToken} is null then ${timers.rerunAt} else least(${timers.rerunAt}, ${at}) end`,
  waitingFor: null,
});

/** Makes the jobs waiting for `awaited` due now (a running one that asked to: its re-run); returns how many. */
export async function wakeWaiters(tx: Db | Tx, awaited: JobKey, now: Date): Promise<number> {
  const rows = await tx
    .update(timers)
    .set(woken(sql`${now.toISOString()}::timestamptz`))
    .where(and(wakeable, eq(timers.waitingFor, awaited)))
    .returning({ id: timers.id });
  return rows.length;
}

/**
 * `wakeWaiters` as a CTE to put beside `change` (the CTE making the change the waiters wait for) in one
 * statement: it wakes them only when `change` returned a row. Built once with the statement
 * (db/prepared.ts): the key and time are placeholders, filled by `wakeValues(awaited, now)`.
 */
export function wakeWaitersWith(db: Db | Tx, change: WithSubquery): WithSubquery {
  return db.$with('woken_waiters').as(
    db
      .update(timers)
      .set(woken(sql`${sql.placeholder('wake_at')}::timestamptz`))
      .where(
        and(
          wakeable,
          eq(timers.waitingFor, sql`${sql.placeholder('wake_key')}`),
          sql`exists (select 1 from ${change})`,
        ),
      )
      .returning({ id: timers.id }),
  );
}

/** The placeholder values of `wakeWaitersWith`. */
export const wakeValues = (awaited: JobKey, now: Date) => ({ wake_key: awaited, wake_at: now.toISOString() });

/**
 * What cancelling does to a pending row. A row that is running keeps its lease: its run goes on to the end
 * (the engine then leaves it cancelled, retries nothing and runs it no more), and while it runs the key is
 * still taken, so scheduling the key again runs it once more after this run, never beside it.
 */
const cancelled = (now: Date) => ({ status: 'cancelled' as const, rerunAt: null, finishedAt: now });

/** Cancels the pending job with exactly this key; returns whether there was one. */
export async function cancelJob(tx: Db | Tx, key: JobKey, now: Date): Promise<boolean> {
  const rows = await tx
    .update(timers)
    .set(cancelled(now))
    .where(and(eq(timers.status, 'pending'), eq(timers.key, key)))
    .returning({ id: timers.id });
  return rows.length > 0;
}

/** Cancels every pending job whose key starts with `prefix`; returns how many. */
export async function cancelJobs(tx: Db | Tx, prefix: JobKeyPrefix, now: Date): Promise<number> {
  const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await tx
    .update(timers)
    .set(cancelled(now))
    .where(and(eq(timers.status, 'pending'), like(timers.key, `${escaped}%`)))
    .returning({ id: timers.id });
  return rows.length;
}

/** How many jobs of this type are still to run (or running): a queue's depth. */
export async function countPending(db: Db | Tx, type: JobType<unknown>): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(timers)
    .where(and(eq(timers.status, 'pending'), eq(timers.kind, type.kind)));
  return row?.n ?? 0;
}

/**
 * Those of these jobs still to run or running, in the order given: when each runs next, and how many
 * attempts it has failed so far (a job retrying after errors is backing off; one running for the first
 * time has failed none).
 */
export async function pendingJobs(
  db: Db | Tx,
  keys: JobKey[],
): Promise<{ key: JobKey; dueAt: Date; failures: number }[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .select({
      key: timers.key,
      dueAt: timers.dueAt,
      attempts: timers.attempts,
      lastError: timers.lastError,
      leaseToken: timers.leaseToken,
    })
    .from(timers)
    .where(and(inArray(timers.key, keys), eq(timers.status, 'pending')));
  const byKey = new Map(rows.map((r) => [r.key, r]));
  return keys.flatMap((key) => {
    const row = byKey.get(key);
    if (!row) return [];
    // A failed attempt leaves its error; the attempt running now (leased, counted) has not failed yet.
    const failures = row.lastError === null ? 0 : row.attempts - (row.leaseToken === null ? 0 : 1);
    return [{ key, dueAt: row.dueAt, failures }];
  });
}

/** Whether the job with this key is still to run (or running). */
export async function isPending(db: Db | Tx, key: JobKey): Promise<boolean> {
  const [row] = await db
    .select({ id: timers.id })
    .from(timers)
    .where(and(eq(timers.key, key), eq(timers.status, 'pending')));
  return !!row;
}

export interface JobContext {
  key: JobKey;
  /** The job's row id: unique per job, for naming what the job itself schedules. */
  id: number;
  /** The attempt number, 1 for the first run. */
  attempt: number;
  /** When the job was first scheduled (a retried post looks for its own copy since then). */
  createdAt: Date;
  now(): Date;
  /** Carries job_kind, job_key and, when the payload names one, incident_id. */
  log: Logger;
  /**
   * One more run of this job after this one ends: at `at`, or with `after` when that job wakes it
   * (`wakeWaiters`), `WAIT_FALLBACK_MS` after `at` at the latest. Fenced by this run's lease: a job that
   * was cancelled, or cancelled and planned afresh, meanwhile keeps what that said, never this run's
   * payload or time; one scheduled again while running keeps the sooner of the two times. The next run
   * counts its attempts afresh: waiting is not failing.
   */
  runAgain(at: Date, options?: { after?: JobKey }): Promise<void>;
}

export interface JobHandler<P> {
  run(payload: P, ctx: JobContext): Promise<void>;
  /** Called once when the engine gives up on a job (permanent error or too many attempts). */
  onGiveUp?(payload: P, error: Error, ctx: JobContext): Promise<void>;
}

/** A job type with its handler, as the engine is given it. */
export interface JobBinding {
  type: JobType<unknown>;
  handler: JobHandler<unknown>;
}

export function handle<P>(type: JobType<P>, handler: JobHandler<NoInfer<P>>): JobBinding {
  return { type: type as JobType<unknown>, handler: handler as JobHandler<unknown> };
}

/** The queue's health: how many jobs are due and not yet taken, and how late the oldest of them is. */
export async function queueHealth(db: Db, now: Date): Promise<{ due: number; oldestLagMs: number }> {
  const [row] = await db
    .select({ due: count(), oldest: sql<Date | null>`min(${timers.dueAt})` })
    .from(timers)
    .where(and(eq(timers.status, 'pending'), isNull(timers.leaseToken), lte(timers.dueAt, now)));
  const oldest = row?.oldest ? new Date(row.oldest) : undefined;
  return { due: row?.due ?? 0, oldestLagMs: oldest ? Math.max(0, now.getTime() - oldest.getTime()) : 0 };
}

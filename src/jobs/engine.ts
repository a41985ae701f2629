import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, min, sql } from 'drizzle-orm';
import cron, { type ScheduledTask } from 'node-cron';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { reusable } from '../db/prepared.js';
import { PermanentError, RetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type JobBinding,
  type JobContext,
  type JobKey,
  type JobLease,
  type LeasedJob,
  type NewJobStarter,
  WAIT_FALLBACK_MS,
} from './job.js';
import { type JobRow, timers } from './table.js';

/**
 * Durable timers and jobs in PostgreSQL. This module knows no capability: it claims due rows with
 * FOR UPDATE SKIP LOCKED and a lease, parses each row's payload with its job type's schema, runs the
 * handler bound to the kind, and completes, retries or parks the row. Any number of replicas can run at
 * once; each claim is exclusive, and a crashed worker's row becomes due again when its lease runs out.
 * Handlers must be idempotent because a lease can expire while a slow handler is still running.
 *
 * When it runs: node-cron ticks every second, and every commit that schedules a job wakes the engines of
 * all replicas at once through PostgreSQL's LISTEN/NOTIFY (a trigger on the table, drizzle/0004), so
 * nobody has to remember to "kick" after a change.
 */

/** The NOTIFY channel the jobs table's trigger signals on commit (drizzle/0004_wake_jobs.sql). */
export const JOBS_CHANNEL = 'incident_bot_jobs';

/**
 * A row cancelled while it ran and scheduled again before that run ended: pending, still leased by that
 * run, and marked by the finish time the cancel wrote. The old run may end as it likes (it is fenced by
 * its lease like any run) but it cannot ask to run again, and what the new plan asked stands: its payload,
 * its time (`rerun_at`) and fresh attempts.
 */
const REPLANNED_AFTER_CANCEL = sql`(${timers.status} = 'pending' and ${timers.finishedAt} is not null)`;

/** The default tick: every second. */
const TICK_MS = 1000;

/**
 * The claim, built once (db/prepared.ts): up to `limit` due rows, oldest first, skipping rows another
 * replica holds (chosen and locked by `incident_bot_due_jobs`, drizzle/0011, whose plan walks the pending
 * index in due order), each given this claim's lease token and a due time at the lease's end (a crashed
 * worker's row becomes due again then); and, in the same statement, when the next pending row not yet due
 * falls due (so the engine can wake for it between ticks). One row per claimed job, or one row with no job
 * when none was due. A claimed row brings back only what running it needs: mapping the other columns
 * of every claimed row was a tenth of a replica's CPU when 10,000 timers fell due at once.
 */
const claimDue = reusable('jobs_claim', (db) => {
  const now = sql`${sql.placeholder('now')}::timestamptz`;
  const claimed = db.$with('claimed').as(
    db
      .update(timers)
      .set({
        dueAt: sql`${sql.placeholder('leaseUntil')}::timestamptz`,
        attempts: sql`case when ${REPLANNED_AFTER_CANCEL} then 1 else ${timers.attempts} + 1 end`,
        leaseToken: sql`${sql.placeholder('token')}`,
        rerunAt: sql`case when ${REPLANNED_AFTER_CANCEL} then null else ${timers.rerunAt} end`,
        finishedAt: null,
      })
      .from(sql`incident_bot_due_jobs(${now}, ${sql.placeholder('limit')}::integer) as due`)
      .where(sql`${timers.id} = due.id`)
      .returning({
        wasDue: sql<Date>`due.due_at`.mapWith(timers.dueAt).as('was_due'),
        id: timers.id,
        key: timers.key,
        kind: timers.kind,
        payload: timers.payload,
        attempts: timers.attempts,
        leaseToken: timers.leaseToken,
        createdAt: timers.createdAt,
      }),
  );
  const next = db.$with('next_due').as(
    db
      .select({ at: min(timers.dueAt).as('at') })
      .from(timers)
      .where(and(eq(timers.status, 'pending'), gt(timers.dueAt, now))),
  );
  // Started in the order they fell due, and in creation order among rows due at the same time.
  return db
    .with(claimed, next)
    .select()
    .from(next)
    .leftJoin(claimed, sql`true`)
    .orderBy(claimed.wasDue, claimed.id);
});

/** What the engine reads of a row it claimed (a job created leased brings the same, see LeasedJob). */
type ClaimedRow = Pick<JobRow, 'id' | 'key' | 'kind' | 'payload' | 'attempts' | 'leaseToken' | 'createdAt'>;

/** Subscribes to the wake-up signal; resolves to a function that unsubscribes. */
export type Subscribe = (channel: string, onSignal: () => void) => Promise<() => Promise<void>>;

export interface EngineOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Every job type this process runs, with its handler; a kind bound twice is refused. */
  jobs: JobBinding[];
  /** How long a claim is exclusive; a dead worker's rows are claimable again after it. */
  leaseMs?: number;
  /** Most rows run at once by this process (default 128). */
  concurrency?: number;
  /** Attempts before a row that keeps failing is parked as failed. */
  maxAttempts?: number;
  /** Retry delay for attempt n (1-based) when the error does not say when. */
  backoffMs?: (attempt: number) => number;
  workerId?: string;
}

export const defaultBackoff = (attempt: number): number => {
  const base = Math.min(1000 * 2 ** (attempt - 1), 5 * 60_000);
  return Math.round(base * (0.75 + Math.random() * 0.5));
};

/**
 * The rows among `rows` still held under their lease token, as one JSON parameter: the same prepared
 * statement whatever their number (an IN list of n pairs was a new statement, parsed and planned, for
 * each n). They are locked in id order: the completions of rows that finished and the heartbeat of rows
 * that were running when it was sent can name the same rows at once, and two statements locking them in
 * different orders deadlock (seen once in a ten-minute soak: PostgreSQL aborted the completion, and its
 * jobs ran again).
 */
function leased(rows: { id: number; token: string }[]) {
  const pairs = JSON.stringify(rows.map((r) => ({ id: r.id, token: r.token })));
  return sql`${timers.id} in (select t.id from ${timers} t where (t.id, t.lease_token) in (select id, token from json_to_recordset(${pairs}::json) as leased(id bigint, token text)) order by t.id for update)`;
}

/**
 * Group commit for finished rows: the first completion is written at once, and every row that finishes
 * while that write is in flight shares the next one. Under load this turns one commit per fire into one
 * per batch (about 10% more fires per second for one replica in `npm run bench`); when idle it adds no
 * delay. Each row is still fenced by its own lease token. A row whose completion is not written (crash,
 * lost connection) keeps its lease and runs again when it expires, as before.
 */
class CompletionBatch {
  private waiting: { id: number; token: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  add(id: number, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id, token, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, 500);
      try {
        // A job scheduled again while it ran goes back to pending, due when that scheduling asked.
        const again = sql`${timers.rerunAt} is not null`;
        await this.db
          .update(timers)
          .set({
            // Cancelled while it ran (and not scheduled again since): it stays cancelled.
            status: sql`case when ${again} then 'pending' when ${timers.status} = 'cancelled' then 'cancelled' else 'done' end`,
            dueAt: sql`coalesce(${timers.rerunAt}, ${timers.dueAt})`,
            attempts: sql`case when ${again} then 0 else ${timers.attempts} end`,
            finishedAt: sql`case when ${again} then null else coalesce(${timers.finishedAt}, ${this.clock.now().toISOString()}::timestamptz) end`,
            leaseToken: null,
            rerunAt: null,
          })
          .where(leased(batch));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.flushing = false;
  }
}

export class JobEngine implements NewJobStarter {
  readonly workerId: string;
  private readonly bindings = new Map<string, JobBinding>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly inflight = new Map<number, { token: string; done: Promise<void> }>();
  private cronTask: ScheduledTask | undefined;
  /** Wakes the engine when the next job falls due between two ticks (see armNextDue). */
  private nextDueTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<number> | undefined;
  /** Callers that asked for a claim while one was running: they get the next one. */
  private tickAgain: { promise: Promise<number>; resolve: (started: number) => void } | undefined;
  private stopping = false;
  /** Extends the leases of the running rows (keepLeases). */
  private heartbeat: NodeJS.Timeout | undefined;
  /** The last claim filled every free slot, so more rows may be due: claim again as slots free up. */
  private backlog = false;
  /**
   * In a backlog, claim again once this many slots are free rather than at every finished row: one claim
   * statement per batch instead of one per fire (the timer benchmark's 10,000 due rows were claimed one
   * at a time). The tick still claims whatever is free every second, so a slot never idles longer.
   */
  private readonly refillAt: number;
  private readonly completions: CompletionBatch;
  /** Rows this process has finished running, however they ended: how drain() knows a claim may be stale. */
  private finishedRows = 0;

  constructor(private readonly options: EngineOptions) {
    this.completions = new CompletionBatch(options.db, options.clock);
    this.workerId = options.workerId ?? `w-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.concurrency = options.concurrency ?? 128;
    this.refillAt = Math.max(1, Math.floor(this.concurrency / 4));
    this.maxAttempts = options.maxAttempts ?? 25;
    this.backoffMs = options.backoffMs ?? defaultBackoff;
    for (const binding of options.jobs) {
      if (this.bindings.has(binding.type.kind))
        throw new Error(`job kind "${binding.type.kind}" has two handlers`);
      this.bindings.set(binding.type.kind, binding);
    }
  }

  /** Ticks every second (TICK_MS) with node-cron until stop(). */
  start(expression = '* * * * * *'): void {
    this.cronTask = cron.schedule(expression, () => {
      void this.kick();
    });
  }

  /**
   * Wakes up whenever a transaction that scheduled a job commits (on any replica), instead of waiting for
   * the next tick. The tick stays as the safety net (a lost notification, a connection pooler that drops
   * LISTEN).
   */
  async listen(subscribe: Subscribe): Promise<void> {
    this.unsubscribe ??= await subscribe(JOBS_CHANNEL, () => void this.kick());
  }

  /**
   * Claims and starts due rows now (on a notification, a tick, or a slot freed in a backlog). Resolves
   * when rows claimed by a claim that began after this call have been started, not finished.
   */
  kick(): Promise<number> {
    if (this.stopping) return Promise.resolve(0);
    if (this.ticking) {
      // A claim is running, but it may have looked before this call's work was committed: one more claim
      // follows it, and every caller meanwhile waits for that one.
      if (!this.tickAgain) {
        let resolve: (n: number) => void = () => {};
        const promise = new Promise<number>((r) => {
          resolve = r;
        });
        this.tickAgain = { promise, resolve };
      }
      return this.tickAgain.promise;
    }
    this.ticking = this.claimAndStart()
      .catch((err: unknown) => {
        this.options.logger.error({ err }, 'job tick failed');
        return 0;
      })
      .finally(() => {
        this.ticking = undefined;
        const again = this.tickAgain;
        this.tickAgain = undefined;
        if (again) void this.kick().then(again.resolve);
      });
    return this.ticking;
  }

  /**
   * A lease for a job the caller is about to create, so that it is created claimed by this process and
   * run the moment its transaction commits (`runLeasedJob`): the setup of a declared incident starts
   * without waiting for a NOTIFY and a claim. None when stopping or when every slot is
   * taken (the job is then created unclaimed, and claimed as any other). Several callers may hold leases
   * at once, so the slots can be exceeded by as many declarations as are committing at that moment.
   */
  leaseNewJob(): JobLease | undefined {
    if (this.stopping || this.inflight.size >= this.concurrency) return undefined;
    return {
      token: this.newLeaseToken(),
      until: new Date(this.options.clock.now().getTime() + this.leaseMs),
    };
  }

  /**
   * Runs a job created under `leaseNewJob`'s lease, once it has committed. A stopping engine gives the
   * lease back instead, so another replica (or the next start) runs it at once rather than when it runs out.
   */
  runLeasedJob(job: LeasedJob): void {
    if (this.stopping) {
      void this.release(job.id, job.leaseToken).catch((err: unknown) =>
        this.options.logger.warn({ err, job_key: job.key }, 'could not give back the lease of a new job'),
      );
      return;
    }
    this.startRow(job);
  }

  /**
   * Runs ticks until nothing due is left and nothing is running (tests and benchmarks). Done only when a
   * claim found nothing and no row finished while it ran: a row finishing during a claim may have
   * scheduled work the claim's snapshot was too early to see (the alert tests' pages went missing now
   * and then when the ingest job committed its page steps just after the drain's claim began).
   */
  async drain(): Promise<void> {
    for (;;) {
      const finishedBefore = this.finishedRows;
      await this.kick();
      if (this.inflight.size === 0 && this.finishedRows === finishedBefore) return;
      await Promise.allSettled([...this.inflight.values()].map((r) => r.done));
    }
  }

  /** Stops ticking, waits up to `graceMs` for running handlers, then releases the leases of the rest. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.nextDueTimer);
    await this.cronTask?.destroy();
    await this.unsubscribe?.().catch((err: unknown) =>
      this.options.logger.warn({ err }, 'could not stop listening for job notifications'),
    );
    await this.ticking;
    const running = [...this.inflight.values()].map((r) => r.done);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const [id, { token }] of this.inflight) await this.release(id, token);
  }

  /** Gives back a lease this process holds: the row is due at once, its attempt uncounted. */
  private async release(id: number, token: string): Promise<void> {
    const now = sql`${this.options.clock.now().toISOString()}::timestamptz`;
    await this.options.db
      .update(timers)
      .set({
        dueAt: sql`case when ${REPLANNED_AFTER_CANCEL} then coalesce(${timers.rerunAt}, ${now}) else ${now} end`,
        leaseToken: null,
        rerunAt: null,
        attempts: sql`case when ${REPLANNED_AFTER_CANCEL} then 0 else ${timers.attempts} - 1 end`,
        finishedAt: sql`case when ${timers.status} = 'pending' then null else ${timers.finishedAt} end`,
      })
      .where(and(eq(timers.id, id), eq(timers.leaseToken, token)));
  }

  private newLeaseToken(): string {
    return `${this.workerId}:${randomUUID()}`;
  }

  private async claimAndStart(): Promise<number> {
    let started = 0;
    for (;;) {
      const room = this.concurrency - this.inflight.size;
      if (room <= 0 || this.stopping) return started;
      const { claimed, nextDue } = await this.claim(room);
      for (const row of claimed) this.startRow(row);
      started += claimed.length;
      this.backlog = claimed.length === room;
      if (claimed.length < room) {
        if (this.cronTask) this.armNextDue(nextDue);
        return started;
      }
    }
  }

  /**
   * A job due before the next tick (a paced Slack post one second on, an edit five seconds after the last)
   * would otherwise wait for that tick, up to a second late; a timer wakes the engine when it falls due.
   * Only when ticking (the tick is the clock of a running bot; tests drive the engine themselves). The
   * claim reads when that is, in its own statement.
   */
  private armNextDue(next: Date | null): void {
    const wait = next ? next.getTime() - this.options.clock.now().getTime() : Number.POSITIVE_INFINITY;
    if (wait >= TICK_MS || this.stopping) return;
    clearTimeout(this.nextDueTimer);
    this.nextDueTimer = setTimeout(() => void this.kick(), Math.max(0, wait) + 1);
    this.nextDueTimer.unref();
  }

  private async claim(limit: number): Promise<{ claimed: ClaimedRow[]; nextDue: Date | null }> {
    const now = this.options.clock.now();
    const rows = await claimDue(this.options.db, {
      now: now.toISOString(),
      limit,
      leaseUntil: new Date(now.getTime() + this.leaseMs).toISOString(),
      token: this.newLeaseToken(),
    });
    return {
      claimed: rows.flatMap((r) => (r.claimed ? [r.claimed] : [])),
      nextDue: rows[0]?.next_due.at ?? null,
    };
  }

  private startRow(row: ClaimedRow): void {
    const token = row.leaseToken as string;
    // The row's logger, made when first used: most rows finish without logging, and a pino child per fire
    // showed in the timer benchmark's profile.
    let child: Logger | undefined;
    const log = () =>
      (child ??= this.options.logger.child({
        job_kind: row.kind,
        job_key: row.key,
        ...(typeof row.payload.incidentId === 'string' ? { incident_id: row.payload.incidentId } : {}),
      }));
    const done = this.runRow(row, token, log)
      // The row stays leased; it is retried when the lease runs out (e.g. the database was unreachable).
      .catch((err: unknown) => log().error({ err }, 'could not record the outcome of the job'))
      .finally(() => {
        this.inflight.delete(row.id);
        this.finishedRows++;
        // Without this a tick would start at most `concurrency` rows and leave the rest for the next second.
        if (this.backlog && !this.stopping && this.concurrency - this.inflight.size >= this.refillAt)
          void this.kick();
      });
    this.inflight.set(row.id, { token, done });
    this.keepLeases();
  }

  /**
   * Keeps the leases of the running rows while their handlers run, so another replica does not start one
   * a second time: every third of the lease, one statement extends them all (a timer and a statement per
   * row before). It stops when nothing runs. A row that has just finished may be extended once more; its
   * completion, retry or park supersedes that, and all are fenced by the lease token.
   */
  private keepLeases(): void {
    if (this.heartbeat) return;
    const { db, clock, logger } = this.options;
    this.heartbeat = setInterval(
      () => {
        if (this.inflight.size === 0) {
          clearInterval(this.heartbeat);
          this.heartbeat = undefined;
          return;
        }
        const running = [...this.inflight].map(([id, r]) => ({ id, token: r.token }));
        db.update(timers)
          .set({ dueAt: new Date(clock.now().getTime() + this.leaseMs) })
          .where(leased(running))
          .catch((err: unknown) => logger.warn({ err }, 'lease extension failed'));
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
  }

  private async runRow(row: ClaimedRow, token: string, log: () => Logger): Promise<void> {
    const { db, clock } = this.options;
    // Built when used: most rows only complete (in a batch), and a storm fires thousands a second.
    const mine = () => and(eq(timers.id, row.id), eq(timers.leaseToken, token));
    // Parked for good, unless it was scheduled again meanwhile: that is a new request, and runs.
    const park = (reason: string) => {
      const again = sql`${timers.rerunAt} is not null`;
      return db
        .update(timers)
        .set({
          status: sql`case when ${again} then 'pending' when ${timers.status} = 'cancelled' then 'cancelled' else 'failed' end`,
          dueAt: sql`coalesce(${timers.rerunAt}, ${timers.dueAt})`,
          attempts: sql`case when ${again} then 0 else ${timers.attempts} end`,
          finishedAt: sql`case when ${again} then null else coalesce(${timers.finishedAt}, ${clock.now().toISOString()}::timestamptz) end`,
          leaseToken: null,
          rerunAt: null,
          lastError: reason,
        })
        .where(mine())
        .returning({ status: timers.status });
    };
    const binding = this.bindings.get(row.kind);
    if (!binding) {
      log().error(`parked: no handler for job kind "${row.kind}"`);
      await park(`no handler for job kind "${row.kind}"`);
      return;
    }
    // A payload written by another version (a renamed field) is parked with the reason, never crashed on.
    const parsed = binding.type.payload.safeParse(row.payload);
    if (!parsed.success) {
      const reason = `payload does not parse: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`;
      log().error({ payload: row.payload }, `parked: ${reason}`);
      await park(reason);
      return;
    }
    const payload = parsed.data;
    const ctx: JobContext = {
      key: row.key as JobKey,
      id: row.id,
      attempt: row.attempts,
      createdAt: row.createdAt,
      now: () => clock.now(),
      get log() {
        return log();
      },
      async runAgain(at, options) {
        const when = new Date(options?.after ? at.getTime() + WAIT_FALLBACK_MS : at.getTime());
        await db
          .update(timers)
          .set({
            // Scheduled again meanwhile for an earlier time (a re-plan while running): that time wins.
            rerunAt: sql`least(coalesce(${timers.rerunAt}, 'infinity'), ${when.toISOString()}::timestamptz)`,
            waitingFor: options?.after ?? null,
          })
          // Not for a run that was cancelled meanwhile, planned afresh or not: a cancel wins.
          .where(and(mine(), eq(timers.status, 'pending'), isNull(timers.finishedAt)));
      },
    };
    try {
      await binding.handler.run(payload, ctx);
      await this.completions.add(row.id, token);
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      const giveUp = error instanceof PermanentError || row.attempts >= this.maxAttempts;
      if (giveUp) {
        log().error({ err: error }, `job failed for good after ${row.attempts} attempt(s): ${error.message}`);
        const parked = await park(error.message);
        // Only the lease holder reports, so a failure is announced once.
        if (parked[0]?.status === 'failed' && binding.handler.onGiveUp) {
          await binding.handler.onGiveUp(payload, error, ctx).catch((err: unknown) => {
            log().error({ err }, 'reporting the failure of the job failed');
          });
        }
        return;
      }
      const delay =
        error instanceof RetryableError && error.retryAfterMs !== undefined
          ? error.retryAfterMs
          : this.backoffMs(row.attempts);
      log().warn(`attempt ${row.attempts} failed, retrying in ${delay} ms: ${error.message}`);
      await db
        .update(timers)
        .set({
          // Scheduled again meanwhile for an earlier time: that time wins; cancelled and planned afresh
          // meanwhile: the new plan runs when it asked, with its attempts counted afresh.
          dueAt: sql`case when ${REPLANNED_AFTER_CANCEL} then coalesce(${timers.rerunAt}, ${timers.dueAt}) else least(${new Date(clock.now().getTime() + delay).toISOString()}::timestamptz, coalesce(${timers.rerunAt}, 'infinity')) end`,
          attempts: sql`case when ${REPLANNED_AFTER_CANCEL} then 0 else ${timers.attempts} end`,
          finishedAt: sql`case when ${timers.status} = 'pending' then null else ${timers.finishedAt} end`,
          leaseToken: null,
          rerunAt: null,
          waitingFor: sql`case when ${REPLANNED_AFTER_CANCEL} then ${timers.waitingFor} else null end`,
          lastError: error.message,
        })
        .where(mine());
    }
  }
}

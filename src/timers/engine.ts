import { randomUUID } from 'node:crypto';
import { and, eq, inArray, like, lte, sql } from 'drizzle-orm';
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/client.js';
import { type TimerRow, timers } from '../db/schema.js';
import { PermanentError, RetryableError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Durable timers and jobs in PostgreSQL. This module knows no domain: it schedules rows by key, claims
 * the due ones with FOR UPDATE SKIP LOCKED and a lease, runs the handler registered for the row's kind,
 * and completes, retries or parks the row. Any number of replicas can tick at once; each claim is
 * exclusive, and a crashed worker's row becomes due again when its lease runs out. Handlers must be
 * idempotent because a lease can expire while a slow handler is still running.
 */

export interface TimerContext {
  /** The attempt number, 1 for the first run. */
  attempt: number;
  now(): Date;
}

export interface TimerHandler {
  run(timer: TimerRow, ctx: TimerContext): Promise<void>;
  /** Called once when the engine gives up on a row (permanent error or too many attempts). */
  onGiveUp?(timer: TimerRow, error: Error): Promise<void>;
}

export interface ScheduleInput {
  key: string;
  kind: string;
  dueAt: Date;
  payload?: Record<string, unknown>;
}

/**
 * Creates or re-plans the timer with this key (an upsert: re-planning never makes a second timer).
 * Runs inside the caller's transaction so the timer commits with the change that needs it.
 */
export async function scheduleTimer(tx: Db | Tx, input: ScheduleInput, now: Date): Promise<void> {
  const values = {
    key: input.key,
    kind: input.kind,
    payload: input.payload ?? {},
    status: 'pending' as const,
    scheduledFor: input.dueAt,
    dueAt: input.dueAt,
    attempts: 0,
    leaseToken: null,
    lastError: null,
    createdAt: now,
    finishedAt: null,
  };
  const { createdAt: _createdAt, ...update } = values;
  await tx.insert(timers).values(values).onConflictDoUpdate({ target: timers.key, set: update });
}

/** Creates the timer unless one with this key exists already (in any state): for work that must happen once. */
export async function scheduleTimerOnce(tx: Db | Tx, input: ScheduleInput, now: Date): Promise<void> {
  await tx
    .insert(timers)
    .values({
      key: input.key,
      kind: input.kind,
      payload: input.payload ?? {},
      scheduledFor: input.dueAt,
      dueAt: input.dueAt,
      createdAt: now,
    })
    .onConflictDoNothing({ target: timers.key });
}

/** Cancels every pending timer whose key starts with `keyPrefix`; returns how many. */
export async function cancelTimers(tx: Db | Tx, keyPrefix: string, now: Date): Promise<number> {
  const escaped = keyPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await tx
    .update(timers)
    .set({ status: 'cancelled', leaseToken: null, finishedAt: now })
    .where(and(eq(timers.status, 'pending'), like(timers.key, `${escaped}%`)))
    .returning({ id: timers.id });
  return rows.length;
}

export interface EngineOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  handlers: Record<string, TimerHandler>;
  /** How long a claim is exclusive; a dead worker's rows are claimable again after it. */
  leaseMs?: number;
  /** Most rows run at once by this process. */
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
        const mine = sql.join(
          batch.map((b) => sql`(${b.id}::bigint, ${b.token}::text)`),
          sql`, `,
        );
        await this.db
          .update(timers)
          .set({ status: 'done', leaseToken: null, finishedAt: this.clock.now() })
          .where(sql`(${timers.id}, ${timers.leaseToken}) in (${mine})`);
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.flushing = false;
  }
}

export class TimerEngine {
  readonly workerId: string;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly inflight = new Map<number, { token: string; done: Promise<void> }>();
  private cronTask: ScheduledTask | undefined;
  private ticking: Promise<number> | undefined;
  private tickAgain = false;
  private stopping = false;
  /** The last claim filled every free slot, so more rows may be due: claim again as slots free up. */
  private backlog = false;
  private readonly completions: CompletionBatch;

  constructor(private readonly options: EngineOptions) {
    this.completions = new CompletionBatch(options.db, options.clock);
    this.workerId = options.workerId ?? `w-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.concurrency = options.concurrency ?? 16;
    this.maxAttempts = options.maxAttempts ?? 25;
    this.backoffMs = options.backoffMs ?? defaultBackoff;
  }

  /** Ticks every second with node-cron until stop(). */
  start(expression = '* * * * * *'): void {
    this.cronTask = cron.schedule(expression, () => {
      void this.kick();
    });
  }

  /**
   * Claims and starts due rows now, without waiting for the next cron tick (used right after a commit
   * that scheduled work). Resolves when the claimed rows have been started, not finished.
   */
  kick(): Promise<number> {
    if (this.stopping) return Promise.resolve(0);
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    this.ticking = this.claimAndStart()
      .catch((err: unknown) => {
        this.options.logger.error('timer tick failed', err);
        return 0;
      })
      .finally(() => {
        this.ticking = undefined;
        if (this.tickAgain) {
          this.tickAgain = false;
          void this.kick();
        }
      });
    return this.ticking;
  }

  /** Runs ticks until nothing due is left and nothing is running (tests and benchmarks). */
  async drain(): Promise<void> {
    for (;;) {
      await this.kick();
      if (this.inflight.size === 0) return;
      await Promise.allSettled([...this.inflight.values()].map((r) => r.done));
    }
  }

  /** Stops ticking, waits up to `graceMs` for running handlers, then releases the leases of the rest. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await this.cronTask?.destroy();
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
    for (const [id, { token }] of this.inflight) {
      await this.options.db
        .update(timers)
        .set({ dueAt: this.options.clock.now(), leaseToken: null, attempts: sql`${timers.attempts} - 1` })
        .where(and(eq(timers.id, id), eq(timers.leaseToken, token)));
    }
  }

  private async claimAndStart(): Promise<number> {
    let started = 0;
    for (;;) {
      const room = this.concurrency - this.inflight.size;
      if (room <= 0 || this.stopping) return started;
      const claimed = await this.claim(room);
      for (const row of claimed) this.startRow(row);
      started += claimed.length;
      this.backlog = claimed.length === room;
      if (claimed.length < room) return started;
    }
  }

  private async claim(limit: number): Promise<TimerRow[]> {
    const { db, clock } = this.options;
    const now = clock.now();
    const token = `${this.workerId}:${randomUUID()}`;
    const due = db
      .select({ id: timers.id })
      .from(timers)
      .where(and(eq(timers.status, 'pending'), lte(timers.dueAt, now)))
      .orderBy(timers.dueAt)
      .limit(limit)
      .for('update', { skipLocked: true });
    return db
      .update(timers)
      .set({
        dueAt: new Date(now.getTime() + this.leaseMs),
        attempts: sql`${timers.attempts} + 1`,
        leaseToken: token,
      })
      .where(inArray(timers.id, due))
      .returning();
  }

  private startRow(row: TimerRow): void {
    const token = row.leaseToken as string;
    const done = this.runRow(row, token)
      // The row stays leased; it is retried when the lease runs out (e.g. the database was unreachable).
      .catch((err: unknown) =>
        this.options.logger.error(`timer ${row.key}: could not record the outcome`, err),
      )
      .finally(() => {
        this.inflight.delete(row.id);
        // Without this a tick would start at most `concurrency` rows and leave the rest for the next second.
        if (this.backlog && !this.stopping) void this.kick();
      });
    this.inflight.set(row.id, { token, done });
  }

  private async runRow(row: TimerRow, token: string): Promise<void> {
    const { db, clock, logger, handlers } = this.options;
    const mine = and(eq(timers.id, row.id), eq(timers.leaseToken, token));
    const handler = handlers[row.kind];
    // Keep the lease while a slow handler runs, so another replica does not start it a second time.
    const heartbeat = setInterval(
      () => {
        db.update(timers)
          .set({ dueAt: new Date(clock.now().getTime() + this.leaseMs) })
          .where(mine)
          .catch((err: unknown) => logger.warn(`lease extension failed for timer ${row.id}`, err));
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    try {
      if (!handler) throw new PermanentError('unknown_kind', `no handler for timer kind "${row.kind}"`);
      await handler.run(row, { attempt: row.attempts, now: () => clock.now() });
      clearInterval(heartbeat);
      await this.completions.add(row.id, token);
    } catch (caught) {
      clearInterval(heartbeat);
      const error = caught instanceof Error ? caught : new Error(String(caught));
      const giveUp = error instanceof PermanentError || row.attempts >= this.maxAttempts;
      if (giveUp) {
        logger.error(`timer ${row.key} failed for good after ${row.attempts} attempt(s): ${error.message}`);
        const parked = await db
          .update(timers)
          .set({ status: 'failed', leaseToken: null, lastError: error.message, finishedAt: clock.now() })
          .where(mine)
          .returning({ id: timers.id });
        // Only the lease holder reports, so a failure is announced once.
        if (parked.length > 0 && handler?.onGiveUp) {
          await handler.onGiveUp(row, error).catch((err: unknown) => {
            logger.error(`reporting the failure of timer ${row.key} failed`, err);
          });
        }
        return;
      }
      const delay =
        error instanceof RetryableError && error.retryAfterMs !== undefined
          ? error.retryAfterMs
          : this.backoffMs(row.attempts);
      logger.warn(
        `timer ${row.key} attempt ${row.attempts} failed, retrying in ${delay} ms: ${error.message}`,
      );
      await db
        .update(timers)
        .set({ dueAt: new Date(clock.now().getTime() + delay), leaseToken: null, lastError: error.message })
        .where(mine);
    }
  }
}

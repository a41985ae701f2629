import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemClock } from '../../src/clock.js';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { JobEngine } from '../../src/jobs/engine.js';
import {
  cancelJob,
  cancelJobs,
  ensureScheduled,
  handle,
  isPending,
  type JobBinding,
  type JobHandler,
  jobKey,
  jobKeyPrefix,
  jobType,
  schedule,
  WAIT_FALLBACK_MS,
  wakeWaiters,
} from '../../src/jobs/job.js';
import { type JobRow, timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { itWithServer, useTestDatabase } from '../helpers/db.js';
import { captureLogger } from '../helpers/logger.js';

const testDb = useTestDatabase();
let clock: FakeClock;
beforeEach(async () => {
  clock = new FakeClock();
});

const db = () => testDb().database.db;
const { logger } = captureLogger();

/** Test job types: any object payload. */
const t = jobType('t', z.looseObject({}));
const u = jobType('u', z.looseObject({}));

function engine(jobs: JobBinding[], options: Partial<ConstructorParameters<typeof JobEngine>[0]> = {}) {
  return new JobEngine({ db: db(), clock, logger, jobs, backoffMs: () => 5000, ...options });
}

/** Schedules a `t` job with this key, due at `dueAt` (now by default). */
function at(key: string, dueAt = clock.now(), type = t) {
  return schedule(db(), type, { key: jobKey(key), dueAt, payload: {} }, clock.now());
}

async function rowByKey(key: string): Promise<JobRow | undefined> {
  const [row] = await db().select().from(timers).where(eq(timers.key, key));
  return row;
}

/**
 * A `t` handler whose first run waits until `release()`: it records each run's payload `n` and the most
 * runs it saw at once.
 */
function firstRunHeld() {
  const runs = { started: [] as number[], most: 0, release: () => {} };
  let running = 0;
  const binding = handle(t, {
    run: async (p) => {
      running++;
      runs.most = Math.max(runs.most, running);
      runs.started.push((p as { n: number }).n);
      if (runs.started.length === 1)
        await new Promise<void>((r) => {
          runs.release = r;
        });
      running--;
    },
  });
  return Object.assign(runs, { binding });
}

describe('job engine', () => {
  it('starts the rows of one claim in the order they fell due, and in creation order among equals', async () => {
    const started: string[] = [];
    const e = engine([handle(t, { run: async (_p, ctx) => void started.push(ctx.key) })]);
    const ago = (ms: number) => new Date(clock.now().getTime() - ms);
    await at('later-first', ago(1000));
    await at('earliest', ago(2000));
    await at('later-second', ago(1000));
    await at('now');
    await e.drain();
    expect(started).toEqual(['earliest', 'later-first', 'later-second', 'now']);
  });

  it('fires due timers once and leaves future ones alone', async () => {
    const fired: string[] = [];
    const e = engine([handle(t, { run: async (_p, ctx) => void fired.push(ctx.key) })]);
    await at('a');
    await at('b', new Date(clock.now().getTime() + 60_000));
    await e.drain();
    expect(fired).toEqual(['a']);
    expect((await rowByKey('a'))?.status).toBe('done');
    expect((await rowByKey('b'))?.status).toBe('pending');
    clock.advance(60_000);
    await e.drain();
    await e.drain();
    expect(fired).toEqual(['a', 'b']);
  });

  it('keeps claiming within one tick as slots free up, beyond its concurrency', async () => {
    let fired = 0;
    const e = engine([handle(t, { run: async () => void fired++ })], { concurrency: 4 });
    for (let i = 0; i < 50; i++) await at(`burst:${i}`);
    await e.kick(); // one tick, as node-cron would start it
    for (let waited = 0; fired < 50 && waited < 5000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(50);
  });

  it('re-plans by key instead of making a second timer, and cancels by key prefix', async () => {
    const now = clock.now();
    await at('incident:1:remind', now);
    await at('incident:1:remind', new Date(now.getTime() + 5000));
    await at('incident:1:page', now);
    await at('incident:10:page', now);
    expect(await db().select().from(timers)).toHaveLength(3);
    expect((await rowByKey('incident:1:remind'))?.dueAt.getTime()).toBe(now.getTime() + 5000);
    expect(await isPending(db(), jobKey('incident', 1, 'page'))).toBe(true);
    expect(await cancelJobs(db(), jobKeyPrefix('incident', 1), now)).toBe(2);
    expect(await isPending(db(), jobKey('incident', 1, 'page'))).toBe(false);
    expect((await rowByKey('incident:10:page'))?.status).toBe('pending');
  });

  it('cancels one job by its exact key, not the jobs whose keys merely start with it', async () => {
    const now = clock.now();
    await at('incident:1:remind:task:1', now);
    await at('incident:1:remind:task:10', now);
    expect(await cancelJob(db(), jobKey('incident', 1, 'remind', 'task', 1), now)).toBe(true);
    expect((await rowByKey('incident:1:remind:task:1'))?.status).toBe('cancelled');
    expect((await rowByKey('incident:1:remind:task:10'))?.status).toBe('pending');
  });

  it('refuses to schedule a payload its job type does not accept', async () => {
    const typed = jobType('typed', z.object({ incidentId: z.uuid() }));
    await expect(
      schedule(
        db(),
        typed,
        { key: jobKey('bad'), dueAt: clock.now(), payload: { incidentId: 'nope' } },
        clock.now(),
      ),
    ).rejects.toThrow();
    expect(await rowByKey('bad')).toBeUndefined();
  });

  it('parks a queued job whose payload no longer parses, with a clear log line, and keeps running the rest', async () => {
    const { logger: log, lines } = captureLogger();
    const renamed = jobType('renamed', z.object({ incidentId: z.uuid() }));
    const ran: string[] = [];
    const e = new JobEngine({
      db: db(),
      clock,
      logger: log,
      backoffMs: () => 5000,
      jobs: [handle(renamed, { run: async (p) => void ran.push(p.incidentId) })],
    });
    const id = '7d4b0d2e-5f0a-4c55-8d7e-2b1f0c3a9e10';
    // A row queued by an older version, whose payload called the field `incident`.
    await db()
      .insert(timers)
      .values({
        key: 'old',
        kind: 'renamed',
        payload: { incident: id },
        scheduledFor: clock.now(),
        dueAt: clock.now(),
        createdAt: clock.now(),
      });
    await schedule(
      db(),
      renamed,
      { key: jobKey('new'), dueAt: clock.now(), payload: { incidentId: id } },
      clock.now(),
    );
    await e.drain();
    expect(ran).toEqual([id]);
    expect(await rowByKey('new')).toMatchObject({ status: 'done' });
    const parked = await rowByKey('old');
    expect(parked).toMatchObject({ status: 'failed', attempts: 1 });
    expect(parked?.lastError).toMatch(/^payload does not parse: .*incidentId/);
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.job_key === 'old');
    expect(line).toMatchObject({ level: 'error', job_kind: 'renamed' });
    expect(line.msg).toMatch(/^parked: payload does not parse/);
    // Parked means parked: later ticks leave it alone.
    clock.advance(60_000);
    await e.drain();
    expect(await rowByKey('old')).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('lets a job be scheduled waiting for another: it runs when that one wakes it, or at its fallback', async () => {
    const runs: string[] = [];
    const awaited = jobKey('incident', 1, 'provision');
    const e = engine([
      handle(t, {
        run: async (_p, ctx) => {
          runs.push(ctx.key);
        },
      }),
    ]);
    const waiting = (key: string) =>
      schedule(db(), t, { key: jobKey(key), dueAt: clock.now(), payload: {}, after: awaited }, clock.now());
    // Not due until woken (or the fallback passes).
    await waiting('woken');
    await waiting('forgotten');
    expect(await rowByKey('woken')).toMatchObject({ waitingFor: awaited });
    await e.drain();
    expect(runs).toEqual([]);
    expect(await wakeWaiters(db(), awaited, clock.now())).toBe(2);
    await e.drain();
    expect(runs.sort()).toEqual(['forgotten', 'woken']);
    expect(await rowByKey('woken')).toMatchObject({ status: 'done', waitingFor: null });
    // Nothing else waits for it now.
    expect(await wakeWaiters(db(), awaited, clock.now())).toBe(0);
    // A wake that never comes: the job runs at its fallback.
    await waiting('late');
    clock.advance(WAIT_FALLBACK_MS - 1);
    await e.drain();
    expect(runs).not.toContain('late');
    clock.advance(1);
    await e.drain();
    expect(runs).toContain('late');
  });

  it('logs a failing attempt at warn, with when it retries', async () => {
    const { logger: log, lines } = captureLogger();
    const e = engine(
      [
        handle(t, {
          run: async () => {
            throw new RetryableError('Slack answered 503', 2000);
          },
        }),
      ],
      { logger: log },
    );
    await at('fails');
    await e.drain();
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.msg.includes('Slack answered 503'));
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'attempt 1 failed, retrying in 2000 ms: Slack answered 503',
    });
  });

  it('runs a job once more when it asks (runAgain), woken by the job it waits for, unless it was re-planned meanwhile', async () => {
    const runs: { key: string; n: unknown; attempt: number }[] = [];
    const awaited = jobKey('incident', 2, 'tier-1');
    let replanWhileRunning = false;
    const e = engine([
      handle(t, {
        run: async (p, ctx) => {
          runs.push({ key: ctx.key, n: (p as { n?: unknown }).n, attempt: ctx.attempt });
          if (runs.length > 1 && !replanWhileRunning) return;
          if (replanWhileRunning) {
            // Cancelled and planned afresh (a new payload, a minute on) while this run goes on.
            await cancelJobs(db(), jobKeyPrefix('waiter'), clock.now());
            await schedule(
              db(),
              t,
              {
                key: jobKey('waiter', 'b'),
                dueAt: new Date(clock.now().getTime() + 60_000),
                payload: { n: 'new' },
              },
              clock.now(),
            );
          }
          await ctx.runAgain(clock.now(), { after: awaited });
        },
      }),
    ]);
    await schedule(
      db(),
      t,
      { key: jobKey('waiter', 'a'), dueAt: clock.now(), payload: { n: 1 } },
      clock.now(),
    );
    await e.drain();
    // It asked to run again after `awaited`: pending, waiting, its attempts counted afresh.
    expect(await rowByKey('waiter:a')).toMatchObject({ status: 'pending', waitingFor: awaited, attempts: 0 });
    expect(runs).toHaveLength(1);
    expect(await wakeWaiters(db(), awaited, clock.now())).toBe(1);
    await e.drain();
    expect(runs.map((r) => [r.key, r.n, r.attempt])).toEqual([
      ['waiter:a', 1, 1],
      ['waiter:a', 1, 1],
    ]);
    expect(await rowByKey('waiter:a')).toMatchObject({ status: 'done', waitingFor: null });

    // Fenced by the lease: a re-plan while it runs stands, with its payload and its time.
    replanWhileRunning = true;
    await schedule(
      db(),
      t,
      { key: jobKey('waiter', 'b'), dueAt: clock.now(), payload: { n: 'old' } },
      clock.now(),
    );
    await e.drain();
    replanWhileRunning = false;
    const replanned = await rowByKey('waiter:b');
    expect(replanned).toMatchObject({ status: 'pending', waitingFor: null, payload: { n: 'new' } });
    expect(replanned?.dueAt.getTime()).toBe(clock.now().getTime() + 60_000);
  });

  it('runs a waiter again at once when what it waits for wakes it while it is still running', async () => {
    // A tier that found the tier before it unpaged asks to wait for it; the earlier tier pages and wakes
    // it before this run has ended. The wake must not be lost to the run still holding its lease.
    const awaited = jobKey('incident', 3, 'tier-1');
    const runs: number[] = [];
    let wakeWhileRunning = async () => {};
    const e = engine([
      handle(t, {
        run: async (_p, ctx) => {
          runs.push(ctx.attempt);
          if (runs.length > 1) return;
          await ctx.runAgain(new Date(clock.now().getTime() + 5000), { after: awaited });
          await wakeWhileRunning();
        },
      }),
    ]);
    wakeWhileRunning = async () => {
      expect(await wakeWaiters(db(), awaited, clock.now())).toBe(1);
    };
    await at('waiter:c');
    await e.drain();
    // No time passed: the second run came from the wake, not from the 5 s fallback.
    expect(runs).toHaveLength(2);
    expect(await rowByKey('waiter:c')).toMatchObject({ status: 'done', waitingFor: null, rerunAt: null });
  });

  it('leaves a running waiter that asked nothing alone when it is woken: its run goes on to the end, once', async () => {
    // A post claimed after its fallback, still marked as waiting for setup, that finds the channel and
    // posts: setup's wake meanwhile must not make it run (and post) a second time.
    const awaited = jobKey('incident', 4, 'provision');
    const runs: number[] = [];
    let woke = -1;
    const e = engine([
      handle(t, {
        run: async (_p, ctx) => {
          runs.push(ctx.attempt);
          woke = await wakeWaiters(db(), awaited, clock.now());
        },
      }),
    ]);
    await schedule(
      db(),
      t,
      { key: jobKey('post', 'd'), dueAt: clock.now(), payload: {}, after: awaited },
      clock.now(),
    );
    clock.advance(WAIT_FALLBACK_MS + 1);
    await e.drain();
    expect(woke).toBe(0);
    expect(runs).toEqual([1]);
    expect(await rowByKey('post:d')).toMatchObject({ status: 'done' });
  });

  it('refuses two handlers for one job kind', () => {
    const noop: JobHandler<object> = { run: async () => {} };
    expect(() => engine([handle(t, noop), handle(t, noop)])).toThrow(/job kind "t" has two handlers/);
  });

  it('never runs one key twice at once: scheduled while running, it runs once more, after', async () => {
    const runs = firstRunHeld();
    const e = engine([runs.binding]);
    const again = (n: number, dueAt = clock.now()) =>
      schedule(db(), t, { key: jobKey('solo'), dueAt, payload: { n } }, clock.now());
    await again(1);
    await e.kick(); // run 1 starts and waits
    expect(runs.started).toEqual([1]);
    await again(2);
    await again(3, new Date(clock.now().getTime() + 1000));
    await e.kick();
    // Still the first run: nothing else started beside it.
    expect((await rowByKey('solo'))?.leaseToken).not.toBeNull();
    expect(runs.started).toEqual([1]);
    runs.release();
    await e.drain();
    // Re-planned to a second from now while running: it runs then, once, with the last payload.
    expect(await rowByKey('solo')).toMatchObject({ status: 'pending', rerunAt: null });
    clock.advance(1000);
    await e.drain();
    expect(runs.started).toEqual([1, 3]);
    expect(runs.most).toBe(1);
    expect(await rowByKey('solo')).toMatchObject({ status: 'done' });
  });

  it('never runs one key twice at once after a cancel: cancelled while running and scheduled again, it runs once more, after', async () => {
    const runs = firstRunHeld();
    const e = engine([runs.binding]);
    await schedule(
      db(),
      t,
      { key: jobKey('escalation:1:step'), dueAt: clock.now(), payload: { n: 1 } },
      clock.now(),
    );
    await e.kick(); // run 1 starts and waits
    expect(await cancelJobs(db(), jobKeyPrefix('escalation', 1), clock.now())).toBe(1);
    expect(await rowByKey('escalation:1:step')).toMatchObject({ status: 'cancelled' });
    // Scheduled again while the cancelled run is still running: not beside it.
    await schedule(
      db(),
      t,
      { key: jobKey('escalation:1:step'), dueAt: clock.now(), payload: { n: 2 } },
      clock.now(),
    );
    await e.kick();
    expect(runs.started).toEqual([1]);
    runs.release();
    await e.drain();
    await e.drain();
    expect(runs.started).toEqual([1, 2]);
    expect(runs.most).toBe(1);
    expect(await rowByKey('escalation:1:step')).toMatchObject({ status: 'done' });
  });

  it('cancelled while running and planned afresh for later: the new plan runs at its time, once, whether the old run fails or its worker dies', async () => {
    const runs: { engine: string; n: number; attempt: number }[] = [];
    let release: (fail: boolean) => void = () => {};
    const engineFor = (name: string) =>
      engine(
        [
          handle(t, {
            run: async (p, ctx) => {
              const n = (p as { n: number }).n;
              runs.push({ engine: name, n, attempt: ctx.attempt });
              if (n !== 1) return;
              const fail = await new Promise<boolean>((r) => {
                release = r;
              });
              if (fail) throw new RetryableError('Slack is down');
            },
          }),
        ],
        { leaseMs: 30_000 },
      );
    const replan = async (key: string) => {
      await cancelJob(db(), jobKey(key), clock.now());
      await schedule(
        db(),
        t,
        { key: jobKey(key), dueAt: new Date(clock.now().getTime() + 60_000), payload: { n: 2 } },
        clock.now(),
      );
    };

    // The old run fails after the re-plan: the new plan keeps its time and starts its attempts afresh.
    const a = engineFor('a');
    await schedule(
      db(),
      t,
      { key: jobKey('replan:fails'), dueAt: clock.now(), payload: { n: 1 } },
      clock.now(),
    );
    await a.kick();
    await replan('replan:fails');
    release(true);
    await a.drain();
    expect(await rowByKey('replan:fails')).toMatchObject({
      status: 'pending',
      attempts: 0,
      leaseToken: null,
      finishedAt: null,
    });
    expect((await rowByKey('replan:fails'))?.dueAt.getTime()).toBe(clock.now().getTime() + 60_000);
    clock.advance(60_000);
    await a.drain();
    expect(runs.map((r) => [r.n, r.attempt])).toEqual([
      [1, 1],
      [2, 1],
    ]);

    // The old run's worker dies: after its lease another worker runs the new plan, at the plan's time, once.
    runs.length = 0;
    const dying = engineFor('dying');
    await schedule(
      db(),
      t,
      { key: jobKey('replan:dies'), dueAt: clock.now(), payload: { n: 1 } },
      clock.now(),
    );
    await dying.kick(); // never completes
    await replan('replan:dies');
    const b = engineFor('b');
    clock.advance(31_000); // the dead run's lease is over, the new plan not yet due
    await b.drain();
    expect(runs.map((r) => r.engine)).toEqual(['dying']);
    clock.advance(29_000);
    await b.drain();
    clock.advance(120_000);
    await b.drain();
    expect(runs.map((r) => [r.engine, r.n, r.attempt])).toEqual([
      ['dying', 1, 1],
      ['b', 2, 1],
    ]);
    expect(await rowByKey('replan:dies')).toMatchObject({ status: 'done' });
    release(false);
  });

  it('a job cancelled while it runs stays cancelled: not retried when the run fails, not run again when it asks', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const e = engine([
      handle(t, {
        run: async (p, ctx) => {
          calls++;
          await new Promise<void>((r) => {
            release = r;
          });
          if ((p as { fail?: boolean }).fail) throw new RetryableError('Slack is down');
          await ctx.runAgain(ctx.now());
        },
      }),
    ]);
    for (const [key, payload] of [
      ['c:fails', { fail: true }],
      ['c:again', {}],
    ] as const) {
      await schedule(db(), t, { key: jobKey(key), dueAt: clock.now(), payload }, clock.now());
      await e.kick();
      await cancelJob(db(), jobKey(key), clock.now());
      release();
      await e.drain();
      clock.advance(60_000);
      await e.drain();
      expect(await rowByKey(key)).toMatchObject({ status: 'cancelled', leaseToken: null });
    }
    expect(calls).toBe(2);
  });

  it('ensureScheduled leaves a waiting job as it is, and re-arms one that ran or is running', async () => {
    const ran: number[] = [];
    let release: () => void = () => {};
    const e = engine([
      handle(t, {
        run: async (p) => {
          ran.push((p as { n: number }).n);
          if ((p as { n: number }).n === 3)
            await new Promise<void>((r) => {
              release = r;
            });
        },
      }),
    ]);
    const ensure = (n: number, dueAt = clock.now()) =>
      ensureScheduled(db(), t, { key: jobKey('paced'), dueAt, payload: { n } }, clock.now());
    const later = new Date(clock.now().getTime() + 1000);
    await schedule(db(), t, { key: jobKey('paced'), dueAt: later, payload: { n: 1 } }, clock.now());
    // Waiting for its time: neither rewritten nor made due sooner.
    await ensure(2);
    expect(await rowByKey('paced')).toMatchObject({ status: 'pending', dueAt: later, payload: { n: 1 } });
    await e.drain();
    expect(ran).toEqual([]);
    clock.advance(1000);
    await e.drain();
    expect(ran).toEqual([1]);
    // Done: made due again.
    await ensure(3);
    await e.kick(); // run 3 starts and waits
    expect(ran).toEqual([1, 3]);
    // Running: it runs once more, after.
    await ensure(4);
    expect((await rowByKey('paced'))?.rerunAt).not.toBeNull();
    release();
    await e.drain();
    expect(ran).toEqual([1, 3, 4]);
    expect(await rowByKey('paced')).toMatchObject({ status: 'done' });
  });

  it('wakes when a transaction that scheduled a job commits, without a tick or a kick', async () => {
    const fired: string[] = [];
    const e = engine([handle(t, { run: async (_p, ctx) => void fired.push(ctx.key) })]);
    await e.listen((channel, onSignal) => testDb().database.listen(channel, onSignal));
    try {
      await db().transaction(async (tx) => {
        await schedule(tx, t, { key: jobKey('woken'), dueAt: clock.now(), payload: {} }, clock.now());
        await new Promise((r) => setTimeout(r, 200));
        // Not before the commit: nothing is claimable yet, and nothing was signalled.
        expect(fired).toEqual([]);
      });
      for (let waited = 0; fired.length === 0 && waited < 5000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      expect(fired).toEqual(['woken']);
      // A transaction that rolls back signals nothing (and leaves nothing to run).
      await db()
        .transaction(async (tx) => {
          await schedule(tx, t, { key: jobKey('rolled-back'), dueAt: clock.now(), payload: {} }, clock.now());
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await rowByKey('rolled-back')).toBeUndefined();
    } finally {
      await e.stop();
    }
  });

  it('wakes for a job that falls due between two ticks, from what its claim read', async () => {
    const fired: { key: string; at: number }[] = [];
    // The real clock, and a tick once an hour: only the timer the claim armed can run the job on time.
    const e = engine(
      [handle(t, { run: async (_p, ctx) => void fired.push({ key: ctx.key, at: Date.now() }) })],
      {
        clock: systemClock,
      },
    );
    e.start('0 0 * * * *');
    await e.listen((channel, onSignal) => testDb().database.listen(channel, onSignal));
    try {
      const scheduledAt = Date.now();
      await schedule(
        db(),
        t,
        { key: jobKey('soon'), dueAt: new Date(scheduledAt + 300), payload: {} },
        new Date(),
      );
      for (let waited = 0; fired.length === 0 && waited < 5000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      expect(fired.map((f) => f.key)).toEqual(['soon']);
      expect(fired[0]?.at).toBeGreaterThanOrEqual(scheduledAt + 300);
      expect(fired[0]?.at).toBeLessThan(scheduledAt + 1500);
    } finally {
      await e.stop();
    }
  });

  it('retries a failing handler with backoff, at Retry-After when given, then succeeds', async () => {
    let calls = 0;
    const e = engine([
      handle(t, {
        run: async () => {
          calls++;
          if (calls === 1) throw new Error('boom');
          if (calls === 2) throw new RetryableError('slow down', 30_000);
        },
      }),
    ]);
    await at('r');
    await e.drain();
    expect(await rowByKey('r')).toMatchObject({ status: 'pending', attempts: 1, lastError: 'boom' });
    expect((await rowByKey('r'))?.dueAt.getTime()).toBe(clock.now().getTime() + 5000);
    clock.advance(5000);
    await e.drain();
    expect((await rowByKey('r'))?.dueAt.getTime()).toBe(clock.now().getTime() + 30_000);
    clock.advance(30_000);
    await e.drain();
    expect(await rowByKey('r')).toMatchObject({ status: 'done', attempts: 3 });
  });

  it('parks a permanently failing timer and reports it once', async () => {
    const gaveUp: string[] = [];
    const e = engine(
      [
        handle(t, {
          run: async () => {
            throw new PermanentError('restricted_action', 'no');
          },
          onGiveUp: async (_p, err, ctx) => void gaveUp.push(`${ctx.key}:${err.message}`),
        }),
        handle(u, {
          run: async () => Promise.reject(new Error('always')),
          onGiveUp: async (_p, _err, ctx) => void gaveUp.push(ctx.key),
        }),
      ],
      { maxAttempts: 2 },
    );
    await at('p');
    await at('q', clock.now(), u);
    await at('x', clock.now(), jobType('no-such-kind', z.looseObject({})));
    await e.drain();
    clock.advance(5000);
    await e.drain();
    expect(gaveUp.sort()).toEqual(['p:no', 'q']);
    expect(await rowByKey('p')).toMatchObject({ status: 'failed', lastError: 'no' });
    expect(await rowByKey('q')).toMatchObject({ status: 'failed', attempts: 2 });
    expect((await rowByKey('x'))?.status).toBe('failed');
  });

  it('picks up a timer whose worker died once its lease expires, and fences the dead worker out', async () => {
    let releaseA: () => void = () => {};
    let aRuns = 0;
    let bRuns = 0;
    const a = engine(
      [
        handle(t, {
          run: () => {
            aRuns++;
            return new Promise<void>((resolve) => {
              releaseA = resolve;
            });
          },
        }),
      ],
      { leaseMs: 30_000 },
    );
    const b = engine([handle(t, { run: async () => void bRuns++ })], { leaseMs: 30_000 });
    await at('lease');
    await a.kick(); // A claims and hangs, as if it had died
    expect(aRuns).toBe(1);
    await b.drain();
    expect(bRuns).toBe(0); // still leased
    clock.advance(30_001);
    await b.drain();
    expect(bRuns).toBe(1);
    expect(await rowByKey('lease')).toMatchObject({ status: 'done', attempts: 2 });
    // The "dead" worker wakes up and tries to record its outcome: its lease is gone, nothing changes.
    releaseA();
    await a.drain();
    expect(await rowByKey('lease')).toMatchObject({ status: 'done', attempts: 2 });
    expect(bRuns).toBe(1);
  });

  it('completes rows that finish together in shared writes, still fenced row by row', async () => {
    const release: (() => void)[] = [];
    const e = engine([handle(t, { run: () => new Promise<void>((resolve) => void release.push(resolve)) })], {
      concurrency: 10,
    });
    for (let i = 0; i < 10; i++) await at(`batch:${i}`);
    await e.kick();
    expect(release).toHaveLength(10);
    // Another worker took over row 3 meanwhile (its lease expired): this worker's write must skip it.
    await db().update(timers).set({ leaseToken: 'someone-else' }).where(eq(timers.key, 'batch:3'));
    for (const r of release) r();
    await e.drain();
    const rows = await db().select().from(timers);
    expect(rows.filter((r) => r.status === 'done').map((r) => r.key)).toHaveLength(9);
    expect(await rowByKey('batch:3')).toMatchObject({ status: 'pending', leaseToken: 'someone-else' });
  });

  it('keeps the leases of slow handlers, all in one statement, so nobody else starts them meanwhile', async () => {
    const release: (() => void)[] = [];
    let aRuns = 0;
    let bRuns = 0;
    const a = engine(
      [
        handle(t, {
          run: () => {
            aRuns++;
            return new Promise<void>((resolve) => void release.push(resolve));
          },
        }),
      ],
      { leaseMs: 300 },
    );
    const b = engine([handle(t, { run: async () => void bRuns++ })], { leaseMs: 300 });
    for (let i = 0; i < 3; i++) await at(`slow:${i}`);
    await a.kick();
    expect(aRuns).toBe(3);
    // Five leases' worth of time passes (the clock the leases are written with, and real time for the
    // heartbeat's timer): each third of a lease, A extends all three.
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 100));
      clock.advance(100);
      await b.drain();
    }
    expect(bRuns).toBe(0);
    const rows = await db().select().from(timers);
    for (const row of rows) expect(row.dueAt.getTime()).toBeGreaterThan(clock.now().getTime());
    for (const r of release) r();
    await a.drain();
    expect((await db().select().from(timers)).map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });

  it('releases the leases of handlers still running at shutdown', async () => {
    const e = engine([handle(t, { run: () => new Promise<void>(() => {}) })]);
    await at('slow');
    await e.kick();
    await e.stop(50);
    expect(await rowByKey('slow')).toMatchObject({ status: 'pending', attempts: 0, leaseToken: null });
    expect((await rowByKey('slow'))?.dueAt.getTime()).toBe(clock.now().getTime());
  });

  itWithServer('two workers on separate connections claim each of 300 due timers exactly once', async () => {
    const now = clock.now();
    const values = Array.from({ length: 300 }, (_, i) => ({
      key: `race:${i}`,
      kind: 't',
      payload: {},
      scheduledFor: now,
      dueAt: now,
      createdAt: now,
    }));
    await db().insert(timers).values(values);
    const fired = new Map<string, number>();
    const handler = handle(t, {
      run: async (_p, ctx) => {
        fired.set(ctx.key, (fired.get(ctx.key) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
      },
    });
    const workers = [testDb().connect(6), testDb().connect(6)].map(
      (d, i) =>
        new JobEngine({
          db: d.db,
          clock,
          logger,
          jobs: [handler],
          concurrency: 8,
          workerId: `w${i}`,
        }),
    );
    await Promise.all(workers.map((w) => w.drain()));
    expect(fired.size).toBe(300);
    expect([...fired.values()].every((n) => n === 1)).toBe(true);
    const done = await db().select().from(timers).where(eq(timers.status, 'done'));
    expect(done).toHaveLength(300);
  });
});

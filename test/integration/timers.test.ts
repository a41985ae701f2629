import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { type TimerRow, timers } from '../../src/db/schema.js';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { cancelTimers, scheduleTimer, TimerEngine, type TimerHandler } from '../../src/timers/engine.js';
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

function engine(
  handlers: Record<string, TimerHandler>,
  options: Partial<ConstructorParameters<typeof TimerEngine>[0]> = {},
) {
  return new TimerEngine({ db: db(), clock, logger, handlers, backoffMs: () => 5000, ...options });
}

async function rowByKey(key: string): Promise<TimerRow | undefined> {
  const [row] = await db().select().from(timers).where(eq(timers.key, key));
  return row;
}

describe('timer engine', () => {
  it('fires due timers once and leaves future ones alone', async () => {
    const fired: string[] = [];
    const e = engine({ t: { run: async (row) => void fired.push(row.key) } });
    await scheduleTimer(db(), { key: 'a', kind: 't', dueAt: clock.now() }, clock.now());
    await scheduleTimer(
      db(),
      { key: 'b', kind: 't', dueAt: new Date(clock.now().getTime() + 60_000) },
      clock.now(),
    );
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
    const e = engine({ t: { run: async () => void fired++ } }, { concurrency: 4 });
    for (let i = 0; i < 50; i++)
      await scheduleTimer(db(), { key: `burst:${i}`, kind: 't', dueAt: clock.now() }, clock.now());
    await e.kick(); // one tick, as node-cron would start it
    for (let waited = 0; fired < 50 && waited < 5000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(50);
  });

  it('re-plans by key instead of making a second timer, and cancels by key prefix', async () => {
    const now = clock.now();
    await scheduleTimer(db(), { key: 'incident:1:remind', kind: 't', dueAt: now }, now);
    await scheduleTimer(
      db(),
      { key: 'incident:1:remind', kind: 't', dueAt: new Date(now.getTime() + 5000) },
      now,
    );
    await scheduleTimer(db(), { key: 'incident:1:page', kind: 't', dueAt: now }, now);
    await scheduleTimer(db(), { key: 'incident:10:page', kind: 't', dueAt: now }, now);
    expect(await db().select().from(timers)).toHaveLength(3);
    expect((await rowByKey('incident:1:remind'))?.dueAt.getTime()).toBe(now.getTime() + 5000);
    expect(await cancelTimers(db(), 'incident:1:', now)).toBe(2);
    expect((await rowByKey('incident:10:page'))?.status).toBe('pending');
  });

  it('retries a failing handler with backoff, at Retry-After when given, then succeeds', async () => {
    let calls = 0;
    const e = engine({
      t: {
        run: async () => {
          calls++;
          if (calls === 1) throw new Error('boom');
          if (calls === 2) throw new RetryableError('slow down', 30_000);
        },
      },
    });
    await scheduleTimer(db(), { key: 'r', kind: 't', dueAt: clock.now() }, clock.now());
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
      {
        t: {
          run: async () => {
            throw new PermanentError('restricted_action', 'no');
          },
          onGiveUp: async (row, err) => void gaveUp.push(`${row.key}:${err.message}`),
        },
        u: {
          run: async () => Promise.reject(new Error('always')),
          onGiveUp: async (row) => void gaveUp.push(row.key),
        },
      },
      { maxAttempts: 2 },
    );
    await scheduleTimer(db(), { key: 'p', kind: 't', dueAt: clock.now() }, clock.now());
    await scheduleTimer(db(), { key: 'q', kind: 'u', dueAt: clock.now() }, clock.now());
    await scheduleTimer(db(), { key: 'x', kind: 'no-such-kind', dueAt: clock.now() }, clock.now());
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
      {
        t: {
          run: () => {
            aRuns++;
            return new Promise<void>((resolve) => {
              releaseA = resolve;
            });
          },
        },
      },
      { leaseMs: 30_000 },
    );
    const b = engine({ t: { run: async () => void bRuns++ } }, { leaseMs: 30_000 });
    await scheduleTimer(db(), { key: 'lease', kind: 't', dueAt: clock.now() }, clock.now());
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
    const e = engine(
      { t: { run: () => new Promise<void>((resolve) => void release.push(resolve)) } },
      { concurrency: 10 },
    );
    for (let i = 0; i < 10; i++)
      await scheduleTimer(db(), { key: `batch:${i}`, kind: 't', dueAt: clock.now() }, clock.now());
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

  it('releases the leases of handlers still running at shutdown', async () => {
    const e = engine({ t: { run: () => new Promise<void>(() => {}) } });
    await scheduleTimer(db(), { key: 'slow', kind: 't', dueAt: clock.now() }, clock.now());
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
    const handler: TimerHandler = {
      run: async (row) => {
        fired.set(row.key, (fired.get(row.key) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
      },
    };
    const workers = [testDb().connect(6), testDb().connect(6)].map(
      (d, i) =>
        new TimerEngine({
          db: d.db,
          clock,
          logger,
          handlers: { t: handler },
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

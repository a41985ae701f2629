import { asc, eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { incidents } from '../../src/db/schema.js';
import { type DeclareRequest, declareIncident } from '../../src/incidents/declare.js';
import { findIncident } from '../../src/incidents/queries.js';
import { setupJob, setupKey, waitForSetup } from '../../src/incidents/setup.js';
import { JobEngine } from '../../src/jobs/engine.js';
import {
  handle,
  jobKey,
  jobType,
  type NewJobStarter,
  schedule,
  WAIT_FALLBACK_MS,
  wakeWaiters,
} from '../../src/jobs/job.js';
import { timers } from '../../src/jobs/table.js';
import { listEvents } from '../../src/timeline/timeline.js';
import { FakeClock } from '../helpers/clock.js';
import { itWithServer, useTestDatabase } from '../helpers/db.js';
import { incidentDeps } from '../helpers/deps.js';
import { captureLogger } from '../helpers/logger.js';

const testDb = useTestDatabase();

const clock = new FakeClock();
/** The number a declaration got: taken at commit, so read from the committed row. */
const numberOf = async (declared: { incidentId: string }) =>
  (await findIncident(testDb().database.db, declared.incidentId))?.number;
const request = (n: number, overrides: Partial<DeclareRequest> = {}): DeclareRequest => ({
  teamId: 'T1',
  reporterId: 'U0REPORTER',
  declareKey: `view-${n}`,
  sourceChannelId: 'C0GENERAL',
  title: `Incident ${n}`,
  severity: 'SEV2',
  summary: '',
  commanderId: undefined,
  isPrivate: false,
  isTest: false,
  ...overrides,
});

describe('declareIncident', () => {
  it('numbers incidents 1, 2, 3 per workspace', async () => {
    const deps = incidentDeps(testDb().database.db, clock);
    for (let i = 1; i <= 3; i++) await declareIncident(deps, request(i));
    await declareIncident(deps, request(9, { teamId: 'T2' }));
    const rows = await testDb().database.db.select().from(incidents).orderBy(asc(incidents.number));
    expect(rows.map((r) => [r.teamId, r.number])).toEqual([
      ['T1', 1],
      ['T2', 1],
      ['T1', 2],
      ['T1', 3],
    ]);
    // The channel is named from the number when setup creates it (test/http/declare.test.ts).
    expect(rows.map((r) => r.channelName)).toEqual(['', '', '', '']);
  });

  it('takes its number at commit: a declaration that rolls back leaves no gap', async () => {
    const deps = incidentDeps(testDb().database.db, clock);
    const first = await declareIncident(deps, request(1));
    expect(await numberOf(first)).toBe(1);
    await expect(
      declareIncident(deps, request(2), {
        alsoInTransaction: async () => {
          throw new Error('the alert group is gone');
        },
      }),
    ).rejects.toThrow('the alert group is gone');
    const third = await declareIncident(deps, request(3));
    expect(await numberOf(third)).toBe(2);
    expect((await testDb().database.db.select().from(incidents)).map((r) => r.number).sort()).toEqual([1, 2]);
  });

  it('writes the incident, its commander role, its timeline and its setup job together', async () => {
    const deps = incidentDeps(testDb().database.db, clock);
    const { incidentId, created } = await declareIncident(deps, request(1, { commanderId: 'U0CMD' }));
    expect(created).toBe(true);
    const events = await listEvents(testDb().database.db, incidentId);
    expect(events.map((e) => [e.kind, e.actorId])).toEqual([
      ['declared', 'U0REPORTER'],
      ['role_assigned', 'U0REPORTER'],
    ]);
    expect(events[1]?.data).toEqual({ role: 'commander', userId: 'U0CMD' });
    const jobs = await testDb().database.db.select().from(timers);
    expect(jobs).toMatchObject([
      {
        key: `incident:${incidentId}:provision`,
        kind: 'incident.provision',
        status: 'pending',
        payload: { incidentId },
        attempts: 0,
        leaseToken: null,
        dueAt: clock.now(),
        scheduledFor: clock.now(),
      },
    ]);
  });

  it('returns the same incident for the same declare key', async () => {
    const deps = incidentDeps(testDb().database.db, clock);
    const first = await declareIncident(deps, request(1));
    const again = await declareIncident(deps, request(1, { title: 'changed' }));
    expect(first.created).toBe(true);
    expect(again).toEqual({ incidentId: first.incidentId, created: false });
    expect(await testDb().database.db.select().from(incidents)).toHaveLength(1);
    // The copy's statement inserted nothing: no second event, no second setup job.
    expect(await listEvents(testDb().database.db, first.incidentId)).toHaveLength(1);
    expect(await testDb().database.db.select().from(timers)).toHaveLength(1);
  });

  itWithServer('gives 40 concurrent declarations in one team distinct consecutive numbers', async () => {
    // Separate pools, so the declarations really race on separate connections.
    const pools = [testDb().connect(10), testDb().connect(10)] as const;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        declareIncident(incidentDeps(pools[i % 2 === 0 ? 0 : 1].db, clock), request(i)),
      ),
    );
    const numbers = (await Promise.all(results.map(numberOf))).sort((a = 0, b = 0) => a - b);
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  itWithServer('leaves no gap when racing copies of one submission roll back', async () => {
    const pools = [testDb().connect(10), testDb().connect(10)] as const;
    // 10 copies of each of 5 submissions, all at once.
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        declareIncident(incidentDeps(pools[i % 2 === 0 ? 0 : 1].db, clock), request(i % 5)),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(5);
    const after = await declareIncident(incidentDeps(testDb().database.db, clock), request(99));
    expect(await numberOf(after)).toBe(6);
    const rows = await testDb().database.db.select().from(incidents).where(eq(incidents.teamId, 'T1'));
    expect(rows.map((r) => r.number).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("a declaration's setup job, handed to this process's engine", () => {
  const LEASE_MS = 30_000;
  /**
   * Two replicas' engines on one database, each running setup with a handler that records its attempts;
   * replica A's first run waits for `release()`. Declarations go through A unless told otherwise.
   */
  function replicas() {
    const db = testDb().database.db;
    const clock = new FakeClock();
    const runs: { replica: 'A' | 'B'; attempt: number }[] = [];
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const replica = (name: 'A' | 'B') =>
      new JobEngine({
        db,
        clock,
        logger: captureLogger().logger,
        leaseMs: LEASE_MS,
        jobs: [
          handle(setupJob, {
            async run(_p, ctx) {
              runs.push({ replica: name, attempt: ctx.attempt });
              if (name === 'A') await held;
            },
          }),
        ],
      });
    const a = replica('A');
    const b = replica('B');
    const declare = (jobs: NewJobStarter = a) =>
      declareIncident({ ...incidentDeps(db, clock), jobs }, request(1));
    const setupRow = async (incidentId: string) =>
      (
        await db
          .select()
          .from(timers)
          .where(eq(timers.key, setupKey(incidentId)))
      )[0];
    return { clock, runs, release, a, b, declare, setupRow };
  }

  it('is created claimed by it and runs as the declaration commits: no other replica takes it', async () => {
    const r = replicas();
    const { incidentId } = await r.declare();
    // Started before the declaration returned: no NOTIFY, no claim.
    expect(r.runs).toEqual([{ replica: 'A', attempt: 1 }]);
    const row = await r.setupRow(incidentId);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row?.leaseToken?.startsWith(`${r.a.workerId}:`)).toBe(true);
    expect(row?.dueAt).toEqual(new Date(r.clock.now().getTime() + LEASE_MS));
    expect(await r.b.kick()).toBe(0);
    r.release();
    await r.a.drain();
    expect(r.runs).toEqual([{ replica: 'A', attempt: 1 }]);
    expect(await r.setupRow(incidentId)).toMatchObject({ status: 'done', leaseToken: null });
  });

  it('is created unclaimed when the engine is stopping, for whichever replica is woken', async () => {
    const r = replicas();
    await r.a.stop();
    const { incidentId } = await r.declare();
    expect(await r.setupRow(incidentId)).toMatchObject({ status: 'pending', attempts: 0, leaseToken: null });
    await r.b.drain();
    expect(r.runs).toEqual([{ replica: 'B', attempt: 1 }]);
  });

  it('is given back by an engine that began stopping while the declaration committed: another replica runs it at once', async () => {
    const r = replicas();
    const { incidentId } = await r.declare({
      leaseNewJob: () => r.a.leaseNewJob(),
      runLeasedJob: (job) => void r.a.stop().then(() => r.a.runLeasedJob(job)),
    });
    await vi.waitFor(async () => expect((await r.setupRow(incidentId))?.leaseToken).toBeNull());
    await r.b.drain();
    expect(r.runs).toEqual([{ replica: 'B', attempt: 1 }]);
    expect(await r.setupRow(incidentId)).toMatchObject({ status: 'done' });
  });

  it('runs on another replica, as a second attempt, when its process died before running it', async () => {
    const r = replicas();
    const { incidentId } = await r.declare({ leaseNewJob: () => r.a.leaseNewJob(), runLeasedJob: () => {} });
    expect(await r.b.kick()).toBe(0);
    r.clock.advance(LEASE_MS);
    await r.b.drain();
    // The second attempt: it looks for what a first may have done before posting again.
    expect(r.runs).toEqual([{ replica: 'B', attempt: 2 }]);
    expect(await r.setupRow(incidentId)).toMatchObject({ status: 'done' });
  });
});

describe('waitForSetup', () => {
  /**
   * A job that needs the incident's channel, run by a real engine: `between` runs after the job has read
   * the incident and before it asks to wait, where a wake from setup would reach nobody.
   */
  async function channelWaiter(between: (incidentId: string) => Promise<void> = async () => {}) {
    const db = testDb().database.db;
    const { incidentId } = await declareIncident(incidentDeps(db, clock), request(1));
    const seen: (string | null)[] = [];
    const waiter = jobType('test.needs_channel', z.object({}));
    const engine = new JobEngine({
      db,
      clock,
      logger: captureLogger().logger,
      jobs: [
        handle(waiter, {
          async run(_p, ctx) {
            const incident = await findIncident(db, incidentId);
            seen.push(incident?.channelId ?? null);
            if (incident?.channelId) return;
            await between(incidentId);
            await waitForSetup(db, ctx, incidentId, (i) => !!i.channelId);
          },
        }),
      ],
    });
    // Only the waiter runs here: setup's own job is running on another replica, under a long lease.
    await db
      .update(timers)
      .set({ leaseToken: 'setup-elsewhere', dueAt: new Date(clock.now().getTime() + 3_600_000) })
      .where(eq(timers.key, setupKey(incidentId)));
    await schedule(db, waiter, { key: jobKey('waiter'), dueAt: clock.now(), payload: {} }, clock.now());
    const job = async () => (await db.select().from(timers).where(eq(timers.key, 'waiter')))[0];
    const madeByTheWaySetupDoes = async () => {
      await db.update(incidents).set({ channelId: 'C0MADE' }).where(eq(incidents.id, incidentId));
      return wakeWaiters(db, setupKey(incidentId), clock.now());
    };
    return { db, engine, incidentId, seen, job, madeByTheWaySetupDoes };
  }

  it('waits while setup is making the channel, and runs again when setup wakes it', async () => {
    const w = await channelWaiter();
    await w.engine.drain();
    expect(w.seen).toEqual([null]);
    expect(await w.job()).toMatchObject({
      status: 'pending',
      waitingFor: setupKey(w.incidentId),
      attempts: 0,
    });
    expect(await w.madeByTheWaySetupDoes()).toBe(1);
    await w.engine.drain();
    expect(w.seen).toEqual([null, 'C0MADE']);
    expect(await w.job()).toMatchObject({ status: 'done' });
  });

  it('runs again at once when setup made the channel after the job read the incident, waking nobody', async () => {
    let woken = -1;
    const w = await channelWaiter(async () => {
      woken = await w.madeByTheWaySetupDoes();
    });
    await w.engine.drain();
    // No time passed: the second run is not the fallback's.
    expect(woken).toBe(0);
    expect(w.seen).toEqual([null, 'C0MADE']);
    expect(await w.job()).toMatchObject({ status: 'done' });
  });

  it('gives up quietly when setup has ended without the channel, and waits no more', async () => {
    const w = await channelWaiter(async (incidentId) => {
      await w.db
        .update(timers)
        .set({ status: 'failed', leaseToken: null })
        .where(eq(timers.key, setupKey(incidentId)));
    });
    await w.engine.drain();
    clock.advance(WAIT_FALLBACK_MS * 10);
    await w.engine.drain();
    expect(w.seen).toEqual([null]);
    expect(await w.job()).toMatchObject({ status: 'done' });
  });
});

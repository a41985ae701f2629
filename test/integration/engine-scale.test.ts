import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_INCIDENT_CONFIG, parseIncidentConfig } from '../../src/config/index.js';
import { declareIncident } from '../../src/incidents/declare.js';
import { acknowledge, resolveIncident } from '../../src/incidents/lifecycle.js';
import { JobEngine } from '../../src/jobs/engine.js';
import { handle, jobType } from '../../src/jobs/job.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { itWithServer, useTestDatabase } from '../helpers/db.js';
import { incidentDeps } from '../helpers/deps.js';
import { captureLogger } from '../helpers/logger.js';

const testDb = useTestDatabase();
const { logger } = captureLogger();

describe('timer engine at scale (real PostgreSQL)', () => {
  itWithServer(
    '3 workers on separate connections racing on 1,000 due timers fire each exactly once',
    async () => {
      const clock = new FakeClock();
      const now = clock.now().toISOString();
      await testDb().database.db.execute(sql`
      insert into timers (key, kind, payload, scheduled_for, due_at, created_at)
      select 'race:' || g, 'race', '{}'::jsonb, ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz
      from generate_series(1, 1000) g`);
      const fired = new Map<string, string[]>();
      const workers = [0, 1, 2].map((n) => {
        const handler = handle(jobType('race', z.looseObject({})), {
          run: async (_p, ctx) => {
            fired.set(ctx.key, [...(fired.get(ctx.key) ?? []), `w${n}`]);
            if (Math.random() < 0.2) await new Promise((r) => setTimeout(r, 1));
          },
        });
        return new JobEngine({
          db: testDb().connect(8).db,
          clock,
          logger,
          jobs: [handler],
          concurrency: 16,
          workerId: `w${n}`,
        });
      });
      const started = performance.now();
      await Promise.all(workers.map((w) => w.drain()));
      const ms = performance.now() - started;
      const perWorker = [0, 1, 2].map((n) => [...fired.values()].filter((w) => w[0] === `w${n}`).length);
      const duplicates = [...fired.values()].filter((w) => w.length > 1).length;
      console.log(
        `[measure] race: 1000 due timers, 3 workers → fired ${fired.size}, duplicates ${duplicates}, per worker ${perWorker.join('/')}, ${ms.toFixed(0)} ms`,
      );
      expect(fired.size).toBe(1000);
      expect(duplicates).toBe(0);
      expect(perWorker.filter((n) => n > 0).length).toBeGreaterThan(1);
      const [done] = await testDb()
        .database.db.select({ n: sql<number>`count(*)::int` })
        .from(timers)
        .where(eq(timers.status, 'done'));
      expect(done?.n).toBe(1000);
    },
  );

  itWithServer('claiming uses the pending-due index: 100,000 future timers do not slow a tick', async () => {
    const clock = new FakeClock();
    const now = clock.now().toISOString();
    await testDb().database.db.execute(sql`
      insert into timers (key, kind, payload, scheduled_for, due_at, created_at)
      select 'future:' || g, 'x', '{}'::jsonb, ${now}::timestamptz + (g || ' minutes')::interval,
             ${now}::timestamptz + (g || ' minutes')::interval, ${now}::timestamptz
      from generate_series(1, 100000) g`);
    await testDb().database.db.execute(sql`analyze timers`);
    const plan = (await testDb().database.db.execute(sql`
      explain (format json) select id from timers where status = 'pending' and due_at <= ${now}::timestamptz
      order by due_at limit 16 for update skip locked`)) as unknown as { 'QUERY PLAN': unknown }[];
    expect(JSON.stringify(plan)).toContain('timers_pending_due_idx');
    const engine = new JobEngine({ db: testDb().database.db, clock, logger, jobs: [] });
    const started = performance.now();
    for (let i = 0; i < 20; i++) await engine.kick();
    const perTick = (performance.now() - started) / 20;
    console.log(`[measure] empty tick with 100,000 pending future timers: ${perTick.toFixed(2)} ms`);
  });
  itWithServer(
    'a storm the statistics do not know of is still claimed in due order, never sorted whole',
    async () => {
      const clock = new FakeClock();
      const now = clock.now().toISOString();
      await testDb().database.db.execute(sql`
      insert into timers (key, kind, payload, scheduled_for, due_at, created_at)
      select 'storm:' || g, 'x', '{}'::jsonb, ${now}::timestamptz - (g || ' ms')::interval,
             ${now}::timestamptz - (g || ' ms')::interval, ${now}::timestamptz
      from generate_series(1, 5000) g`);
      // As at the start of a storm: no statistics say that thousands of rows are due.
      await testDb().database.db.execute(sql`delete from pg_statistic where starelid = 'timers'::regclass`);
      const url = testDb().url as string;
      const plans: string[] = [];
      const one = postgres(url, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
      try {
        await one.unsafe(`load 'auto_explain'`);
        await one.unsafe(`set auto_explain.log_min_duration = 0`);
        await one.unsafe(`set auto_explain.log_nested_statements = on`);
        await one.unsafe(`set auto_explain.log_level = notice`);
        const ids = await one.begin(
          (tx) => tx`select due.id from incident_bot_due_jobs(${now}::timestamptz, 16) as due(id)`,
        );
        expect(ids).toHaveLength(16);
        const inner = plans.find((p) => p.includes('FOR UPDATE SKIP LOCKED')) ?? '';
        expect(inner).toContain('Index Scan using timers_pending_due_idx');
        expect(inner).not.toMatch(/\bSort\b/);
        // Oldest due first: the claim walks the index from its start.
        const keys = await one`select key from timers where id = any(${ids.map((r) => r.id)}::bigint[])`;
        expect(keys.map((r) => r.key).sort()).toEqual(
          Array.from({ length: 16 }, (_, i) => `storm:${5000 - i}`).sort(),
        );
      } finally {
        await one.end();
      }
    },
  );
});

describe('timers follow the incident', () => {
  it('acknowledging cancels the escalation; resolving cancels reminders and plans the postmortem', async () => {
    const config = parseIncidentConfig(
      `escalation_policies:
  p:
    tiers:
      - {after: 0m, notify: [U0A]}
      - {after: 5m, notify: [U0B]}
severities:
  - {id: SEV1, description: x, escalation_policy: p, update_every: 20m, postmortem_due: 3d}
reminders: {missing_commander_after: 10m, deputy_callouts: 10m}`,
      'cfg',
    );
    const clock = new FakeClock();
    const deps = incidentDeps(testDb().database.db, clock, { ...DEFAULT_INCIDENT_CONFIG, ...config });
    const { incidentId } = await declareIncident(deps, {
      teamId: 'T1',
      reporterId: 'U0REP',
      declareKey: 'k',
      sourceChannelId: undefined,
      title: 't',
      severity: 'SEV1',
      summary: '',
      commanderId: undefined,
      isPrivate: false,
      isTest: false,
    });
    const pending = async () =>
      (await testDb().database.db.select().from(timers).where(eq(timers.status, 'pending')))
        .map((t) => t.key.replace(`incident:${incidentId}:`, ''))
        .sort();
    expect(await pending()).toEqual([
      'escalation:0',
      'escalation:1',
      'provision',
      'remind:commander',
      'remind:deputy',
      'remind:update',
    ]);
    await acknowledge(deps, { incidentId, actorId: 'U0A' });
    expect((await pending()).filter((k) => k.startsWith('escalation'))).toEqual([]);
    await resolveIncident(deps, { incidentId, actorId: 'U0A', summary: 'done' });
    expect(
      (await pending()).filter(
        (k) => !k.startsWith('post:') && !k.startsWith('invite:') && k !== 'provision' && k !== 'refresh',
      ),
    ).toEqual(['postmortem']);
  });
});

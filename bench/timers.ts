/**
 * Timer engine figures (prints a table; not a test): firing lag with node-cron ticking every second, and
 * fires per second and duplicates with 1 and 3 workers racing on the same due timers.
 *
 *   npm run bench:timers                      # embedded PGlite (one worker only: PGlite is one process)
 *   DATABASE_URL=postgres://… npm run bench:timers   # PostgreSQL: a scratch database is created and dropped
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { z } from 'zod';
import { systemClock } from '../src/clock.js';
import { type Database, openPglite, openPostgres } from '../src/db/client.js';
import { JobEngine } from '../src/jobs/engine.js';
import { handle, jobType } from '../src/jobs/job.js';
import { createLogger } from '../src/logger.js';

const logger = createLogger({ level: 'error' });
/** The bench's job: its payload carries when it was meant to fire, so the handler can measure the lag. */
const benchJob = jobType('bench', z.object({ scheduledFor: z.number() }));

async function scratchDatabase(): Promise<{
  open: (max: number) => Database;
  drop: () => Promise<void>;
  kind: string;
}> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await openPglite(undefined);
    await db.migrate();
    return { open: () => db, drop: () => db.close(), kind: 'pglite' };
  }
  const name = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const opened: Database[] = [];
  const first = openPostgres(u.toString(), { max: 4 });
  await first.migrate();
  opened.push(first);
  return {
    kind: 'postgres',
    open: (max) => {
      const d = openPostgres(u.toString(), { max });
      opened.push(d);
      return d;
    },
    drop: async () => {
      for (const d of opened) await d.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function insertDue(db: Database, n: number, prefix: string, dueIn: (i: number) => number) {
  const now = Date.now();
  const rows = Array.from({ length: n }, (_, i) => {
    const due = new Date(now + dueIn(i));
    return {
      key: `${prefix}:${i}`,
      kind: 'bench',
      payload: { scheduledFor: due.getTime() },
      scheduledFor: due,
      dueAt: due,
      createdAt: new Date(now),
    };
  });
  const { timers } = await import('../src/jobs/table.js');
  for (let i = 0; i < rows.length; i += 1000) await db.db.insert(timers).values(rows.slice(i, i + 1000));
}

async function firingLag(scratch: Awaited<ReturnType<typeof scratchDatabase>>) {
  const db = scratch.open(4);
  const lags: number[] = [];
  const handler = handle(benchJob, { run: async (p) => void lags.push(Date.now() - p.scheduledFor) });
  const engine = new JobEngine({ db: db.db, clock: systemClock, logger, jobs: [handler] });
  await insertDue(db, 200, 'lag', (i) => 500 + ((i * 37) % 5000));
  engine.start(); // node-cron, every second
  const deadline = Date.now() + 15_000;
  while (lags.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await engine.stop();
  return { fired: lags.length, p50: pct(lags, 50), p99: pct(lags, 99), max: Math.max(...lags) };
}

async function race(scratch: Awaited<ReturnType<typeof scratchDatabase>>, workers: number, n: number) {
  const db = scratch.open(4);
  await db.db.execute(sql`truncate timers`);
  await insertDue(db, n, `race${workers}`, () => 0);
  const counts = new Map<string, number>();
  const handler = handle(benchJob, {
    run: async (_p, ctx) => void counts.set(ctx.key, (counts.get(ctx.key) ?? 0) + 1),
  });
  const engines = Array.from(
    { length: workers },
    (_, i) =>
      new JobEngine({
        db: (i === 0 ? db : scratch.open(8)).db,
        clock: systemClock,
        logger,
        jobs: [handler],
        concurrency: 32,
      }),
  );
  const started = performance.now();
  await Promise.all(engines.map((e) => e.drain()));
  const seconds = (performance.now() - started) / 1000;
  const duplicates = [...counts.values()].filter((c) => c > 1).length;
  return { workers, fired: counts.size, duplicates, firesPerSecond: Math.round(counts.size / seconds) };
}

async function main() {
  const scratch = await scratchDatabase();
  try {
    const lag = await firingLag(scratch);
    const results = [await race(scratch, 1, 2000)];
    if (scratch.kind === 'postgres') results.push(await race(scratch, 3, 2000));
    console.log(`database: ${scratch.kind}, node ${process.version}`);
    console.log(
      `firing lag (cron every 1 s, 200 timers): fired ${lag.fired}, p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms`,
    );
    console.log('| workers | due timers fired | duplicates | fires/s |');
    console.log('| --- | --- | --- | --- |');
    for (const r of results)
      console.log(`| ${r.workers} | ${r.fired} | ${r.duplicates} | ${r.firesPerSecond} |`);
  } finally {
    await scratch.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

import { PGlite, parse, protocol } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openPglite } from '../../src/db/client.js';
import { PREPARED_LIMIT, withPreparedStatements } from '../../src/db/pglite-statements.js';

/**
 * Embedded PGlite runs the bot's statements as named prepared statements (db/pglite-statements.ts), not
 * through PGlite's own query. Always on PGlite, whatever database the other suites use: the rows, the
 * errors, the transactions and the notifications must be what PGlite's own query gives.
 */

let database: Database;
beforeAll(async () => {
  database = await openPglite(undefined);
  await database.migrate();
});
afterAll(() => database.close());

const rows = async (statement: ReturnType<typeof sql>) =>
  ((await database.db.execute(statement)) as unknown as { rows: Record<string, unknown>[] }).rows;

const preparedCount = async () =>
  Number(
    (
      await rows(sql`select count(*)::int as n from pg_prepared_statements where name like 'incident_bot_%'`)
    )[0]?.n,
  );

describe('PGlite statements prepared once', () => {
  it('answers as PGlite’s own query does, and prepares each SQL text once', async () => {
    // One PGlite, asked the same through its own query and through the prepared path.
    const pglite = await PGlite.create();
    try {
      await pglite.exec(`create table counters (team_id text primary key, last_number integer not null);
        insert into counters values ('T1', 7)`);
      const prepared = withPreparedStatements(pglite, { protocol, parse });
      const text =
        'select team_id, last_number, now() as at, $1::jsonb as doc, $2::text[] as tags from counters where team_id = $3';
      const params = [JSON.stringify({ a: [1, 2] }), ['x', 'y,z'], 'T1'];
      const tidy = (r: { rows: unknown[] }) =>
        JSON.stringify(r.rows).replace(/"\d{4}-\d\d-\d\dT[^"]+"/g, '"<now>"');
      for (const rowMode of ['array', 'object'] as const) {
        const ours = await prepared.query(text, params, { rowMode });
        const theirs = await pglite.query(text, params, { rowMode });
        expect(tidy(ours)).toBe(tidy(theirs));
        expect(ours.fields).toEqual(theirs.fields);
        expect(ours.rows).toHaveLength(1);
      }
      const update = 'update counters set last_number = last_number where team_id = $1';
      const counts = (r: object) => {
        const { rows: _rows, ...rest } = r as { rows: unknown[] };
        return rest;
      };
      const ours = await prepared.query(update, ['T1']);
      expect(counts(ours)).toEqual(counts(await pglite.query(update, ['T1'])));
      expect(counts(ours)).toMatchObject({ affectedRows: 1, command: 'UPDATE' });
    } finally {
      await pglite.close();
    }

    await database.db.execute(sql`insert into team_counters (team_id, last_number) values ('T1', 7)`);
    const before = await preparedCount();
    for (let i = 0; i < 5; i++)
      await database.db.execute(sql`select last_number from team_counters where team_id = ${'T1'}`);
    expect(await preparedCount()).toBe(before + 1);
    expect(await rows(sql`select last_number from team_counters where team_id = ${'T1'}`)).toEqual([
      { last_number: 7 },
    ]);
  });

  it('reports a database error with its code and statement, and goes on working', async () => {
    const insert = () =>
      database.db.execute(sql`insert into team_counters (team_id, last_number) values (${'T2'}, 1)`);
    await insert();
    const failed = await insert().then(
      () => undefined,
      (err: unknown) => err,
    );
    const cause =
      (failed as { cause?: { code?: string; query?: string } }).cause ?? (failed as { code?: string });
    expect((cause as { code?: string }).code).toBe('23505');
    expect((cause as { query?: string }).query).toContain('insert into team_counters');
    await expect(database.db.execute(sql`select ${'still'}::text as ok`)).resolves.toBeDefined();
    // A statement that does not parse is not kept: the next one with the same name prefix still works.
    await expect(database.db.execute(sql.raw('selec 1'))).rejects.toThrow();
    expect(await rows(sql`select ${2}::int as two`)).toEqual([{ two: 2 }]);
  });

  it('keeps a transaction’s statements in it, and other callers out until it ends', async () => {
    let inside: Promise<unknown> | undefined;
    let outsideSaw: unknown;
    await database.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into team_counters (team_id, last_number) values (${'T3'}, 1)`);
        // Another caller's statement while the transaction is open: it must not run inside it.
        inside = rows(sql`select count(*)::int as n from team_counters where team_id = ${'T3'}`).then((r) => {
          outsideSaw = r;
        });
        await new Promise((r) => setTimeout(r, 20));
        expect(outsideSaw).toBeUndefined();
        throw new Error('roll back');
      })
      .catch(() => {});
    await inside;
    expect(outsideSaw).toEqual([{ n: 0 }]);
  });

  it('delivers the notifications a statement’s commit sends', async () => {
    const heard: string[] = [];
    const stop = await database.listen('incident_bot_jobs', () => heard.push('wake'));
    await database.db.execute(
      sql`insert into timers (key, kind, payload, scheduled_for, due_at, created_at) values (${'k1'}, 'x', '{}', now(), now(), now())`,
    );
    await new Promise((r) => setTimeout(r, 20));
    await stop();
    expect(heard.length).toBeGreaterThan(0);
  });

  it(`keeps at most ${PREPARED_LIMIT} statements, closing the least recently used`, async () => {
    for (let i = 0; i < PREPARED_LIMIT + 50; i++) {
      const [row] = await rows(sql.raw(`select ${i}::int as n, `).append(sql`${1}::int as m`));
      expect(row).toEqual({ n: i, m: 1 });
    }
    expect(await preparedCount()).toBe(PREPARED_LIMIT);
    expect(await rows(sql`select ${5}::int as five`)).toEqual([{ five: 5 }]);
  });
});

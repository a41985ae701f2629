import { eq, sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { reusable } from '../../src/db/prepared.js';
import { incidents } from '../../src/db/schema.js';
import { useTestDatabase } from '../helpers/db.js';

/**
 * Statements built once (db/prepared.ts) run on the pool and inside transactions, on whichever database
 * the suite runs on (PGlite, or PostgreSQL with TEST_DATABASE_URL): each run binds its own values, reads
 * the rows back with drizzle's column types, and a transaction's run belongs to that transaction.
 */

const testDb = useTestDatabase();
beforeEach(() => testDb().truncate());

const insert = reusable('test_prepared_insert', (db) =>
  db
    .insert(incidents)
    .values({
      teamId: 'T0PREP',
      number: sql.placeholder('number'),
      title: sql.placeholder('title'),
      severity: 'SEV2',
      reporterId: 'U0PREP',
      declareKey: sql.placeholder('key'),
      channelName: '',
      declaredAt: sql.placeholder('at'),
      updatedAt: sql.placeholder('at'),
    })
    .returning(),
);
const byKey = reusable('test_prepared_select', (db) =>
  db
    .select()
    .from(incidents)
    .where(eq(incidents.declareKey, sql.placeholder('key'))),
);

describe('a statement built once', () => {
  it('binds each run’s own values on the pool and in transactions, and reads rows back typed', async () => {
    const { db } = testDb().database;
    const at = new Date('2026-11-30T01:02:03.456Z');
    const made: { title: string; declaredAt: Date; isPrivate: boolean }[] = [];
    for (let n = 1; n <= 3; n++) {
      const [row] = await db.transaction((tx) =>
        insert(tx, { number: n, title: `in tx ${n}`, key: `k${n}`, at }),
      );
      if (row) made.push(row);
    }
    const [onPool] = await insert(db, { number: 4, title: 'on the pool', key: 'k4', at });
    expect(made.map((r) => r.title)).toEqual(['in tx 1', 'in tx 2', 'in tx 3']);
    expect(made[2]?.declaredAt).toEqual(at);
    expect(made[2]?.isPrivate).toBe(false);
    expect(onPool?.title).toBe('on the pool');
    const [found] = await db.transaction((tx) => byKey(tx, { key: 'k2' }));
    expect(found).toMatchObject({ title: 'in tx 2', number: 2, declaredAt: at });
    expect((await byKey(db, { key: 'k3' }))[0]?.title).toBe('in tx 3');
  });

  it('runs on the transaction it is given: a rolled-back run leaves nothing', async () => {
    const { db } = testDb().database;
    const at = new Date();
    await insert(db, { number: 1, title: 'kept', key: 'k1', at }); // the first build, on the pool
    await expect(
      db.transaction(async (tx) => {
        await insert(tx, { number: 2, title: 'rolled back', key: 'k2', at });
        expect((await byKey(tx, { key: 'k2' })).length).toBe(1); // seen inside its transaction
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await byKey(db, { key: 'k2' })).toEqual([]);
    expect((await byKey(db, { key: 'k1' })).length).toBe(1);
  });
});

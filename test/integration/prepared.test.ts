import { eq, type Placeholder, sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Db, Tx } from '../../src/db/client.js';
import { reusable, rowMapperOf } from '../../src/db/prepared.js';
import { incidents, timelineEvents } from '../../src/db/schema.js';
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

/** A selection whose columns need decoding: timestamps, jsonb, a null, an aliased SQL expression. */
const eventsSelection = (db: Db | Tx, incidentId: string | Placeholder) =>
  db
    .select({
      id: timelineEvents.id,
      kind: timelineEvents.kind,
      occurredAt: timelineEvents.occurredAt,
      data: timelineEvents.data,
      actorId: timelineEvents.actorId,
      later: sql<Date>`${timelineEvents.occurredAt} + interval '1 hour'`
        .mapWith(timelineEvents.occurredAt)
        .as('later'),
    })
    .from(timelineEvents)
    .where(eq(timelineEvents.incidentId, incidentId))
    .orderBy(timelineEvents.id);
const eventsOf = reusable('test_prepared_events', (db) => eventsSelection(db, sql.placeholder('incidentId')));

describe('the rows of a statement built once', () => {
  it('are mapped by the mapper built once, exactly as drizzle maps them itself', async () => {
    const { db } = testDb().database;
    const at = new Date('2026-11-30T01:02:03.456Z');
    const [incident] = await insert(db, { number: 1, title: 'mapped', key: 'k1', at });
    const incidentId = incident?.id as string;
    await db.insert(timelineEvents).values([
      {
        incidentId,
        kind: 'declared',
        occurredAt: at,
        data: { title: 'mapped', nested: { n: 1 } },
        actorId: 'U1',
      },
      { incidentId, kind: 'note', occurredAt: new Date(at.getTime() + 1000), data: {}, actorId: null },
    ]);
    // drizzle's own mapping: the same query, built and run without db/prepared.ts.
    const expected = await eventsSelection(db, incidentId);
    expect(expected[1]?.later).toEqual(new Date(at.getTime() + 1000 + 3_600_000));
    expect(await eventsOf(db, { incidentId })).toEqual(expected);
    expect(await db.transaction((tx) => eventsOf(tx, { incidentId }))).toEqual(expected);
    expect(await db.transaction((tx) => eventsOf(tx, { incidentId }))).toEqual(expected);
    const full = await db.select().from(incidents).where(eq(incidents.id, incidentId));
    expect(await byKey(db, { key: 'k1' })).toEqual(full);
    expect(await db.transaction((tx) => byKey(tx, { key: 'k1' }))).toEqual(full);
  });

  it('is built for flat selections (a select, a returning, a CTE) and left to drizzle for nested ones', () => {
    const { db } = testDb().database;
    const mapperOf = (q: { prepare(name: string): unknown }) => rowMapperOf(q.prepare('test_mapper'));
    const recorded = db.$with('recorded').as(db.update(incidents).set({ title: 'x' }).returning());
    for (const flat of [
      db.select().from(incidents),
      db
        .insert(incidents)
        .values({
          teamId: 'T',
          number: 1,
          title: 't',
          severity: 'SEV2',
          reporterId: 'U',
          declareKey: 'k',
          channelName: '',
          declaredAt: new Date(0),
          updatedAt: new Date(0),
        })
        .returning(),
      db.with(recorded).select().from(recorded),
    ])
      expect(mapperOf(flat)).toBeTypeOf('function');
    const nested = db
      .select({ incident: incidents, event: timelineEvents })
      .from(incidents)
      .leftJoin(timelineEvents, eq(timelineEvents.incidentId, incidents.id));
    expect(mapperOf(nested)).toBeUndefined();
  });
});

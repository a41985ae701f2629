import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect } from 'vitest';
import { MIGRATION_LOCK_KEY, openPostgres } from '../../src/db/client.js';
import { incidents } from '../../src/db/schema.js';
import { itWithServer, useTestDatabase } from '../helpers/db.js';

/**
 * The PostgreSQL client as drizzle uses it: every statement prepared (one round trip a query, not two),
 * inside transactions too, unless DATABASE_URL says `?prepare=false`.
 */

const testDb = useTestDatabase();

/** Runs a parameterised query twice in one transaction, then asks the session what it has prepared. */
async function preparedIn(db: ReturnType<typeof openPostgres>['db']): Promise<string[]> {
  return db.transaction(async (tx) => {
    for (let n = 0; n < 2; n++) await tx.select().from(incidents).where(sql`${incidents.number} = ${n}`);
    const rows = await tx.execute(sql`select statement from pg_prepared_statements`);
    return (rows as unknown as { statement: string }[]).map((r) => r.statement);
  });
}

describe('the PostgreSQL client', () => {
  itWithServer('prepares the statements drizzle sends, in transactions too', async () => {
    const statements = await preparedIn(testDb().database.db);
    expect(statements.some((s) => s.includes('from "incidents"'))).toBe(true);
  });

  itWithServer('prepares nothing when DATABASE_URL says ?prepare=false', async () => {
    const url = new URL(testDb().url as string);
    url.searchParams.set('prepare', 'false');
    const database = openPostgres(url.toString(), { max: 1, jobsMax: 1 });
    try {
      expect(await preparedIn(database.db)).toEqual([]);
    } finally {
      await database.close();
    }
  });

  itWithServer(
    'starts without queueing for the migration lock when the newest migration is applied',
    async () => {
      // Another replica holds the lock (it is migrating, or stuck): a start with nothing to apply goes on.
      const url = testDb().url as string;
      const holder = postgres(url, { max: 1, onnotice: () => {} });
      await holder`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      const database = openPostgres(url, { max: 1, jobsMax: 1 });
      try {
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          database.migrate().then(() => 'migrated'),
          new Promise((resolve) => {
            timer = setTimeout(() => resolve('queued for the lock'), 10_000);
          }),
        ]);
        clearTimeout(timer);
        expect(outcome).toBe('migrated');
        await database.ready();
      } finally {
        await holder`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
        await Promise.all([holder.end(), database.close()]);
      }
    },
  );
});

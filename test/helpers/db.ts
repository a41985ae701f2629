import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, it } from 'vitest';
import { type Database, openPglite, openPostgres } from '../../src/db/client.js';

/**
 * Each test file gets its own database: a fresh PostgreSQL database created from TEST_DATABASE_URL when it
 * is set (dropped afterwards), else an in-memory PGlite. The committed migrations are applied to it.
 */

export const SERVER_URL = process.env.TEST_DATABASE_URL || undefined;
export const hasServer = SERVER_URL !== undefined;

/** For tests that need several connections to a real server; reported as skipped without one (see global setup). */
export const itWithServer = it.skipIf(!hasServer);

export interface TestDatabase {
  database: Database;
  /** The URL of this file's own PostgreSQL database (undefined on PGlite). */
  url: string | undefined;
  truncate(): Promise<void>;
  /** Opens another independent connection pool to the same database (server only). */
  connect(max?: number): Database;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const extra: Database[] = [];
  let database: Database;
  let url: string | undefined;
  let dropDb = async () => {};
  if (SERVER_URL) {
    const name = `test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    url = withDatabaseName(SERVER_URL, name);
    database = openPostgres(url, { max: 10 });
    dropDb = async () => {
      const a = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  } else {
    database = await openPglite(undefined);
  }
  await database.migrate();
  return {
    database,
    url,
    async truncate() {
      await database.db.execute(
        sql`truncate table timeline_events, incident_roles, status_updates, tasks, incidents, team_counters, timers, alert_events, alerts, alert_groups, alert_channel_pace, oncall_overrides, oncall_handoffs, followups, postmortems, webhook_outbox, webhook_deliveries, webhook_settings restart identity cascade`,
      );
    },
    connect(max = 5) {
      if (!url) throw new Error('connect() needs TEST_DATABASE_URL');
      const other = openPostgres(url, { max });
      extra.push(other);
      return other;
    },
    async drop() {
      for (const d of extra) await d.close();
      await database.close();
      await dropDb();
    },
  };
}

/**
 * Registers this file's database: created before the tests, emptied before each one, dropped after.
 * Returns a getter because the database exists only once beforeAll has run.
 */
export function useTestDatabase(): () => TestDatabase {
  let tdb: TestDatabase | undefined;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await tdb?.drop();
  });
  beforeEach(async () => {
    await tdb?.truncate();
  });
  return () => {
    if (!tdb) throw new Error('the test database is not ready (use it inside a test or hook)');
    return tdb;
  };
}

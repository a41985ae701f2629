import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { withPreparedStatements } from './pglite-statements.js';
import { schema } from './schema.js';

/** The one database type the services see, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle; use-cases take `Db | Tx` where they can run inside a caller's transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * The committed migrations (`drizzle/` at the project's root): two levels up from this module as tsc
 * compiles it (dist/db/client.js), one up from the single file `npm run build` bundles (dist/main.js).
 */
export const MIGRATIONS_FOLDER = [1, 2]
  .map((up) => fileURLToPath(new URL(`${'../'.repeat(up)}drizzle`, import.meta.url)))
  .find((dir) => existsSync(join(dir, 'meta', '_journal.json'))) as string;

export interface Database {
  /** For request handling (Slack's 3 seconds). */
  db: Db;
  /**
   * For the job engine and its jobs: a pool of its own on PostgreSQL, so a burst of background work
   * never makes a slash command or a form submission wait for a connection. The same handle on PGlite.
   */
  jobs: Db;
  kind: 'postgres' | 'pglite';
  /** Applies the committed migrations; safe to run from several replicas at once. */
  migrate(): Promise<void>;
  /** Throws unless the database answers and the migrations have been applied. */
  ready(): Promise<void>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` (delivered when the notifying transaction commits, from
   * any replica); resolves to a function that stops listening. PostgreSQL listens on a connection of its
   * own and reconnects by itself.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** An arbitrary but fixed key for the advisory lock that serialises migrations across replicas. */
export const MIGRATION_LOCK_KEY = 72_410_517;

/**
 * Whether the database has the newest committed migration already, by the test drizzle's migrator makes
 * (a migration is applied when the newest recorded one is not older than it), so that a start with
 * nothing to apply need not open the lock's connection, queue for the lock behind the replicas starting
 * beside it, and run the migrator's five statements: 40–230 ms of a replica's start before its first
 * job. Any failure (no migrations table yet: a first start) means "not known", and the migrator runs.
 */
async function atNewestMigration(db: Db): Promise<boolean> {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: { when: number }[];
  };
  const newest = Math.max(...journal.entries.map((e) => e.when));
  try {
    const rows = (await db.execute(
      sql`select max(created_at) as at from drizzle.__drizzle_migrations`,
    )) as unknown as { at: string | null }[];
    return rows[0]?.at != null && Number(rows[0].at) >= newest;
  } catch {
    return false;
  }
}

/**
 * postgres.js, as drizzle is to use it: with every statement prepared. drizzle's driver asks postgres.js
 * for an unnamed statement unless a query is given a name, and postgres.js then describes a statement
 * (one round trip) before it binds and runs it (another): every query cost two round trips. Prepared, a
 * statement is described once per connection, and a query costs one (on loopback, 110–150 µs a sequential
 * query instead of 240–260 µs; more across a network). postgres.js's own option still rules: `?prepare=false` in DATABASE_URL (for
 * PgBouncer in transaction mode before 1.21) turns preparing off for every query.
 */
function preparing(sql: postgres.Sql): postgres.Sql {
  const wrapCallback = (args: unknown[]) =>
    args.map((a, n) =>
      n === args.length - 1 && typeof a === 'function'
        ? (inner: postgres.Sql) => (a as (s: postgres.Sql) => unknown)(preparing(inner))
        : a,
    );
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'unsafe')
        return (
          query: string,
          params?: postgres.ParameterOrJSON<never>[],
          options?: postgres.UnsafeQueryOptions,
        ) => target.unsafe(query, params, { ...options, prepare: true });
      if (prop === 'begin' || prop === 'savepoint') {
        const method = Reflect.get(target, prop, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => method.apply(target, wrapCallback(args));
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

export function openPostgres(url: string, options: { max?: number; jobsMax?: number } = {}): Database {
  const pool = (max: number) =>
    postgres(url, { max, connect_timeout: 10, idle_timeout: 30, onnotice: () => {} });
  const client = pool(options.max ?? 10);
  const jobsClient = pool(options.jobsMax ?? 10);
  const db = drizzlePostgres({ client: preparing(client), schema }) as unknown as Db;
  const jobs = drizzlePostgres({ client: preparing(jobsClient), schema }) as unknown as Db;
  let migrated = false;
  return {
    db,
    jobs,
    kind: 'postgres',
    async migrate() {
      if (await atNewestMigration(db)) {
        migrated = true;
        return;
      }
      // A dedicated single connection holds the advisory lock for the whole run, so two replicas
      // starting together do not both try to create the tables.
      const lockClient = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
      try {
        await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres({ client: lockClient }), {
          migrationsFolder: MIGRATIONS_FOLDER,
        });
        await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      } finally {
        await lockClient.end({ timeout: 5 });
      }
      migrated = true;
    },
    ready: () => readiness(db, () => migrated),
    async listen(channel, onNotify) {
      const { unlisten } = await jobsClient.listen(channel, () => onNotify());
      return unlisten;
    },
    async close() {
      await Promise.all([client.end({ timeout: 5 }), jobsClient.end({ timeout: 5 })]);
    },
  };
}

/** Embedded PostgreSQL (WASM) in one process: `dataDir` on disk, or in memory when undefined. */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Loaded only here: on PostgreSQL the embedded database's modules would cost 17 MB of RSS for nothing.
  const [{ PGlite, protocol, parse }, { drizzle: drizzlePglite }, { migrate: migratePglite }] =
    await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
  // PGlite's WebAssembly heap holds PostgreSQL's shared buffers and never shrinks; the 128 MB default is
  // sized for a server, and one team's incidents fit many times over in 16 MB. (What else it costs, and
  // why `npm start` runs with --liftoff-only: README, Performance.)
  const client = await PGlite.create(dataDir, {
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
  });
  // Migrations through PGlite's own query; everything after them through prepared statements.
  const migrating = drizzlePglite({ client, schema });
  const db = drizzlePglite({
    client: withPreparedStatements(client, { protocol, parse }),
    schema,
  }) as unknown as Db;
  let migrated = false;
  return {
    db,
    jobs: db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(migrating, { migrationsFolder: MIGRATIONS_FOLDER });
      migrated = true;
    },
    ready: () => readiness(db, () => migrated),
    async listen(channel, onNotify) {
      return client.listen(channel, () => onNotify());
    },
    async close() {
      await client.close();
    },
  };
}

/** Readiness answers within 2 seconds: a database that does not answer by then counts as down. */
async function readiness(db: Db, migrated: () => boolean): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the database did not answer within 2 s')), 2000);
  });
  try {
    await Promise.race([db.execute(sql`select 1`), timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (!migrated()) throw new Error('migrations not applied yet');
}

export async function openDatabase(options: { url: string | undefined; dataDir: string }): Promise<Database> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir);
}

/** The SQLSTATE of a database error, looking through drizzle's wrapping. */
export function sqlState(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

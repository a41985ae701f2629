import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db, Tx } from './client.js';

interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

/**
 * A hot statement that drizzle builds once per database handle and from then on only executes, with its
 * values as placeholders (`sql.placeholder('id')`). Building is the expensive part of a small query:
 * about 120 µs of CPU for `select * from incidents where id = $1` (43 columns; bench/profile.ts put
 * drizzle's query building at 29% of a timer replica's CPU), more than PostgreSQL takes to answer it.
 * PostgreSQL's side is prepared already (postgres.js `prepare: true`). Inside a transaction the statement
 * must run on the transaction's connection, so there it is built as usual.
 */
export function reusable<R>(
  name: string,
  query: (db: Db | Tx) => { prepare(name: string): Prepared<R> },
): (db: Db | Tx, values: Record<string, unknown>) => Promise<R> {
  const built = new WeakMap<Db, Prepared<R>>();
  return (db, values) => {
    if (db instanceof PgTransaction) return query(db).prepare(name).execute(values);
    let statement = built.get(db);
    if (!statement) {
      statement = query(db).prepare(name);
      built.set(db, statement);
    }
    return statement.execute(values);
  };
}

import { Column, is, SQL, Subquery } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db, Tx } from './client.js';

/**
 * drizzle's own class check (by entity kind, not `instanceof`): the embedded database's driver is loaded
 * from node_modules beside the bundled program (`npm run build`), with its own copy of drizzle's classes.
 */
const inTransaction = (db: Db | Tx): db is Tx => is(db, PgTransaction);

interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

/**
 * What drizzle builds once: the SQL text with its parameters (placeholders among them) and how to read
 * the rows back. Read off the first prepared statement; `prepareQuery` makes a statement from it on any
 * session, a transaction's included. The names are drizzle's own (`PgPreparedQuery.getQuery()`, its
 * `fields` and `customResultMapper`, `PgSession.prepareQuery`); test/integration/prepared.test.ts runs
 * the hot statements inside transactions on both drivers, so a drizzle release that renames them fails
 * there.
 */
interface Built {
  query: { sql: string; params: unknown[] };
  fields: unknown;
  arrayMode: boolean;
  mapper: unknown;
  metadata: unknown;
  cacheConfig: unknown;
}
interface Session {
  prepareQuery(
    query: Built['query'],
    fields: unknown,
    name: string,
    arrayMode: boolean,
    mapper: unknown,
    metadata: unknown,
    cacheConfig: unknown,
  ): Prepared<never>;
}

function builtOf(statement: Prepared<unknown>): Built {
  const s = statement as unknown as {
    getQuery(): Built['query'];
    fields: unknown;
    isResponseInArrayMode(): boolean;
    queryMetadata: unknown;
    cacheConfig: unknown;
  };
  return {
    query: s.getQuery(),
    fields: s.fields,
    arrayMode: s.isResponseInArrayMode(),
    mapper: rowMapperOf(statement),
    metadata: s.queryMetadata,
    cacheConfig: s.cacheConfig,
  };
}

/**
 * How a built statement's rows are to be mapped: drizzle's own custom mapper when the query has one,
 * else the flat mapper when the selection is flat. drizzle asks the driver for arrays whenever it maps
 * fields itself (`isResponseInArrayMode`), and hands them to the custom mapper when there is one.
 */
export function rowMapperOf(statement: unknown): unknown {
  const s = statement as { customResultMapper?: unknown; fields?: unknown };
  return s.customResultMapper ?? flatRowMapper(s.fields);
}

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}
interface SelectedField {
  path: string[];
  field: unknown;
}

/**
 * The rows of a statement whose result is one flat object per row (no joins, no nested selection), mapped
 * the way drizzle's `mapResultRow` maps them, with each column's decoder looked up once instead of on every
 * row: drizzle walks each field's class chain (`is`) per value, which for a row of the incident's 43
 * columns was the largest single cost of drizzle in the declare burst's profile. Undefined (drizzle maps
 * the rows itself) for any other shape. The driver hands the rows over as arrays, as it does to drizzle.
 */
function flatRowMapper(fields: unknown): ((rows: unknown[][]) => unknown[]) | undefined {
  // drizzle's joinsNotNullableMap (set on every select) only concerns nested fields (a joined table's).
  if (!Array.isArray(fields)) return undefined;
  const selected = fields as SelectedField[];
  if (!selected.every((f) => f.path.length === 1)) return undefined;
  const names = selected.map((f) => f.path[0] as string);
  // drizzle's own choice of decoder (mapResultRow); an SQL's `decoder` is internal to drizzle.
  const decoderOf = (q: unknown) => (q as { decoder: Decoder }).decoder;
  const decoders = selected.map(({ field }): Decoder => {
    if (is(field, Column)) return field;
    if (is(field, SQL)) return decoderOf(field);
    if (is(field, Subquery)) return decoderOf(field._.sql);
    return decoderOf((field as { sql: unknown }).sql);
  });
  const width = names.length;
  return (rows) =>
    rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < width; i++) {
        const value = row[i];
        out[names[i] as string] = value === null ? null : (decoders[i] as Decoder).mapFromDriverValue(value);
      }
      return out;
    });
}

/**
 * A hot statement that drizzle builds once and from then on only executes, with its values as
 * placeholders (`sql.placeholder('id')`). Building is the expensive part of a small query: 140 µs of CPU
 * for `select * from incidents where id = $1` (43 columns), 210 µs for the declaration's insert, 460 µs
 * for setup's record-once statement, more than PostgreSQL takes to run them. PostgreSQL's side is
 * prepared already (postgres.js `prepare: true`). On a pool the statement is kept per handle; inside a
 * transaction it is bound to the transaction's connection from what the first build left.
 */
export function reusable<R>(
  name: string,
  query: (db: Db | Tx) => { prepare(name: string): Prepared<R> },
): (db: Db | Tx, values: Record<string, unknown>) => Promise<R> {
  const onPool = new WeakMap<Db, Prepared<R>>();
  let built: Built | undefined;
  return (db, values) => {
    if (inTransaction(db)) {
      if (!built) {
        const first = query(db).prepare(name);
        built = builtOf(first);
        return first.execute(values);
      }
      const session = (db as unknown as { session: Session }).session;
      const b = built;
      const statement = session.prepareQuery(
        b.query,
        b.fields,
        name,
        b.arrayMode,
        b.mapper,
        b.metadata,
        b.cacheConfig,
      );
      return (statement as Prepared<R>).execute(values);
    }
    let statement = onPool.get(db);
    if (!statement) {
      statement = query(db).prepare(name);
      built ??= builtOf(statement);
      // The statement maps its rows with the mapper built once (flatRowMapper) when there is one.
      (statement as unknown as { customResultMapper: unknown }).customResultMapper = built.mapper;
      onPool.set(db, statement);
    }
    return statement.execute(values);
  };
}

interface Waiter<R> {
  resolve: (row: R | undefined) => void;
  reject: (err: unknown) => void;
}

/** Most keys one batched lookup sends in one statement. */
const MAX_BATCH = 500;

/**
 * Lookups of single rows by key, batched: the lookups of one turn of the event loop (say the 32 jobs a
 * claim starts, each reading its incident) are answered by one statement instead of one each. `many`
 * selects the rows whose key is in the comma-separated placeholder `keys`; keys must not contain commas.
 * Each statement is a round trip PostgreSQL and this process both pay for (the timer benchmark's profile
 * put a third of a replica's time in socket writes), so this is the difference between a statement per
 * fire and one per batch. Inside a transaction the lookup runs on the transaction, alone.
 */
export function batchedLookup<R>(
  name: string,
  many: (db: Db | Tx) => { prepare(name: string): Prepared<R[]> },
  keyOf: (row: R) => string,
): (db: Db | Tx, key: string) => Promise<R | undefined> {
  const select = reusable(name, many);
  const pending = new WeakMap<Db, Map<string, Waiter<R>[]>>();

  async function flush(db: Db, batch: Map<string, Waiter<R>[]>) {
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += MAX_BATCH) {
      const chunk = keys.slice(i, i + MAX_BATCH);
      try {
        const rows = new Map((await select(db, { keys: chunk.join(',') })).map((r) => [keyOf(r), r]));
        for (const key of chunk) for (const w of batch.get(key) ?? []) w.resolve(rows.get(key));
      } catch (err) {
        for (const key of chunk) for (const w of batch.get(key) ?? []) w.reject(err);
      }
    }
  }

  return (db, key) => {
    if (inTransaction(db)) return select(db, { keys: key }).then((rows) => rows[0]);
    let batch = pending.get(db);
    if (!batch) {
      const opened = new Map<string, Waiter<R>[]>();
      pending.set(db, opened);
      // Everything asked for in this synchronous run (and the microtasks before this one) joins the batch.
      queueMicrotask(() => {
        pending.delete(db);
        void flush(db, opened);
      });
      batch = opened;
    }
    const waiters = batch.get(key) ?? [];
    batch.set(key, waiters);
    return new Promise<R | undefined>((resolve, reject) => waiters.push({ resolve, reject }));
  };
}

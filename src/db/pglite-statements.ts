import type * as Pglite from '@electric-sql/pglite';

/**
 * Named prepared statements for embedded PGlite, as postgres.js keeps them on PostgreSQL.
 *
 * PGlite's own `query` keeps none: every statement is parsed, analysed and planned again, through six
 * separate calls into its WebAssembly (parse, describe the statement, bind, describe the portal,
 * execute, sync). Measured on the 2-core machine, a select of an incident by id and an update of it took
 * 380–430 µs each that way and 127–133 µs as a named statement run with one call (bind, describe,
 * execute, sync in one message), with the same rows back. Here each SQL text is prepared once (parse and
 * describe: its parameters' types and its result's columns) and from then on only run (bind, execute,
 * sync): describing the portal on every run had PGlite write, and its parser read back, every column's
 * name (43 for an incident row), 3% of the PGlite declare burst's main thread. Everything else —
 * errors, type parsing and serialising, the locks that keep a statement out of another's transaction,
 * notifications, syncing the file system — is PGlite's own, through its public protocol API; only
 * `query` (on the database and on a transaction) takes this path.
 *
 * At most PREPARED_LIMIT statements are kept; the least recently used is closed to make room (SQL whose
 * text varies with its arguments, an IN list of n values, must not grow PGlite's memory without bound).
 * Migrations do not come through here: a statement prepared before a table changed would fail with
 * "cached plan must not change result type".
 */

/** The PGlite module's protocol helpers (passed in: PGlite itself is loaded only on PGlite). */
export type PgliteProtocol = Pick<typeof Pglite, 'protocol' | 'parse'>;

type QueryOptions = Pglite.QueryOptions;
/** The backend messages read here (PGlite's protocol message classes, by their `name`). */
type Message = { name: string };
type RowDescription = Message & { fields: { name: string; dataTypeID: number }[] };
type DataRow = Message & { fields: (string | null)[] };
type CommandComplete = Message & { text: string };
type Params = unknown[] | undefined;

export const PREPARED_LIMIT = 200;

type Field = { name: string; dataTypeID: number };
type Parser = ((value: string, type: number) => unknown) | undefined;
/** A prepared statement: its name, its parameters' types, and its result's columns (none: no rows). */
interface Statement {
  name: string;
  paramTypes: number[];
  fields: Field[];
  /** The columns' parsers for the options last run with (drizzle passes the same options every run). */
  parsersFor?: { options: QueryOptions | undefined; parsers: Parser[] };
}

export function withPreparedStatements(client: Pglite.PGlite, pglite: PgliteProtocol): Pglite.PGlite {
  const { serialize } = pglite.protocol;
  /** SQL text → its prepared statement, least recently used first. */
  const prepared = new Map<string, Statement>();
  let named = 0;

  const message = (...parts: Uint8Array[]): Uint8Array => {
    const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      whole.set(part, at);
      at += part.length;
    }
    return whole;
  };
  const exchange = async (bytes: Uint8Array) =>
    (await client.execProtocol(bytes, { syncToFs: false, throwOnError: true })).messages;

  async function statementFor(text: string): Promise<Statement> {
    const known = prepared.get(text);
    if (known) {
      prepared.delete(text);
      prepared.set(text, known);
      return known;
    }
    const evicted: Uint8Array[] = [];
    if (prepared.size >= PREPARED_LIMIT) {
      const [oldest, { name }] = prepared.entries().next().value as [string, { name: string }];
      prepared.delete(oldest);
      evicted.push(serialize.close({ type: 'S', name }));
    }
    const name = `incident_bot_${++named}`;
    const messages = await exchange(
      message(
        ...evicted,
        serialize.parse({ name, text, types: [] }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      ),
    );
    // Describing the statement tells its result's columns too: each run then skips describing its portal.
    const columns = messages.find((m) => m.name === 'rowDescription') as RowDescription | undefined;
    const statement: Statement = {
      name,
      paramTypes: pglite.parse.parseDescribeStatementResults(messages),
      fields: (columns?.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    };
    prepared.set(text, statement);
    return statement;
  }

  /** Each column's parser: the caller's own for its type, else PGlite's. */
  function parsersOf(statement: Statement, options: QueryOptions | undefined): Parser[] {
    if (!statement.parsersFor || statement.parsersFor.options !== options) {
      const parsers = statement.fields.map(
        (f) => options?.parsers?.[f.dataTypeID] ?? client.parsers[f.dataTypeID],
      );
      statement.parsersFor = { options, parsers };
    }
    return statement.parsersFor.parsers;
  }

  /**
   * The statement's rows, fields and counts, as PGlite's `parseResults` gives the first result. Not
   * `parseResults` itself: it copies the 318 type parsers PGlite holds (one per array type of the
   * database) into a new object on every call when the caller brings its own, as drizzle always does —
   * 100–150 µs a statement, more than running a small one. Here each column's parser is looked up once,
   * and the columns are the ones described when the statement was prepared.
   */
  function resultOf(
    statement: Statement,
    messages: Message[],
    options: QueryOptions | undefined,
  ): Pglite.Results<never> {
    const { fields } = statement;
    const parsers = parsersOf(statement, options);
    const rows: unknown[] = [];
    for (const m of messages) {
      if (m.name === 'dataRow') {
        const values = (m as DataRow).fields.map((value, i) => {
          const parser = parsers[i];
          return value === null || !parser ? value : parser(value, fields[i]?.dataTypeID as number);
        });
        rows.push(
          options?.rowMode === 'array'
            ? values
            : Object.fromEntries(fields.map((f, i) => [f.name, values[i]])),
        );
      } else if (m.name === 'commandComplete') {
        const words = (m as CommandComplete).text.split(' ');
        const command = words[0] as string;
        const count = Number.parseInt(words[words.length - 1] as string, 10);
        const affectedRows = ['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(command) ? count : 0;
        return {
          rows,
          fields,
          affectedRows,
          ...(Number.isNaN(count) ? {} : { rowCount: count }),
          command,
        } as Pglite.Results<never>;
      }
    }
    return { rows: [], fields: [], affectedRows: 0 } as Pglite.Results<never>;
  }

  /** One statement, on whichever lock the caller holds; as PGlite's `query` answers. */
  async function run(text: string, params: Params, options: QueryOptions | undefined) {
    try {
      const statement = await statementFor(text);
      const { name, paramTypes } = statement;
      const values = (params ?? []).map((value, i) => {
        if (value === null || value === undefined) return null;
        const type = paramTypes[i] as number;
        const serializer = options?.serializers?.[type] ?? client.serializers[type];
        return serializer ? serializer(value) : String(value);
      });
      const messages = await exchange(
        message(serialize.bind({ statement: name, values }), serialize.execute({}), serialize.sync()),
      );
      return resultOf(statement, messages, options);
    } catch (err) {
      // What PGlite's own query adds to a database error, so the error says which statement failed.
      if (err instanceof Error && 'code' in err)
        Object.assign(err, { query: text, params, queryOptions: options });
      throw err;
    }
  }

  const query = (text: string, params?: Params, options?: QueryOptions) =>
    // Not inside another caller's open transaction (PGlite has one session), and one statement at a time.
    client._runExclusiveTransaction(() =>
      client._runExclusiveQuery(async () => {
        const result = await run(text, params, options);
        await client.syncToFs();
        return result;
      }),
    );

  const inTransaction = (tx: Pglite.Transaction): Pglite.Transaction =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        if (prop !== 'query') return Reflect.get(target, prop, receiver);
        return (text: string, params?: Params, options?: QueryOptions) => {
          if (target.closed) throw new Error('Transaction is closed');
          // The transaction holds PGlite's transaction lock already; its statements take turns.
          return client._runExclusiveQuery(() => run(text, params, options));
        };
      },
    });

  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') return query;
      if (prop === 'transaction')
        return <T>(fn: (tx: Pglite.Transaction) => Promise<T>) =>
          target.transaction((tx) => fn(inTransaction(tx)));
      // PGlite's own members, on PGlite itself (its private fields are not the proxy's).
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

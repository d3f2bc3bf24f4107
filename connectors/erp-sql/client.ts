/**
 * Transport to the ERP's database: a Kysely instance on SQLite or PostgreSQL, query pacing, and
 * the translation of driver errors into omnisync's error kinds with messages that name the
 * config entry to fix ("table "stany" has no column "ilosc2" (configured at tables.stock.onHand)").
 *
 * The connector only reads. The intent is enforced by the database where it can be: SQLite
 * connections are `query_only`, PostgreSQL sessions `default_transaction_read_only`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { authError, configError, isTransientNetworkCode, OmnisyncError, transientError, validationError } from '../../core/errors';
import { columnLabel, type ErpDatabaseConfig, type ErpDialect, type ErpSqlConfig, type ErpTables } from './config';

export type { ErpDialect } from './config';

/** Table aliases used by every query; driver errors name them, which tells which table is wrong. */
export const TABLE_ALIAS = { products: 'p', locations: 'l', stock: 's' } as const satisfies Record<keyof ErpTables, string>;
type TableKey = keyof ErpTables;

/**
 * Opens the ERP database. Connections are made on first query.
 *
 * `readOnly: true` (the connector) requires the SQLite file to exist and refuses writes;
 * `readOnly: false` (the sandbox ERP, which owns its database) creates the file when missing.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the ERP's schema comes from config, not from types
export function openErpDatabase(database: ErpDatabaseConfig, options: { baseDir: string; readOnly: boolean }): Kysely<any> {
  if (database.driver === 'sqlite') {
    const file = resolve(options.baseDir, database.file);
    return new Kysely({
      dialect: new SqliteDialect({
        database: async () => {
          if (options.readOnly && !existsSync(file)) {
            // Opening would fail less clearly (or, writable, create an empty ERP).
            throw configError(`erp-sql: SQLite file "${file}" does not exist (configured at database.file)`);
          }
          if (!options.readOnly) mkdirSync(dirname(file), { recursive: true });
          const connection = new Database(file, { fileMustExist: options.readOnly });
          // The ERP may be writing: wait for its write lock instead of failing at once.
          connection.pragma('busy_timeout = 5000');
          if (options.readOnly) connection.pragma('query_only = ON');
          return connection;
        },
      }),
    });
  }
  const sessionOptions = ['-c TimeZone=UTC', ...(options.readOnly ? ['-c default_transaction_read_only=on'] : [])];
  const pool = new pg.Pool({
    connectionString: database.connectionString,
    ...(database.password === undefined ? {} : { password: database.password }),
    max: database.maxConnections,
    application_name: 'omnisync-erp-sql',
    // TimeZone=UTC: `timestamp without time zone` columns are read as UTC (see stock-source.ts).
    options: sessionOptions.join(' '),
    connectionTimeoutMillis: 15_000,
  });
  // A dropped idle connection must not crash the worker; the next query reconnects or reports.
  pool.on('error', () => undefined);
  return new Kysely({ dialect: new PostgresDialect({ pool }) });
}

export class ErpSqlClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see openErpDatabase
  readonly db: Kysely<any>;
  readonly dialect: ErpDialect;
  readonly tables: ErpTables;
  /** PostgreSQL: the schema of tables configured without one (database.schema), if set. */
  readonly schema: string | undefined;
  private readonly pacer: QueryPacer;

  constructor(private readonly config: ErpSqlConfig, private readonly baseDir: string) {
    this.dialect = config.database.driver;
    this.tables = config.tables;
    this.schema = config.database.driver === 'postgres' ? config.database.schema : undefined;
    this.db = openErpDatabase(config.database, { baseDir, readOnly: true });
    this.pacer = new QueryPacer(config.maxQueriesPerSecond);
  }

  /** The configured table (schema-qualified when configured so) with its fixed alias. */
  table(key: TableKey): RawBuilder<unknown> {
    const name = this.tables[key].table;
    const qualified = name.includes('.') || this.schema === undefined ? name : `${this.schema}.${name}`;
    return sql`${sql.table(qualified)} as ${sql.raw(TABLE_ALIAS[key])}`;
  }

  /** A configured column of a table, qualified with the table's alias. */
  column<K extends TableKey>(key: K, field: Exclude<keyof ErpTables[K], 'table'>): RawBuilder<unknown> {
    const name = this.tables[key][field];
    if (typeof name !== 'string') throw new Error(`erp-sql: tables.${key}.${String(field)} is not configured`);
    return sql.ref(`${TABLE_ALIAS[key]}.${name}`);
  }

  /**
   * The row limit of an ordered query, written where `limit` goes (after `order by`): every
   * dialect reads it there (SQL Server as `offset … fetch`, which needs the `order by` every
   * paged read has anyway).
   */
  limit(rows: number): RawBuilder<unknown> {
    return sql`limit ${rows}`;
  }

  /** A value as text, as the dialect casts (for messages and payloads that show what is stored). */
  asText(value: RawBuilder<unknown>): RawBuilder<string | null> {
    return sql<string | null>`cast(${value} as text)`;
  }

  /** A column of a table by its name (e.g. one of a composite key), qualified with the table's alias. */
  columnNamed(key: TableKey, name: string): RawBuilder<unknown> {
    return sql.ref(`${TABLE_ALIAS[key]}.${name}`);
  }

  /** Runs a query, paced, with driver errors translated (see describeDatabaseError). */
  async rows<Row>(query: RawBuilder<Row>, context: { purpose: string; table?: TableKey }): Promise<Row[]> {
    await this.pacer.wait();
    const compiled = query.compile(this.db);
    try {
      const result = await this.db.executeQuery(compiled);
      return result.rows;
    } catch (err) {
      // The query's text lets an error's position (PostgreSQL) name the column it is about.
      throw this.translate(err, { ...context, sql: compiled.sql });
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Where the database is, without credentials. */
  databaseLabel(): string {
    const database = this.config.database;
    if (database.driver === 'sqlite') return `SQLite file ${database.file}`;
    try {
      const url = new URL(database.connectionString);
      return `PostgreSQL ${url.host}${url.pathname}`;
    } catch {
      return 'PostgreSQL';
    }
  }

  private translate(err: unknown, context: { purpose: string; table?: TableKey; sql: string }): Error {
    return describeDatabaseError(err, { ...context, tables: this.tables, database: this.config.database, databaseLabel: this.databaseLabel() });
  }
}

/**
 * PostgreSQL SQLSTATEs (and classes) that mean "the server is there but cannot serve now":
 * connection exceptions (08), insufficient resources such as too many connections (53),
 * transaction rollbacks such as serialization failures and deadlocks (40), shutdowns and
 * cancelled statements (57P01-57P03, 57P05, 57014), locks (55P03, 55006), I/O errors (58000, 58030).
 */
const TRANSIENT_SQLSTATES = ['08', '53', '40', '57P01', '57P02', '57P03', '57P05', '57014', '55P03', '55006', '58000', '58030', '25P03'];
const AUTH_SQLSTATES = ['28000', '28P01'];
/**
 * SQLite result codes (an extended code starts with its primary code) that pass: busy and
 * locked (the ERP is writing), I/O, memory, interruption, a schema change under a statement,
 * and a WAL or journal a writer must recover first.
 */
const TRANSIENT_SQLITE_CODES = [
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_NOMEM', 'SQLITE_INTERRUPT', 'SQLITE_PROTOCOL', 'SQLITE_SCHEMA', 'SQLITE_FULL',
  'SQLITE_READONLY_RECOVERY', 'SQLITE_READONLY_ROLLBACK',
];
/** SQLite codes of a file that is not a usable database (wrong path, not SQLite, damaged, not readable). */
const SQLITE_FILE_CODES = ['SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_PERM', 'SQLITE_READONLY_'];
/** Node's TLS certificate error codes: the connection string's TLS settings do not fit the server. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** What a message adds for a permanent error no config key could be found for. */
const CHECK_HINT = '`omnisync connectors check` verifies the configured tables, columns and their types';

type ColumnRef = { table: TableKey; field: string };

export interface DatabaseErrorContext {
  tables: ErpTables;
  /** The table the query reads, when it reads one (messages about a column look there first). */
  table?: TableKey | undefined;
  /** What the query was for, e.g. `delta read (changed stock)`. */
  purpose: string;
  database: ErpDatabaseConfig;
  databaseLabel: string;
  /** The query's text: PostgreSQL reports where in it an error is, which names the column. */
  sql?: string | undefined;
}

/**
 * Translates a driver error into a typed OmnisyncError. Permanent errors are config (or auth,
 * validation) errors, not retried, naming the config key to fix wherever it can be found:
 * - a missing table or column → config, naming tables.<table>.<field>;
 * - a query the database cannot run: a value that does not convert (PostgreSQL class 22, e.g.
 *   text in stock.modifiedAt that is no time), columns of types that do not fit (class 42, e.g.
 *   an integer id compared with a text reference), an unsupported feature (0A000), a program
 *   limit (54), SQLite's SQLITE_ERROR and SQLITE_MISMATCH → config, naming the column(s) when
 *   the error's position or text points at one;
 * - a write refused (25006 read-only transaction, SQLITE_READONLY): config, the connector only
 *   reads by design; a constraint violated (23, SQLITE_CONSTRAINT) → validation;
 * - wrong credentials or no password → auth; no privilege on a table (42501) → auth naming it;
 * - database or schema missing, SQLite file missing, unreadable or not SQLite, TLS settings
 *   that do not fit, an unparsable connection string → config, naming database.<key>;
 * - connection refused or dropped, server starting or shutting down, too many connections,
 *   database busy or locked, serialization failures, deadlocks, I/O errors → transient.
 * Anything else keeps the driver's message and code, prefixed, and is left to the activity's
 * default (retried): a bug shows up as retries, and a fixed worker completes the run.
 */
export function describeDatabaseError(err: unknown, context: DatabaseErrorContext): Error {
  if (err instanceof OmnisyncError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const rawCode: unknown = (error as { code?: unknown }).code;
  const code = typeof rawCode === 'string' ? rawCode : undefined;
  const message = error.message;
  const { tables, purpose, database, databaseLabel } = context;

  const missingColumn = /no such column: (?:"?(\w+)"?\.)?"?(\w+)"?/.exec(message) ?? (code === '42703' ? /column (?:"?(\w+)"?\.)?"?(\w+)"? does not exist/.exec(message) : null);
  if (missingColumn) {
    const [, alias, column = ''] = missingColumn;
    const located = locateColumn(tables, column, tableForAlias(alias) ?? context.table);
    if (located) {
      return configError(`erp-sql: table "${tables[located.table].table}" has no column "${column}" (configured at tables.${located.table}.${located.field})`);
    }
    return configError(`erp-sql: ${message}`);
  }

  const missingTable = /no such table: (?:\w+\.)?(\w+)/.exec(message) ?? (code === '42P01' ? /relation "(?:(\w+)\.)?(\w+)" does not exist/.exec(message) : null);
  if (missingTable) {
    const name = missingTable.at(-1) ?? '';
    const key = tableKeyNamed(tables, name);
    const viaSchema = code === '42P01' && key !== undefined && !tables[key].table.includes('.') && database.driver === 'postgres' && database.schema !== undefined && missingTable[1] === database.schema;
    if (viaSchema) return configError(`erp-sql: table "${database.schema}.${name}" does not exist (configured at tables.${key}.table and database.schema)`);
    return configError(`erp-sql: table "${name}" does not exist${key ? ` (configured at tables.${key}.table)` : ''}`);
  }

  if (code !== undefined) {
    if (isTransientNetworkCode(code) || TRANSIENT_SQLITE_CODES.some((prefix) => code.startsWith(prefix)) || TRANSIENT_SQLSTATES.some((prefix) => code.startsWith(prefix))) {
      return transientError(`erp-sql: ${databaseLabel} is not available (${code}): ${message}`, { status: code, cause: error });
    }
    if (AUTH_SQLSTATES.includes(code) || code === 'SQLITE_AUTH') return authError(`erp-sql: ${databaseLabel} refused the credentials: ${message}`);
    if (code === '42501') return authError(`erp-sql: the database user may not read ${privilegeObject(message, context)}; grant it SELECT (${code}: ${message})`);
    if (code === '3D000' || code === '57P04') return configError(`erp-sql: ${message} (${databaseLabel}, configured at database.connectionString)`);
    if (code === '3F000') return configError(`erp-sql: ${message}${database.driver === 'postgres' && database.schema !== undefined ? ' (configured at database.schema)' : ''}`);
    if (database.driver === 'sqlite' && SQLITE_FILE_CODES.some((prefix) => code.startsWith(prefix))) {
      return configError(`erp-sql: cannot read SQLite file "${database.file}" (configured at database.file) (${code}): ${message}`);
    }
    if (code === '25006' || code === 'SQLITE_READONLY') {
      return configError(`erp-sql: ${purpose} tried to write, but the connector only reads: its database sessions are read-only by design (${code}): ${message}`);
    }
    if (code.startsWith('23') || code.startsWith('SQLITE_CONSTRAINT')) {
      return validationError(`erp-sql: ${purpose} was refused by a constraint, but the connector only reads (${code}): ${message}`, code);
    }
    const refs = columnRefsAt(context.sql, (error as { position?: unknown }).position, tables);
    if (code.startsWith('22')) return describeDataException(code, message, refs, context);
    if (code.startsWith('42') || code === '0A000' || code.startsWith('54') || code === 'SQLITE_ERROR' || code === 'SQLITE_MISMATCH') {
      return describeUnrunnableQuery(code, message, refs, context);
    }
    if (TLS_CODES.has(code)) return configError(`erp-sql: ${databaseLabel} cannot be reached securely (configured at database.connectionString, e.g. sslmode) (${code}): ${message}`);
    if (code === 'ERR_INVALID_URL') return configError('erp-sql: the PostgreSQL connection string is not a valid URL (configured at database.connectionString)');
  }
  // node-postgres reports these without a code.
  if (/Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable/i.test(message)) {
    return transientError(`erp-sql: ${databaseLabel} is not available: ${message}`, { cause: error });
  }
  if (/client password must be a string/i.test(message)) {
    return authError(`erp-sql: ${databaseLabel} asks for a password and none is configured (database.password or the connection string): ${message}`);
  }
  if (/does not support SSL connections/i.test(message)) {
    return configError(`erp-sql: ${databaseLabel} does not support TLS, which the connection string asks for (configured at database.connectionString, sslmode): ${message}`);
  }
  return new Error(`erp-sql: ${purpose} failed${code === undefined ? '' : ` (${code})`}: ${message}`, { cause: error });
}

/**
 * PostgreSQL class 22: a value the query converts does not fit its type. A time that does not
 * parse can only come from stock.modifiedAt (the one column the reads convert to a time): a
 * text column holding something else. Other conversions are named by the query's position.
 */
function describeDataException(code: string, message: string, refs: ColumnRef[], context: DatabaseErrorContext): Error {
  if (/\btype (?:timestamp|date|time)\b|date\/time|time zone/i.test(message)) {
    const value = /: ("(?:[^"\\]|\\.)*")$/.exec(message)?.[1];
    return configError(
      `erp-sql: ${columnLabel(context.tables, 'stock', 'modifiedAt')} holds ${value === undefined ? 'values that are not times' : `values that are not times, such as ${value}`}; ` +
        `expected a timestamp, timestamptz or date column (${code}: ${message})`,
    );
  }
  const columns = refs.map((ref) => columnLabel(context.tables, ref.table, ref.field));
  if (columns.length > 0) return configError(`erp-sql: ${columns.join(' and ')} ${columns.length > 1 ? 'hold' : 'holds'} values the ${context.purpose} query cannot convert (${code}: ${message})`);
  return configError(`erp-sql: ${context.purpose} failed on a value the database cannot convert (${code}): ${message}; ${CHECK_HINT}`);
}

/**
 * A query the database cannot run as written for these tables: a column of a type that does
 * not fit (compared with a column of another type, cast to a time), a function or feature the
 * database lacks. The error's position (PostgreSQL) names the columns involved.
 */
function describeUnrunnableQuery(code: string, message: string, located: ColumnRef[], context: DatabaseErrorContext): Error {
  const labels = located.map((ref) => columnLabel(context.tables, ref.table, ref.field));
  if (located.length === 1 && located[0]?.table === 'stock' && located[0].field === 'modifiedAt' && /timestamp|date|time zone/i.test(message)) {
    return configError(`erp-sql: ${labels[0]} is not a time column; expected a timestamp, timestamptz or date column (${code}: ${message})`);
  }
  if (labels.length === 2) return configError(`erp-sql: ${labels[0]} cannot be compared with ${labels[1]}; expected alike types (${code}: ${message})`);
  if (labels.length === 1) return configError(`erp-sql: ${labels[0]} is of a type the ${context.purpose} query cannot use (${code}: ${message})`);
  const missingFunction = /no such function: (\w+)/.exec(message);
  if (missingFunction) {
    return configError(`erp-sql: ${context.purpose} needs the SQL function ${missingFunction[1]}, which this SQLite library lacks (${code}): ${message}`);
  }
  const what = code === '0A000' ? `${context.databaseLabel} does not support what the ${context.purpose} query needs` : `${context.databaseLabel} cannot run the ${context.purpose} query`;
  return configError(`erp-sql: ${what} (${code}): ${message}; ${CHECK_HINT}`);
}

/** The object of a "permission denied" message, with its config key when it is a configured table or schema. */
function privilegeObject(message: string, context: DatabaseErrorContext): string {
  const denied = /permission denied for (table|relation|view|schema|column) "?(\w+)"?/.exec(message);
  if (!denied) return context.table === undefined ? 'a configured table' : `table "${context.tables[context.table].table}" (configured at tables.${context.table}.table)`;
  const [, kind, name = ''] = denied;
  if (kind === 'schema') {
    const configured = context.database.driver === 'postgres' && context.database.schema === name;
    return `schema "${name}"${configured ? ' (configured at database.schema)' : ''}`;
  }
  if (kind === 'column') return `column "${name}"`;
  const key = tableKeyNamed(context.tables, name);
  return `table "${name}"${key ? ` (configured at tables.${key}.table)` : ''}`;
}

function tableKeyNamed(tables: ErpTables, name: string): TableKey | undefined {
  return (Object.keys(tables) as TableKey[]).find((candidate) => tableBaseName(tables[candidate].table) === name);
}

/**
 * The configured columns a PostgreSQL error's position points at in the query's text: the
 * operands of an operator (`"l"."id" = "s"."magazyn_id"`, the position at `=`), the column in
 * a cast or function call (`cast("s"."zmodyfikowano" as …)`, the position at `cast`), or the
 * column itself. Columns are written `"alias"."column"` by the queries (Kysely references).
 */
export function columnRefsAt(text: string | undefined, position: unknown, tables: ErpTables): ColumnRef[] {
  const at = Number(position) - 1; // PostgreSQL counts characters from 1
  if (text === undefined || !Number.isInteger(at) || at < 0 || at >= text.length) return [];
  const before = /"(\w+)"\."(\w+)"\s*$/.exec(text.slice(0, at));
  const after = /^(?:\s|[<>=!~+\-*/|&%^@#]|\w+\s*\()*"(\w+)"\."(\w+)"/.exec(text.slice(at, at + 200));
  const refs: ColumnRef[] = [];
  for (const match of [before, after]) {
    const table = tableForAlias(match?.[1]);
    const field = table && Object.keys(tables[table]).find((key) => key !== 'table' && (tables[table] as Record<string, unknown>)[key] === match?.[2]);
    if (table && field) refs.push({ table, field });
  }
  return refs;
}

function tableForAlias(alias: string | undefined): TableKey | undefined {
  if (alias === undefined) return undefined;
  return (Object.keys(TABLE_ALIAS) as TableKey[]).find((key) => TABLE_ALIAS[key] === alias);
}

function tableBaseName(table: string): string {
  return table.slice(table.lastIndexOf('.') + 1);
}

/** The config field holding a column name, in the given table first, else in any table. */
function locateColumn(tables: ErpTables, column: string, preferred: TableKey | undefined): { table: TableKey; field: string } | undefined {
  const order = (Object.keys(tables) as TableKey[]).sort((a, b) => Number(b === preferred) - Number(a === preferred));
  for (const table of order) {
    for (const [field, value] of Object.entries(tables[table])) {
      if (field !== 'table' && value === column) return { table, field };
    }
  }
  return undefined;
}

/**
 * Spaces query starts to at most `perSecond` (the config's maxQueriesPerSecond), so the ERP is
 * spared even when reads run outside the rate-limited task queue (CLI dry runs).
 */
class QueryPacer {
  private nextStart = 0;

  constructor(private readonly perSecond: number | undefined) {}

  async wait(): Promise<void> {
    if (this.perSecond === undefined) return;
    const now = Date.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + 1000 / this.perSecond;
    if (start > now) await new Promise((resolve) => setTimeout(resolve, start - now));
  }
}

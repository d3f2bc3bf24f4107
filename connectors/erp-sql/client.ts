/**
 * Transport to the ERP's database: a Kysely instance on SQLite, PostgreSQL, MySQL/MariaDB or
 * SQL Server, query pacing, the few SQL expressions that differ by dialect beyond identifiers
 * and placeholders (limit, asText), and the translation of driver errors into omnisync's error
 * kinds with messages that name the config entry to fix ("table "stany" has no column "ilosc2"
 * (configured at tables.stock.onHand)").
 *
 * The connector only reads. The intent is enforced by the database where it can be: SQLite
 * connections are `query_only`, PostgreSQL sessions `default_transaction_read_only`, MySQL
 * sessions `transaction read only`. SQL Server has no read-only session: the login should only
 * be granted SELECT (docs/configuration.md), and `readOnlyIntent` routes reads to a readable
 * secondary where there is one.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CompiledQuery, Kysely, MssqlDialect, MysqlDialect, PostgresDialect, SqliteDialect, sql, type DatabaseConnection, type RawBuilder } from 'kysely';
import mysql from 'mysql2';
import pg from 'pg';
import * as Tedious from 'tedious';
import { openSqliteFile } from '../../state/sqlite-connection';
import { authError, configError, isTransientNetworkCode, OmnisyncError, transientError, validationError } from '../../core/errors';
import { columnLabel, stockQueryTables, type ErpDatabaseConfig, type ErpDialect, type ErpMssqlDatabase, type ErpMysqlDatabase, type ErpSqlConfig, type ErpTables } from './config';

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
          // The ERP may be writing: wait for its write lock instead of failing at once.
          return openSqliteFile(file, { create: !options.readOnly, pragmas: ['busy_timeout = 5000', ...(options.readOnly ? ['query_only = ON'] : [])] });
        },
      }),
    });
  }
  if (database.driver === 'mysql') return new Kysely({ dialect: mysqlDialect(database, options.readOnly) });
  if (database.driver === 'mssql') return new Kysely({ dialect: mssqlDialect(database) });
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

/**
 * MySQL and MariaDB through mysql2's pool. Every value that is exact in the database stays
 * exact: DECIMAL and BIGINT come back as strings (decimalNumbers off, bigNumberStrings), so
 * amounts never pass through binary floats; DATETIME and TIMESTAMP come back as the server's
 * text (dateStrings), never as a Date built in the worker's local time zone. Each new session
 * runs in UTC (TIMESTAMP columns are shown in UTC, DATETIME columns are read as UTC, see
 * modified-at.ts) and, for the connector, read-only.
 */
function mysqlDialect(database: ErpMysqlDatabase, readOnly: boolean): MysqlDialect {
  const pool = mysql.createPool({
    uri: database.connectionString,
    ...(database.password === undefined ? {} : { password: database.password }),
    connectionLimit: database.maxConnections,
    decimalNumbers: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // Date parameters (none are sent today) would be written in UTC, as the session reads them.
    timezone: 'Z',
    connectTimeout: 15_000,
  });
  const sessionSettings = [`set session time_zone = '+00:00'`, ...(readOnly ? ['set session transaction read only'] : [])];
  return new MysqlDialect({
    pool,
    onCreateConnection: async (connection: DatabaseConnection) => {
      for (const setting of sessionSettings) await connection.executeQuery(CompiledQuery.raw(setting));
    },
  });
}

/**
 * SQL Server through tedious, pooled by tarn (the pool Kysely's MssqlDialect takes). tarn is
 * loaded when the pool is made (on the first query), so an ERP on another database does not
 * need it, and SQL can be compiled for SQL Server without it.
 */
function mssqlDialect(database: ErpMssqlDatabase): MssqlDialect {
  const target = mssqlTarget(database);
  return new MssqlDialect({
    tarn: { Pool: TarnPoolOnFirstUse as unknown as MssqlTarnPool, options: { min: 0, max: database.maxConnections, acquireTimeoutMillis: 30_000, idleTimeoutMillis: 60_000 } },
    tedious: {
      ...Tedious,
      connectionFactory: () =>
        new Tedious.Connection({
          server: target.host,
          authentication: { type: 'default', options: { userName: target.user, password: target.password } },
          options: {
            ...(target.port === undefined ? {} : { port: target.port }),
            ...(target.instanceName === undefined ? {} : { instanceName: target.instanceName }),
            ...(target.database === undefined ? {} : { database: target.database }),
            encrypt: target.encrypt,
            trustServerCertificate: target.trustServerCertificate,
            readOnlyIntent: database.readOnlyIntent,
            appName: 'omnisync-erp-sql',
            // Times are turned into ISO-8601 text in SQL (modified-at.ts); this only keeps any Date the driver builds in UTC.
            useUTC: true,
            connectTimeout: 15_000,
          },
        }),
    },
  });
}

/** Where an `mssql://user:password@host:port/database?encrypt=…` connection string points. */
export interface MssqlTarget {
  host: string;
  port: number | undefined;
  instanceName: string | undefined;
  database: string | undefined;
  user: string | undefined;
  password: string | undefined;
  encrypt: boolean;
  trustServerCertificate: boolean;
}

/**
 * Reads the connection string (database.password, when given, wins over one in the string).
 * Encryption is on by default, as tedious has it; `encrypt=false` and
 * `trustServerCertificate=true` are for servers without a trusted certificate.
 */
export function mssqlTarget(database: Pick<ErpMssqlDatabase, 'connectionString' | 'password'>): MssqlTarget {
  let url: URL;
  try {
    url = new URL(database.connectionString);
  } catch {
    throw configError('erp-sql: the SQL Server connection string is not a valid URL, e.g. "mssql://reader@erp-db:1433/erp" (configured at database.connectionString)');
  }
  if (url.protocol !== 'mssql:' && url.protocol !== 'sqlserver:') {
    throw configError('erp-sql: the SQL Server connection string does not start with "mssql://", e.g. "mssql://reader@erp-db:1433/erp" (configured at database.connectionString)');
  }
  const flag = (name: string, fallback: boolean): boolean => {
    const value = url.searchParams.get(name);
    if (value === null) return fallback;
    if (value === 'true' || value === 'false') return value === 'true';
    throw configError(`erp-sql: ${name}=${value} in the SQL Server connection string; expected true or false (configured at database.connectionString)`);
  };
  const decoded = (text: string): string | undefined => (text === '' ? undefined : decodeURIComponent(text));
  return {
    host: decodeURIComponent(url.hostname),
    port: url.port === '' ? undefined : Number(url.port),
    instanceName: url.searchParams.get('instanceName') ?? undefined,
    database: decoded(url.pathname.slice(1)),
    user: decoded(url.username),
    password: database.password ?? decoded(url.password),
    encrypt: flag('encrypt', true),
    trustServerCertificate: flag('trustServerCertificate', false),
  };
}

/**
 * Stands in for tarn's Pool class, which Kysely's MssqlDriver instantiates as soon as the
 * Kysely instance is made: tarn is loaded, and its pool made, on the first acquire (the first
 * query), so SQL can be compiled for SQL Server without it. Without tarn, that query fails with
 * a config error saying the package is missing.
 */
class TarnPoolOnFirstUse {
  private pool: InstanceType<MssqlTarnPool> | undefined;

  constructor(private readonly options: ConstructorParameters<MssqlTarnPool>[0]) {}

  acquire(): ReturnType<InstanceType<MssqlTarnPool>['acquire']> {
    if (this.pool === undefined) {
      let tarn: { Pool: MssqlTarnPool };
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when SQL Server is queried
        tarn = require('tarn') as { Pool: MssqlTarnPool };
      } catch {
        throw configError('erp-sql: driver mssql needs the npm package "tarn" (the connection pool of Kysely\'s MssqlDialect), which is not installed (configured at database.driver)');
      }
      this.pool = new tarn.Pool(this.options);
    }
    return this.pool.acquire();
  }

  release(resource: unknown): void {
    this.pool?.release(resource);
  }

  async destroy(): Promise<void> {
    await this.pool?.destroy();
  }
}
type MssqlTarnPool = ConstructorParameters<typeof MssqlDialect>[0]['tarn']['Pool'];

export class ErpSqlClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see openErpDatabase
  readonly db: Kysely<any>;
  readonly dialect: ErpDialect;
  /** PostgreSQL and SQL Server: the schema of tables configured without one (database.schema), if set. */
  readonly schema: string | undefined;
  private readonly pacer: QueryPacer;

  constructor(private readonly config: ErpSqlConfig, private readonly baseDir: string) {
    this.dialect = config.database.driver;
    this.schema = config.database.driver === 'postgres' || config.database.driver === 'mssql' ? config.database.schema : undefined;
    this.db = openErpDatabase(config.database, { baseDir, readOnly: true });
    this.pacer = new QueryPacer(config.maxQueriesPerSecond);
  }

  /** The configured tables; only a connector reading stock through queries.stock has none. */
  get tables(): ErpTables {
    if (this.config.tables === undefined) throw configError('erp-sql: this connector has no tables configured (it reads stock through queries.stock)');
    return this.config.tables;
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
    return rowLimit(this.dialect, rows);
  }

  /**
   * The row limit of a query without `order by` (probes such as "is there any row"), written
   * at its end. SQL Server's `offset … fetch` needs an ordering: it gets `order by (select
   * null)`, which orders nothing.
   */
  anyRows(rows: number): RawBuilder<unknown> {
    return this.dialect === 'mssql' ? sql`order by (select null) ${rowLimit(this.dialect, rows)}` : rowLimit(this.dialect, rows);
  }

  /** A value as text, as the dialect casts (for messages and payloads that show what is stored). */
  asText(value: RawBuilder<unknown>): RawBuilder<string | null> {
    return textOf(this.dialect, value);
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

  /** Where the database is, without credentials: `MySQL/MariaDB erp-db:3306/erp`. */
  databaseLabel(): string {
    const database = this.config.database;
    if (database.driver === 'sqlite') return `SQLite file ${database.file}`;
    const product = DATABASE_PRODUCT[database.driver];
    try {
      const url = new URL(database.connectionString);
      return `${product} ${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    } catch {
      return product;
    }
  }

  private translate(err: unknown, context: { purpose: string; table?: TableKey; sql: string }): Error {
    const tables = this.config.tables ?? (this.config.queries?.stock === undefined ? undefined : stockQueryTables(this.config.queries.stock));
    if (tables === undefined) throw new Error('erp-sql: neither tables nor queries.stock is configured (the config schema requires one)');
    return describeDatabaseError(err, { ...context, tables, database: this.config.database, databaseLabel: this.databaseLabel() });
  }
}

/** How messages name the database servers. */
const DATABASE_PRODUCT = { postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB', mssql: 'SQL Server' } as const satisfies Record<Exclude<ErpDialect, 'sqlite'>, string>;

/** `limit n` where the dialect has it; SQL Server's `offset 0 rows fetch next n rows only` (after an `order by`). */
export function rowLimit(dialect: ErpDialect, rows: number): RawBuilder<unknown> {
  return dialect === 'mssql' ? sql`offset 0 rows fetch next ${rows} rows only` : sql`limit ${rows}`;
}

/**
 * A value as text: `cast(x as text)` on SQLite and PostgreSQL, `cast(x as char)` on MySQL
 * (its cast has no `text`), `cast(x as nvarchar(max))` on SQL Server (unbounded, Unicode).
 */
export function textOf(dialect: ErpDialect, value: RawBuilder<unknown>): RawBuilder<string | null> {
  if (dialect === 'mysql') return sql<string | null>`cast(${value} as char)`;
  if (dialect === 'mssql') return sql<string | null>`cast(${value} as nvarchar(max))`;
  return sql<string | null>`cast(${value} as text)`;
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

  // SQL Server's error number (tedious's RequestError); its code is EREQUEST for every query error.
  const rawNumber: unknown = (error as { number?: unknown }).number;
  const mssqlNumber = database.driver === 'mssql' && typeof rawNumber === 'number' ? rawNumber : undefined;

  const missingColumn =
    /no such column: (?:"?(\w+)"?\.)?"?(\w+)"?/.exec(message) ??
    (code === '42703' ? /column (?:"?(\w+)"?\.)?"?(\w+)"? does not exist/.exec(message) : null) ??
    (code === 'ER_BAD_FIELD_ERROR' ? /Unknown column '(?:(\w+)\.)?(\w+)'/.exec(message) : null) ??
    (mssqlNumber === 207 ? /Invalid column name '(?:(\w+)\.)?(\w+)'/.exec(message) : null);
  if (missingColumn) {
    const [, alias, column = ''] = missingColumn;
    const located = locateColumn(tables, column, tableForAlias(alias) ?? context.table);
    if (located) {
      return configError(`erp-sql: table "${tables[located.table].table}" has no column "${column}" (configured at tables.${located.table}.${located.field})`);
    }
    return configError(`erp-sql: ${message}`);
  }

  const missingTable =
    /no such table: (?:\w+\.)?(\w+)/.exec(message) ??
    (code === '42P01' ? /relation "(?:(\w+)\.)?(\w+)" does not exist/.exec(message) : null) ??
    (code === 'ER_NO_SUCH_TABLE' ? /Table '(?:(\w+)\.)?(\w+)' doesn't exist/.exec(message) : null) ??
    (mssqlNumber === 208 ? /Invalid object name '(?:(\w+)\.)?(\w+)'/.exec(message) : null);
  if (missingTable) {
    const name = missingTable.at(-1) ?? '';
    const key = tableKeyNamed(tables, name);
    const configuredSchema = database.driver === 'postgres' || database.driver === 'mssql' ? database.schema : undefined;
    const viaSchema = code !== undefined && code !== 'ER_NO_SUCH_TABLE' && key !== undefined && !tables[key].table.includes('.') && configuredSchema !== undefined && missingTable[1] === configuredSchema;
    if (viaSchema) return configError(`erp-sql: table "${configuredSchema}.${name}" does not exist (configured at tables.${key}.table and database.schema)`);
    return configError(`erp-sql: table "${name}" does not exist${key ? ` (configured at tables.${key}.table)` : ''}`);
  }

  if (database.driver === 'mysql' && code !== undefined) {
    const described = describeMysqlError(code, error, context);
    if (described !== undefined) return described;
  }
  if (database.driver === 'mssql') {
    const described = describeMssqlError(code, mssqlNumber, error, context);
    if (described !== undefined) return described;
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

/** mysql2 codes (server errors by name, the driver's own in capitals) of a server that cannot serve now. */
const TRANSIENT_MYSQL_CODES = new Set([
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN', 'ER_NORMAL_SHUTDOWN',
  'ER_QUERY_INTERRUPTED', 'ER_CLIENT_INTERACTION_TIMEOUT', 'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED', 'ER_NET_WRITE_INTERRUPTED',
  'ER_OUT_OF_RESOURCES', 'ER_OUTOFMEMORY', 'ER_LOCK_TABLE_FULL', 'ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_PACKETS_OUT_OF_ORDER', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE',
]);
/** mysql2 codes of a query MySQL cannot run as written for these tables (types, functions, syntax). */
const UNRUNNABLE_MYSQL_CODES = new Set([
  'ER_PARSE_ERROR', 'ER_SP_DOES_NOT_EXIST', 'ER_WRONG_VALUE_FOR_TYPE', 'ER_CANT_AGGREGATE_2COLLATIONS', 'ER_CANT_AGGREGATE_3COLLATIONS',
  'ER_CANT_AGGREGATE_NCOLLATIONS', 'ER_NON_UNIQ_ERROR', 'ER_NOT_SUPPORTED_YET', 'ER_WRONG_ARGUMENTS', 'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 'ER_DATA_OUT_OF_RANGE', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_ILLEGAL_VALUE_FOR_TYPE',
]);

/**
 * mysql2 errors (`code` names the server's error, e.g. ER_NO_SUCH_TABLE, or the driver's, e.g.
 * PROTOCOL_CONNECTION_LOST). Missing tables and columns are named before this, with the other
 * dialects'. Undefined: not a MySQL-specific case (network codes are left to the common rules).
 */
function describeMysqlError(code: string, error: Error, context: DatabaseErrorContext): Error | undefined {
  const { message } = error;
  const { databaseLabel, purpose } = context;
  if (TRANSIENT_MYSQL_CODES.has(code)) return transientError(`erp-sql: ${databaseLabel} is not available (${code}): ${message}`, { status: code, cause: error });
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR' || code === 'ER_NOT_SUPPORTED_AUTH_MODE') {
    return authError(`erp-sql: ${databaseLabel} refused the credentials (configured at database.connectionString and database.password) (${code}): ${message}`);
  }
  if (code === 'ER_DBACCESS_DENIED_ERROR') {
    return authError(`erp-sql: the database user may not use the database of database.connectionString; grant it SELECT there (${code}: ${message})`);
  }
  if (code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_COLUMNACCESS_DENIED_ERROR') {
    const table = /for table [`']?(?:\w+[`']?\.[`']?)?(\w+)[`']?/.exec(message)?.[1];
    const key = table === undefined ? undefined : tableKeyNamed(context.tables, table);
    const what = table === undefined ? 'a configured table' : `table "${table}"${key ? ` (configured at tables.${key}.table)` : ''}`;
    return authError(`erp-sql: the database user may not read ${what}; grant it SELECT (${code}: ${message})`);
  }
  if (code === 'ER_BAD_DB_ERROR') return configError(`erp-sql: ${message} (${databaseLabel}, configured at database.connectionString)`);
  if (code === 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION' || code === 'ER_READ_ONLY_MODE' || code === 'ER_OPTION_PREVENTS_STATEMENT') {
    return configError(`erp-sql: ${purpose} tried to write, but the connector only reads: its database sessions are read-only by design (${code}): ${message}`);
  }
  if (code === 'ER_DUP_ENTRY' || code.startsWith('ER_NO_REFERENCED_ROW') || code.startsWith('ER_ROW_IS_REFERENCED') || code === 'ER_BAD_NULL_ERROR') {
    return validationError(`erp-sql: ${purpose} was refused by a constraint, but the connector only reads (${code}): ${message}`, code);
  }
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || code === 'HANDSHAKE_SSL_ERROR' || TLS_CODES.has(code)) {
    return configError(`erp-sql: ${databaseLabel} cannot be reached securely (configured at database.connectionString, e.g. ssl) (${code}): ${message}`);
  }
  if (code === 'ERR_INVALID_URL') return configError('erp-sql: the MySQL connection string is not a valid URL, e.g. "mysql://reader@erp-db:3306/erp" (configured at database.connectionString)');
  if (UNRUNNABLE_MYSQL_CODES.has(code)) return configError(`erp-sql: ${databaseLabel} cannot run the ${purpose} query (${code}): ${message}; ${CHECK_HINT}`);
  return undefined;
}

/** SQL Server error numbers of a server that cannot serve now: deadlock victim, lock timeout, Azure SQL's transient ones. */
const TRANSIENT_MSSQL_NUMBERS = new Set([1205, 1222, -2, 233, 40613, 40197, 40501, 40540, 49918, 49919, 49920, 10928, 10929, 10053, 10054, 10060, 64, 121, 1204, 701, 8645]);
/** SQL Server error numbers of a query it cannot run as written for these tables: conversions, comparisons, syntax, missing functions. */
const UNRUNNABLE_MSSQL_NUMBERS = new Set([102, 156, 195, 206, 241, 242, 245, 402, 403, 8114, 8115, 8116, 8117, 9810, 4145]);

/**
 * tedious errors: a RequestError carries SQL Server's error number (208 invalid object, 207
 * invalid column, 229/230 permission denied, 1205 deadlock, …), a ConnectionError a code
 * (ELOGIN, ESOCKET, ETIMEOUT, …). Undefined: not a SQL Server-specific case.
 */
function describeMssqlError(code: string | undefined, number: number | undefined, error: Error, context: DatabaseErrorContext): Error | undefined {
  const { message } = error;
  const { databaseLabel, purpose } = context;
  if (number === 18456 || number === 18452 || number === 18486 || number === 18487 || number === 18488) {
    return authError(`erp-sql: ${databaseLabel} refused the credentials (configured at database.connectionString and database.password) (${number}): ${message}`);
  }
  if (number === 4060 || (code === 'ELOGIN' && /Cannot open database/i.test(message))) {
    return configError(`erp-sql: ${message} (${databaseLabel}, configured at database.connectionString)`);
  }
  if (code === 'ELOGIN') return authError(`erp-sql: ${databaseLabel} refused the login (configured at database.connectionString and database.password) (${code}): ${message}`);
  if (number !== undefined && TRANSIENT_MSSQL_NUMBERS.has(number)) {
    return transientError(`erp-sql: ${databaseLabel} is not available (${number}): ${message}`, { status: String(number), cause: error });
  }
  if (code === 'ESOCKET' || code === 'ETIMEOUT' || code === 'ECLOSE' || code === 'ECONNCLOSED' || code === 'EINSTLOOKUP' || code === 'ECANCEL') {
    return transientError(`erp-sql: ${databaseLabel} is not available (${code}): ${message}`, { status: code, cause: error });
  }
  if (code === 'ETLS' || code === 'EENCRYPT' || /certificate/i.test(message)) {
    return configError(`erp-sql: ${databaseLabel} cannot be reached securely (configured at database.connectionString: encrypt, trustServerCertificate) (${code ?? number ?? 'TLS'}): ${message}`);
  }
  if (number === 229 || number === 230) {
    const object = /on the object '(\w+)'/.exec(message)?.[1];
    const key = object === undefined ? undefined : tableKeyNamed(context.tables, object);
    const what = object === undefined ? 'a configured table' : `table "${object}"${key ? ` (configured at tables.${key}.table)` : ''}`;
    return authError(`erp-sql: the database user may not read ${what}; grant it SELECT (${number}: ${message})`);
  }
  if (number === 3906 || number === 3908 || number === 262) {
    return configError(`erp-sql: ${purpose} tried to write, but the connector only reads: its login should be granted SELECT only (${number}): ${message}`);
  }
  if (number === 2627 || number === 2601 || number === 547 || number === 515) {
    return validationError(`erp-sql: ${purpose} was refused by a constraint, but the connector only reads (${number}): ${message}`, String(number));
  }
  if (number !== undefined && UNRUNNABLE_MSSQL_NUMBERS.has(number)) return configError(`erp-sql: ${databaseLabel} cannot run the ${purpose} query (${number}): ${message}; ${CHECK_HINT}`);
  return undefined;
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

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
import { authError, configError, isTransientNetworkCode, OmnisyncError, transientError } from '../../core/errors';
import type { CheckResult } from '../contract';
import type { ErpDatabaseConfig, ErpSqlConfig, ErpTables } from './config';

export type ErpDialect = ErpDatabaseConfig['driver'];

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
  private readonly pacer: QueryPacer;

  constructor(private readonly config: ErpSqlConfig, private readonly baseDir: string) {
    this.dialect = config.database.driver;
    this.tables = config.tables;
    this.db = openErpDatabase(config.database, { baseDir, readOnly: true });
    this.pacer = new QueryPacer(config.maxQueriesPerSecond);
  }

  /** The configured table (schema-qualified when configured so) with its fixed alias. */
  table(key: TableKey): RawBuilder<unknown> {
    const name = this.tables[key].table;
    const schema = this.config.database.driver === 'postgres' ? this.config.database.schema : undefined;
    const qualified = name.includes('.') || schema === undefined ? name : `${schema}.${name}`;
    return sql`${sql.table(qualified)} as ${sql.raw(TABLE_ALIAS[key])}`;
  }

  /** A configured column of a table, qualified with the table's alias. */
  column<K extends TableKey>(key: K, field: Exclude<keyof ErpTables[K], 'table'>): RawBuilder<unknown> {
    const name = this.tables[key][field];
    if (typeof name !== 'string') throw new Error(`erp-sql: tables.${key}.${String(field)} is not configured`);
    return sql.ref(`${TABLE_ALIAS[key]}.${name}`);
  }

  /** Runs a query, paced, with driver errors translated (see describeDatabaseError). */
  async rows<Row>(query: RawBuilder<Row>, context: { purpose: string; table?: TableKey }): Promise<Row[]> {
    await this.pacer.wait();
    try {
      const result = await query.execute(this.db);
      return result.rows;
    } catch (err) {
      throw this.translate(err, context);
    }
  }

  /**
   * Reads one row of each configured table, with every configured column, then one joined
   * row: a wrong table or column name, or references that cannot be joined, fail here with the
   * config path to fix. Throws typed errors like the reads do.
   */
  async check(): Promise<CheckResult> {
    const { products, locations } = this.tables;
    for (const key of ['products', 'locations', 'stock'] as const) {
      const fields = Object.keys(this.tables[key]).filter((field) => field !== 'table') as Array<Exclude<keyof ErpTables[typeof key], 'table'>>;
      const columns = sql.join(fields.map((field) => this.column(key, field)));
      await this.rows(sql`select ${columns} from ${this.table(key)} limit 1`, { purpose: 'check', table: key });
    }
    await this.rows(
      sql`select ${this.column('stock', 'id')}
          from ${this.table('stock')}
          join ${this.table('products')} on ${this.column('products', 'id')} = ${this.column('stock', 'productId')}
          join ${this.table('locations')} on ${this.column('locations', 'id')} = ${this.column('stock', 'locationId')}
          limit 1`,
      { purpose: 'check' },
    );
    const [counts] = await this.rows(
      sql<{ products: number | string }>`select count(*) as products from ${this.table('products')}`,
      { purpose: 'check', table: 'products' },
    );
    const codes = await this.rows(
      sql<{ code: unknown }>`select ${this.column('locations', 'code')} as code from ${this.table('locations')} order by 1 limit 11`,
      { purpose: 'check', table: 'locations' },
    );
    const shownCodes = codes.slice(0, 10).map((row) => String(row.code).trim());
    const moreCodes = codes.length > 10 ? ', ...' : '';
    return {
      ok: true,
      detail:
        `connected to ${this.databaseLabel()}: ${Number(counts?.products ?? 0).toLocaleString('en-US')} products in "${products.table}", ` +
        `locations in "${locations.table}": ${shownCodes.join(', ')}${moreCodes}`,
    };
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

  private translate(err: unknown, context: { purpose: string; table?: TableKey }): Error {
    return describeDatabaseError(err, { tables: this.tables, table: context.table, purpose: context.purpose, database: this.config.database, databaseLabel: this.databaseLabel() });
  }
}

/** PostgreSQL SQLSTATEs (and prefixes) that mean "the server is there but cannot serve now". */
const TRANSIENT_SQLSTATES = ['08', '57P01', '57P02', '57P03', '53', '40001', '40P01', '55P03', '57014'];
const AUTH_SQLSTATES = ['28000', '28P01'];
const TRANSIENT_SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED_SHAREDCACHE']);

/**
 * Translates a driver error into a typed OmnisyncError:
 * - a missing table or column → config error naming the config path;
 * - connection refused, server shutting down, too many connections, database busy → transient;
 * - wrong credentials → auth; database or schema missing, SQLite file missing → config.
 * Anything else keeps its message, prefixed, and is left to the activity's default (retried).
 */
export function describeDatabaseError(
  err: unknown,
  context: { tables: ErpTables; table?: TableKey | undefined; purpose: string; database: ErpDatabaseConfig; databaseLabel: string },
): Error {
  if (err instanceof OmnisyncError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const rawCode: unknown = (error as { code?: unknown }).code;
  const code = typeof rawCode === 'string' ? rawCode : undefined;
  const message = error.message;

  const missingColumn = /no such column: (?:"?(\w+)"?\.)?"?(\w+)"?/.exec(message) ?? (code === '42703' ? /column (?:"?(\w+)"?\.)?"?(\w+)"? does not exist/.exec(message) : null);
  if (missingColumn) {
    const [, alias, column = ''] = missingColumn;
    const located = locateColumn(context.tables, column, tableForAlias(alias) ?? context.table);
    if (located) {
      return configError(`erp-sql: table "${context.tables[located.table].table}" has no column "${column}" (configured at tables.${located.table}.${located.field})`);
    }
    return configError(`erp-sql: ${message}`);
  }

  const missingTable = /no such table: (?:\w+\.)?(\w+)/.exec(message) ?? (code === '42P01' ? /relation "(?:\w+\.)?(\w+)" does not exist/.exec(message) : null);
  if (missingTable) {
    const name = missingTable[1] ?? '';
    const key = (Object.keys(context.tables) as TableKey[]).find((candidate) => tableBaseName(context.tables[candidate].table) === name);
    return configError(`erp-sql: table "${name}" does not exist${key ? ` (configured at tables.${key}.table)` : ''}`);
  }

  if (code !== undefined) {
    if (isTransientNetworkCode(code) || TRANSIENT_SQLITE_CODES.has(code) || TRANSIENT_SQLSTATES.some((prefix) => code.startsWith(prefix))) {
      return transientError(`erp-sql: ${context.databaseLabel} is not available (${code}): ${message}`, { status: code, cause: error });
    }
    if (AUTH_SQLSTATES.includes(code)) return authError(`erp-sql: ${context.databaseLabel} refused the credentials: ${message}`);
    if (code === '3D000' || code === '3F000') return configError(`erp-sql: ${message} (${context.databaseLabel})`);
    if (code === 'SQLITE_CANTOPEN' && context.database.driver === 'sqlite') {
      return configError(`erp-sql: cannot open SQLite file "${context.database.file}" (configured at database.file): ${message}`);
    }
    if (code === '42883' || code === '42804') {
      // operator does not exist / datatype mismatch: e.g. a text key joined to an integer id.
      return configError(`erp-sql: the configured tables cannot be read together: ${message}`);
    }
  }
  // node-postgres reports a dropped connection without a code.
  if (/Connection terminated|timeout exceeded when trying to connect/i.test(message)) {
    return transientError(`erp-sql: ${context.databaseLabel} is not available: ${message}`, { cause: error });
  }
  return new Error(`erp-sql: ${context.purpose} failed: ${message}`, { cause: error });
}

function tableForAlias(alias: string | undefined): TableKey | undefined {
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

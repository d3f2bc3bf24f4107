/**
 * SQLite files, opened the one way omnisync opens them: the state store and the erp-sql
 * connector (and the sandbox ERP through it) use openSqliteFile.
 *
 * The driver is @photostructure/sqlite: Node's own `node:sqlite` API as an npm package whose
 * prebuilt binaries (Linux glibc and musl, macOS, Windows; x64 and arm64) ship inside the
 * package on the npm registry, so `npm install` compiles nothing. better-sqlite3, used before,
 * downloads its binaries from GitHub and otherwise compiles SQLite from source: about 100 s of
 * a fresh install on two cores wherever GitHub is out of reach. On Node ≥ 22.5 the same API is
 * built in (`node:sqlite`), which keeps a later switch to it a one-line change here.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type DatabaseSyncInstance, type StatementSyncInstance } from '@photostructure/sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LruMap } from '../core/lru-map';

/** Prepared statements kept per connection; the hot statements are a few dozen texts. */
const STATEMENT_CACHE_SIZE = 256;

export interface SqliteFileOptions {
  /** Create the file and its folder when missing (an owner of the file); otherwise it must exist. */
  create: boolean;
  /** PRAGMA settings run on open, in order, e.g. `busy_timeout = 5000`. */
  pragmas: readonly string[];
}

/**
 * A SQLite error with the result code under its SQLite name (`SQLITE_BUSY`,
 * `SQLITE_READONLY_RECOVERY`), as callers classify it: extended names where omnisync tells
 * them apart, the primary name otherwise. `errcode` is SQLite's extended result code.
 */
export class SqliteError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errcode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SqliteError';
  }
}

/** Extended result codes whose names callers match (erp-sql tells a WAL to recover from a read-only file). */
const EXTENDED_CODE_NAMES: Record<number, string> = {
  264: 'SQLITE_READONLY_RECOVERY',
  520: 'SQLITE_READONLY_CANTLOCK',
  776: 'SQLITE_READONLY_ROLLBACK',
  1032: 'SQLITE_READONLY_DBMOVED',
  1288: 'SQLITE_READONLY_CANTINIT',
  1544: 'SQLITE_READONLY_DIRECTORY',
};

/** The driver's error as a SqliteError; anything that is not a SQLite error passes unchanged. */
function sqliteError(err: unknown): unknown {
  const details = err as { code?: unknown; errcode?: unknown; sqliteCodeName?: unknown; message?: unknown };
  if (details.code !== 'ERR_SQLITE_ERROR' || typeof details.errcode !== 'number') return err;
  const name = EXTENDED_CODE_NAMES[details.errcode] ?? (typeof details.sqliteCodeName === 'string' ? details.sqliteCodeName : `SQLITE_${details.errcode & 0xff}`);
  return new SqliteError(String(details.message), name, details.errcode, { cause: err });
}

function translated<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw sqliteError(err);
  }
}

/** Opens a SQLite file and applies its pragmas; failures are SqliteErrors naming the code. */
export function openSqliteFile(file: string, options: SqliteFileOptions): SqliteConnection {
  return translated(() => {
    if (options.create) mkdirSync(dirname(file), { recursive: true });
    // Opening creates a missing file; one that must exist is checked first. Readers open
    // read-write with `query_only` (their pragma), as before, so that one can still recover
    // the WAL of a writer that crashed.
    else if (!existsSync(file)) throw new SqliteError(`unable to open database file: ${file} does not exist`, 'SQLITE_CANTOPEN', 14);
    const database = new DatabaseSync(file);
    for (const pragma of options.pragmas) database.exec(`pragma ${pragma}`);
    return new SqliteConnection(database);
  });
}

/**
 * One SQLite connection for Kysely that prepares each SQL text once (least recently used ones
 * are dropped past STATEMENT_CACHE_SIZE). Kysely's SQLite driver prepares every query anew, and
 * for the multi-row statements of the stock path preparing cost as much as running them.
 * Reusing a statement is safe here: Kysely serialises the single connection, so no statement is
 * run while another run of it is still iterating, and SQLite re-prepares a statement by itself
 * when a migration changed the schema under it.
 */
export class SqliteConnection implements SqliteDatabase {
  private readonly statements = new LruMap<string, SqliteStatement>(STATEMENT_CACHE_SIZE);

  constructor(readonly database: DatabaseSyncInstance) {}

  prepare(sql: string): SqliteStatement {
    return this.statements.getOrCreate(sql, (text) => new KyselyStatement(translated(() => this.database.prepare(text))));
  }

  close(): void {
    this.statements.clear();
    this.database.close();
  }
}

type Parameters = ReadonlyArray<unknown>;
type Row = Record<string, unknown>;

/**
 * node:sqlite's statement in the shape Kysely's SQLite driver calls (parameters as one array).
 *
 * Rows are fetched as arrays and built into objects here, all with the same keys in the same
 * order: node:sqlite's own row objects have a null prototype, which V8 keeps in dictionary
 * mode, so every later read of a row's field (the mapper, the diff, the quarantine) was a hash
 * lookup and the rows cost more to collect. Measured on the stock push: worker CPU per item
 * 15-20 % higher with node:sqlite's row objects than with better-sqlite3's.
 */
class KyselyStatement implements SqliteStatement {
  readonly reader: boolean;
  private readonly columnNames: readonly string[];

  constructor(private readonly statement: StatementSyncInstance) {
    this.columnNames = statement.columns().map((column) => column.name);
    this.reader = this.columnNames.length > 0;
    if (this.reader) statement.setReturnArrays(true);
  }

  all(parameters: Parameters): unknown[] {
    let rows: unknown[][];
    try {
      rows = this.statement.all(...(parameters as unknown[])) as unknown[][];
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_OUT_OF_RANGE') throw sqliteError(err);
      rows = this.allWithWideIntegers(parameters);
    }
    const objects: Row[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) objects[i] = this.rowObject(rows[i]!);
    return objects;
  }

  run(parameters: Parameters): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return translated(() => this.statement.run(...(parameters as unknown[])));
  }

  *iterate(parameters: Parameters): IterableIterator<unknown> {
    const rows = translated(() => this.statement.iterate(...(parameters as unknown[])));
    for (const row of rows) yield this.rowObject(row as unknown[]);
  }

  private rowObject(values: readonly unknown[]): Row {
    const row: Row = {};
    const names = this.columnNames;
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row;
  }

  /**
   * A row held an integer beyond ±2^53, which node:sqlite refuses to return as a number
   * (better-sqlite3 returned it rounded). Read again with integers as bigints, and keep bigints
   * only where a number would lose digits: the caller (e.g. the ERP mapper) sees the exact value
   * and can quarantine that one row instead of the whole read failing.
   */
  private allWithWideIntegers(parameters: Parameters): unknown[][] {
    this.statement.setReadBigInts(true);
    try {
      const rows = translated(() => this.statement.all(...(parameters as unknown[]))) as unknown[][];
      for (const row of rows) {
        for (let i = 0; i < row.length; i++) {
          const value = row[i];
          if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) row[i] = Number(value);
        }
      }
      return rows;
    } finally {
      this.statement.setReadBigInts(false);
    }
  }
}

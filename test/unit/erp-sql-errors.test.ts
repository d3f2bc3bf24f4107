/**
 * How erp-sql classifies database errors: a query that can never succeed fails the run at once
 * (config, auth or validation, not retried) naming the config key to fix; a database that cannot
 * serve now is retried; only an unknown error is left to the default (retried) with the driver's
 * text. Errors are built as the drivers report them (SQLite's code name and message as
 * state/sqlite-connection.ts gives them; node-postgres's SQLSTATE, message and position).
 */
import { describe, expect, it } from 'vitest';
import { columnRefsAt, describeDatabaseError, type DatabaseErrorContext } from '../../connectors/erp-sql/client';
import { ErpDatabaseConfig } from '../../connectors/erp-sql/config';
import { OmnisyncError, toApplicationFailure } from '../../core/errors';
import { DEMO_ERP_TABLES } from '../../sandbox/erp/schema';

const sqlite: DatabaseErrorContext = {
  tables: DEMO_ERP_TABLES,
  purpose: 'full read (stock)',
  database: ErpDatabaseConfig.parse({ driver: 'sqlite', file: './data/erp.sqlite' }),
  databaseLabel: 'SQLite file ./data/erp.sqlite',
};
const postgres: DatabaseErrorContext = {
  tables: DEMO_ERP_TABLES,
  purpose: 'full read (stock)',
  database: ErpDatabaseConfig.parse({ driver: 'postgres', connectionString: 'postgresql://reader@erp-db:5432/erp', schema: 'erp' }),
  databaseLabel: 'PostgreSQL erp-db:5432/erp',
};

/** A driver error: an Error with the driver's code (and PostgreSQL's position, 1-based). */
function driverError(code: string | undefined, message: string, position?: number): Error {
  const error = new Error(message) as Error & { code?: string; position?: string };
  if (code !== undefined) error.code = code;
  if (position !== undefined) error.position = String(position);
  return error;
}

/** The position PostgreSQL reports for `marker` in `text`. */
function at(text: string, marker: string): number {
  const index = text.indexOf(marker);
  if (index < 0) throw new Error(`"${marker}" is not in the query`);
  return index + 1;
}

function translated(err: Error, context: DatabaseErrorContext) {
  const error = describeDatabaseError(err, context);
  return { error, kind: error instanceof OmnisyncError ? error.kind : 'unknown', message: error.message, nonRetryable: toApplicationFailure(error).nonRetryable };
}

const FULL_STOCK_SQL =
  'select "s"."id" as stock_id from "towary" as p join "stany" as s on "s"."towar_id" = "p"."id" ' +
  'left join "magazyny" as l on "l"."id" = "s"."magazyn_id" where "p"."id" <= $1 order by "p"."id", "s"."id"';
const DELTA_SQL =
  'select "s"."id" as stock_id, to_char((cast("s"."zmodyfikowano" as timestamptz) at time zone \'UTC\'), \'YYYY\') as modified_at ' +
  'from "stany" as s where true and "s"."zmodyfikowano" >= cast($1 as timestamptz) order by "s"."zmodyfikowano", "s"."id" limit $2';

describe('erp-sql: permanent SQLite errors fail at once, naming the config key', () => {
  it.each([
    ['a missing column', 'SQLITE_ERROR', 'no such column: s.ilosc2', { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, onHand: 'ilosc2' } }, 'config',
      'erp-sql: table "stany" has no column "ilosc2" (configured at tables.stock.onHand)'],
    ['a missing table', 'SQLITE_ERROR', 'no such table: stany', DEMO_ERP_TABLES, 'config', 'erp-sql: table "stany" does not exist (configured at tables.stock.table)'],
    ['a missing function', 'SQLITE_ERROR', 'no such function: strftime', DEMO_ERP_TABLES, 'config',
      'erp-sql: full read (stock) needs the SQL function strftime, which this SQLite library lacks (SQLITE_ERROR): no such function: strftime'],
    ['an ambiguous column', 'SQLITE_ERROR', 'ambiguous column name: id', DEMO_ERP_TABLES, 'config',
      'erp-sql: SQLite file ./data/erp.sqlite cannot run the full read (stock) query (SQLITE_ERROR): ambiguous column name: id; `omnisync connectors check` verifies the configured tables, columns and their types'],
    ['a datatype mismatch', 'SQLITE_MISMATCH', 'datatype mismatch', DEMO_ERP_TABLES, 'config',
      'erp-sql: SQLite file ./data/erp.sqlite cannot run the full read (stock) query (SQLITE_MISMATCH): datatype mismatch; `omnisync connectors check` verifies the configured tables, columns and their types'],
    ['a write refused (the connection is query_only)', 'SQLITE_READONLY', 'attempt to write a readonly database', DEMO_ERP_TABLES, 'config',
      'erp-sql: full read (stock) tried to write, but the connector only reads: its database sessions are read-only by design (SQLITE_READONLY): attempt to write a readonly database'],
    ['a constraint', 'SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: stany.id', DEMO_ERP_TABLES, 'validation',
      'erp-sql: full read (stock) was refused by a constraint, but the connector only reads (SQLITE_CONSTRAINT_UNIQUE): UNIQUE constraint failed: stany.id'],
    ['a file that is not a database', 'SQLITE_NOTADB', 'file is not a database', DEMO_ERP_TABLES, 'config',
      'erp-sql: cannot read SQLite file "./data/erp.sqlite" (configured at database.file) (SQLITE_NOTADB): file is not a database'],
    ['a damaged file', 'SQLITE_CORRUPT', 'database disk image is malformed', DEMO_ERP_TABLES, 'config',
      'erp-sql: cannot read SQLite file "./data/erp.sqlite" (configured at database.file) (SQLITE_CORRUPT): database disk image is malformed'],
    ['a wrong password of an encrypted file', 'SQLITE_AUTH', 'authorization denied', DEMO_ERP_TABLES, 'auth',
      'erp-sql: SQLite file ./data/erp.sqlite refused the credentials: authorization denied'],
  ] as const)('%s', (_, code, message, tables, kind, expected) => {
    expect(translated(driverError(code, message), { ...sqlite, tables })).toMatchObject({ kind, message: expected, nonRetryable: true });
  });
});

describe('erp-sql: permanent PostgreSQL errors fail at once, naming the config key', () => {
  it('a text value of stock.modifiedAt that is not a time (22007, 22008): the column and the value', () => {
    const label = 'column "stany.zmodyfikowano" (configured at tables.stock.modifiedAt)';
    expect(translated(driverError('22007', 'invalid input syntax for type timestamp with time zone: "wczoraj"'), postgres)).toMatchObject({
      kind: 'config',
      nonRetryable: true,
      message: `erp-sql: ${label} holds values that are not times, such as "wczoraj"; expected a timestamp, timestamptz or date column (22007: invalid input syntax for type timestamp with time zone: "wczoraj")`,
    });
    expect(translated(driverError('22008', 'date/time field value out of range: "2025-13-45 10:00"'), postgres)).toMatchObject({
      kind: 'config',
      message: `erp-sql: ${label} holds values that are not times, such as "2025-13-45 10:00"; expected a timestamp, timestamptz or date column (22008: date/time field value out of range: "2025-13-45 10:00")`,
    });
  });

  it('other data exceptions (22P02, 22003): the column at the error position, else a hint', () => {
    expect(translated(driverError('22P02', 'invalid input syntax for type integer: "abc"'), { ...postgres, sql: FULL_STOCK_SQL })).toMatchObject({
      kind: 'config',
      nonRetryable: true,
      message:
        'erp-sql: full read (stock) failed on a value the database cannot convert (22P02): invalid input syntax for type integer: "abc"; `omnisync connectors check` verifies the configured tables, columns and their types',
    });
    const sql = 'select cast("s"."ilosc" as integer) as on_hand from "stany" as s';
    expect(translated(driverError('22003', 'value "99999999999" is out of range for type integer', at(sql, 'cast')), { ...postgres, sql })).toMatchObject({
      kind: 'config',
      message: 'erp-sql: column "stany.ilosc" (configured at tables.stock.onHand) holds values the full read (stock) query cannot convert (22003: value "99999999999" is out of range for type integer)',
    });
  });

  it('columns of types that cannot be compared (42883 at the operator): both columns', () => {
    const error = driverError('42883', 'operator does not exist: text = integer', at(FULL_STOCK_SQL, '= "p"."id"'));
    expect(translated(error, { ...postgres, sql: FULL_STOCK_SQL })).toMatchObject({
      kind: 'config',
      nonRetryable: true,
      message:
        'erp-sql: column "stany.towar_id" (configured at tables.stock.productId) cannot be compared with column "towary.id" (configured at tables.products.id); expected alike types (42883: operator does not exist: text = integer)',
    });
  });

  it('stock.modifiedAt of a type that is not a time (42883 at the comparison, 42846 at the cast)', () => {
    const label = 'column "stany.zmodyfikowano" (configured at tables.stock.modifiedAt)';
    expect(translated(driverError('42883', 'operator does not exist: text >= timestamp with time zone', at(DELTA_SQL, '>=')), { ...postgres, sql: DELTA_SQL })).toMatchObject({
      kind: 'config',
      message: `erp-sql: ${label} is not a time column; expected a timestamp, timestamptz or date column (42883: operator does not exist: text >= timestamp with time zone)`,
    });
    expect(translated(driverError('42846', 'cannot cast type integer to timestamp with time zone', at(DELTA_SQL, 'cast(')), { ...postgres, sql: DELTA_SQL })).toMatchObject({
      kind: 'config',
      message: `erp-sql: ${label} is not a time column; expected a timestamp, timestamptz or date column (42846: cannot cast type integer to timestamp with time zone)`,
    });
  });

  it('a column used where its type does not fit (42804 at the column)', () => {
    const sql = 'select "s"."id" from "stany" as s where "s"."ilosc"';
    expect(translated(driverError('42804', 'argument of WHERE must be type boolean, not type numeric', at(sql, '"s"."ilosc"')), { ...postgres, sql })).toMatchObject({
      kind: 'config',
      message: 'erp-sql: column "stany.ilosc" (configured at tables.stock.onHand) is of a type the full read (stock) query cannot use (42804: argument of WHERE must be type boolean, not type numeric)',
    });
  });

  it.each([
    ['an undefined function', '42883', 'function strftime(text, integer) does not exist', 'config',
      'erp-sql: PostgreSQL erp-db:5432/erp cannot run the full read (stock) query (42883): function strftime(text, integer) does not exist; `omnisync connectors check` verifies the configured tables, columns and their types'],
    ['a syntax error', '42601', 'syntax error at or near "limit"', 'config',
      'erp-sql: PostgreSQL erp-db:5432/erp cannot run the full read (stock) query (42601): syntax error at or near "limit"; `omnisync connectors check` verifies the configured tables, columns and their types'],
    ['an unsupported feature', '0A000', 'FOR UPDATE is not allowed with aggregate functions', 'config',
      'erp-sql: PostgreSQL erp-db:5432/erp does not support what the full read (stock) query needs (0A000): FOR UPDATE is not allowed with aggregate functions; `omnisync connectors check` verifies the configured tables, columns and their types'],
    ['a write in the read-only session', '25006', 'cannot execute UPDATE in a read-only transaction', 'config',
      'erp-sql: full read (stock) tried to write, but the connector only reads: its database sessions are read-only by design (25006): cannot execute UPDATE in a read-only transaction'],
    ['no privilege on a configured table', '42501', 'permission denied for table stany', 'auth',
      'erp-sql: the database user may not read table "stany" (configured at tables.stock.table); grant it SELECT (42501: permission denied for table stany)'],
    ['no privilege on the configured schema', '42501', 'permission denied for schema erp', 'auth',
      'erp-sql: the database user may not read schema "erp" (configured at database.schema); grant it SELECT (42501: permission denied for schema erp)'],
    ['a missing column', '42703', 'column s.ilosc does not exist', 'config', 'erp-sql: table "stany" has no column "ilosc" (configured at tables.stock.onHand)'],
    ['a table missing from the configured schema', '42P01', 'relation "erp.stany" does not exist', 'config',
      'erp-sql: table "erp.stany" does not exist (configured at tables.stock.table and database.schema)'],
    ['a missing database', '3D000', 'database "erp" does not exist', 'config',
      'erp-sql: database "erp" does not exist (PostgreSQL erp-db:5432/erp, configured at database.connectionString)'],
    ['wrong credentials', '28P01', 'password authentication failed for user "reader"', 'auth',
      'erp-sql: PostgreSQL erp-db:5432/erp refused the credentials: password authentication failed for user "reader"'],
    ['a self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'config',
      'erp-sql: PostgreSQL erp-db:5432/erp cannot be reached securely (configured at database.connectionString, e.g. sslmode) (DEPTH_ZERO_SELF_SIGNED_CERT): self-signed certificate'],
    ['no password configured', undefined, 'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string', 'auth',
      'erp-sql: PostgreSQL erp-db:5432/erp asks for a password and none is configured (database.password or the connection string): SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'],
  ] as const)('%s (%s)', (_, code, message, kind, expected) => {
    expect(translated(driverError(code, message), { ...postgres, sql: FULL_STOCK_SQL })).toMatchObject({ kind, message: expected, nonRetryable: true });
  });
});

describe('erp-sql: a database that cannot serve now is retried', () => {
  it.each([
    ['SQLITE_BUSY', 'database is locked', sqlite],
    ['SQLITE_BUSY_SNAPSHOT', 'database is locked', sqlite],
    ['SQLITE_LOCKED', 'database table is locked', sqlite],
    ['SQLITE_IOERR_READ', 'disk I/O error', sqlite],
    ['SQLITE_READONLY_RECOVERY', 'attempt to write a readonly database', sqlite],
    ['ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:5432', postgres],
    ['08006', 'connection failure', postgres],
    ['53300', 'sorry, too many clients already', postgres],
    ['57P01', 'terminating connection due to administrator command', postgres],
    ['57P03', 'the database system is starting up', postgres],
    ['40001', 'could not serialize access due to concurrent update', postgres],
    ['40P01', 'deadlock detected', postgres],
    ['55P03', 'could not obtain lock on relation "stany"', postgres],
    ['57014', 'canceling statement due to statement timeout', postgres],
  ] as const)('%s', (code, message, context) => {
    expect(translated(driverError(code, message), context)).toMatchObject({
      kind: 'transient',
      nonRetryable: false,
      message: `erp-sql: ${context.databaseLabel} is not available (${code}): ${message}`,
    });
  });

  it('a dropped connection (node-postgres reports it without a code)', () => {
    expect(translated(driverError(undefined, 'Connection terminated unexpectedly'), postgres)).toMatchObject({
      kind: 'transient',
      nonRetryable: false,
      message: 'erp-sql: PostgreSQL erp-db:5432/erp is not available: Connection terminated unexpectedly',
    });
  });
});

describe('erp-sql: an unknown error keeps the driver text and is retried', () => {
  it.each([
    ['XX000', 'unexpected chunk number 5 (expected 4) for toast value 1234', 'erp-sql: full read (stock) failed (XX000): unexpected chunk number 5 (expected 4) for toast value 1234'],
    [undefined, 'This statement does not return data. Use run() instead', 'erp-sql: full read (stock) failed: This statement does not return data. Use run() instead'],
  ] as const)('%s', (code, message, expected) => {
    const result = translated(driverError(code, message), postgres);
    expect(result).toMatchObject({ kind: 'unknown', message: expected, nonRetryable: false });
    expect(result.error.cause).toBeInstanceOf(Error);
  });
});

describe('erp-sql: the configured columns at a PostgreSQL error position', () => {
  it('finds both operands of an operator, the column of a cast or call, or the column itself', () => {
    expect(columnRefsAt(FULL_STOCK_SQL, at(FULL_STOCK_SQL, '= "s"."magazyn_id"'), DEMO_ERP_TABLES)).toEqual([
      { table: 'locations', field: 'id' },
      { table: 'stock', field: 'locationId' },
    ]);
    expect(columnRefsAt(DELTA_SQL, at(DELTA_SQL, 'cast('), DEMO_ERP_TABLES)).toEqual([{ table: 'stock', field: 'modifiedAt' }]);
    expect(columnRefsAt(DELTA_SQL, at(DELTA_SQL, '"s"."id" as'), DEMO_ERP_TABLES)).toEqual([{ table: 'stock', field: 'id' }]);
  });

  it('finds nothing beyond a parameter or keyword, without a position, or for unknown aliases', () => {
    expect(columnRefsAt(FULL_STOCK_SQL, at(FULL_STOCK_SQL, '<= $1'), DEMO_ERP_TABLES)).toEqual([{ table: 'products', field: 'id' }]);
    expect(columnRefsAt(FULL_STOCK_SQL, undefined, DEMO_ERP_TABLES)).toEqual([]);
    expect(columnRefsAt(undefined, 5, DEMO_ERP_TABLES)).toEqual([]);
    expect(columnRefsAt(FULL_STOCK_SQL, 10_000, DEMO_ERP_TABLES)).toEqual([]);
    expect(columnRefsAt('select "x"."id" from t as x', 8, DEMO_ERP_TABLES)).toEqual([]);
  });
});

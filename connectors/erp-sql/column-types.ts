/**
 * What `connectors check` demands of the types of the configured columns, and the wording that
 * names a column by its config key: `column "stany.ilosc" (configured at tables.stock.onHand)`.
 *
 * - stock.modifiedAt holds times. PostgreSQL: a `timestamp`, `timestamptz` or `date` column
 *   (delta reads compare the column itself with a time, which a text column cannot do);
 *   MySQL/MariaDB: `datetime`, `timestamp` or `date`; SQL Server: `datetime2`, `datetimeoffset`,
 *   `datetime`, `smalldatetime` or `date`. The servers' types come from information_schema.
 *   SQLite, where a declared type is advisory: every value is text starting with an ISO-8601
 *   date that the delta read's own normalisation (modified-at.ts) turns into a time.
 * - stock.onHand and stock.reserved hold numbers. PostgreSQL, MySQL, SQL Server: a number
 *   type, or a text column whose values are all decimal numbers; SQLite: integer or real
 *   values, or text the reads accept as a decimal number (mapper.ts).
 * - stock.productId and stock.locationId can be compared with products.id and locations.id.
 *   The servers: the same type category (numbers with numbers, text with text); all: at
 *   least one stock row finds its product and its location.
 *
 * Values are searched in SQL for the first that does not fit, so a check reads each of those
 * columns once; a wrong value is shown as the database holds it, so the row can be found.
 *
 * The price tables (tables.prices, tables.priceLists), when configured, by the same rules
 * (verifyPriceTables): every configured table and column exists; prices.net, gross, vatRate and
 * cost hold numbers (decimal text as the price reads accept it, price-source.ts); validFrom,
 * validTo and modifiedAt hold times; prices.productId and priceListId can be compared with
 * products.id and priceLists.id and at least one price row finds each. Every problem found is
 * reported, each naming its config path (`tables.prices.net`).
 */
import { sql, type RawBuilder } from 'kysely';
import { configError } from '../../core/errors';
import type { ErpSqlClient } from './client';
import { columnLabel, type ErpAnyTables, type ErpPriceTables, type ErpTables } from './config';
import { sourceQuantity } from './mapper';
import { modifiedAtSql } from './modified-at';
import { isDecimalAmount } from './price-source';

type TableKey = keyof ErpTables;
type Field<K extends TableKey> = Exclude<keyof ErpTables[K], 'table'>;
type PriceTableKey = keyof ErpPriceTables;


/** The database servers, whose column types information_schema tells (SQLite's are advisory). */
type ServerDialect = Exclude<ErpSqlClient['dialect'], 'sqlite'>;

/** Types the delta read can compare with its cursor's time, per server (information_schema's data_type). */
const TIME_TYPES: Record<ServerDialect, ReadonlySet<string>> = {
  postgres: new Set(['timestamp without time zone', 'timestamp with time zone', 'date']),
  mysql: new Set(['datetime', 'timestamp', 'date']),
  mssql: new Set(['datetime2', 'datetimeoffset', 'datetime', 'smalldatetime', 'date']),
};
/** How messages name TIME_TYPES. */
const TIME_TYPES_SHOWN: Record<ServerDialect, string> = {
  postgres: 'a timestamp, timestamptz or date column',
  mysql: 'a datetime, timestamp or date column',
  mssql: 'a datetime2, datetimeoffset, datetime or date column',
};
/**
 * Types of quantities, per server. PostgreSQL: category N without money and the object-id
 * types. MySQL and SQL Server: the integer, decimal and floating-point types.
 */
const NUMBER_TYPES: Record<ServerDialect, ReadonlySet<string>> = {
  postgres: new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']),
  mysql: new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real']),
  mssql: new Set(['tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric', 'float', 'real', 'money', 'smallmoney']),
};
/** MySQL and SQL Server text types (PostgreSQL says it with its type category S). */
const TEXT_TYPES: Record<Exclude<ServerDialect, 'postgres'>, ReadonlySet<string>> = {
  mysql: new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']),
  mssql: new Set(['char', 'varchar', 'nchar', 'nvarchar', 'text', 'ntext']),
};
/**
 * How an ISO-8601 time starts. SQLite's date functions also take Julian day numbers, `now` and
 * bare times, which are not times an ERP wrote, and which the delta read's index-friendly
 * lower bound on the text (modified-at.ts) would skip.
 */
const SQLITE_ISO_DATE = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*';
/** Example in messages about times on SQLite. */
const SQLITE_TIME_EXAMPLE = '"2025-06-01 12:00:00"';
/** A decimal number as text, as the reads accept it (mapper.ts): `12`, ` 7.5 `, `-3`, `.5`. */
const PG_DECIMAL_TEXT = '^\\s*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)\\s*$';
/** PG_DECIMAL_TEXT in POSIX classes, which every MySQL and MariaDB regexp library reads. */
const MYSQL_DECIMAL_TEXT = '^[[:space:]]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)[[:space:]]*$';
/** SQLite text with a character no decimal number has (SQLite's GLOB has no alternatives). */
const SQLITE_NOT_DECIMAL_TEXT = '*[^0-9.+-]*';
/**
 * Candidates the SQL search for a non-number returns. The SQL is a little more lenient than
 * the reads (mapper.ts decides, e.g. about "1.2.3" on SQLite or other whitespace than spaces).
 */
const NUMBER_CANDIDATES = 20;

/** Throws a config error naming the first configured column whose type or values do not fit. */
export async function verifyColumnTypes(client: ErpSqlClient): Promise<void> {
  if (client.dialect === 'sqlite') await verifySqliteValues(client);
  else await verifyServerTypes(client, client.dialect);
}

/**
 * Throws a config error when stock rows exist but none finds its product (or its location):
 * the reference columns are the wrong ones, or their values are not comparable with the ids.
 */
export async function verifyReferences(client: ErpSqlClient): Promise<void> {
  const { tables } = client;
  const references = [
    ['products', 'productId'],
    ['locations', 'locationId'],
  ] as const;
  for (const [target, field] of references) {
    const matched = await client.rows(
      sql<{ found: number }>`select 1 as found
        from ${client.table('stock')}
        join ${client.table(target)} on ${client.column(target, 'id')} = ${client.column('stock', field)}
        ${client.anyRows(1)}`,
      { purpose: 'check' },
    );
    if (matched.length === 0) {
      throw configError(
        `erp-sql: no row of "${tables.stock.table}" finds its row of "${tables[target].table}": ` +
          `no value of ${columnLabel(tables, 'stock', field)} equals a value of ${columnLabel(tables, target, 'id')}`,
      );
    }
  }
}

/** A column's type as information_schema tells it (MySQL and SQL Server: udt_name is data_type, category derived from it). */
interface PgColumnType {
  name: string;
  /** information_schema's data_type: `integer`, `character varying`, `USER-DEFINED`, `datetime2`, ... */
  data_type: string;
  udt_name: string;
  /** PostgreSQL's pg_type.typcategory (N numbers, S strings, D date/time, B boolean, U user types, ...); the same letters for the other servers. */
  category: string | null;
}

async function verifyServerTypes(client: ErpSqlClient, dialect: ServerDialect): Promise<void> {
  const { tables } = client;
  const types = {
    products: await postgresColumnTypes(client, 'products'),
    locations: await postgresColumnTypes(client, 'locations'),
    stock: await postgresColumnTypes(client, 'stock'),
  };
  const typeOf = <K extends TableKey>(table: K, field: Field<K>): PgColumnType | undefined => types[table].get(columnKey(client, String(tables[table][field])));
  const shown = shownType;

  const modifiedAt = typeOf('stock', 'modifiedAt');
  if (modifiedAt && !TIME_TYPES[dialect].has(modifiedAt.data_type)) {
    throw configError(`erp-sql: ${columnLabel(tables, 'stock', 'modifiedAt')} is of type ${shown(modifiedAt)}; expected times (${TIME_TYPES_SHOWN[dialect]})`);
  }
  for (const field of ['onHand', 'reserved'] as const) {
    const type = typeOf('stock', field);
    if (type === undefined || NUMBER_TYPES[dialect].has(type.data_type)) continue;
    if (type.category !== 'S') {
      throw configError(`erp-sql: ${columnLabel(tables, 'stock', field)} is of type ${shown(type)}; expected numbers (a numeric, integer or floating-point column)`);
    }
    // Text holding decimal numbers is read like numbers (mapper.ts): look for one that is not.
    const column = client.column('stock', field);
    const candidates = await client.rows(
      sql<{ value: unknown }>`select ${column} as value from ${client.table('stock')}
        where ${notDecimalText(dialect, column)}
        ${client.anyRows(NUMBER_CANDIDATES)}`,
      { purpose: 'check', table: 'stock' },
    );
    const wrong = candidates.find((row) => !sourceQuantity(row.value).ok);
    if (wrong) throw configError(`erp-sql: ${columnLabel(tables, 'stock', field)} holds text values such as ${JSON.stringify(wrong.value)}; expected numbers`);
  }
  const references = [
    ['products', 'productId'],
    ['locations', 'locationId'],
  ] as const;
  for (const [target, field] of references) {
    const reference = typeOf('stock', field);
    const id = typeOf(target, 'id');
    if (reference === undefined || id === undefined) continue;
    if (!comparableTypes(reference, id)) {
      throw configError(
        `erp-sql: ${columnLabel(tables, 'stock', field)} is of type ${shown(reference)} and cannot be compared with ` +
          `${columnLabel(tables, target, 'id')}, of type ${shown(id)}; expected alike types (numbers with numbers, text with text)`,
      );
    }
  }
}

/**
 * Text that may not be a decimal number, in the server's SQL: PostgreSQL and MySQL by regular
 * expression; SQL Server, which has none, by LIKE's character class (more lenient: any blank
 * or character that no number has), the reads' own rule deciding (mapper.ts).
 */
function notDecimalText(dialect: ServerDialect, column: RawBuilder<unknown>): RawBuilder<unknown> {
  if (dialect === 'postgres') return sql`${column} !~ ${PG_DECIMAL_TEXT}`;
  if (dialect === 'mysql') return sql`${column} not regexp ${MYSQL_DECIMAL_TEXT}`;
  return sql`(ltrim(rtrim(${column})) = '' or ${column} like '%[^0-9.+-]%')`;
}

/** The key of a column in the type maps: MySQL and SQL Server match column names case-insensitively, as SQLite does. */
function columnKey(client: ErpSqlClient, column: string): string {
  return client.dialect === 'postgres' ? column : column.toLowerCase();
}

/** Whether PostgreSQL compares values of the two types: the same category (numbers with numbers, text with text, times with times), or the same type. */
function comparableTypes(a: PgColumnType, b: PgColumnType): boolean {
  return a.category === b.category && (a.category === 'N' || a.category === 'S' || a.category === 'D' || a.udt_name === b.udt_name);
}

/** How a column's type is named in messages. */
function shownType(type: PgColumnType): string {
  return type.data_type === 'USER-DEFINED' || type.data_type === 'ARRAY' ? type.udt_name : type.data_type;
}

/**
 * The configured columns' types from information_schema, for the table the queries read: the
 * configured name resolved like the queries resolve it (schema-qualified, database.schema, or
 * the connection's search_path).
 */
async function postgresColumnTypes(client: ErpSqlClient, key: TableKey): Promise<Map<string, PgColumnType>> {
  const columns = Object.entries(client.tables[key])
    .filter(([field]) => field !== 'table')
    .map(([, column]) => String(column));
  return postgresTableColumns(client, client.tables[key].table, columns, key);
}

/** The schema and name a configured table resolves to (database.schema for a name without one). */
function splitTableName(client: ErpSqlClient, configured: string): { schema: string | undefined; name: string } {
  const dot = configured.indexOf('.');
  return dot >= 0 ? { schema: configured.slice(0, dot), name: configured.slice(dot + 1) } : { schema: client.schema, name: configured };
}

/**
 * The given columns of a configured table, with their types (see postgresColumnTypes), keyed by
 * columnKey. MySQL and SQL Server: from information_schema.columns in the configured schema or
 * the connection's (MySQL: its database; SQL Server: the login's default schema).
 */
async function postgresTableColumns(client: ErpSqlClient, configured: string, columns: readonly string[], key?: TableKey): Promise<Map<string, PgColumnType>> {
  const { schema, name } = splitTableName(client, configured);
  if (client.dialect === 'mysql' || client.dialect === 'mssql') {
    const dialect = client.dialect;
    const currentSchema = dialect === 'mysql' ? sql`database()` : sql`schema_name()`;
    const rows = await client.rows(
      sql<{ name: string; data_type: string }>`select column_name as name, data_type as data_type
        from information_schema.columns
        where table_schema = ${schema ?? currentSchema} and table_name = ${name}
          and column_name in (${sql.join([...columns])})`,
      { purpose: 'check', ...(key === undefined ? {} : { table: key }) },
    );
    return new Map(
      rows.map((row) => {
        const dataType = String(row.data_type).toLowerCase();
        const category = NUMBER_TYPES[dialect].has(dataType) ? 'N' : TEXT_TYPES[dialect].has(dataType) ? 'S' : TIME_TYPES[dialect].has(dataType) ? 'D' : null;
        return [String(row.name).toLowerCase(), { name: String(row.name), data_type: dataType, udt_name: dataType, category }];
      }),
    );
  }
  const relation = schema === undefined ? sql`quote_ident(${name})` : sql`quote_ident(${schema}) || '.' || quote_ident(${name})`;
  const rows = await client.rows(
    sql<PgColumnType>`select c.column_name as name, c.data_type, c.udt_name, t.typcategory as category
      from information_schema.columns c
      left join pg_catalog.pg_namespace tn on tn.nspname = c.udt_schema
      left join pg_catalog.pg_type t on t.typnamespace = tn.oid and t.typname = c.udt_name
      where (c.table_schema, c.table_name) = (
          select n.nspname::text, r.relname::text
          from pg_catalog.pg_class r join pg_catalog.pg_namespace n on n.oid = r.relnamespace
          where r.oid = to_regclass(${relation}))
        and c.column_name in (${sql.join([...columns])})`,
    { purpose: 'check', ...(key === undefined ? {} : { table: key }) },
  );
  return new Map(rows.map((row) => [row.name, row]));
}

async function verifySqliteValues(client: ErpSqlClient): Promise<void> {
  const { tables } = client;
  // No modification column configured: delta runs compare (config.ts changeDetection).
  const modifiedAt = tables.stock.modifiedAt === undefined ? sql`null` : client.column('stock', 'modifiedAt');
  const normalised = modifiedAtSql('sqlite', modifiedAt).isoMillis;
  const [notTime] = tables.stock.modifiedAt === undefined ? [] : await client.rows(
    sql<{ value: unknown; type: string }>`select ${modifiedAt} as value, typeof(${modifiedAt}) as type from ${client.table('stock')}
      where ${modifiedAt} is not null
        and (typeof(${modifiedAt}) <> 'text' or ${modifiedAt} not glob ${SQLITE_ISO_DATE} or ${normalised} is null)
      limit 1`,
    { purpose: 'check', table: 'stock' },
  );
  if (notTime) {
    const label = columnLabel(tables, 'stock', 'modifiedAt');
    throw configError(
      notTime.type === 'text'
        ? `erp-sql: ${label} holds text that is not a time, such as ${sqliteValue(notTime.value)}; expected ISO-8601 times in UTC (e.g. ${SQLITE_TIME_EXAMPLE})`
        : `erp-sql: ${label} holds ${notTime.type} values such as ${sqliteValue(notTime.value)}; expected ISO-8601 times in UTC as text (e.g. ${SQLITE_TIME_EXAMPLE})`,
    );
  }
  for (const field of ['onHand', 'reserved'] as const) {
    const column = client.column('stock', field);
    const candidates = await client.rows(
      sql<{ value: unknown; type: string }>`select ${column} as value, typeof(${column}) as type from ${client.table('stock')}
        where ${column} is not null and typeof(${column}) not in ('integer', 'real')
          and (typeof(${column}) <> 'text' or trim(${column}) = '' or trim(${column}) glob ${SQLITE_NOT_DECIMAL_TEXT})
        limit ${NUMBER_CANDIDATES}`,
      { purpose: 'check', table: 'stock' },
    );
    // Text holding a decimal number (e.g. in a TEXT column) is read as that number.
    const wrong = candidates.find((row) => row.type !== 'text' || !sourceQuantity(row.value).ok);
    if (wrong) throw configError(`erp-sql: ${columnLabel(tables, 'stock', field)} holds ${wrong.type} values such as ${sqliteValue(wrong.value)}; expected numbers`);
  }
}

/** Price columns that hold amounts or rates (numbers). */
const PRICE_NUMBER_FIELDS = ['net', 'gross', 'vatRate', 'cost'] as const;
/** Price columns that hold times. */
const PRICE_TIME_FIELDS = ['validFrom', 'validTo', 'modifiedAt'] as const;
/** Aliases of the price tables in the check's reference queries (the client's are p, l, s). */
const PRICE_CHECK_ALIAS = { prices: 'c', priceLists: 'cl' } as const satisfies Record<PriceTableKey, string>;

/** One configured column of a price table. */
interface PriceColumn {
  key: PriceTableKey;
  field: string;
  column: string;
}

/**
 * Verifies the price tables (see the file comment): first that every configured table and
 * column exists, then the columns' types and values, then the references. Every problem of a
 * stage is collected; a stage with problems ends the check with one config error naming each
 * by its config path, e.g. `column "ceny.netto" (configured at tables.prices.net) is of type
 * boolean; expected numbers (…)`. Other failures (no privilege to read a table) throw as the
 * reads would.
 */
export async function verifyPriceTables(client: ErpSqlClient, priceTables: ErpPriceTables): Promise<void> {
  const tables: ErpAnyTables = { ...client.tables, ...priceTables };
  const columnsOf = (key: PriceTableKey): PriceColumn[] =>
    Object.entries(priceTables[key])
      .filter(([field, column]) => field !== 'table' && typeof column === 'string')
      .map(([field, column]) => ({ key, field, column: String(column) }));
  const tableRef = (key: PriceTableKey) => {
    const { schema, name } = splitTableName(client, priceTables[key].table);
    return sql.table(schema === undefined ? name : `${schema}.${name}`);
  };
  const label = (column: PriceColumn) => columnLabel(tables, column.key, column.field);

  // Tables and columns.
  const problems: string[] = [];
  const pgTypes = new Map<PriceTableKey, Map<string, PgColumnType>>();
  for (const key of ['priceLists', 'prices'] as const) {
    const configured = priceTables[key].table;
    const columns = columnsOf(key);
    const existing = await existingColumns(client, configured, columns.map((c) => c.column));
    if (existing === undefined) {
      const { schema, name } = splitTableName(client, configured);
      problems.push(
        schema !== undefined && !configured.includes('.')
          ? `table "${schema}.${name}" does not exist (configured at tables.${key}.table and database.schema)`
          : `table "${configured}" does not exist (configured at tables.${key}.table)`,
      );
      continue;
    }
    // A table whose columns are all hidden may be one the user may not read: the read says so.
    if (existing.names.size === 0) await readOneRow(client, tableRef(key), columns);
    for (const column of columns) {
      if (!existing.names.has(client.dialect === 'sqlite' ? column.column.toLowerCase() : columnKey(client, column.column))) {
        problems.push(`table "${configured}" has no column "${column.column}" (configured at tables.${key}.${column.field})`);
      }
    }
    if (existing.types !== undefined) pgTypes.set(key, existing.types);
  }
  throwPriceProblems(problems);

  // Every configured column read as the price reads read them (privileges, broken views).
  let priceRows = 0;
  for (const key of ['priceLists', 'prices'] as const) {
    const rows = await readOneRow(client, tableRef(key), columnsOf(key));
    if (key === 'prices') priceRows = rows;
  }

  // Types and values.
  const prices = columnsOf('prices');
  for (const column of prices.filter((c) => (PRICE_NUMBER_FIELDS as readonly string[]).includes(c.field))) {
    const problem = await numberProblem(client, tableRef('prices'), column.column, label(column), pgTypes.get('prices')?.get(columnKey(client, column.column)));
    if (problem !== undefined) problems.push(problem);
  }
  for (const column of prices.filter((c) => (PRICE_TIME_FIELDS as readonly string[]).includes(c.field))) {
    const problem = await timeProblem(client, tableRef('prices'), column.column, label(column), pgTypes.get('prices')?.get(columnKey(client, column.column)));
    if (problem !== undefined) problems.push(problem);
  }

  // References: comparable with the ids they reference, and reaching them.
  const references = [
    { field: 'productId', target: 'products', targetTable: client.table('products'), targetId: client.column('products', 'id') },
    {
      field: 'priceListId',
      target: 'priceLists',
      targetTable: sql`${tableRef('priceLists')} as ${sql.raw(PRICE_CHECK_ALIAS.priceLists)}`,
      targetId: sql.ref(`${PRICE_CHECK_ALIAS.priceLists}.${priceTables.priceLists.id}`),
    },
  ] as const;
  const productTypes = client.dialect === 'sqlite' ? undefined : await postgresColumnTypes(client, 'products');
  for (const { field, target, targetTable, targetId } of references) {
    const referenceLabel = columnLabel(tables, 'prices', field);
    const idLabel = columnLabel(tables, target, 'id');
    if (client.dialect !== 'sqlite') {
      const reference = pgTypes.get('prices')?.get(columnKey(client, priceTables.prices[field]));
      const id = target === 'products' ? productTypes?.get(columnKey(client, tables.products.id)) : pgTypes.get('priceLists')?.get(columnKey(client, priceTables.priceLists.id));
      if (reference !== undefined && id !== undefined && !comparableTypes(reference, id)) {
        problems.push(
          `${referenceLabel} is of type ${shownType(reference)} and cannot be compared with ${idLabel}, of type ${shownType(id)}; ` +
            'expected alike types (numbers with numbers, text with text)',
        );
        continue;
      }
    }
    if (priceRows === 0) continue;
    const matched = await client.rows(
      sql<{ found: number }>`select 1 as found
        from ${tableRef('prices')} as ${sql.raw(PRICE_CHECK_ALIAS.prices)}
        join ${targetTable} on ${targetId} = ${sql.ref(`${PRICE_CHECK_ALIAS.prices}.${priceTables.prices[field]}`)}
        limit 1`,
      { purpose: 'check' },
    );
    if (matched.length === 0) {
      problems.push(`no row of "${priceTables.prices.table}" finds its row of "${target === 'products' ? tables.products.table : priceTables.priceLists.table}": no value of ${referenceLabel} equals a value of ${idLabel}`);
    }
  }
  throwPriceProblems(problems);
}

/** One config error for the problems found, each with its config path; nothing when there are none. */
function throwPriceProblems(problems: readonly string[]): void {
  if (problems.length === 0) return;
  if (problems.length === 1) throw configError(`erp-sql: ${problems[0]}`);
  throw configError(`erp-sql: ${problems.length} problems in the price tables: ${problems.map((problem, i) => `(${i + 1}) ${problem}`).join('; ')}`);
}

/**
 * The columns a configured table has among the given ones (keyed by columnKey; SQLite:
 * lower-cased, as SQLite matches column names), with their types on the servers; undefined
 * when the table does not exist.
 */
async function existingColumns(
  client: ErpSqlClient,
  configured: string,
  columns: readonly string[],
): Promise<{ names: Set<string>; types?: Map<string, PgColumnType> } | undefined> {
  const { schema, name } = splitTableName(client, configured);
  if (client.dialect === 'postgres') {
    const relation = schema === undefined ? sql`quote_ident(${name})` : sql`quote_ident(${schema}) || '.' || quote_ident(${name})`;
    const [table] = await client.rows(sql<{ found: boolean }>`select to_regclass(${relation}) is not null as found`, { purpose: 'check' });
    if (table?.found !== true) return undefined;
    const types = await postgresTableColumns(client, configured, columns);
    return { names: new Set(types.keys()), types };
  }
  if (client.dialect === 'mysql' || client.dialect === 'mssql') {
    const currentSchema = client.dialect === 'mysql' ? sql`database()` : sql`schema_name()`;
    const [table] = await client.rows(
      sql<{ found: number }>`select 1 as found from information_schema.tables where table_schema = ${schema ?? currentSchema} and table_name = ${name}`,
      { purpose: 'check' },
    );
    if (table === undefined) return undefined;
    const types = await postgresTableColumns(client, configured, columns);
    return { names: new Set(types.keys()), types };
  }
  const info = schema === undefined ? sql`pragma_table_info(${name})` : sql`pragma_table_info(${name}, ${schema})`;
  const rows = await client.rows(sql<{ name: string }>`select name from ${info}`, { purpose: 'check' });
  if (rows.length === 0) return undefined;
  return { names: new Set(rows.map((row) => row.name.toLowerCase())) };
}

/** Reads one row of a price table with its configured columns; returns how many it read (0 or 1). */
async function readOneRow(client: ErpSqlClient, table: RawBuilder<unknown>, columns: readonly PriceColumn[]): Promise<number> {
  const rows = await client.rows(sql`select ${sql.join(columns.map((c) => sql.ref(c.column)))} from ${table} ${client.anyRows(1)}`, { purpose: 'check' });
  return rows.length;
}

/** What is wrong with a price column that should hold numbers, if anything (the rules of the stock quantities). */
async function numberProblem(client: ErpSqlClient, table: RawBuilder<unknown>, columnName: string, label: string, pgType: PgColumnType | undefined): Promise<string | undefined> {
  const column = sql.ref(columnName);
  if (client.dialect !== 'sqlite') {
    if (pgType === undefined || NUMBER_TYPES[client.dialect].has(pgType.data_type)) return undefined;
    if (pgType.category !== 'S') return `${label} is of type ${shownType(pgType)}; expected numbers (a numeric, integer or floating-point column)`;
    const candidates = await client.rows(
      sql<{ value: unknown }>`select ${column} as value from ${table} where ${notDecimalText(client.dialect, column)} ${client.anyRows(NUMBER_CANDIDATES)}`,
      { purpose: 'check' },
    );
    const wrong = candidates.find((row) => !isDecimalAmount(row.value));
    return wrong === undefined ? undefined : `${label} holds text values such as ${JSON.stringify(wrong.value)}; expected numbers`;
  }
  const candidates = await client.rows(
    sql<{ value: unknown; type: string }>`select ${column} as value, typeof(${column}) as type from ${table}
      where ${column} is not null and typeof(${column}) not in ('integer', 'real')
        and (typeof(${column}) <> 'text' or trim(${column}) = '' or trim(${column}) glob ${SQLITE_NOT_DECIMAL_TEXT})
      limit ${NUMBER_CANDIDATES}`,
    { purpose: 'check' },
  );
  const wrong = candidates.find((row) => row.type !== 'text' || !isDecimalAmount(row.value));
  return wrong === undefined ? undefined : `${label} holds ${wrong.type} values such as ${sqliteValue(wrong.value)}; expected numbers`;
}

/** What is wrong with a price column that should hold times, if anything (the rules of stock.modifiedAt). */
async function timeProblem(client: ErpSqlClient, table: RawBuilder<unknown>, columnName: string, label: string, pgType: PgColumnType | undefined): Promise<string | undefined> {
  if (client.dialect !== 'sqlite') {
    if (pgType === undefined || TIME_TYPES[client.dialect].has(pgType.data_type)) return undefined;
    return `${label} is of type ${shownType(pgType)}; expected times (${TIME_TYPES_SHOWN[client.dialect]})`;
  }
  const column = sql.ref(columnName);
  const normalised = modifiedAtSql('sqlite', column).isoMillis;
  const [wrong] = await client.rows(
    sql<{ value: unknown; type: string }>`select ${column} as value, typeof(${column}) as type from ${table}
      where ${column} is not null
        and (typeof(${column}) <> 'text' or ${column} not glob ${SQLITE_ISO_DATE} or ${normalised} is null)
      limit 1`,
    { purpose: 'check' },
  );
  if (wrong === undefined) return undefined;
  return wrong.type === 'text'
    ? `${label} holds text that is not a time, such as ${sqliteValue(wrong.value)}; expected ISO-8601 times in UTC (e.g. ${SQLITE_TIME_EXAMPLE})`
    : `${label} holds ${wrong.type} values such as ${sqliteValue(wrong.value)}; expected ISO-8601 times in UTC as text (e.g. ${SQLITE_TIME_EXAMPLE})`;
}

/** A value as SQLite holds it: text quoted, a blob as a hex literal (first 16 bytes). */
function sqliteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `x'${Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 16)).toString('hex')}'${value.byteLength > 16 ? '...' : ''}`;
  return String(value);
}

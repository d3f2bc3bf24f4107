/**
 * What `connectors check` demands of the types of the configured columns, and the wording that
 * names a column by its config key: `column "stany.ilosc" (configured at tables.stock.onHand)`.
 *
 * - stock.modifiedAt holds times. PostgreSQL: a `timestamp`, `timestamptz` or `date` column
 *   (delta reads compare the column itself with a time, which a text column cannot do).
 *   SQLite, where a declared type is advisory: every value is text starting with an ISO-8601
 *   date that the delta read's own normalisation (modified-at.ts) turns into a time.
 * - stock.onHand and stock.reserved hold numbers. PostgreSQL: a number type, or a text column
 *   whose values are all decimal numbers; SQLite: integer or real values, or text the reads
 *   accept as a decimal number (mapper.ts).
 * - stock.productId and stock.locationId can be compared with products.id and locations.id.
 *   PostgreSQL: the same type category (numbers with numbers, text with text); both: at
 *   least one stock row finds its product and its location.
 *
 * Values are searched in SQL for the first that does not fit, so a check reads each of those
 * columns once; a wrong value is shown as the database holds it, so the row can be found.
 */
import { sql } from 'kysely';
import { configError } from '../../core/errors';
import type { ErpSqlClient } from './client';
import { columnLabel, type ErpTables } from './config';
import { wholeUnits } from './mapper';
import { modifiedAtSql } from './modified-at';

type TableKey = keyof ErpTables;
type Field<K extends TableKey> = Exclude<keyof ErpTables[K], 'table'>;


/** PostgreSQL types the delta read can compare with its cursor's time. */
const PG_TIME_TYPES = new Set(['timestamp without time zone', 'timestamp with time zone', 'date']);
/** PostgreSQL types of quantities (category N without money and the object-id types). */
const PG_NUMBER_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);
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
/** SQLite text with a character no decimal number has (SQLite's GLOB has no alternatives). */
const SQLITE_NOT_DECIMAL_TEXT = '*[^0-9.+-]*';
/**
 * Candidates the SQL search for a non-number returns. The SQL is a little more lenient than
 * the reads (mapper.ts decides, e.g. about "1.2.3" on SQLite or other whitespace than spaces).
 */
const NUMBER_CANDIDATES = 20;

/** Throws a config error naming the first configured column whose type or values do not fit. */
export async function verifyColumnTypes(client: ErpSqlClient): Promise<void> {
  if (client.dialect === 'postgres') await verifyPostgresTypes(client);
  else await verifySqliteValues(client);
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
        limit 1`,
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

interface PgColumnType {
  name: string;
  /** information_schema's data_type: `integer`, `character varying`, `USER-DEFINED`, ... */
  data_type: string;
  udt_name: string;
  /** pg_type.typcategory: N numbers, S strings, D date/time, B boolean, U user types, ... */
  category: string | null;
}

async function verifyPostgresTypes(client: ErpSqlClient): Promise<void> {
  const { tables } = client;
  const types = {
    products: await postgresColumnTypes(client, 'products'),
    locations: await postgresColumnTypes(client, 'locations'),
    stock: await postgresColumnTypes(client, 'stock'),
  };
  const typeOf = <K extends TableKey>(table: K, field: Field<K>): PgColumnType | undefined => types[table].get(String(tables[table][field]));
  const shown = (type: PgColumnType): string => (type.data_type === 'USER-DEFINED' || type.data_type === 'ARRAY' ? type.udt_name : type.data_type);

  const modifiedAt = typeOf('stock', 'modifiedAt');
  if (modifiedAt && !PG_TIME_TYPES.has(modifiedAt.data_type)) {
    throw configError(`erp-sql: ${columnLabel(tables, 'stock', 'modifiedAt')} is of type ${shown(modifiedAt)}; expected times (a timestamp, timestamptz or date column)`);
  }
  for (const field of ['onHand', 'reserved'] as const) {
    const type = typeOf('stock', field);
    if (type === undefined || PG_NUMBER_TYPES.has(type.data_type)) continue;
    if (type.category !== 'S') {
      throw configError(`erp-sql: ${columnLabel(tables, 'stock', field)} is of type ${shown(type)}; expected numbers (a numeric, integer or floating-point column)`);
    }
    // Text holding decimal numbers is read like numbers (mapper.ts): look for one that is not.
    const column = client.column('stock', field);
    const candidates = await client.rows(
      sql<{ value: unknown }>`select ${column} as value from ${client.table('stock')}
        where ${column} !~ ${PG_DECIMAL_TEXT}
        limit ${NUMBER_CANDIDATES}`,
      { purpose: 'check', table: 'stock' },
    );
    const wrong = candidates.find((row) => !wholeUnits(row.value, 'floor').ok);
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
    const comparable = reference.category === id.category && (reference.category === 'N' || reference.category === 'S' || reference.category === 'D' || reference.udt_name === id.udt_name);
    if (!comparable) {
      throw configError(
        `erp-sql: ${columnLabel(tables, 'stock', field)} is of type ${shown(reference)} and cannot be compared with ` +
          `${columnLabel(tables, target, 'id')}, of type ${shown(id)}; expected alike types (numbers with numbers, text with text)`,
      );
    }
  }
}

/**
 * The configured columns' types from information_schema, for the table the queries read: the
 * configured name resolved like the queries resolve it (schema-qualified, database.schema, or
 * the connection's search_path).
 */
async function postgresColumnTypes(client: ErpSqlClient, key: TableKey): Promise<Map<string, PgColumnType>> {
  const configured = client.tables[key].table;
  const dot = configured.indexOf('.');
  const schema = dot >= 0 ? configured.slice(0, dot) : client.schema;
  const name = dot >= 0 ? configured.slice(dot + 1) : configured;
  const relation = schema === undefined ? sql`quote_ident(${name})` : sql`quote_ident(${schema}) || '.' || quote_ident(${name})`;
  const columns = Object.entries(client.tables[key])
    .filter(([field]) => field !== 'table')
    .map(([, column]) => String(column));
  const rows = await client.rows(
    sql<PgColumnType>`select c.column_name as name, c.data_type, c.udt_name, t.typcategory as category
      from information_schema.columns c
      left join pg_catalog.pg_namespace tn on tn.nspname = c.udt_schema
      left join pg_catalog.pg_type t on t.typnamespace = tn.oid and t.typname = c.udt_name
      where (c.table_schema, c.table_name) = (
          select n.nspname::text, r.relname::text
          from pg_catalog.pg_class r join pg_catalog.pg_namespace n on n.oid = r.relnamespace
          where r.oid = to_regclass(${relation}))
        and c.column_name in (${sql.join(columns)})`,
    { purpose: 'check', table: key },
  );
  return new Map(rows.map((row) => [row.name, row]));
}

async function verifySqliteValues(client: ErpSqlClient): Promise<void> {
  const { tables } = client;
  const modifiedAt = client.column('stock', 'modifiedAt');
  const normalised = modifiedAtSql('sqlite', modifiedAt).isoMillis;
  const [notTime] = await client.rows(
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
    const wrong = candidates.find((row) => row.type !== 'text' || !wholeUnits(row.value, 'floor').ok);
    if (wrong) throw configError(`erp-sql: ${columnLabel(tables, 'stock', field)} holds ${wrong.type} values such as ${sqliteValue(wrong.value)}; expected numbers`);
  }
}

/** A value as SQLite holds it: text quoted, a blob as a hex literal (first 16 bytes). */
function sqliteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return `x'${value.subarray(0, 16).toString('hex')}'${value.length > 16 ? '...' : ''}`;
  return String(value);
}

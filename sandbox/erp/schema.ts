/**
 * The demo ERP's database schema: a legacy Polish ERP with its own naming (towary = products,
 * magazyny = warehouses, stany = stock levels, cenniki = price lists, ceny = prices). A real
 * database (SQLite, PostgreSQL, or MySQL/MariaDB), not a simulator (docs/architecture.md),
 * built with Kysely's schema builder so the dialects share the DDL.
 *
 * Legacy on purpose: quantities are decimal and nullable, the modification time is maintained
 * by the application (text on SQLite, `timestamp` without time zone on PostgreSQL, `datetime(6)`
 * on MySQL/MariaDB).
 */
import { MysqlAdapter, PostgresAdapter, sql, type Kysely } from 'kysely';
import type { ErpPriceTables, ErpTables } from '../../connectors/erp-sql/config';

/** The `tables:` block of an erp-sql connector reading this schema. */
export const DEMO_ERP_TABLES = {
  products: { table: 'towary', id: 'id', sku: 'indeks', name: 'nazwa', ean: 'kod_ean' },
  locations: { table: 'magazyny', id: 'id', code: 'symbol' },
  stock: {
    table: 'stany',
    id: 'id',
    productId: 'towar_id',
    locationId: 'magazyn_id',
    onHand: 'ilosc',
    reserved: 'zarezerwowano',
    modifiedAt: 'zmodyfikowano',
  },
} as const satisfies ErpTables;

/**
 * The `tables.priceLists` and `tables.prices` blocks of an erp-sql connector reading this
 * schema's price tables (cenniki = price lists, ceny = prices).
 */
export const DEMO_ERP_PRICE_TABLES = {
  priceLists: { table: 'cenniki', id: 'id', code: 'symbol', currency: 'waluta' },
  prices: {
    table: 'ceny',
    id: 'id',
    productId: 'towar_id',
    priceListId: 'cennik_id',
    net: 'netto',
    gross: 'brutto',
    vatRate: 'stawka_vat',
    cost: 'koszt',
    validFrom: 'data_od',
    validTo: 'data_do',
    modifiedAt: 'zmodyfikowano',
  },
} as const satisfies ErpPriceTables;

/** Code of the demo's regular retail price list (cenniki.symbol): every product, in PLN. */
export const DEMO_REGULAR_PRICE_LIST = 'DETAL';
/** Code of the demo's promotion price list: one promotion of a few products, with a validity window. */
export const DEMO_PROMOTION_PRICE_LIST = 'PROMO';

export type DemoErpDialect = 'sqlite' | 'postgres' | 'mysql';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the demo ERP is untyped SQL, like a real one
export type DemoErpDatabase = Kysely<any>;

export function demoErpDialect(db: DemoErpDatabase): DemoErpDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  return 'sqlite';
}

/**
 * The column type of the demo's times: text on SQLite (ISO-8601 in UTC), a time type elsewhere,
 * with microseconds, like most ERPs (the connector truncates to milliseconds).
 */
const TIME_COLUMN_TYPE = { sqlite: 'text', postgres: 'timestamp', mysql: 'datetime(6)' } as const satisfies Record<DemoErpDialect, string>;

/**
 * A time as the demo writes it into its time columns: ISO-8601 text as given, except on
 * MySQL/MariaDB, which take `YYYY-MM-DD HH:MM:SS.ffffff` (no `T`, no `Z`) for a datetime.
 */
export function demoErpTime(dialect: DemoErpDialect, iso: string): string {
  return dialect === 'mysql' ? iso.replace('T', ' ').replace(/Z$/, '') : iso;
}

/**
 * Creates an index unless one of that name exists. MySQL has no `create index if not exists`
 * (MariaDB has): there information_schema says whether it exists.
 */
async function createIndexIfMissing(db: DemoErpDatabase, dialect: DemoErpDialect, name: string, table: string, columns: string[]): Promise<void> {
  if (dialect !== 'mysql') {
    await db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute();
    return;
  }
  const existing = await sql<{ found: number }>`select 1 as found from information_schema.statistics
    where table_schema = database() and table_name = ${table} and index_name = ${name} limit 1`.execute(db);
  if (existing.rows.length === 0) await db.schema.createIndex(name).on(table).columns(columns).execute();
}

/** Creates the tables and indexes that are missing. */
export async function createDemoErpSchema(db: DemoErpDatabase): Promise<void> {
  const dialect = demoErpDialect(db);
  // WAL: the sync reads while the demo books sales, without either waiting for the other.
  // A property of the file, set once by its owner (the connector only reads).
  if (dialect === 'sqlite') await sql`pragma journal_mode = wal`.execute(db);
  await db.schema
    .createTable('towary')
    .ifNotExists()
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('indeks', 'varchar(64)', (col) => col.notNull().unique())
    .addColumn('nazwa', 'varchar(200)', (col) => col.notNull())
    .addColumn('kod_ean', 'varchar(14)')
    .addColumn('jm', 'varchar(8)', (col) => col.notNull().defaultTo('szt'))
    .execute();
  await db.schema
    .createTable('magazyny')
    .ifNotExists()
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('symbol', 'varchar(32)', (col) => col.notNull().unique())
    .addColumn('nazwa', 'varchar(200)', (col) => col.notNull())
    .addColumn('typ', 'varchar(16)', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('stany')
    .ifNotExists()
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('towar_id', 'integer', (col) => col.notNull().references('towary.id'))
    .addColumn('magazyn_id', 'integer', (col) => col.notNull().references('magazyny.id'))
    .addColumn('ilosc', 'numeric(12, 3)')
    .addColumn('zarezerwowano', 'numeric(12, 3)', (col) => col.defaultTo(0))
    .addColumn('zmodyfikowano', TIME_COLUMN_TYPE[dialect])
    .addUniqueConstraint('stany_towar_magazyn_uq', ['towar_id', 'magazyn_id'])
    .execute();
  await createIndexIfMissing(db, dialect, 'stany_zmodyfikowano_idx', 'stany', ['zmodyfikowano', 'id']);
  if (dialect === 'sqlite') {
    // Delta reads on SQLite order by the normalised time (connectors/erp-sql/modified-at.ts);
    // this index on the same expression lets them seek instead of sorting the table.
    await sql`create index if not exists stany_zmodyfikowano_iso_idx on stany (strftime('%Y-%m-%dT%H:%M:%fZ', zmodyfikowano), id)`.execute(db);
  }
  await createDemoErpPriceSchema(db, dialect);
}

/**
 * The price tables: price lists (cenniki) and prices (ceny), one row per product, list and
 * validity period. Legacy like the stock: amounts nullable (a price may be kept net or gross
 * only), validity and modification times kept by the application (text on SQLite). Created when
 * missing, so an ERP seeded before they existed gains them.
 */
async function createDemoErpPriceSchema(db: DemoErpDatabase, dialect: DemoErpDialect): Promise<void> {
  const time = TIME_COLUMN_TYPE[dialect];
  await db.schema
    .createTable('cenniki')
    .ifNotExists()
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('symbol', 'varchar(32)', (col) => col.notNull().unique())
    .addColumn('nazwa', 'varchar(200)')
    .addColumn('waluta', 'varchar(3)', (col) => col.notNull().defaultTo('PLN'))
    .execute();
  await db.schema
    .createTable('ceny')
    .ifNotExists()
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('towar_id', 'integer', (col) => col.notNull().references('towary.id'))
    .addColumn('cennik_id', 'integer', (col) => col.notNull().references('cenniki.id'))
    .addColumn('netto', 'numeric(12, 2)')
    .addColumn('brutto', 'numeric(12, 2)')
    .addColumn('stawka_vat', 'numeric(5, 2)')
    .addColumn('koszt', 'numeric(12, 2)')
    .addColumn('data_od', time)
    .addColumn('data_do', time)
    .addColumn('zmodyfikowano', time)
    .execute();
  await createIndexIfMissing(db, dialect, 'ceny_zmodyfikowano_idx', 'ceny', ['zmodyfikowano', 'id']);
  // Full reads of prices page by product: the page's product ids, then their rows by range.
  await createIndexIfMissing(db, dialect, 'ceny_towar_idx', 'ceny', ['towar_id', 'id']);
  if (dialect === 'sqlite') {
    // As for stany: delta reads of prices order by the normalised time.
    await sql`create index if not exists ceny_zmodyfikowano_iso_idx on ceny (strftime('%Y-%m-%dT%H:%M:%fZ', zmodyfikowano), id)`.execute(db);
  }
}

/** Drops the demo tables (prices and stock first: they reference the others). */
export async function dropDemoErpSchema(db: DemoErpDatabase): Promise<void> {
  for (const table of ['ceny', 'cenniki', 'stany', 'towary', 'magazyny']) await db.schema.dropTable(table).ifExists().execute();
}

/** Whether the demo price table exists and holds prices. */
export async function demoErpHasPrices(db: DemoErpDatabase): Promise<boolean> {
  const tables = await db.introspection.getTables();
  if (!tables.some((table) => table.name === 'ceny')) return false;
  const row = await sql<{ found: number }>`select 1 as found from ceny limit 1`.execute(db);
  return row.rows.length > 0;
}

/** Whether the demo tables exist and hold products. */
export async function demoErpHasData(db: DemoErpDatabase): Promise<boolean> {
  const tables = await db.introspection.getTables();
  if (!tables.some((table) => table.name === 'towary')) return false;
  const row = await sql<{ found: number }>`select 1 as found from towary limit 1`.execute(db);
  return row.rows.length > 0;
}

/**
 * Config of the `erp-sql` connector: where the ERP's database is and how the ERP names its
 * tables and columns. Every identifier is validated here and later used only through Kysely's
 * identifier references, never spliced into SQL text.
 */
import { z } from 'zod';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUALIFIED_TABLE = /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/;

/** A column name: letters, digits and underscores, not starting with a digit. */
const ColumnName = z.string().regex(IDENTIFIER, 'expected a column name: letters, digits and _, not starting with a digit (e.g. "ilosc")');
/** A table name, optionally schema-qualified (`schema.table`). */
const TableName = z
  .string()
  .regex(QUALIFIED_TABLE, 'expected a table name: letters, digits and _, optionally "schema.table" (e.g. "stany" or "erp.stany")');

export const ErpSqliteDatabase = z.strictObject({
  driver: z.literal('sqlite'),
  /** The ERP's SQLite file, relative to the config file's folder. No default: it must exist (it is never created). */
  file: z.string().min(1),
});

export const ErpPostgresDatabase = z.strictObject({
  driver: z.literal('postgres'),
  /** libpq URL, e.g. `postgresql://reader@erp-db:5432/erp` (secret when it holds a password: by reference). */
  connectionString: z.string().min(1),
  /** Password, when not in the connection string (secret: by reference). Default: none. */
  password: z.string().min(1).optional(),
  /** Schema of tables given without one. Default: the connection's search_path. */
  schema: z.string().regex(IDENTIFIER, 'expected a schema name: letters, digits and _, not starting with a digit').optional(),
  /** Connections kept open to the ERP. Default 2: one sync reads one page at a time. */
  maxConnections: z.number().int().min(1).max(20).default(2),
});

export const ErpMysqlDatabase = z.strictObject({
  driver: z.literal('mysql'),
  /**
   * MySQL or MariaDB URL, e.g. `mysql://reader@erp-db:3306/erp` (the path names the database;
   * secret when it holds a password: by reference).
   */
  connectionString: z.string().min(1),
  /** Password, when not in the connection string (secret: by reference). Default: none. */
  password: z.string().min(1).optional(),
  /** Connections kept open to the ERP. Default 2: one sync reads one page at a time. */
  maxConnections: z.number().int().min(1).max(20).default(2),
});

export const ErpMssqlDatabase = z.strictObject({
  driver: z.literal('mssql'),
  /**
   * SQL Server URL, e.g. `mssql://reader@erp-db:1433/erp` (the path names the database;
   * `?encrypt=false`, `?trustServerCertificate=true`, `?instanceName=SQLEXPRESS` as query
   * parameters; secret when it holds a password: by reference).
   */
  connectionString: z.string().min(1),
  /** Password, when not in the connection string (secret: by reference). Default: none. */
  password: z.string().min(1).optional(),
  /** Schema of tables given without one. Default: the login's default schema (usually dbo). */
  schema: z.string().regex(IDENTIFIER, 'expected a schema name: letters, digits and _, not starting with a digit').optional(),
  /**
   * Sends ApplicationIntent=ReadOnly, so an Always On availability group routes the reads to a
   * readable secondary. Default false (a server without one ignores the intent).
   */
  readOnlyIntent: z.boolean().default(false),
  /** Connections kept open to the ERP. Default 2: one sync reads one page at a time. */
  maxConnections: z.number().int().min(1).max(20).default(2),
});

export type ErpMysqlDatabase = z.infer<typeof ErpMysqlDatabase>;
export type ErpMssqlDatabase = z.infer<typeof ErpMssqlDatabase>;

export const ErpDatabaseConfig = z.discriminatedUnion('driver', [ErpSqliteDatabase, ErpPostgresDatabase, ErpMysqlDatabase, ErpMssqlDatabase]);
export type ErpDatabaseConfig = z.infer<typeof ErpDatabaseConfig>;
export type ErpDialect = ErpDatabaseConfig['driver'];
/** The `database:` block as written (defaults not yet applied). */
export type ErpDatabaseConfigInput = z.input<typeof ErpDatabaseConfig>;

export const ErpProductsTable = z.strictObject({
  /** Table of products (demo: `towary`). */
  table: TableName,
  /** Primary key column, integer or text (demo: `id`); full reads page by it. */
  id: ColumnName,
  /** Column with the SKU as every channel knows it (demo: `indeks`). */
  sku: ColumnName,
  /** Product name column (demo: `nazwa`). */
  name: ColumnName,
  /** EAN/GTIN column (demo: `kod_ean`). Default: none. */
  ean: ColumnName.optional(),
  /**
   * When a product is not for sale (blocked, withdrawn, discontinued): a column and the values
   * that mean so, e.g. `{ column: Zablokowany, in: [1] }` or `{ column: Status, in: [W, Z] }`.
   * Such a product's quantity becomes 0 in every channel (and the run reports it), instead of
   * staying at its last value. Default: every product is for sale.
   */
  notForSale: z
    .strictObject({
      column: ColumnName,
      /** Values of the column that mean "not for sale" (compared as the database compares them). */
      in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).max(100),
    })
    .optional(),
});

export const ErpLocationsTable = z.strictObject({
  /** Table of warehouses/stores (demo: `magazyny`). */
  table: TableName,
  /** Primary key column (demo: `id`). */
  id: ColumnName,
  /** Column with the location code the mappings use (demo: `symbol`, e.g. MAG-WAW). */
  code: ColumnName,
});

export const ErpStockTable = z.strictObject({
  /** Table with one row per product and location (demo: `stany`). */
  table: TableName,
  /**
   * The column, or columns, that identify a stock row (demo: `id`; a vendor table keyed by
   * product and warehouse: `[TowarId, MagazynId]`). Reads order by it and messages name rows by
   * it. Default: productId and locationId together.
   */
  id: z.union([ColumnName, z.array(ColumnName).min(1).max(8)]).optional(),
  /** Column referencing the product's id (demo: `towar_id`). */
  productId: ColumnName,
  /** Column referencing the location's id (demo: `magazyn_id`). */
  locationId: ColumnName,
  /** On-hand quantity, may be decimal (demo: `ilosc`); floored to whole units. */
  onHand: ColumnName,
  /** Reserved quantity, may be decimal (demo: `zarezerwowano`); rounded up to whole units. */
  reserved: ColumnName,
  /**
   * Last modification time (demo: `zmodyfikowano`). PostgreSQL: `timestamp` (read as UTC) or
   * `timestamptz`. SQLite: ISO-8601 text in UTC (`YYYY-MM-DD HH:MM:SS[.SSS]`, `T` separator and
   * `Z` suffix allowed). The ERP must set it on every change. Default: none, and delta runs
   * compare instead (changeDetection).
   */
  modifiedAt: ColumnName.optional(),
  /**
   * How a delta run finds what changed. `modifiedAt`: it reads the rows modified since the last
   * run (needs modifiedAt, which the ERP must set on every change). `compare`: it reads every
   * row and pushes what differs from what each channel last confirmed, for tables without a
   * trustworthy modification time (100,000 SKUs take seconds). Default: `modifiedAt` when that
   * column is configured, else `compare`.
   */
  changeDetection: z.enum(['modifiedAt', 'compare']).optional(),
}).superRefine((stock, ctx) => {
  if (stock.changeDetection === 'modifiedAt' && stock.modifiedAt === undefined) {
    ctx.addIssue({ code: 'custom', path: ['changeDetection'], message: 'changeDetection modifiedAt needs tables.stock.modifiedAt: the column the ERP sets on every change (or use changeDetection: compare)' });
  }
});

/** The stock table's row identity: its configured id column(s), or (productId, locationId). */
export function stockKeyColumns(stock: Pick<ErpStockTableConfig, 'id' | 'productId' | 'locationId'>): string[] {
  if (stock.id === undefined) return [stock.productId, stock.locationId];
  return typeof stock.id === 'string' ? [stock.id] : [...stock.id];
}

/** How delta runs of this stock table find changes (see changeDetection). */
export function stockChangeDetection(stock: Pick<ErpStockTableConfig, 'modifiedAt' | 'changeDetection'>): 'modifiedAt' | 'compare' {
  return stock.changeDetection ?? (stock.modifiedAt === undefined ? 'compare' : 'modifiedAt');
}

/** Every column a configured table block names (id lists flattened, the notForSale column included). */
export function configuredColumns(block: Record<string, unknown>): Array<{ field: string; column: string }> {
  const columns: Array<{ field: string; column: string }> = [];
  for (const [field, value] of Object.entries(block)) {
    if (field === 'table' || field === 'changeDetection') continue;
    if (typeof value === 'string') columns.push({ field, column: value });
    else if (Array.isArray(value)) value.forEach((column, index) => columns.push({ field: `${field}[${index}]`, column: String(column) }));
    else if (value !== null && typeof value === 'object' && 'column' in value) columns.push({ field: `${field}.column`, column: String(value.column) });
  }
  return columns;
}

export const ErpPriceListsTable = z.strictObject({
  /** Table of price lists (demo: `cenniki`). */
  table: TableName,
  /** Primary key column (demo: `id`). */
  id: ColumnName,
  /** Column with the price list code the channels' price rules name (demo: `symbol`, e.g. DETAL). */
  code: ColumnName,
  /** Column with the ISO 4217 code of the list's amounts (demo: `waluta`, e.g. PLN). */
  currency: ColumnName,
});

export const ErpPricesTable = z
  .strictObject({
    /** Table with one row per product, price list and validity period (demo: `ceny`). */
    table: TableName,
    /** Primary key column (demo: `id`); delta reads order by (modifiedAt, id). */
    id: ColumnName,
    /**
     * Column referencing the product's id (demo: `towar_id`). Full reads page by it: products in
     * its order, each with all its prices; an index on (productId, id) keeps that fast.
     */
    productId: ColumnName,
    /** Column referencing the price list's id (demo: `cennik_id`). */
    priceListId: ColumnName,
    /** Price without VAT, decimal (demo: `netto`). Default: none. At least one of net and gross. */
    net: ColumnName.optional(),
    /** Price with VAT, decimal (demo: `brutto`). Default: none. At least one of net and gross. */
    gross: ColumnName.optional(),
    /** VAT rate in percent, decimal: 23 is 23 % (demo: `stawka_vat`). */
    vatRate: ColumnName,
    /** Purchase price without VAT, decimal (demo: `koszt`); needed by margin floors. Default: none. */
    cost: ColumnName.optional(),
    /**
     * First moment the price applies, inclusive (demo: `data_od`); NULL: always did. Same types
     * as modifiedAt. Default: none (always valid).
     */
    validFrom: ColumnName.optional(),
    /** First moment the price no longer applies, exclusive (demo: `data_do`); NULL: open end. Default: none. */
    validTo: ColumnName.optional(),
    /** Last modification time (demo: `zmodyfikowano`), as tables.stock.modifiedAt: delta reads depend on it. */
    modifiedAt: ColumnName,
  })
  .refine((prices) => prices.net !== undefined || prices.gross !== undefined, {
    message: 'tables.prices needs net or gross (or both): the column of the price without VAT (e.g. "netto") or with VAT (e.g. "brutto")',
  });

/**
 * Stock read by a read-only query the integrator writes (joins, filters, computed columns, a
 * vendor's view), one row per SKU and location. omnisync never edits the text: it wraps it as a
 * subquery (`select … from (<sql>) q where … order by …`) and binds every value it adds.
 */
export const ErpStockQuery = z.strictObject({
  /**
   * One SELECT (or WITH … SELECT) statement, without ORDER BY (SQL Server refuses it in a
   * subquery) and without a trailing semicolon.
   */
  sql: z
    .string()
    .trim()
    .min(1)
    .refine((text) => /^(select|with)\b/i.test(text), 'expected one SELECT statement (or WITH … SELECT): the query only reads')
    .refine((text) => !/;\s*$/.test(text), 'drop the trailing semicolon: omnisync wraps the query as a subquery'),
  /** Result columns, by name as the database reports them (PostgreSQL folds unquoted aliases to lower case). */
  columns: z.strictObject({
    sku: ColumnName,
    /** The location code the mappings name. */
    location: ColumnName,
    onHand: ColumnName,
    reserved: ColumnName,
    /** A time the ERP sets on every change; delta runs then read only newer rows. Default: none (delta runs compare). */
    modifiedAt: ColumnName.optional(),
  }),
  /** As tables.products.notForSale, on a result column. Default: every row is for sale. */
  notForSale: z.strictObject({ column: ColumnName, in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).max(100) }).optional(),
  /** As tables.stock.changeDetection. Default: modifiedAt when columns.modifiedAt is set, else compare. */
  changeDetection: z.enum(['modifiedAt', 'compare']).optional(),
}).superRefine((query, ctx) => {
  if (query.changeDetection === 'modifiedAt' && query.columns.modifiedAt === undefined) {
    ctx.addIssue({ code: 'custom', path: ['changeDetection'], message: 'changeDetection modifiedAt needs columns.modifiedAt (or use changeDetection: compare)' });
  }
});
export type ErpStockQuery = z.infer<typeof ErpStockQuery>;

/** Where a query's rows are said to come from in messages and quarantine payloads. */
export const STOCK_QUERY_LABEL = 'queries.stock';

/**
 * The stock query's columns in the shape of table config, so messages about a row name the
 * query's columns the way they name a table's (`on_hand is not a number ("x") in queries.stock
 * row sku=PL-1, location=MAG`). The query's rows are identified by (sku, location).
 */
export function stockQueryTables(query: ErpStockQuery): ErpTables {
  const { columns } = query;
  return {
    products: { table: STOCK_QUERY_LABEL, id: columns.sku, sku: columns.sku, name: columns.sku },
    locations: { table: STOCK_QUERY_LABEL, id: columns.location, code: columns.location },
    stock: {
      table: STOCK_QUERY_LABEL,
      id: [columns.sku, columns.location],
      productId: columns.sku,
      locationId: columns.location,
      onHand: columns.onHand,
      reserved: columns.reserved,
      ...(columns.modifiedAt === undefined ? {} : { modifiedAt: columns.modifiedAt }),
      ...(query.changeDetection === undefined ? {} : { changeDetection: query.changeDetection }),
    },
  };
}

export const ErpSqlConfig = z.strictObject({
  /** How to reach the ERP's database. Required. */
  database: ErpDatabaseConfig,
  /**
   * Largest page asked of the ERP in one read (products per full page, changed rows per delta
   * page); a sync asking for more gets pages of this size. Protects a busy ERP. Default 1000.
   */
  pageSize: z.number().int().min(1).max(10_000).default(1_000),
  /** Queries per second this connector may send to the ERP database. Default: unlimited. */
  maxQueriesPerSecond: z.number().positive().optional(),
  /**
   * Sources given as queries instead of tables: `stock` (queries.stock). Default: none. With
   * queries.stock, `tables` may be left out (or hold only what prices read).
   */
  queries: z.strictObject({ stock: ErpStockQuery.optional() }).optional(),
  /** The ERP's own table and column names. Required unless queries.stock reads the stock. */
  tables: z
    .strictObject({
      products: ErpProductsTable,
      locations: ErpLocationsTable,
      stock: ErpStockTable,
      /** The ERP's price lists, read with tables.prices. Default: none (prices are not read). */
      priceLists: ErpPriceListsTable.optional(),
      /** The ERP's prices (`price.read`); needs tables.priceLists. Default: none (prices are not read). */
      prices: ErpPricesTable.optional(),
    })
    .superRefine((tables, ctx) => {
      if (tables.prices !== undefined && tables.priceLists === undefined) {
        ctx.addIssue({ code: 'custom', path: ['priceLists'], message: 'tables.prices needs tables.priceLists: the table its price list ids refer to (e.g. "cenniki")' });
      }
      if (tables.priceLists !== undefined && tables.prices === undefined) {
        ctx.addIssue({ code: 'custom', path: ['prices'], message: 'tables.priceLists is read only with tables.prices: configure both or neither' });
      }
    })
    .optional(),
}).refine(
  (config) => config.tables !== undefined || config.queries?.stock !== undefined,
  {
    path: ['tables'],
    message: 'erp-sql needs tables (the ERP tables of products, locations and stock) or queries.stock (a query that reads the stock)',
    // Also when other keys are wrong: every problem of the block in one pass.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  },
);
export type ErpSqlConfig = z.infer<typeof ErpSqlConfig>;
/** The stock tables, which every erp-sql connector has (the price tables are optional). */
export type ErpTables = Omit<NonNullable<ErpSqlConfig['tables']>, 'priceLists' | 'prices'>;
export type ErpPriceListsTable = z.infer<typeof ErpPriceListsTable>;
export type ErpStockTableConfig = z.infer<typeof ErpStockTable>;
export type ErpPricesTable = z.infer<typeof ErpPricesTable>;
/** The price tables, when both are configured. */
export interface ErpPriceTables {
  priceLists: ErpPriceListsTable;
  prices: ErpPricesTable;
}

/** The stock tables, and the price tables when configured. */
export type ErpAnyTables = ErpTables & Partial<ErpPriceTables>;

/**
 * `column "stany.ilosc" (configured at tables.stock.onHand)`: the form every message uses. Also
 * for the price tables (`tables.prices.net`), given tables that have them.
 */
export function columnLabel(tables: ErpAnyTables, table: keyof ErpAnyTables, field: string): string {
  const block = tables[table] as Record<string, unknown> | undefined;
  return `column "${String(block?.table ?? table)}.${String(block?.[field])}" (configured at tables.${table}.${field})`;
}

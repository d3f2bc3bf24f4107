/**
 * Price reads from the ERP's tables (tables.prices, tables.priceLists), in pages, by two
 * cursor strategies:
 *
 * - full / `product`: products in key order after the cursor's product, each with EVERY price
 *   row it has (of the requested price lists), so a page holds whole SKUs: the hub computes a
 *   SKU's channel price from all of its entries at once (the list that applies now, a
 *   promotion overriding the regular list, compare-at from another list). `limit` counts
 *   products, so a page may hold several entries per product. Two queries per page, both
 *   index-friendly on the prices' product reference (e.g. an index on (productId, id)): the
 *   page's product ids (distinct references of rows in the requested lists after the cursor's,
 *   in key order, limited: a product without such rows takes no room), then the price rows of
 *   the range (cursor's product, page's last product], joined without a list of ids. Products are taken from the prices table's reference column, so a price row whose
 *   product id matches no product is in the page of that id, and rejected there. Price rows
 *   with no product id at all (NULL) come after the last product, `limit` rows a page in price
 *   id order (strategy `without-product`), and are rejected: nothing is lost.
 * - delta / `modified`: price rows in (modification time, price id) order after the cursor's
 *   position (no cursor: from the earliest time). Times: see modified-at.ts. A delta page holds
 *   the rows that changed, not whole SKUs.
 *
 * Each price row is one PriceListEntry: the product's SKU and the price list's code and currency
 * join in. A row that is not a valid price (an amount that is no number, neither net nor gross,
 * a negative VAT rate, a dangling reference, …) is rejected with the reason in the ERP's own
 * column names and row id, and the rest of the page goes on. A SKU held by several product rows
 * has no entries; its product rows are rejected as duplicates (duplicate-skus.ts), as for stock.
 *
 * Cursors are opaque to the hub (PriceCursor): this module wrote them and checks every one it
 * is given; one it cannot have written is a config error (the stored state is not ours). The
 * shapes: `{"strategy":"product","afterProductId":"42"}` and
 * `{"strategy":"without-product","afterKey":"17"}` (full; a price id), and
 * `{"strategy":"modified","afterModifiedAt":"2025-06-01T12:00:00.000Z","afterKey":"17"}` (delta).
 * Keys are strings compared against the key columns in the columns' own types (see
 * stock-source.ts), so pages follow the columns' order whatever their type.
 *
 * Full cursors of the earlier `{"strategy":"key","afterKey":…}` shape (price rows in price id
 * order) are refused with a config error saying to start the full read again: the price id
 * they name does not tell which products were read whole, so no product cursor continues them
 * safely, and restarting silently would hide that the stored state was of another version.
 *
 * Identifiers: the products table through the client's `table()`/`column()`; the price tables
 * through `priceTable()`/`priceColumn()` below, which quote them as Kysely identifier
 * references the same way (never spliced into SQL text), under aliases of their own.
 */
import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import { configError, OmnisyncError } from '../../core/errors';
import { CurrencyCode, Dec, formatAmount } from '../../core/money';
import type { PriceListEntry } from '../../core/price-rules';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import type { PriceCursor, PricePage, PriceReadRequest, PriceSource, RejectedRecord } from '../contract';
import type { ErpSqlClient } from './client';
import { columnLabel, type ErpPriceListsTable, type ErpPricesTable, type ErpSqlConfig, type ErpTables } from './config';
import { skuKey } from '../../core/model';
import { DuplicateSkuFinder, duplicateRejections, type DuplicateGroups, type DuplicateRow } from './duplicate-skus';
import { compactCursorTime, modifiedAtSql, type ModifiedAtSql } from './modified-at';
import { isEmpty, trimmedText } from './mapper';

/** Aliases of the price tables in queries (the client's are p, l, s). */
const PRICE_ALIAS = { prices: 'c', priceLists: 'cl' } as const;
type PriceTableKey = keyof typeof PRICE_ALIAS;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** A decimal as text from the database: optional sign, digits, optional fraction. */
const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** Longest SKU the canonical model accepts (core/model SkuCode). */
const MAX_SKU_LENGTH = 128;
/**
 * Significant digits a double holds for every decimal: any decimal of up to 15 significant
 * digits survives text → double → 15-digit text unchanged (DBL_DIG).
 */
const DOUBLE_DIGITS = 15;

/** The cursors this source writes (and `key`, which earlier versions wrote: recognised to be refused clearly). */
const PriceCursorSchema = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('product'), afterProductId: z.string().min(1) }),
  z.strictObject({ strategy: z.literal('without-product'), afterKey: z.string().min(1) }),
  z.strictObject({ strategy: z.literal('key'), afterKey: z.string().min(1) }),
  z.strictObject({
    strategy: z.literal('modified'),
    afterModifiedAt: z.string().regex(ISO_UTC, 'expected an ISO-8601 UTC time such as "2025-06-01T12:00:00.000Z"'),
    afterKey: z.string().min(1),
  }),
]);
type ErpPriceCursor = z.infer<typeof PriceCursorSchema>;
type FullCursor = Extract<ErpPriceCursor, { strategy: 'product' | 'without-product' }>;

/** A page that read nothing. */
function emptyPage(): PricePage {
  return { entries: [], rejected: [], nextCursor: null, resumeCursor: null };
}

/** One price row as the page queries return it (aliases fixed by the query, values as the driver gives them). */
interface ErpPriceRow {
  price_id: unknown;
  product_id: unknown;
  price_list_id: unknown;
  product_found: unknown;
  price_list_found: unknown;
  sku: unknown;
  price_list_code: unknown;
  currency: unknown;
  net: unknown;
  gross: unknown;
  vat_rate: unknown;
  cost: unknown;
  /** Validity and modification times normalised in SQL to ISO-8601 UTC with milliseconds (null: empty or unparsable). */
  valid_from: unknown;
  valid_from_raw: unknown;
  valid_to: unknown;
  valid_to_raw: unknown;
  modified_at: unknown;
  modified_at_raw: unknown;
}

type PriceRowResult = { ok: true; entry: PriceListEntry } | { ok: false; rejection: RejectedRecord };

/**
 * Reads prices when the config has tables.prices (and tables.priceLists); without them every
 * read fails with a config error naming tables.prices: the kind offers price.read, the config
 * decides whether an instance can serve it.
 */
export class ErpPriceSource implements PriceSource {
  /** Undefined when the config has no price tables. */
  private readonly tables: PriceTablesOf | undefined;
  /** Largest page asked of the ERP (config pageSize). */
  private readonly maxPageSize: number;
  private readonly duplicates: DuplicateSkuFinder;

  constructor(
    private readonly client: ErpSqlClient,
    config: Pick<ErpSqlConfig, 'tables' | 'pageSize'>,
  ) {
    const { prices, priceLists, products } = config.tables ?? {};
    this.tables = prices !== undefined && priceLists !== undefined && products !== undefined ? { prices, priceLists, products } : undefined;
    this.maxPageSize = config.pageSize;
    this.duplicates = new DuplicateSkuFinder(client);
  }

  async readPricePage(request: PriceReadRequest): Promise<PricePage> {
    const tables = this.tables;
    if (tables === undefined) {
      throw configError('erp-sql: reading prices needs tables.prices (and tables.priceLists) in the connector config: the ERP tables of prices and price lists are not configured');
    }
    const cursor = parseCursor(request.cursor);
    if (request.mode === 'full' && cursor?.strategy === 'key') {
      throw configError(
        `erp-sql: the price cursor ${JSON.stringify(cursor)} pages price rows by price id, as earlier versions of this connector wrote it; ` +
          'full price reads now page by product: start the full read again (without a cursor)',
      );
    }
    if (request.mode === 'full' && cursor?.strategy === 'modified') {
      throw configError('erp-sql: a full price read resumes from a "product" cursor, got a "modified" cursor');
    }
    if (request.mode === 'delta' && cursor !== null && cursor.strategy !== 'modified') {
      throw configError(`erp-sql: a delta price read resumes from a "modified" cursor, got a "${cursor.strategy}" cursor`);
    }
    const codes = request.priceLists === undefined ? undefined : [...new Set(request.priceLists.map((code) => code.trim()))];
    if (codes !== undefined && codes.length === 0) return emptyPage();
    const limit = Math.max(1, Math.min(Math.floor(request.limit), this.maxPageSize));
    // SKUs compared as channels compare them by default: trimmed, in their letter case.
    const duplicates = await this.duplicates.groups(false, cursor === null);
    if (request.mode === 'delta') return this.readDeltaPage(tables, cursor?.strategy === 'modified' ? cursor : null, codes, limit, duplicates);
    return this.readFullPage(tables, cursor?.strategy === 'product' || cursor?.strategy === 'without-product' ? cursor : null, codes, limit, duplicates);
  }

  /**
   * A page of `limit` products with all their price rows (of the lists asked for); on the page
   * where the products run out, the first price rows without a product id join in.
   */
  private async readFullPage(tables: PriceTablesOf, cursor: FullCursor | null, codes: string[] | undefined, limit: number, duplicates: DuplicateGroups): Promise<PricePage> {
    if (cursor?.strategy === 'without-product') return this.readRowsWithoutProduct(tables, cursor.afterKey, codes, limit, [], duplicates, null);
    const afterProductId = cursor?.afterProductId ?? null;
    const productId = this.priceColumn(tables, 'prices', 'productId');
    const filter = this.listFilter(tables, codes);
    const after = afterProductId === null ? undefined : sql`${productId} > ${afterProductId}`;
    // The page's products: distinct references of price rows (of the lists asked for), in key order.
    const products = await this.rows(
      tables,
      sql<{ product_id: unknown }>`
        select distinct ${productId} as product_id
        from ${this.priceTable(tables, 'prices')}
        ${filter === undefined ? sql`` : sql`join ${this.priceTable(tables, 'priceLists')} on ${this.priceColumn(tables, 'priceLists', 'id')} = ${this.priceColumn(tables, 'prices', 'priceListId')}`}
        where ${sql.join([sql`${productId} is not null`, after, filter].filter((c) => c !== undefined), sql` and `)}
        order by ${productId}
        ${this.client.limit(limit)}`,
      { purpose: 'full read (products with prices)' },
    );
    const last = products.at(-1);
    let rows: ErpPriceRow[] = [];
    if (last !== undefined) {
      // Exactly the page's products: after the cursor's, up to the last one, in the column's own order.
      const range = (id: RawBuilder<unknown>) => sql.join([...(afterProductId === null ? [] : [sql`${id} > ${afterProductId}`]), sql`${id} <= ${last.product_id}`], sql` and `);
      rows = await this.rows(
        tables,
        sql<ErpPriceRow>`
          select ${this.priceColumns(tables)}
          ${this.joins(tables, range)}
          where ${sql.join([range(productId), filter].filter((c) => c !== undefined), sql` and `)}
          order by ${productId}, ${this.priceColumn(tables, 'prices', 'id')}`,
        { purpose: 'full read (prices)' },
      );
    }
    const productCursor: ErpPriceCursor | null = last === undefined ? null : { strategy: 'product', afterProductId: String(last.product_id) };
    if (products.length === limit) return { ...this.mapRows(tables, rows, duplicates), nextCursor: productCursor, resumeCursor: productCursor };
    return this.readRowsWithoutProduct(tables, null, codes, limit, rows, duplicates, productCursor);
  }

  /**
   * Price rows without a product id (NULL), after every product: `limit` of them in price id
   * order, after `afterKey`, added to the page's `rows`. Each is rejected (mapPriceRow).
   */
  private async readRowsWithoutProduct(
    tables: PriceTablesOf,
    afterKey: string | null,
    codes: string[] | undefined,
    limit: number,
    rows: ErpPriceRow[],
    duplicates: DuplicateGroups,
    productCursor: ErpPriceCursor | null,
  ): Promise<PricePage> {
    const priceId = this.priceColumn(tables, 'prices', 'id');
    const conditions = [sql`${this.priceColumn(tables, 'prices', 'productId')} is null`, afterKey === null ? undefined : sql`${priceId} > ${afterKey}`, this.listFilter(tables, codes)];
    const without = await this.rows(
      tables,
      sql<ErpPriceRow>`
        select ${this.priceColumns(tables)}
        ${this.joins(tables)}
        where ${sql.join(conditions.filter((c) => c !== undefined), sql` and `)}
        order by ${priceId}
        ${this.client.limit(limit)}`,
      { purpose: 'full read (prices without a product)' },
    );
    const last = without.at(-1);
    const cursor: ErpPriceCursor | null = last === undefined ? productCursor : { strategy: 'without-product', afterKey: String(last.price_id) };
    if (rows.length === 0 && without.length === 0) return emptyPage();
    return { ...this.mapRows(tables, [...rows, ...without], duplicates), nextCursor: without.length === limit ? cursor : null, resumeCursor: cursor };
  }

  private async readDeltaPage(
    tables: PriceTablesOf,
    cursor: Extract<ErpPriceCursor, { strategy: 'modified' }> | null,
    codes: string[] | undefined,
    limit: number,
    duplicates: DuplicateGroups,
  ): Promise<PricePage> {
    const modifiedAt = this.timeSql(tables.prices.modifiedAt);
    const priceId = this.priceColumn(tables, 'prices', 'id');
    // As stock's delta: rows at exactly the cursor's time come after it only with a greater id.
    const position =
      cursor === null
        ? sql`${modifiedAt.sortKey} is not null`
        : sql`${modifiedAt.lowerBound(cursor.afterModifiedAt)}
              and ${modifiedAt.sortKey} >= ${modifiedAt.cursorValue(cursor.afterModifiedAt)}
              and (${modifiedAt.sortKey} > ${modifiedAt.cursorValue(cursor.afterModifiedAt)} or ${priceId} > ${cursor.afterKey})`;
    const filter = this.listFilter(tables, codes);
    const rows = await this.rows(
      tables,
      sql<ErpPriceRow & { cursor_time: string }>`
        select ${this.priceColumns(tables)}, ${modifiedAt.cursorText} as cursor_time
        ${this.joins(tables)}
        where ${position}${filter === undefined ? sql`` : sql` and ${filter}`}
        order by ${modifiedAt.sortKey}, ${priceId}
        ${this.client.limit(limit)}`,
      { purpose: 'delta read (changed prices)' },
    );
    const last = rows.at(-1);
    if (last === undefined) return emptyPage();
    const resumeCursor: ErpPriceCursor = { strategy: 'modified', afterModifiedAt: compactCursorTime(last.cursor_time), afterKey: String(last.price_id) };
    return { ...this.mapRows(tables, rows, duplicates), nextCursor: rows.length === limit ? resumeCursor : null, resumeCursor };
  }

  /**
   * Runs a price query through the client (paced, errors translated). The client's translation
   * knows one time column, tables.stock.modifiedAt, and blames it for any value PostgreSQL
   * cannot read as a time; in a price query such a value is in a time column of tables.prices,
   * so the message is corrected here to name those.
   */
  private async rows<Row>(tables: PriceTablesOf, query: RawBuilder<Row>, context: { purpose: string }): Promise<Row[]> {
    try {
      return await this.client.rows(query, context);
    } catch (err) {
      const stockTime = `erp-sql: ${columnLabel(this.client.tables, 'stock', 'modifiedAt')} holds values that are not times`;
      if (!(err instanceof OmnisyncError) || err.kind !== 'config' || !err.message.startsWith(stockTime)) throw err;
      const { prices } = tables;
      const columns = (['modifiedAt', 'validFrom', 'validTo'] as const)
        .filter((field) => prices[field] !== undefined)
        .map((field) => `column "${prices.table}.${String(prices[field])}" (configured at tables.prices.${field})`);
      throw configError(`erp-sql: ${columns.join(' or ')} holds values that are not times${err.message.slice(stockTime.length)}`);
    }
  }

  /**
   * Prices, with their product and price list when the references find them (left joins: a
   * dangling one is rejected, not lost). `productRange`: conditions on a product id that every
   * price row of the query meets through its reference, repeated on the products' id so the
   * database reads those products by their key (PostgreSQL does not carry a range across the
   * join's equality by itself, and would otherwise hash the whole products table each page).
   */
  private joins(tables: PriceTablesOf, productRange?: (id: RawBuilder<unknown>) => RawBuilder<unknown>): RawBuilder<unknown> {
    const c = this.client;
    const productId = c.column('products', 'id');
    return sql`
      from ${this.priceTable(tables, 'prices')}
      left join ${c.table('products')} on ${productId} = ${this.priceColumn(tables, 'prices', 'productId')}${productRange === undefined ? sql`` : sql` and ${productRange(productId)}`}
      left join ${this.priceTable(tables, 'priceLists')} on ${this.priceColumn(tables, 'priceLists', 'id')} = ${this.priceColumn(tables, 'prices', 'priceListId')}`;
  }

  /** Only rows of the given price lists (codes compared trimmed, as the entries carry them). */
  private listFilter(tables: PriceTablesOf, codes: string[] | undefined): RawBuilder<unknown> | undefined {
    if (codes === undefined) return undefined;
    return sql`trim(${this.priceColumn(tables, 'priceLists', 'code')}) in (${sql.join(codes)})`;
  }

  private priceColumns(tables: PriceTablesOf): RawBuilder<unknown> {
    const c = this.client;
    const column = (field: Exclude<keyof ErpPricesTable, 'table'>) => this.priceColumn(tables, 'prices', field);
    const optional = (field: 'net' | 'gross' | 'cost' | 'validFrom' | 'validTo') => (tables.prices[field] === undefined ? sql`null` : column(field));
    const time = (field: 'validFrom' | 'validTo' | 'modifiedAt', alias: string) => {
      const name = tables.prices[field];
      return name === undefined
        ? [sql`null as ${sql.ref(alias)}`, sql`null as ${sql.ref(`${alias}_raw`)}`]
        : [sql`${this.timeSql(name).isoMillis} as ${sql.ref(alias)}`, sql`${c.asText(column(field))} as ${sql.ref(`${alias}_raw`)}`];
    };
    return sql.join([
      sql`${column('id')} as price_id`,
      sql`${column('productId')} as product_id`,
      sql`${column('priceListId')} as price_list_id`,
      sql`${c.column('products', 'id')} as product_found`,
      sql`${this.priceColumn(tables, 'priceLists', 'id')} as price_list_found`,
      sql`${c.column('products', 'sku')} as sku`,
      sql`${this.priceColumn(tables, 'priceLists', 'code')} as price_list_code`,
      sql`${this.priceColumn(tables, 'priceLists', 'currency')} as currency`,
      sql`${optional('net')} as net`,
      sql`${optional('gross')} as gross`,
      sql`${column('vatRate')} as vat_rate`,
      sql`${optional('cost')} as cost`,
      ...time('validFrom', 'valid_from'),
      ...time('validTo', 'valid_to'),
      ...time('modifiedAt', 'modified_at'),
    ]);
  }

  /** The SQL of a time column of the prices table (modified-at.ts works for any such column). */
  private timeSql(columnName: string): ModifiedAtSql {
    return modifiedAtSql(this.client.dialect, sql.ref(`${PRICE_ALIAS.prices}.${columnName}`));
  }

  /** A price table, schema-qualified as the client qualifies its tables, with its alias. */
  private priceTable(tables: PriceTablesOf, key: PriceTableKey): RawBuilder<unknown> {
    const name = tables[key].table;
    const schema = this.client.schema;
    const qualified = name.includes('.') || schema === undefined ? name : `${schema}.${name}`;
    return sql`${sql.table(qualified)} as ${sql.raw(PRICE_ALIAS[key])}`;
  }

  /** A configured column of a price table, qualified with the table's alias. */
  private priceColumn<K extends PriceTableKey>(tables: PriceTablesOf, key: K, field: Exclude<keyof PriceTablesOf[K], 'table'>): RawBuilder<unknown> {
    const name = tables[key][field];
    if (typeof name !== 'string') throw configError(`erp-sql: tables.${key}.${String(field)} is not configured`);
    return sql.ref(`${PRICE_ALIAS[key]}.${name}`);
  }

  /**
   * Maps the rows. A SKU held by several product rows (duplicate-skus.ts; in the table, or met
   * within the page) has no entries: each of its product rows the page covers is rejected as a
   * duplicate key instead (its other problems are reported once, as the duplicate), because
   * the rows' prices would overwrite each other in the channels.
   */
  private mapRows(tables: PriceTablesOf, rows: readonly ErpPriceRow[], known: DuplicateGroups): { entries: PriceListEntry[]; rejected: RejectedRecord[] } {
    const inPage = new Map<string, DuplicateRow[]>();
    const productIds = new Set<string>();
    for (const row of rows) {
      const sku = trimmedText(row.sku);
      if (isEmpty(row.product_found) || sku === undefined) continue;
      productIds.add(String(row.product_id));
      const group = inPage.get(sku);
      if (group === undefined) inPage.set(sku, [{ productId: row.product_id, storedSku: row.sku }]);
      else if (!group.some((member) => String(member.productId) === String(row.product_id))) group.push({ productId: row.product_id, storedSku: row.sku });
    }
    const groups = new Map<string, readonly DuplicateRow[]>();
    for (const [sku, group] of inPage) {
      const duplicates = known.get(skuKey(sku, false)) ?? (group.length > 1 ? group : undefined);
      if (duplicates !== undefined) groups.set(sku, duplicates);
    }
    const entries: PriceListEntry[] = [];
    const rejected: RejectedRecord[] = [];
    for (const row of rows) {
      const result = mapPriceRow(row, tables);
      if (result.ok) {
        if (!groups.has(result.entry.sku)) entries.push(result.entry);
      } else if (result.rejection.subject === '' || !groups.has(result.rejection.subject)) {
        rejected.push(result.rejection);
      }
    }
    const { products } = tables;
    const names = { productsTable: products.table, idColumn: products.id, skuColumn: products.sku };
    for (const [sku, group] of groups) rejected.push(...duplicateRejections(group, sku, productIds, names, false));
    return { entries, rejected };
  }
}

/** The price tables, and the products table their SKUs come from. */
interface PriceTablesOf {
  prices: ErpPricesTable;
  priceLists: ErpPriceListsTable;
  products: ErpTables['products'];
}

/** The cursor as this source wrote it, or a config error saying what is wrong with it. */
function parseCursor(cursor: PriceCursor | null): ErpPriceCursor | null {
  if (cursor === null || cursor === undefined) return null;
  const parsed = PriceCursorSchema.safeParse(cursor);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  let shown: string;
  try {
    shown = JSON.stringify(cursor) ?? String(cursor);
  } catch {
    shown = String(cursor);
  }
  throw configError(
    `erp-sql: the price cursor ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown} is not one this connector writes ` +
      '({"strategy":"product","afterProductId":…}, {"strategy":"without-product","afterKey":…} or {"strategy":"modified","afterModifiedAt":…,"afterKey":…}): ' +
      `${issue?.message ?? 'invalid'}${where}`,
  );
}

/**
 * Maps one price row to an entry, or to a rejection naming the ERP's columns and the row.
 *
 * Amounts never pass through binary arithmetic. PostgreSQL returns `numeric` as text, kept
 * digit for digit. SQLite returns a REAL (or an INTEGER) for a numeric column: the double is
 * formatted with 15 significant digits (DOUBLE_DIGITS), which gives back exactly the decimal the
 * ERP wrote for any amount of up to 15 digits (19.99 stays "19.99", not 19.989999999999998…),
 * and drops the float noise of an amount the ERP computed in floating point (0.1 + 0.2 is read
 * as "0.3"). Converting in JS rather than `cast(… as text)` in SQL keeps one rule for both
 * databases' doubles (PostgreSQL double precision columns arrive as numbers too), independent of
 * how a SQLite version prints a REAL. Amounts come out with at least the currency's minor-unit
 * digits and every further digit the ERP holds (core/money formatAmount): "19.90", "12.3456".
 */
function mapPriceRow(row: ErpPriceRow, tables: PriceTablesOf): PriceRowResult {
  const { prices, priceLists, products } = tables;
  const sku = trimmedText(row.sku);
  const reject = (reason: string): PriceRowResult => rejectRow(row, tables, sku, reason);

  if (isEmpty(row.product_id)) return reject(`${prices.productId} is empty (NULL)`);
  if (isEmpty(row.price_list_id)) return reject(`${prices.priceListId} is empty (NULL)`);
  if (isEmpty(row.product_found)) return reject(`${prices.productId} ${String(row.product_id)} matches no row in ${products.table}`);
  if (isEmpty(row.price_list_found)) return reject(`${prices.priceListId} ${String(row.price_list_id)} matches no row in ${priceLists.table}`);
  if (!sku) return reject(`the product's ${products.sku} is empty`);
  if (sku.length > MAX_SKU_LENGTH) return reject(`the product's ${products.sku} is longer than ${MAX_SKU_LENGTH} characters`);
  const priceList = trimmedText(row.price_list_code);
  if (!priceList) return reject(`the price list's ${priceLists.code} is empty`);
  const currencyText = trimmedText(row.currency)?.toUpperCase();
  if (currencyText === undefined || !CurrencyCode.safeParse(currencyText).success) {
    return reject(`the price list's ${priceLists.currency} is not an ISO 4217 code such as "PLN" (${describe(row.currency)})`);
  }
  const currency = currencyText;

  const amount = (value: unknown, column: string | undefined, required: boolean): { ok: true; value: Dec | undefined } | { ok: false; reason: string } => {
    if (column === undefined || isEmpty(value)) return required ? { ok: false, reason: `${column ?? ''} is empty (NULL)` } : { ok: true, value: undefined };
    const decimal = toDecimal(value);
    if (decimal === undefined) return { ok: false, reason: `${column} is not a number (${describe(value)})` };
    if (decimal.isNegative() && !decimal.isZero()) return { ok: false, reason: `${column} is negative (${typeof value === 'string' ? value.trim() : decimal.toFixed()})` };
    return { ok: true, value: decimal };
  };
  const net = amount(row.net, prices.net, false);
  if (!net.ok) return reject(net.reason);
  const gross = amount(row.gross, prices.gross, false);
  if (!gross.ok) return reject(gross.reason);
  if (net.value === undefined && gross.value === undefined) {
    const names = [prices.net, prices.gross].filter((name) => name !== undefined);
    return reject(names.length === 2 ? `neither ${names[0]} nor ${names[1]} is set` : `${names[0]} is empty (NULL)`);
  }
  const vat = amount(row.vat_rate, prices.vatRate, true);
  if (!vat.ok) return reject(vat.reason);
  const cost = amount(row.cost, prices.cost, false);
  if (!cost.ok) return reject(cost.reason);

  const validFrom = optionalTime(row.valid_from, row.valid_from_raw, prices.validFrom);
  if (!validFrom.ok) return reject(validFrom.reason);
  const validTo = optionalTime(row.valid_to, row.valid_to_raw, prices.validTo);
  if (!validTo.ok) return reject(validTo.reason);
  if (validFrom.value !== undefined && validTo.value !== undefined && validTo.value <= validFrom.value) {
    return reject(`${prices.validTo} (${validTo.value}) is not after ${prices.validFrom} (${validFrom.value})`);
  }
  if (typeof row.modified_at !== 'string' || !ISO_UTC_MILLIS.test(row.modified_at)) {
    return reject(isEmpty(row.modified_at_raw) ? `${prices.modifiedAt} is empty (NULL)` : `${prices.modifiedAt} is not a date and time (${JSON.stringify(row.modified_at_raw)})`);
  }

  const entry: PriceListEntry = { sku, priceList, currency, vatRate: (vat.value as Dec).toFixed() };
  if (net.value !== undefined) entry.net = formatAmount(net.value, currency);
  if (gross.value !== undefined) entry.gross = formatAmount(gross.value, currency);
  if (cost.value !== undefined) entry.cost = formatAmount(cost.value, currency);
  if (validFrom.value !== undefined) entry.validFrom = validFrom.value;
  if (validTo.value !== undefined) entry.validTo = validTo.value;
  return { ok: true, entry };
}

/** Whether the reads take a value from the database as an amount (a number, or decimal text); `connectors check` applies the same rule. */
export function isDecimalAmount(value: unknown): boolean {
  return toDecimal(value) !== undefined;
}

/** A value from the database as an exact decimal, or undefined when it is none. */
function toDecimal(value: unknown): Dec | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Dec(value.toPrecision(DOUBLE_DIGITS)) : undefined;
  if (typeof value === 'bigint') return new Dec(value.toString());
  if (typeof value === 'string') {
    const text = value.trim();
    return DECIMAL_TEXT.test(text) ? new Dec(text) : undefined;
  }
  return undefined;
}

/** An optional validity time: absent when not configured or NULL; a reason when not a time. */
function optionalTime(normalised: unknown, raw: unknown, column: string | undefined): { ok: true; value: string | undefined } | { ok: false; reason: string } {
  if (column === undefined || isEmpty(raw)) return { ok: true, value: undefined };
  if (typeof normalised !== 'string' || !ISO_UTC_MILLIS.test(normalised)) return { ok: false, reason: `${column} is not a date and time (${JSON.stringify(raw)})` };
  return { ok: true, value: normalised };
}

function rejectRow(row: ErpPriceRow, tables: PriceTablesOf, sku: string | undefined, reason: string): PriceRowResult {
  const { prices } = tables;
  const knownSku = isEmpty(row.product_found) ? '' : (sku ?? '');
  return {
    ok: false,
    rejection: {
      recordKey: `${prices.table}#${String(row.price_id)}`,
      reason: `${reason} in ${prices.table} row ${String(row.price_id)}`,
      category: QUARANTINE_CATEGORY.invalidSourceRow,
      subject: knownSku,
      payload: payloadOf(row, tables),
    },
  };
}

/** The row under the ERP's own column names, so the quarantine shows what the ERP holds. */
function payloadOf(row: ErpPriceRow, tables: PriceTablesOf): Record<string, unknown> {
  const { prices, priceLists, products } = tables;
  const payload: Record<string, unknown> = {
    [`${prices.table}.${prices.id}`]: row.price_id,
    [`${prices.table}.${prices.productId}`]: row.product_id,
    [`${prices.table}.${prices.priceListId}`]: row.price_list_id,
    [`${products.table}.${products.sku}`]: row.sku,
    [`${priceLists.table}.${priceLists.code}`]: row.price_list_code,
    [`${priceLists.table}.${priceLists.currency}`]: row.currency,
  };
  const add = (column: string | undefined, value: unknown) => {
    if (column !== undefined) payload[`${prices.table}.${column}`] = value;
  };
  add(prices.net, row.net);
  add(prices.gross, row.gross);
  add(prices.vatRate, row.vat_rate);
  add(prices.cost, row.cost);
  add(prices.validFrom, row.valid_from_raw);
  add(prices.validTo, row.valid_to_raw);
  add(prices.modifiedAt, row.modified_at_raw);
  return payload;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value as number | bigint | boolean | null | undefined);
}

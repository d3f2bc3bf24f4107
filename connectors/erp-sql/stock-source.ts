/**
 * Stock reads from the ERP's tables, in pages, by two named cursor strategies (docs/architecture.md):
 *
 * - full / `key`: products in primary-key order after the cursor's key, then all their stock.
 * - delta / `modified`: stock rows in (modification time, stock id) order after the cursor's
 *   position (no cursor: from the earliest time), then all stock of the products they belong
 *   to, so each SKU in the page is complete. Times: see modified-at.ts.
 *
 * Keys in cursors are strings; the ERP's key columns are usually integers. Both databases
 * compare a text parameter against a column in the column's type (PostgreSQL infers the
 * parameter's type from the column; SQLite applies the column's INTEGER affinity to it), so
 * `id > '999'` orders 1000 after 999 on an integer column and pages stay in the column's own
 * order whatever its type. Queries always order by the column itself, never by text.
 */
import { sql, type RawBuilder } from 'kysely';
import { configError } from '../../core/errors';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import type { StockLevel } from '../../core/model';
import type { RejectedRecord, StockCursor, StockPage, StockReadRequest, StockSource } from '../contract';
import type { ErpSqlClient } from './client';
import { skuKey } from '../../core/model';
import { DuplicateSkuFinder, duplicateRejections, type DuplicateGroups } from './duplicate-skus';
import { mapStockRow, type ErpStockRow } from './mapper';
import { stockChangeDetection, stockKeyColumns } from './config';
import { compactCursorTime, modifiedAtSql, type ModifiedAtSql } from './modified-at';

/** Ids per IN list when reading the stock of a delta page's products. */
const IN_LIST_CHUNK = 900;

/**
 * Pages carry rows that are not valid stock (null or non-numeric quantities, negative
 * reservations, dangling references) in `rejected`, for the quarantine: never dropped, never
 * failing the page. A SKU with such a row is not in the page's `skus` and `levels` (see mapRows).
 */
export class ErpStockSource implements StockSource {
  private readonly duplicates: DuplicateSkuFinder;

  constructor(
    private readonly client: ErpSqlClient,
    /** Largest page asked of the ERP (config pageSize). */
    private readonly maxPageSize: number,
  ) {
    this.duplicates = new DuplicateSkuFinder(client);
  }

  async readStockPage(request: StockReadRequest): Promise<StockPage> {
    const limit = Math.max(1, Math.min(Math.floor(request.limit), this.maxPageSize));
    const comparing = request.mode === 'delta' && stockChangeDetection(this.client.tables.stock) === 'compare';
    let cursor = request.cursor;
    if (request.mode === 'full' || comparing) {
      if (cursor?.strategy === 'modified' && comparing) {
        // Left by delta runs from before the table was switched to compare: a comparing run
        // always reads every row, from the start.
        cursor = null;
      } else if (cursor !== null && cursor.strategy !== 'key') {
        throw configError(`erp-sql: a full read resumes from a "key" cursor, got a "${cursor.strategy}" cursor`);
      }
    } else if (cursor !== null && cursor.strategy !== 'modified') {
      throw configError(`erp-sql: a delta read resumes from a "modified" cursor, got a "${cursor.strategy}" cursor`);
    }
    const caseInsensitive = request.caseInsensitiveSkus ?? false;
    let page: ReadPage;
    if (cursor?.strategy === 'key' || ((request.mode === 'full' || comparing) && cursor === null)) {
      page = await this.readFullPage(cursor?.afterKey ?? null, limit);
      // A comparing delta run starts from the beginning every time: nothing to resume from.
      if (comparing) page.resumeCursor = null;
    } else {
      page = await this.readDeltaPage(cursor as Extract<StockCursor, { strategy: 'modified' }> | null, limit);
    }
    return this.withoutDuplicates(page, await this.duplicates.groups(caseInsensitive, cursor === null), caseInsensitive);
  }

  /**
   * Takes SKUs held by several product rows out of a page: their levels and SKUs go, and each
   * of their rows the page covers is rejected. Rows of one SKU that meet within the page but
   * escaped the database's check (non-ASCII blanks or letter case) count as duplicates too.
   */
  private withoutDuplicates(page: ReadPage, known: DuplicateGroups, caseInsensitive: boolean): StockPage {
    const { products: productRows, ...rest } = page;
    // Keys met once keep their row; a list is made only for a key met again (rare).
    const firstRow = new Map<string, { productId: unknown; storedSku: unknown }>();
    const repeated = new Map<string, Array<{ productId: unknown; storedSku: unknown }>>();
    const groups = new Map<string, readonly { productId: unknown; storedSku: unknown }[]>();
    for (const row of productRows) {
      const key = skuKey(row.sku, caseInsensitive);
      const first = firstRow.get(key);
      if (first === undefined) {
        firstRow.set(key, row);
        const group = known.get(key);
        if (group !== undefined) groups.set(key, group);
        continue;
      }
      const rows = repeated.get(key) ?? [first];
      if (!rows.some((r) => String(r.productId) === String(row.productId))) rows.push(row);
      repeated.set(key, rows);
    }
    for (const [key, rows] of repeated) if (rows.length > 1 && !groups.has(key)) groups.set(key, rows);
    if (groups.size === 0) return rest;
    const { products } = this.client.tables;
    const names = { productsTable: products.table, idColumn: products.id, skuColumn: products.sku };
    const productIds = new Set(productRows.map((row) => String(row.productId)));
    const rejected: RejectedRecord[] = [...rest.rejected];
    for (const [key, group] of groups) rejected.push(...duplicateRejections(group, key, productIds, names, caseInsensitive));
    const isDuplicate = (sku: string) => groups.has(skuKey(sku, caseInsensitive));
    // Rows of a duplicate SKU that were bad anyway are reported once, as duplicates.
    const kept = rejected.filter((r) => r.category !== QUARANTINE_CATEGORY.invalidSourceRow || r.subject === '' || !isDuplicate(r.subject));
    return { ...rest, skus: rest.skus.filter((sku) => !isDuplicate(sku)), levels: rest.levels.filter((level) => !isDuplicate(level.sku)), rejected: kept };
  }

  private async readFullPage(afterKey: string | null, limit: number): Promise<ReadPage> {
    const c = this.client;
    const productId = c.column('products', 'id');
    const products = await c.rows(
      sql<{ product_id: unknown; sku: unknown }>`
        select ${productId} as product_id, ${c.column('products', 'sku')} as sku
        from ${c.table('products')}
        ${afterKey === null ? sql`` : sql`where ${productId} > ${afterKey}`}
        order by ${productId}
        ${c.limit(limit)}`,
      { purpose: 'full read (products)', table: 'products' },
    );
    const last = products.at(-1);
    if (last === undefined) return { levels: [], skus: [], rejected: [], nextCursor: null, resumeCursor: null, products: [] };

    // The page's products are exactly those with afterKey < id <= last id, in the products
    // table's own order; their stock joins in one query without a list of ids.
    const range = afterKey === null ? sql`${productId} <= ${last.product_id}` : sql`${productId} > ${afterKey} and ${productId} <= ${last.product_id}`;
    const stockRows = await c.rows(
      sql<ErpStockRow>`
        select ${this.stockColumns()}
        from ${c.table('products')}
        join ${c.table('stock')} on ${c.column('stock', 'productId')} = ${productId}
        left join ${c.table('locations')} on ${c.column('locations', 'id')} = ${c.column('stock', 'locationId')}
        where ${range}
        order by ${sql.join([productId, ...this.stockKey()])}`,
      { purpose: 'full read (stock)' },
    );
    const { levels, rejected, incompleteSkus, notForSale } = this.mapRows(stockRows);
    const resumeCursor: StockCursor = { strategy: 'key', afterKey: String(last.product_id) };
    return {
      levels,
      skus: uniqueSkus(products.map((product) => product.sku)).filter((sku) => !incompleteSkus.has(sku)),
      rejected,
      ...(notForSale.length > 0 ? { notForSale } : {}),
      nextCursor: products.length === limit ? resumeCursor : null,
      resumeCursor,
      products: productsOf(products),
    };
  }

  private async readDeltaPage(cursor: Extract<StockCursor, { strategy: 'modified' }> | null, limit: number): Promise<ReadPage> {
    const c = this.client;
    const modifiedAt = this.modifiedAt();
    const stockKey = this.stockKey();
    // Rows at exactly the cursor's time come after it only with a greater key: a page boundary
    // inside a burst of rows with one timestamp loses nothing and repeats nothing. Written as
    // "t' >= t and (t' > t or key > k)" rather than a row-value comparison because every
    // database turns the first term into an index range (and SQL Server has no row values).
    // A cursor written for another key (tables.stock.id was changed) cannot be continued: the run
    // starts over, and the snapshot keeps it from pushing anything that did not change.
    const afterKey = cursor === null ? null : cursorKeyValues(cursor.afterKey, stockKey.length);
    const position =
      cursor === null || afterKey === null
        ? sql`${modifiedAt.sortKey} is not null`
        : sql`${modifiedAt.lowerBound(cursor.afterModifiedAt)}
              and ${modifiedAt.sortKey} >= ${modifiedAt.cursorValue(cursor.afterModifiedAt)}
              and (${modifiedAt.sortKey} > ${modifiedAt.cursorValue(cursor.afterModifiedAt)} or ${keyAfter(stockKey, afterKey)})`;
    const changed = await c.rows(
      sql<{ product_id: unknown; modified_at: string } & Record<`stock_key_${number}`, unknown>>`
        select ${sql.join(stockKey.map((column, index) => sql`${column} as ${sql.ref(`stock_key_${index}`)}`))}, ${c.column('stock', 'productId')} as product_id, ${modifiedAt.cursorText} as modified_at
        from ${c.table('stock')}
        where ${position}
        order by ${sql.join([modifiedAt.sortKey, ...stockKey])}
        ${c.limit(limit)}`,
      { purpose: 'delta read (changed stock)', table: 'stock' },
    );
    const last = changed.at(-1);
    if (last === undefined) return { levels: [], skus: [], rejected: [], nextCursor: null, resumeCursor: null, products: [] };

    // All stock rows of the touched products, so availability per SKU is computed from every
    // location, not only from the row that changed.
    const productIds = [...new Set(changed.map((row) => row.product_id))];
    const stockRows: ErpStockRow[] = [];
    for (let start = 0; start < productIds.length; start += IN_LIST_CHUNK) {
      const ids = productIds.slice(start, start + IN_LIST_CHUNK);
      stockRows.push(
        ...(await c.rows(
          sql<ErpStockRow>`
            select ${this.stockColumns()}
            from ${c.table('stock')}
            left join ${c.table('products')} on ${c.column('products', 'id')} = ${c.column('stock', 'productId')}
            left join ${c.table('locations')} on ${c.column('locations', 'id')} = ${c.column('stock', 'locationId')}
            where ${c.column('stock', 'productId')} in (${sql.join(ids)})
            order by ${sql.join([c.column('stock', 'productId'), ...stockKey])}`,
          { purpose: 'delta read (stock of changed products)' },
        )),
      );
    }
    const { levels, rejected, incompleteSkus, notForSale } = this.mapRows(stockRows);
    const lastKey = stockKey.map((_, index) => String(last[`stock_key_${index}`]));
    const resumeCursor: StockCursor = { strategy: 'modified', afterModifiedAt: compactCursorTime(last.modified_at), afterKey: lastKey.length === 1 ? lastKey[0]! : lastKey };
    return {
      levels,
      skus: uniqueSkus(stockRows.filter((row) => row.product_found !== null).map((row) => row.sku)).filter((sku) => !incompleteSkus.has(sku)),
      rejected,
      ...(notForSale.length > 0 ? { notForSale } : {}),
      nextCursor: changed.length === limit ? resumeCursor : null,
      resumeCursor,
      products: productsOf(stockRows.filter((row) => row.product_found !== null).map((row) => ({ product_id: row.product_id, sku: row.sku }))),
    };
  }

  /** The stock table's key columns (config.ts stockKeyColumns), qualified. */
  private stockKey(): RawBuilder<unknown>[] {
    return stockKeyColumns(this.client.tables.stock).map((name) => this.client.columnNamed('stock', name));
  }

  private stockColumns(): RawBuilder<unknown> {
    const c = this.client;
    const { stock, products } = c.tables;
    const notForSale = products.notForSale;
    return sql.join([
      ...this.stockKey().map((column, index) => sql`${column} as ${sql.ref(`stock_key_${index}`)}`),
      sql`${c.column('stock', 'productId')} as product_id`,
      sql`${c.column('stock', 'locationId')} as location_id`,
      sql`${c.column('products', 'id')} as product_found`,
      sql`${c.column('locations', 'id')} as location_found`,
      sql`${c.column('products', 'sku')} as sku`,
      sql`${c.column('locations', 'code')} as location_code`,
      sql`${c.column('stock', 'onHand')} as on_hand`,
      sql`${c.column('stock', 'reserved')} as reserved`,
      ...(stock.modifiedAt === undefined
        ? [sql`null as modified_at`, sql`null as modified_at_raw`]
        : [sql`${this.modifiedAt().isoMillis} as modified_at`, sql`${c.asText(c.column('stock', 'modifiedAt'))} as modified_at_raw`]),
      notForSale === undefined
        ? sql`0 as not_for_sale`
        : sql`case when ${c.columnNamed('products', notForSale.column)} in (${sql.join(notForSale.in)}) then 1 else 0 end as not_for_sale`,
    ]);
  }

  private modifiedAt(): ModifiedAtSql {
    if (this.client.tables.stock.modifiedAt === undefined) throw configError('erp-sql: delta reads by modification time need tables.stock.modifiedAt');
    return modifiedAtSql(this.client.dialect, this.client.column('stock', 'modifiedAt'));
  }

  /**
   * Maps the rows; a SKU with a bad row is left out of the page entirely (its good levels
   * too): its availability cannot be computed from part of its stock, and pushing the part
   * would understate it everywhere (all of it bad: zero). The rejection goes to quarantine and
   * the channels keep their last quantity until the row is fixed.
   */
  private mapRows(rows: readonly ErpStockRow[]): { levels: StockLevel[]; rejected: RejectedRecord[]; incompleteSkus: Set<string>; notForSale: string[] } {
    const mapped: StockLevel[] = [];
    const rejected: RejectedRecord[] = [];
    const incompleteSkus = new Set<string>();
    const notForSale = new Set<string>();
    const observedAt = new Date().toISOString();
    for (const row of rows) {
      const result = mapStockRow(row, this.client.tables, observedAt);
      if (result.ok) {
        mapped.push(result.level);
        if (Number(row.not_for_sale) === 1) notForSale.add(result.level.sku);
      } else {
        rejected.push(result.rejection);
        if (result.sku !== undefined) incompleteSkus.add(result.sku);
      }
    }
    const levels = mapped.filter((level) => !incompleteSkus.has(level.sku));
    levels.sort((a, b) => compareText(a.sku, b.sku) || compareText(a.location, b.location));
    return { levels, rejected, incompleteSkus, notForSale: [...notForSale].filter((sku) => !incompleteSkus.has(sku)) };
  }
}

/** A page as read, with the product rows it covers (for the duplicate check). */
interface ReadPage extends StockPage {
  products: Array<{ productId: unknown; storedSku: unknown; sku: string }>;
}

/** The page's product rows with a SKU, each with its SKU as the page uses it (trimmed). */
function productsOf(rows: ReadonlyArray<{ product_id: unknown; sku: unknown }>): ReadPage['products'] {
  const products: ReadPage['products'] = [];
  for (const row of rows) {
    const sku = skuText(row.sku);
    if (sku !== '') products.push({ productId: row.product_id, storedSku: row.sku, sku });
  }
  return products;
}

/** A SKU column's value as the page uses it: text trimmed, numbers as digits; '' for none. */
function skuText(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' || typeof value === 'bigint' ? String(value) : '';
}

function uniqueSkus(values: readonly unknown[]): string[] {
  const skus = new Set<string>();
  for (const value of values) {
    const sku = skuText(value);
    if (sku !== '') skus.add(sku);
  }
  return [...skus];
}

/**
 * "key > values" in lexicographic order over several columns, written out ((k1 > v1) or (k1 = v1
 * and k2 > v2) …) so that every database, SQL Server too, can run it.
 */
function keyAfter(columns: readonly RawBuilder<unknown>[], values: readonly string[]): RawBuilder<unknown> {
  const terms = columns.map((column, index) =>
    sql.join([...columns.slice(0, index).map((earlier, j) => sql`${earlier} = ${values[j]}`), sql`${column} > ${values[index]}`], sql` and `),
  );
  return sql`(${sql.join(terms.map((term) => sql`(${term})`), sql` or `)})`;
}

/** A cursor's key as one value per key column, or null when it was written for a key of other columns. */
function cursorKeyValues(afterKey: string | readonly string[], columns: number): string[] | null {
  const values = typeof afterKey === 'string' ? [afterKey] : [...afterKey];
  return values.length === columns ? values : null;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

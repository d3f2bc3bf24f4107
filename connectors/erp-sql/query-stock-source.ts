/**
 * Stock read through a query the integrator wrote (queries.stock), for ERPs whose stock is
 * best described by joins, filters or a vendor's view rather than by three tables.
 *
 * The query's text is never edited: every read wraps it as a subquery, `select … from (<sql>) q`,
 * and adds its conditions, order and limit outside it, with bound values only. Rows are one per
 * SKU and location, identified by (sku, location). Pages hold whole SKUs, as the table source's
 * do, so availability is always computed from all of a SKU's locations:
 *
 * - full (and delta with changeDetection compare): SKUs in the database's order of the SKU
 *   column after the cursor's SKU, then all rows of those SKUs. The cursor keeps the SKU as the
 *   database returned it (untrimmed), so the next page starts exactly after it.
 * - delta (changeDetection modifiedAt): rows in (modifiedAt, sku, location) order after the
 *   cursor, then all rows of their SKUs; times as the table source handles them (modified-at.ts).
 *
 * Rows the query returns without a SKU cannot be paged by it: the last page of a full read
 * quarantines them (up to NULL_SKU_ROWS_REPORTED), so nothing disappears silently. Two rows for
 * one SKU and location (the query's key is not unique) quarantine that SKU, as duplicate SKUs
 * in the products table do.
 */
import { sql, type RawBuilder } from 'kysely';
import { configError } from '../../core/errors';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import { skuKey, type StockCursor, type StockLevel } from '../../core/model';
import type { RejectedRecord, StockPage, StockReadRequest, StockSource } from '../contract';
import type { ErpSqlClient } from './client';
import { STOCK_QUERY_LABEL, stockChangeDetection, stockQueryTables, type ErpStockQuery, type ErpTables } from './config';
import { mapStockRow, type ErpStockRow } from './mapper';
import { compactCursorTime, modifiedAtSql, type ModifiedAtSql } from './modified-at';

/** SKUs per IN list when reading the rows of a delta page's SKUs. */
const IN_LIST_CHUNK = 900;
/** Rows without a SKU reported per full read (they all share one cause). */
const NULL_SKU_ROWS_REPORTED = 100;

export class ErpQueryStockSource implements StockSource {
  /** The query's columns in table form, for mapStockRow's messages. */
  private readonly labels: ErpTables;

  constructor(
    private readonly client: ErpSqlClient,
    private readonly query: ErpStockQuery,
    /** Largest page asked of the ERP (config pageSize). */
    private readonly maxPageSize: number,
  ) {
    this.labels = stockQueryTables(query);
  }

  async readStockPage(request: StockReadRequest): Promise<StockPage> {
    const limit = Math.max(1, Math.min(Math.floor(request.limit), this.maxPageSize));
    const comparing = request.mode === 'delta' && stockChangeDetection(this.labels.stock) === 'compare';
    let cursor = request.cursor;
    const caseInsensitive = request.caseInsensitiveSkus ?? false;
    if (request.mode === 'full' || comparing) {
      // A cursor left by delta runs from before the query compared: start from the beginning.
      if (cursor?.strategy === 'modified' && comparing) cursor = null;
      else if (cursor !== null && cursor.strategy !== 'key') throw configError(`erp-sql: a full read resumes from a "key" cursor, got a "${cursor.strategy}" cursor`);
      const page = await this.readFullPage(cursor?.strategy === 'key' ? cursor.afterKey : null, limit, caseInsensitive);
      return comparing ? { ...page, resumeCursor: null } : page;
    }
    if (cursor !== null && cursor.strategy !== 'modified') throw configError(`erp-sql: a delta read resumes from a "modified" cursor, got a "${cursor.strategy}" cursor`);
    return this.readDeltaPage(cursor, limit, caseInsensitive);
  }

  private async readFullPage(afterSku: string | null, limit: number, caseInsensitive: boolean): Promise<StockPage> {
    const sku = this.column('sku');
    const skus = await this.client.rows(
      sql<{ sku: unknown }>`
        select distinct ${sku} as sku
        from ${this.source()}
        where ${sku} is not null${afterSku === null ? sql`` : sql` and ${sku} > ${afterSku}`}
        order by ${sku}
        ${this.client.limit(limit)}`,
      { purpose: 'full read (SKUs of queries.stock)' },
    );
    const last = skus.at(-1);
    const isLastPage = skus.length < limit;
    const rows =
      last === undefined
        ? []
        : await this.client.rows(
            sql<ErpStockRow>`
              select ${this.rowColumns()}
              from ${this.source()}
              where ${afterSku === null ? sql`${sku} is not null` : sql`${sku} > ${afterSku}`} and ${sku} <= ${last.sku}
              order by ${sku}, ${this.column('location')}`,
            { purpose: 'full read (rows of queries.stock)' },
          );
    const page = this.mapRows(rows, caseInsensitive, new Date().toISOString());
    if (isLastPage) page.rejected.push(...(await this.rowsWithoutSku()));
    const resumeCursor: StockCursor | null = last === undefined ? null : { strategy: 'key', afterKey: String(last.sku) };
    return { ...page, nextCursor: isLastPage ? null : resumeCursor, resumeCursor };
  }

  private async readDeltaPage(cursor: Extract<StockCursor, { strategy: 'modified' }> | null, limit: number, caseInsensitive: boolean): Promise<StockPage> {
    const modifiedAt = this.modifiedAt();
    const [sku, location] = [this.column('sku'), this.column('location')];
    const afterKey = cursor === null || typeof cursor.afterKey === 'string' || cursor.afterKey.length !== 2 ? null : cursor.afterKey;
    // As the table source: "t' >= t and (t' > t or key > k)", the key written out for every database.
    const position =
      cursor === null || afterKey === null
        ? sql`${modifiedAt.sortKey} is not null`
        : sql`${modifiedAt.sortKey} >= ${modifiedAt.cursorValue(cursor.afterModifiedAt)}
              and (${modifiedAt.sortKey} > ${modifiedAt.cursorValue(cursor.afterModifiedAt)}
                   or ${sku} > ${afterKey[0]} or (${sku} = ${afterKey[0]} and ${location} > ${afterKey[1]}))`;
    const changed = await this.client.rows(
      sql<{ sku: unknown; location: unknown; modified_at: string }>`
        select ${sku} as sku, ${location} as location, ${modifiedAt.cursorText} as modified_at
        from ${this.source()}
        where ${sku} is not null and ${location} is not null and ${position}
        order by ${modifiedAt.sortKey}, ${sku}, ${location}
        ${this.client.limit(limit)}`,
      { purpose: 'delta read (changed rows of queries.stock)' },
    );
    const last = changed.at(-1);
    if (last === undefined) return { levels: [], skus: [], rejected: [], nextCursor: null, resumeCursor: null };
    const skus = [...new Set(changed.map((row) => row.sku))];
    const rows: ErpStockRow[] = [];
    for (let start = 0; start < skus.length; start += IN_LIST_CHUNK) {
      rows.push(
        ...(await this.client.rows(
          sql<ErpStockRow>`
            select ${this.rowColumns()}
            from ${this.source()}
            where ${sku} in (${sql.join(skus.slice(start, start + IN_LIST_CHUNK))})
            order by ${sku}, ${location}`,
          { purpose: 'delta read (rows of changed SKUs of queries.stock)' },
        )),
      );
    }
    const page = this.mapRows(rows, caseInsensitive, new Date().toISOString());
    const resumeCursor: StockCursor = { strategy: 'modified', afterModifiedAt: compactCursorTime(last.modified_at), afterKey: [String(last.sku), String(last.location)] };
    return { ...page, nextCursor: changed.length === limit ? resumeCursor : null, resumeCursor };
  }

  /** The query, wrapped: its text as written, under the alias `q`. */
  private source(): RawBuilder<unknown> {
    return sql`(${sql.raw(this.query.sql)}) q`;
  }

  /** A result column of the query, by its config field. */
  private column(field: keyof ErpStockQuery['columns']): RawBuilder<unknown> {
    const name = this.query.columns[field];
    if (name === undefined) throw configError(`erp-sql: queries.stock.columns.${field} is not configured`);
    return sql.ref(`q.${name}`);
  }

  private modifiedAt(): ModifiedAtSql {
    return modifiedAtSql(this.client.dialect, this.column('modifiedAt'));
  }

  private rowColumns(): RawBuilder<unknown> {
    const { notForSale, columns } = this.query;
    // Aliased as the table source's rows (ErpStockRow), so both map through mapStockRow as read:
    // the row's key is (sku, location), and every row of a query has its product and location.
    const [sku, location] = [this.column('sku'), this.column('location')];
    return sql.join([
      sql`${sku} as stock_key_0`,
      sql`${location} as stock_key_1`,
      sql`${sku} as product_id`,
      sql`${location} as location_id`,
      sql`1 as product_found`,
      sql`1 as location_found`,
      sql`${sku} as sku`,
      sql`${location} as location_code`,
      sql`${this.column('onHand')} as on_hand`,
      sql`${this.column('reserved')} as reserved`,
      ...(columns.modifiedAt === undefined
        ? [sql`null as modified_at`, sql`null as modified_at_raw`]
        : [sql`${this.modifiedAt().isoMillis} as modified_at`, sql`${this.client.asText(this.column('modifiedAt'))} as modified_at_raw`]),
      notForSale === undefined
        ? sql`0 as not_for_sale`
        : sql`case when ${sql.ref(`q.${notForSale.column}`)} in (${sql.join(notForSale.in)}) then 1 else 0 end as not_for_sale`,
    ]);
  }

  /**
   * Maps rows (ordered by SKU, then location) to levels. A SKU whose rows are bad, or whose
   * (SKU, location) appears twice, is left out of the page with its rows quarantined.
   */
  private mapRows(rows: readonly ErpStockRow[], caseInsensitive: boolean, observedAt: string): Omit<StockPage, 'nextCursor' | 'resumeCursor'> & { rejected: RejectedRecord[] } {
    const levels: StockLevel[] = [];
    const rejected: RejectedRecord[] = [];
    const incomplete = new Set<string>();
    const notForSale = new Set<string>();
    const skus = new Set<string>();
    const seen = new Map<string, string>();
    for (const row of rows) {
      const result = mapStockRow(row, this.labels, observedAt);
      if (!result.ok) {
        rejected.push(result.rejection);
        if (result.sku !== undefined) incomplete.add(result.sku);
        continue;
      }
      const { level } = result;
      skus.add(level.sku);
      const key = `${skuKey(level.sku, caseInsensitive)}|${level.location}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        incomplete.add(level.sku);
        incomplete.add(earlier);
        rejected.push({
          recordKey: `${level.sku}|${level.location}`,
          reason: `${STOCK_QUERY_LABEL} returns more than one row for SKU ${JSON.stringify(level.sku)} at ${JSON.stringify(level.location)}; nothing is pushed for the SKU until the query returns one row per SKU and location`,
          category: QUARANTINE_CATEGORY.duplicateKey,
          subject: level.sku,
          payload: row,
        });
        continue;
      }
      seen.set(key, level.sku);
      levels.push(level);
      if (Number(row.not_for_sale) === 1) notForSale.add(level.sku);
    }
    const kept = levels.filter((level) => !incomplete.has(level.sku));
    const zeroed = [...notForSale].filter((sku) => !incomplete.has(sku));
    return {
      levels: kept,
      skus: [...skus].filter((sku) => !incomplete.has(sku)),
      rejected,
      ...(zeroed.length > 0 ? { notForSale: zeroed } : {}),
    };
  }

  /** Rows the query returns without a SKU, as rejections (a full read's last page reports them). */
  private async rowsWithoutSku(): Promise<RejectedRecord[]> {
    const rows = await this.client.rows(
      sql<ErpStockRow>`select ${this.rowColumns()} from ${this.source()} where ${this.column('sku')} is null ${this.client.anyRows(NULL_SKU_ROWS_REPORTED)}`,
      { purpose: 'full read (rows of queries.stock without a SKU)' },
    );
    return rows.map((row) => ({
      recordKey: `${STOCK_QUERY_LABEL}#sku=NULL|location=${String(row.location_code)}`,
      reason: `${this.query.columns.sku} is empty (NULL) in a row of ${STOCK_QUERY_LABEL} (location ${JSON.stringify(row.location_code)})`,
      category: QUARANTINE_CATEGORY.invalidSourceRow,
      subject: '',
      payload: row,
    }));
  }
}

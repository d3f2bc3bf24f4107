/**
 * SKUs held by more than one product row. Two rows with one SKU (often the same code typed
 * twice, with a trailing space or in other letter case) would each set the channel's one
 * quantity in turn: every full run would flip it between them. Such SKUs are left out of every
 * page, and each of their rows is rejected with a reason that names all of them.
 *
 * Finding them needs the whole products table, so the groups are read with one GROUP BY and
 * kept for DUPLICATE_GROUPS_MAX_AGE_MS; a read from the start (cursor null) reads them again,
 * so a full run starts from the table as it is.
 */
import { sql, type RawBuilder } from 'kysely';
import { skuKey } from '../../core/model';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import type { RejectedRecord } from '../contract';
import type { ErpSqlClient } from './client';

/** How long the duplicate groups are reused between pages (a full read from the start refreshes them). */
export const DUPLICATE_GROUPS_MAX_AGE_MS = 15_000;

/** One product row of a duplicate group. */
export interface DuplicateRow {
  productId: unknown;
  /** The SKU as stored (untrimmed), for the message. */
  storedSku: unknown;
}

/** Duplicate groups by SKU key (see skuKey). */
export type DuplicateGroups = ReadonlyMap<string, readonly DuplicateRow[]>;


export class DuplicateSkuFinder {
  private cached: { caseInsensitive: boolean; loadedAt: number; groups: DuplicateGroups } | undefined;

  constructor(
    private readonly client: ErpSqlClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** The current groups; `fromStart` (a read with no cursor) always reads them anew. */
  async groups(caseInsensitive: boolean, fromStart: boolean): Promise<DuplicateGroups> {
    const cached = this.cached;
    if (!fromStart && cached !== undefined && cached.caseInsensitive === caseInsensitive && this.now() - cached.loadedAt < DUPLICATE_GROUPS_MAX_AGE_MS) {
      return cached.groups;
    }
    const groups = await this.read(caseInsensitive);
    this.cached = { caseInsensitive, loadedAt: this.now(), groups };
    return groups;
  }

  /**
   * The database narrows the table down to candidate rows (its trim and upper may differ from
   * JavaScript's for non-ASCII text: SQLite's upper() folds ASCII letters only; MySQL's and SQL
   * Server's usual collations compare case- and accent-insensitively, which only adds
   * candidates); the groups are then formed with skuKey, the rule the rest of the read uses.
   * The keys are grouped by name in a derived table, as every dialect can (SQL Server groups
   * neither by position nor by an output alias).
   */
  private async read(caseInsensitive: boolean): Promise<DuplicateGroups> {
    const c = this.client;
    const key = this.keySql(caseInsensitive);
    const candidates = await c.rows(
      sql<{ product_id: unknown; sku: unknown }>`
        select ${c.column('products', 'id')} as product_id, ${c.column('products', 'sku')} as sku
        from ${c.table('products')}
        where ${key} in (
          select dup_key from (
            select ${key} as dup_key from ${c.table('products')}
          ) as sku_keys
          group by dup_key having count(*) > 1
        )
        order by ${c.column('products', 'id')}`,
      { purpose: 'duplicate SKU check', table: 'products' },
    );
    const groups = new Map<string, DuplicateRow[]>();
    for (const row of candidates) {
      const sku = typeof row.sku === 'string' ? row.sku : row.sku === null || row.sku === undefined ? '' : String(row.sku);
      const rowKey = skuKey(sku, caseInsensitive);
      if (rowKey === '') continue; // empty SKUs are rejected row by row
      const group = groups.get(rowKey);
      if (group) group.push({ productId: row.product_id, storedSku: row.sku });
      else groups.set(rowKey, [{ productId: row.product_id, storedSku: row.sku }]);
    }
    for (const [groupKey, rows] of groups) if (rows.length < 2) groups.delete(groupKey);
    return groups;
  }

  /**
   * The SKU column trimmed of blanks (space, tab, line feed, carriage return) and upper-cased
   * when asked, as text, in the dialect's SQL. MySQL's trim() removes one string only: there
   * the other blanks become spaces first, inside the SKU too, which only adds candidates.
   */
  private keySql(caseInsensitive: boolean): RawBuilder<unknown> {
    const column = this.client.column('products', 'sku');
    const text = this.client.asText(column);
    const trimmed = {
      postgres: sql`btrim(${text}, chr(32) || chr(9) || chr(10) || chr(13))`,
      sqlite: sql`trim(${text}, char(32, 9, 10, 13))`,
      // char(n) alone is a binary string, which would make the key binary (and upper() a no-op).
      mysql: sql`trim(replace(replace(replace(${text}, char(9 using utf8mb4), ' '), char(10 using utf8mb4), ' '), char(13 using utf8mb4), ' '))`,
      // TRIM(characters FROM …): SQL Server 2017 and later.
      mssql: sql`trim(char(32) + char(9) + char(10) + char(13) from ${text})`,
    }[this.client.dialect];
    return caseInsensitive ? sql`upper(${trimmed})` : trimmed;
  }
}

/**
 * The rejections of the duplicate rows among `productIds` (the rows a page covers), each naming
 * every row of its group.
 */
export function duplicateRejections(
  group: readonly DuplicateRow[],
  groupKey: string,
  productIds: ReadonlySet<string>,
  names: { productsTable: string; idColumn: string; skuColumn: string },
  caseInsensitive: boolean,
): RejectedRecord[] {
  const listed = group.map((row) => `${names.idColumn} ${String(row.productId)} (${names.skuColumn} ${JSON.stringify(row.storedSku)})`).join(', ');
  const how = caseInsensitive ? 'ignoring surrounding blanks and letter case' : 'ignoring surrounding blanks';
  const reason = `SKU ${JSON.stringify(groupKey)} is held by ${group.length} rows of ${names.productsTable} (${how}): ${listed}; nothing is pushed for it until one row remains`;
  return group
    .filter((row) => productIds.has(String(row.productId)))
    .map((row) => ({
      recordKey: `${names.productsTable}#${String(row.productId)}`,
      reason,
      category: QUARANTINE_CATEGORY.duplicateKey,
      subject: groupKey,
      payload: { [`${names.productsTable}.${names.idColumn}`]: row.productId, [`${names.productsTable}.${names.skuColumn}`]: row.storedSku, duplicates: group.length },
    }));
}

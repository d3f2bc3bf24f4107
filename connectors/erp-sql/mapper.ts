/**
 * Pure mapping of one ERP stock row to a canonical StockLevel, or to a rejection that says
 * exactly what is wrong with the row (in the ERP's own column names) so an operator can fix it
 * at the source. A bad row never fails the page it is on.
 */
import type { RejectedRecord } from '../contract';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import type { StockLevel } from '../../core/model';
import { quantityFromDecimalText } from '../../core/quantity';
import { stockKeyColumns, type ErpTables } from './config';

/** One stock row as the page queries return it (aliases fixed by the queries, values as the driver gives them). */
export interface ErpStockRow {
  /** The row's identity: its key columns in config order (stockKeyColumns), as stock_key_0, stock_key_1, … */
  stock_key_0: unknown;
  [keyColumn: `stock_key_${number}`]: unknown;
  product_id: unknown;
  location_id: unknown;
  /** The product's id when the referenced product exists (null: dangling product reference). */
  product_found: unknown;
  /** The location's id when the referenced location exists (null: dangling location reference). */
  location_found: unknown;
  sku: unknown;
  location_code: unknown;
  on_hand: unknown;
  reserved: unknown;
  /** The modification time normalised in SQL to `YYYY-MM-DDTHH:MM:SS.sssZ` (null when empty or unparsable). */
  modified_at: unknown;
  /** The modification time as stored, as text (for messages and the payload). */
  modified_at_raw: unknown;
  /** 1 when the product matches tables.products.notForSale (0 or null otherwise). */
  not_for_sale: unknown;
}

export type StockRowResult =
  | { ok: true; level: StockLevel }
  /** `sku`: the SKU the bad row belongs to, when known (its stock is incomplete). */
  | { ok: false; rejection: RejectedRecord; sku: string | undefined };

const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Longest SKU the canonical model accepts (core/model SkuCode). */
const MAX_SKU_LENGTH = 128;

/**
 * `observedAt`: the level's time when the stock table has no modification column (the time the
 * page was read); with one, the row's own time is used and must be valid.
 */
export function mapStockRow(row: ErpStockRow, tables: ErpTables, observedAt?: string): StockRowResult {
  const stock = tables.stock;
  const sku = trimmedText(row.sku);
  const location = trimmedText(row.location_code);

  if (isEmpty(row.product_found)) return rejectRow(row, tables, sku, location, `${stock.productId} ${String(row.product_id)} matches no row in ${tables.products.table}`);
  if (isEmpty(row.location_found)) return rejectRow(row, tables, sku, location, `${stock.locationId} ${String(row.location_id)} matches no row in ${tables.locations.table}`);
  if (!sku) return rejectRow(row, tables, sku, location, `the product's ${tables.products.sku} is empty`);
  if (sku.length > MAX_SKU_LENGTH) return rejectRow(row, tables, sku, location, `the product's ${tables.products.sku} is longer than ${MAX_SKU_LENGTH} characters`);
  if (!location) return rejectRow(row, tables, sku, location, `the location's ${tables.locations.code} is empty`);

  // Exact, in the ERP's unit: the mapping converts and rounds (core/quantity.ts).
  const onHandRead = sourceQuantity(row.on_hand);
  if (!onHandRead.ok) return rejectRow(row, tables, sku, location, `${stock.onHand} ${onHandRead.problem}`);
  const reservedRead = sourceQuantity(row.reserved);
  if (!reservedRead.ok) return rejectRow(row, tables, sku, location, `${stock.reserved} ${reservedRead.problem}`);
  const onHand = onHandRead.value;
  const reserved = reservedRead.value;
  if (reserved < 0) return rejectRow(row, tables, sku, location, `${stock.reserved} is negative (${String(row.reserved)})`);

  if (stock.modifiedAt === undefined) return { ok: true, level: { sku, location, onHand, reserved, at: observedAt ?? new Date().toISOString() } };
  if (typeof row.modified_at !== 'string' || !ISO_UTC_MILLIS.test(row.modified_at)) {
    const reason = isEmpty(row.modified_at_raw) ? `${stock.modifiedAt} is empty (NULL)` : `${stock.modifiedAt} is not a date and time (${JSON.stringify(row.modified_at_raw)})`;
    return rejectRow(row, tables, sku, location, reason);
  }
  return { ok: true, level: { sku, location, onHand, reserved, at: row.modified_at } };
}

/**
 * The rejection of a row, built only for bad rows: the good path of mapStockRow allocates no
 * more than the level it returns (a page maps thousands of rows).
 */
function rejectRow(row: ErpStockRow, tables: ErpTables, sku: string | undefined, location: string | undefined, reason: string): StockRowResult {
  const stock = tables.stock;
  const knownSku = isEmpty(row.product_found) ? undefined : sku;
  return {
    ok: false,
    sku: knownSku,
    rejection: {
      recordKey: sku && location ? `${sku}|${location}` : `${stock.table}#${rowIdentity(row, tables)}`,
      reason: `${reason} in ${stock.table} row ${rowIdentity(row, tables)}`,
      category: QUARANTINE_CATEGORY.invalidSourceRow,
      subject: knownSku ?? '',
      payload: payloadOf(row, tables),
    },
  };
}

/**
 * A quantity as the source keeps it, exactly: numbers (SQLite, SQL Server) and decimal strings
 * (PostgreSQL and MySQL `numeric`, e.g. "12.500"). Rounding to whole units is the stock
 * mapping's (core/quantity.ts), after converting units.
 */
export function sourceQuantity(value: unknown): { ok: true; value: number } | { ok: false; problem: string } {
  if (isEmpty(value)) return { ok: false, problem: 'is empty (NULL)' };
  if (typeof value === 'number') return Number.isFinite(value) ? { ok: true, value: value === 0 ? 0 : value } : { ok: false, problem: `is not a finite number (${value})` };
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? { ok: true, value: Number(value) } : { ok: false, problem: `is out of range (${String(value)})` };
  if (typeof value === 'string') return quantityFromDecimalText(value);
  return { ok: false, problem: `is not a number (${JSON.stringify(value)})` };
}

/** A stock row as its key names it: `17` for one id column, `TowarId=5, MagazynId=2` for several. */
function rowIdentity(row: ErpStockRow, tables: ErpTables): string {
  const keys = stockKeyColumns(tables.stock);
  if (keys.length === 1) return String(row.stock_key_0);
  return keys.map((column, index) => `${column}=${String(row[`stock_key_${index}`])}`).join(', ');
}

/** The row under the ERP's own column names, so the quarantine shows what the ERP holds. */
function payloadOf(row: ErpStockRow, tables: ErpTables): Record<string, unknown> {
  const { products, locations, stock } = tables;
  const keys: Record<string, unknown> = {};
  stockKeyColumns(stock).forEach((column, index) => (keys[`${stock.table}.${column}`] = row[`stock_key_${index}`]));
  return {
    ...keys,
    [`${stock.table}.${stock.productId}`]: row.product_id,
    [`${stock.table}.${stock.locationId}`]: row.location_id,
    [`${products.table}.${products.sku}`]: row.sku,
    [`${locations.table}.${locations.code}`]: row.location_code,
    [`${stock.table}.${stock.onHand}`]: row.on_hand,
    [`${stock.table}.${stock.reserved}`]: row.reserved,
    ...(stock.modifiedAt === undefined ? {} : { [`${stock.table}.${stock.modifiedAt}`]: row.modified_at_raw }),
  };
}

/** A cell as trimmed text (numbers and bigints as their digits); undefined when empty or another type. */
export function trimmedText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** SQL NULL as the drivers give it. */
export function isEmpty(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

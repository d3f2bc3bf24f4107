/**
 * `stock.read` of a file source: pages of SKUs from the connector's memory (source.ts), each
 * with its level at every location the files reported, so availability is summed over all of
 * a SKU's locations even when each location's stock comes in a file of its own.
 */
import type { StockLevel } from '../../core/model';
import { skuKey } from '../../core/model';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import type { RejectedRecord, StockPage, StockReadRequest, StockSource } from '../contract';
import type { StockFilePattern } from './config';
import { readStockCsv } from './csv-format';
import { readInvrpt } from './edifact-format';
import type { EntityFiles } from './ingest';
import type { SkuRecord } from './merge';
import type { StockReport, StockValue } from './report';
import type { FileSource } from './source';

export const STOCK_FILES: EntityFiles<StockValue, StockValue> = {
  entity: 'stock',
  parse(bytes, pattern, utcOffset): StockReport {
    const stock = pattern as StockFilePattern;
    return stock.format.type === 'csv' ? readStockCsv(bytes, { ...stock, format: stock.format }, utcOffset) : readInvrpt(bytes, { ...stock, format: stock.format }, utcOffset);
  },
  // One row per SKU and location: more are rejected as contradicting (merge.ts).
  combine: (rows) => rows[0]!.value,
  describePart: (sku, location) => `SKU ${sku} at location ${location}`,
};

export class FileStockSource implements StockSource {
  constructor(private readonly source: FileSource<StockValue, StockValue>) {}

  async readStockPage(request: StockReadRequest): Promise<StockPage> {
    const page = await this.source.read(request.mode, request.cursor, request.limit);
    const { levels, skus, rejected } = stockOfRecords(page.records, request.caseInsensitiveSkus ?? false);
    return { levels, skus, rejected: [...page.rejected, ...rejected], nextCursor: page.nextCursor, resumeCursor: page.resumeCursor };
  }
}

/**
 * The levels of SKUs as their records hold them. A SKU with a standing rejection is left out,
 * its rejections reported instead; SKUs that differ only in letter case, where a target compares
 * them so, are left out and rejected as duplicates (their levels would overwrite each other).
 */
export function stockOfRecords(records: ReadonlyArray<{ sku: string; record: SkuRecord<StockValue> }>, caseInsensitive: boolean): { levels: StockLevel[]; skus: string[]; rejected: RejectedRecord[] } {
  const levels: StockLevel[] = [];
  const skus: string[] = [];
  const rejected: RejectedRecord[] = [];
  const byKey = new Map<string, string[]>();
  for (const { sku } of records) byKey.set(skuKey(sku, caseInsensitive), [...(byKey.get(skuKey(sku, caseInsensitive)) ?? []), sku]);
  for (const { sku, record } of records) {
    const standing = Object.values(record.rejected);
    if (standing.length > 0) {
      rejected.push(...standing.flatMap((s) => s.records));
      continue;
    }
    const key = skuKey(sku, caseInsensitive);
    const same = byKey.get(key) ?? [];
    if (same.length > 1) {
      rejected.push({
        recordKey: `${key}|${sku}`,
        reason: `SKU ${JSON.stringify(sku)} is reported by the files beside ${same.filter((other) => other !== sku).map((other) => JSON.stringify(other)).join(', ')}, which a target of the sync counts as the same SKU`,
        category: QUARANTINE_CATEGORY.duplicateKey,
        subject: key,
        payload: { sku, sameAs: same },
      });
      continue;
    }
    skus.push(sku);
    for (const [location, state] of Object.entries(record.parts)) levels.push({ sku, location, onHand: state.value.onHand, reserved: state.value.reserved, at: state.at });
  }
  return { levels, skus, rejected };
}

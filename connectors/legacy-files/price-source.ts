/**
 * `price.read` of a file source: pages of SKUs from the connector's memory (source.ts), each
 * with every entry of every price list the files reported for it (the hub prices a SKU from
 * all its lists at once). A file is an absolute report of the entries of the price lists it
 * lists for a SKU: it replaces the SKU's earlier entries of those lists (merge.ts).
 */
import type { PriceListEntry } from '../../core/price-rules';
import type { PricePage, PriceReadRequest, PriceSource, RejectedRecord } from '../contract';
import type { PriceFilePattern } from './config';
import { readPriceCsv } from './csv-format';
import { readPricat } from './edifact-format';
import type { EntityFiles } from './ingest';
import type { SkuRecord } from './merge';
import type { PriceReport } from './report';
import type { FileSource } from './source';

export const PRICE_FILES: EntityFiles<PriceListEntry, PriceListEntry[]> = {
  entity: 'price',
  parse(bytes, pattern, utcOffset): PriceReport {
    const price = pattern as PriceFilePattern;
    return price.format.type === 'csv' ? readPriceCsv(bytes, { ...price, format: price.format }, utcOffset) : readPricat(bytes, { ...price, format: price.format }, utcOffset);
  },
  combine: (rows) => rows.map((row) => row.value),
  describePart: (sku, priceList) => `SKU ${sku} in price list ${priceList}`,
};

export class FilePriceSource implements PriceSource {
  constructor(private readonly source: FileSource<PriceListEntry, PriceListEntry[]>) {}

  async readPricePage(request: PriceReadRequest): Promise<PricePage> {
    const page = await this.source.read(request.mode, request.cursor, request.limit);
    const { entries, rejected } = pricesOfRecords(page.records, request.priceLists);
    return { entries, rejected: [...page.rejected, ...rejected], nextCursor: page.nextCursor, resumeCursor: page.resumeCursor };
  }
}

/** The entries of SKUs (of the lists asked for); a SKU with a standing rejection gives its rejections instead. */
export function pricesOfRecords(records: ReadonlyArray<{ sku: string; record: SkuRecord<PriceListEntry[]> }>, priceLists: readonly string[] | undefined): { entries: PriceListEntry[]; rejected: RejectedRecord[] } {
  const lists = priceLists === undefined ? undefined : new Set(priceLists.map((list) => list.trim()));
  const entries: PriceListEntry[] = [];
  const rejected: RejectedRecord[] = [];
  for (const { record } of records) {
    const standing = Object.entries(record.rejected).filter(([list]) => lists === undefined || lists.has(list));
    if (standing.length > 0) {
      rejected.push(...standing.flatMap(([, s]) => s.records));
      continue;
    }
    for (const [list, state] of Object.entries(record.parts)) if (lists === undefined || lists.has(list)) entries.push(...state.value);
  }
  return { entries, rejected };
}

/**
 * Reading a stock source to its end, page after page, as the engine does: for connector tests
 * that compare what a source returns across page sizes, modes and configurations.
 */
import type { ConnectorInstance, StockCursor, StockPage, StockReadMode, StockReadRequest } from '../../connectors/contract';
import type { RejectedRecord, StockLevel } from '../../core/model';

export interface StockReadThrough {
  pages: StockPage[];
  /** The last resume cursor a page gave (or the start), as a run would commit it. */
  resume: StockCursor | null;
  levels: StockLevel[];
  skus: string[];
  rejected: RejectedRecord[];
}

/** Reads pages until nextCursor is null (at most 1,000: a cursor that does not advance fails the test). */
export async function readAllStockPages(
  source: ConnectorInstance,
  request: { mode: StockReadMode; start?: StockCursor | null; limit: number } & Pick<StockReadRequest, 'caseInsensitiveSkus'>,
): Promise<StockReadThrough> {
  const pages: StockPage[] = [];
  let cursor = request.start ?? null;
  let resume: StockCursor | null = cursor;
  for (let guard = 0; guard < 1_000; guard++) {
    const page = await source.operations['stock.read']!.readStockPage({
      mode: request.mode,
      cursor,
      limit: request.limit,
      ...(request.caseInsensitiveSkus === undefined ? {} : { caseInsensitiveSkus: request.caseInsensitiveSkus }),
    });
    pages.push(page);
    resume = page.resumeCursor ?? resume;
    if (page.nextCursor === null) {
      return { pages, resume, levels: pages.flatMap((p) => p.levels), skus: pages.flatMap((p) => p.skus), rejected: pages.flatMap((p) => p.rejected) };
    }
    cursor = page.nextCursor;
  }
  throw new Error('more than 1,000 pages: the cursor does not advance');
}

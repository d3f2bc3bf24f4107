/**
 * What a parsed file reports, whatever its format: rows of one entity keyed by SKU and part
 * (stock: the location; prices: the price list), and the lines that could not be read. Pure.
 */
import type { PriceListEntry } from '../../core/price-rules';

/** One readable row of a file. */
export interface FileRow<V> {
  sku: string;
  /** stock: the location code; prices: the price list code. */
  part: string;
  value: V;
  /** Where in the file: "line 7" (CSV) or "segment 12" (EDIFACT). */
  where: string;
  /** Two rows with one duplicate key contradict each other (stock: SKU and location; prices: also validFrom). */
  duplicateKey: string;
}

/** A line or segment that could not be read; the rest of the file is applied. */
export interface LineProblem {
  where: string;
  reason: string;
  /** The SKU, when the line names a readable one. */
  sku?: string;
  /** The part (location, price list), when readable. */
  part?: string;
  /** The line's fields as the file has them (header → value), for the quarantine. */
  fields: Record<string, string>;
}

export interface FileReport<V> {
  rows: FileRow<V>[];
  problems: LineProblem[];
  /** The time the document gives itself (EDIFACT DTM+137 or UNB), ISO-8601 UTC. */
  documentTime?: string;
}

/** A stock row's value: exact quantities in the file's unit. */
export interface StockValue {
  onHand: number;
  reserved: number;
}

export type StockReport = FileReport<StockValue>;
export type PriceReport = FileReport<PriceListEntry>;

/**
 * The whole file cannot be read as the pattern says (wrong encoding, no header, not an EDIFACT
 * message of the expected type): it goes to the error folder with this message as its reason.
 */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';
}

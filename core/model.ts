/**
 * Canonical model: the shapes every connector maps to and from (docs/architecture.md).
 *
 * Only what the stock path needs is filled in; prices, orders and loyalty extend this module
 * with the same conventions: zod schemas are the source of truth, types are inferred, money is
 * a decimal string (never a binary float), quantities of countable units are integers.
 */
import { z } from 'zod';
import type { QuarantineCategory } from './quarantine-categories';

/** A stock-keeping unit code as the retailer uses it across systems (trimmed, non-empty). */
export const SkuCode = z.string().trim().min(1).max(128);
export type SkuCode = z.infer<typeof SkuCode>;

/** Money as a decimal string with up to 4 fractional digits, e.g. "129.99". */
export const DecimalAmount = z.string().regex(/^-?\d+(\.\d{1,4})?$/, 'expected a decimal number such as "129.99"');

export const Product = z.object({
  sku: SkuCode,
  ean: z.string().regex(/^\d{8,14}$/).optional(),
  name: z.string().min(1),
  unit: z.string().min(1).default('szt'),
});
export type Product = z.infer<typeof Product>;

export const LocationType = z.enum(['warehouse', 'store']);
export const Location = z.object({
  /** The location code in the system it comes from (e.g. an ERP warehouse symbol). */
  id: z.string().min(1),
  type: LocationType,
  name: z.string().optional(),
  coordinates: z.object({ lat: z.number(), lon: z.number() }).optional(),
});
export type Location = z.infer<typeof Location>;

/**
 * Stock of one SKU at one source location, in the source's unit. `onHand` and `reserved` are the
 * source's exact decimals (an ERP's `numeric(12,3)`, a file's "12,5"; at most 15 significant
 * digits, core/quantity.ts): the stock mapping converts them to each channel's unit and rounds
 * them to whole units by its rules (floor on hand, ceil reserved by default).
 */
export const StockLevel = z.object({
  sku: SkuCode,
  location: z.string().min(1),
  onHand: z.number().finite(),
  reserved: z.number().finite().nonnegative(),
  /** When the source last changed this level (ISO-8601). */
  at: z.string(),
});
export type StockLevel = z.infer<typeof StockLevel>;

/**
 * The key under which two SKUs count as one record: trimmed, and upper-cased when a target of
 * the sync compares SKUs case-insensitively (core/stock-limits.ts). Sources key duplicates by
 * it, and quarantine entries of duplicates name it as their subject.
 */
export function skuKey(sku: string, caseInsensitive: boolean): string {
  const trimmed = sku.trim();
  return caseInsensitive ? trimmed.toUpperCase() : trimmed;
}

/** Where a stock read resumes. Named strategies, never positions (docs/architecture.md). */
export type StockCursor =
  /** File sources (legacy-files): the next SKU of one of the connector's lists (`known`: full reads; `changes`: delta reads), by chunk and offset. */
  | { strategy: 'files'; list: 'known' | 'changes'; chunk: number; offset: number }
  /** Full read: every SKU in key order, after this key. */
  | { strategy: 'key'; afterKey: string }
  /** Delta read: rows modified after (modifiedAt, key), in that order; a key of several columns is a list. */
  | { strategy: 'modified'; afterModifiedAt: string; afterKey: string | string[] };

export type StockReadMode = 'full' | 'delta';

/**
 * Remote ids of local keys, per connector and kind (e.g. SKU → Shopify inventory item). The
 * state store implements it; connectors receive it in their dependencies.
 */
export interface CrosswalkStore {
  /** Remote ids for local keys of one kind; missing keys are absent. */
  get(kind: string, keys: readonly string[]): Promise<Map<string, string>>;
  put(kind: string, entries: ReadonlyMap<string, string>): Promise<void>;
}

/** One absolute quantity to set for a SKU at one of a target's own locations. */
export interface StockUpdate {
  sku: string;
  /** The target's location id, already mapped (e.g. "gid://shopify/Location/1"). */
  location: string;
  quantity: number;
}

export type StockUpdateKey = Pick<StockUpdate, 'sku' | 'location'>;

/** A changed stock quantity waiting to be written to one target. */
export interface StagedStockItem extends StockUpdate {
  /** What the target was last confirmed to hold (null: never pushed). For dry runs and reports. */
  previousQuantity: number | null;
}

/**
 * One change staged for one record of a target, whatever the entity: what the entity's spec
 * made of it (core/entities), as the state store keeps and the push reads it.
 */
export interface StagedItem {
  /** The record's business key (a SKU). */
  key: string;
  /** The part of the record within the key: '' for none; stock: the target's location. */
  part: string;
  /** The value to write, as the entity's canonical text; it becomes the snapshot's value once confirmed. */
  value: string;
  /** What the target was last confirmed to hold (null: never pushed). */
  previous: string | null;
  /** Why the entity's guard holds this change for an operator (prices); absent: it may be pushed. */
  held?: string;
  /** What the write needs beyond the value and the snapshot does not keep (price: the Omnibus lowest price), as JSON. */
  extra?: unknown;
}

/** Which snapshot a record's value belongs to. */
export interface SnapshotScope {
  syncName: string;
  target: string;
  entity: string;
}

/** A source record that failed validation, kept whole so an operator can fix it at the source. */
export interface RejectedRecord {
  recordKey: string;
  reason: string;
  /** The cause, for grouping in summaries. */
  category: QuarantineCategory;
  /**
   * The business key (SKU) the record belongs to, when known: once that SKU syncs cleanly, its
   * quarantined records are marked resolved. Empty when the row names no SKU.
   */
  subject: string;
  payload: unknown;
}

/** What a channel should show for one SKU at one of the channel's locations. */
export const ChannelAvailability = z.object({
  sku: SkuCode,
  channel: z.string().min(1),
  /** The channel's own location id (e.g. a Shopify location GID). */
  location: z.string().min(1),
  quantity: z.number().int().nonnegative(),
  active: z.boolean(),
});
export type ChannelAvailability = z.infer<typeof ChannelAvailability>;

export const PriceEntry = z.object({
  sku: SkuCode,
  priceList: z.string().min(1),
  currency: z.string().length(3),
  net: DecimalAmount,
  gross: DecimalAmount,
  vatRate: DecimalAmount,
  validFrom: z.string().optional(),
  validTo: z.string().optional(),
});
export type PriceEntry = z.infer<typeof PriceEntry>;

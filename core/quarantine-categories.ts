/**
 * Categories of quarantined records: short, stable labels that group records by cause in run
 * summaries (`sync run`, dry runs, the worker's run log). The full, record-specific reason is
 * kept beside the category.
 */
export const QUARANTINE_CATEGORY = {
  /** A source row that cannot be read as stock (empty or non-numeric quantity, dangling reference). */
  invalidSourceRow: 'invalid source row',
  /** Several source rows share one record key (SKU), as the targets compare keys. */
  duplicateKey: 'duplicate key in source',
  /** Stock at a source location that the mapping neither maps nor ignores. */
  unmappedLocation: 'unmapped source location',
  /** A negative on-hand quantity, under the policy `negativeOnHand: quarantine`. */
  negativeOnHand: 'negative on hand',
  /** Reserved above on hand, under the policy `reservedAboveOnHand: quarantine`. */
  reservedAboveOnHand: 'reserved above on hand',
  /** A value outside what the target accepts (quantity range, SKU length). */
  outsideTargetLimits: 'outside target limits',
  /** The target does not know the record (a SKU with no variant in the shop, or several). */
  unknownToTarget: 'unknown to target',
  /** The target refused the item (a per-item error of a write call). */
  refusedByTarget: 'refused by target',
  /** Entries that give no channel price (net and gross disagree, no rate for the currency, a price of zero). */
  uncomputablePrice: 'price cannot be computed',
} as const;

export type QuarantineCategory = (typeof QUARANTINE_CATEGORY)[keyof typeof QUARANTINE_CATEGORY];

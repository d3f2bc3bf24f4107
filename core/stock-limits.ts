/**
 * What a stock target accepts, as data, and the pure check of one update against it.
 *
 * A target declares its limits in its connector manifest (`writeLimits.stock`). Every staged
 * update is checked before it is sent: one that the target would refuse (a quantity beyond a
 * 32-bit integer, a SKU longer than the target stores) is quarantined with the value and the
 * limit, and the rest of the page goes on. Without this, an atomic write call (Shopify's
 * `inventorySetQuantities`) fails as a whole for one bad item.
 */

export interface StockWriteLimits {
  /** Smallest quantity the target accepts. */
  minQuantity: number;
  /** Largest quantity the target accepts. */
  maxQuantity: number;
  /** Longest SKU the target stores, in characters. */
  maxSkuLength: number;
  /** Longest location id the target accepts, in characters. */
  maxLocationLength: number;
  /**
   * Whether the target treats SKUs that differ only in letter case as the same SKU. Sources
   * then report such SKUs as duplicates: pushing both would flip the target's one quantity
   * between them.
   */
  caseInsensitiveSkus: boolean;
  /** Says where the limits come from, for messages (e.g. "Shopify: at most 1,000,000,000"). */
  describe: string;
}

/** Limits of a target that declares none: what the canonical model can carry. */
export const DEFAULT_STOCK_WRITE_LIMITS: StockWriteLimits = {
  minQuantity: 0,
  maxQuantity: Number.MAX_SAFE_INTEGER,
  maxSkuLength: 128,
  maxLocationLength: 1_000,
  caseInsensitiveSkus: false,
  describe: 'no declared limits',
};

/**
 * Why `update` cannot be sent to a target with `limits`, or undefined when it can. The message
 * names the value and the limit, so an operator can fix the record at the source.
 */
export function stockLimitViolation(update: { sku: string; location: string; quantity: number }, limits: StockWriteLimits, targetId: string): string | undefined {
  const { quantity, sku, location } = update;
  if (!Number.isSafeInteger(quantity)) return `quantity ${String(quantity)} is not a whole number that target "${targetId}" can take`;
  if (quantity > limits.maxQuantity) return `quantity ${quantity} is above the largest target "${targetId}" accepts (${limits.maxQuantity}; ${limits.describe})`;
  if (quantity < limits.minQuantity) return `quantity ${quantity} is below the smallest target "${targetId}" accepts (${limits.minQuantity}; ${limits.describe})`;
  if (sku.length > limits.maxSkuLength) return `SKU is ${sku.length} characters long, longer than target "${targetId}" stores (${limits.maxSkuLength})`;
  if (location.length > limits.maxLocationLength) return `location id is ${location.length} characters long, longer than target "${targetId}" accepts (${limits.maxLocationLength})`;
  return undefined;
}

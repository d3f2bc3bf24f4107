/**
 * Which Admin API versions the simulator serves and the behaviour that changes between them.
 * Shopify versions are `YYYY-MM` strings, so they compare correctly as strings.
 */

/** Versions served unless the simulator is told otherwise. */
export const DEFAULT_API_VERSIONS: readonly string[] = ['2025-10', '2026-01', '2026-04'];

/** From this version inventory mutations need `@idempotent` and `changeFromQuantity` on every quantity. */
export const INVENTORY_CAS_AND_IDEMPOTENCY_REQUIRED_FROM = '2026-04';

export interface ApiVersionRules {
  /** `@idempotent(key:)` must be present on inventory mutations (runtime check, as in Shopify). */
  idempotencyRequired: boolean;
  /**
   * Every quantity must include `changeFromQuantity` (null opts out of compare-and-swap); before
   * this, `compareQuantity`/`ignoreCompareQuantity` did that job.
   */
  changeFromQuantityRequired: boolean;
}

export function rulesForVersion(version: string): ApiVersionRules {
  const from2026_04 = version >= INVENTORY_CAS_AND_IDEMPOTENCY_REQUIRED_FROM;
  return { idempotencyRequired: from2026_04, changeFromQuantityRequired: from2026_04 };
}

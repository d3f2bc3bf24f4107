/**
 * What a channel may list, from what is physically available: the availability engine's pure
 * arithmetic. The stock mapping (core/stock-mapping.ts) sums the sellable stock of a target
 * location's sources and asks listedQuantity what the channel shows there.
 *
 *   open      = max(0, available − units reserved by orders not yet booked in the source)
 *   listed    = min(maxListed, max(0, open − ⌈open × percent / 100⌉ − units))
 *
 * - The percentage is held back first and rounded up (a fraction of a unit held back is a whole
 *   unit held back), then the absolute units: both only ever lower what is listed.
 * - maxListed caps what a channel shows (a marketplace that must not show a warehouse's depth),
 *   never raises it.
 * - A bundle (kit) is available as often as its scarcest component allows:
 *   min over components of ⌊component available / units per bundle⌋.
 *
 * Quantities here are whole channel units (the mapping converts and rounds before); the results
 * are whole, never negative, and never above what the allowed locations physically hold.
 */
import { z } from 'zod';

/** Percentages are counted in hundredths of a percent, so that the arithmetic stays in integers. */
const HUNDREDTHS = 100;

/**
 * Units held back from a channel: a whole number of units (`2`), or `{ units, percent }` with
 * either or both (`{ percent: 10 }`: a tenth of what is available, rounded up to whole units).
 */
export const SafetyBuffer = z
  .union([
    z.number().int().nonnegative(),
    z.strictObject({
      units: z.number().int().nonnegative().default(0),
      /** Share of the available units held back, 0-100, at most two decimals (12.5). */
      percent: z.number().min(0).max(100).multipleOf(0.01, 'at most two decimals').default(0),
    }),
  ])
  // Parsed into the object form, which parses again to itself (mappings are re-parsed in tests).
  .transform((buffer): SafetyBufferRule => (typeof buffer === 'number' ? { units: buffer, percent: 0 } : buffer));

export interface SafetyBufferRule {
  units: number;
  /** 0-100, at most two decimals. */
  percent: number;
}

export const NO_SAFETY_BUFFER: SafetyBufferRule = { units: 0, percent: 0 };

export interface ListingRule {
  buffer: SafetyBufferRule;
  /** The most a channel shows at one location; undefined: no cap. */
  maxListed?: number | undefined;
}

/**
 * What a channel lists at one location, from the whole units available to it there (`available`,
 * already net of the source's own reservations) and the units of orders the source has not
 * booked yet (`openOrders`).
 */
export function listedQuantity(available: number, rule: ListingRule, openOrders = 0): number {
  const open = Math.max(0, available - Math.max(0, openOrders));
  const { units, percent } = rule.buffer;
  const percentHundredths = Math.round(percent * HUNDREDTHS);
  // ⌈open × p / 10,000⌉ in integers: exact for any quantity a channel accepts (< 2^53 / 10^4).
  const heldByPercent = percentHundredths === 0 ? 0 : Math.floor((open * percentHundredths + (100 * HUNDREDTHS - 1)) / (100 * HUNDREDTHS));
  const listed = Math.max(0, open - heldByPercent - units);
  return rule.maxListed === undefined ? listed : Math.min(listed, rule.maxListed);
}

export interface BundleComponent {
  /** Whole units of the component available where the bundle is sold. */
  available: number;
  /** Units of the component in one bundle (≥ 1). */
  perBundle: number;
}

/** Bundles that can be assembled from the components' available units; 0 without components. */
export function bundleAvailable(components: readonly BundleComponent[]): number {
  if (components.length === 0) return 0;
  let bundles = Number.POSITIVE_INFINITY;
  for (const { available, perBundle } of components) bundles = Math.min(bundles, Math.floor(Math.max(0, available) / perBundle));
  return bundles;
}

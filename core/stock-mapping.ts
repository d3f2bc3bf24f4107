/**
 * Stock mapping: from source stock levels (per source location) to the quantity each target
 * location of a channel should show. Declared in mappings/*.yaml, applied by pure functions.
 *
 * available(target location) = max(0, Σ over mapped source locations (onHand − reserved) − safetyBuffer)
 *
 * A source location that is neither mapped nor listed in `ignoreSourceLocations` is unmappable:
 * the SKU's levels are quarantined with the reason instead of being silently dropped, because
 * pushing a sum that misses a location would understate (or, after a move, overstate) stock.
 */
import { z } from 'zod';
import type { StockLevel } from './model';
import type { StockUpdate } from '../connectors/contract';
import type { RejectedRecord } from '../connectors/contract';

export const StockLocationRule = z.strictObject({
  /** The channel's own location id (e.g. "gid://shopify/Location/71001"). */
  target: z.string().min(1),
  /** Source location codes summed into this target location. */
  sources: z.array(z.string().min(1)).min(1),
  /** Units held back from this channel at this location (default 0). */
  safetyBuffer: z.number().int().nonnegative().default(0),
});

export const StockMapping = z.strictObject({
  entity: z.literal('stock'),
  locations: z.array(StockLocationRule).min(1),
  /** Source locations known not to sell on this channel (e.g. a returns warehouse). */
  ignoreSourceLocations: z.array(z.string().min(1)).default([]),
  skus: z
    .strictObject({
      /** Source SKU → channel SKU, where the channel lists a product under another code. */
      rename: z.record(z.string(), z.string().min(1)).default({}),
      /** Source SKUs never pushed to this channel. */
      exclude: z.array(z.string()).default([]),
    })
    .default({ rename: {}, exclude: [] }),
});
export type StockMapping = z.infer<typeof StockMapping>;

/** Problems in a mapping that the schema cannot see (a source mapped twice). */
export function checkStockMapping(mapping: StockMapping): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  mapping.locations.forEach((rule, index) => {
    for (const source of rule.sources) {
      const previous = seen.get(source);
      if (previous !== undefined) {
        problems.push(`locations[${index}].sources: source location "${source}" is already mapped in locations[${previous}]`);
      }
      seen.set(source, index);
      if (mapping.ignoreSourceLocations.includes(source)) {
        problems.push(`locations[${index}].sources: source location "${source}" is also listed in ignoreSourceLocations`);
      }
    }
  });
  const targets = new Set<string>();
  mapping.locations.forEach((rule, index) => {
    if (targets.has(rule.target)) problems.push(`locations[${index}].target: target location "${rule.target}" appears twice`);
    targets.add(rule.target);
  });
  return problems;
}

export interface TargetStockResult {
  updates: StockUpdate[];
  rejected: RejectedRecord[];
}

/**
 * Computes the absolute quantity per (channel SKU, target location) for every SKU of a page.
 * SKUs without any level get 0 everywhere: a product the source lists with no stock rows has
 * nothing to sell.
 */
export function computeTargetStock(skus: readonly string[], levels: readonly StockLevel[], mapping: StockMapping): TargetStockResult {
  const targetBySource = new Map<string, number>();
  mapping.locations.forEach((rule, index) => rule.sources.forEach((source) => targetBySource.set(source, index)));
  const ignored = new Set(mapping.ignoreSourceLocations);
  const excluded = new Set(mapping.skus.exclude);
  const isUnmapped = (level: StockLevel) => !targetBySource.has(level.location) && !ignored.has(level.location);

  const levelsBySku = new Map<string, StockLevel[]>();
  for (const level of levels) {
    const list = levelsBySku.get(level.sku);
    if (list) list.push(level);
    else levelsBySku.set(level.sku, [level]);
  }

  const updates: StockUpdate[] = [];
  const rejected: RejectedRecord[] = [];
  const noLevels: StockLevel[] = [];
  // One buffer of per-target sums, reset for each SKU: a page maps thousands of SKUs.
  const sums = new Array<number>(mapping.locations.length);
  for (const sku of skus) {
    if (excluded.has(sku)) continue;
    const skuLevels = levelsBySku.get(sku) ?? noLevels;
    if (skuLevels.some(isUnmapped)) {
      const unmapped = skuLevels.filter(isUnmapped);
      const codes = [...new Set(unmapped.map((level) => level.location))].sort().join(', ');
      rejected.push({
        recordKey: sku,
        reason: `source location ${codes} has no mapping (add it to a target's sources or to ignoreSourceLocations)`,
        payload: skuLevels,
      });
      continue;
    }
    sums.fill(0);
    for (const level of skuLevels) {
      const index = targetBySource.get(level.location);
      if (index !== undefined) sums[index]! += level.onHand - level.reserved;
    }
    const channelSku = Object.hasOwn(mapping.skus.rename, sku) ? mapping.skus.rename[sku]! : sku;
    for (let index = 0; index < mapping.locations.length; index++) {
      updates.push({ sku: channelSku, location: mapping.locations[index]!.target, quantity: Math.max(0, sums[index]! - mapping.locations[index]!.safetyBuffer) });
    }
  }
  return { updates, rejected };
}

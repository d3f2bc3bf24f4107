/**
 * Stock mapping: from source stock levels (per source location) to the quantity each target
 * location of a channel should show. Declared in mappings/*.yaml, applied by pure functions.
 *
 * available(target location) = Σ over mapped source locations max(0, onHand − reserved), and
 * the channel lists what core/availability.ts's listedQuantity leaves of it after the safety
 * buffer (units and/or a percentage; the location's, or the SKU group's) and the maximum listed
 * quantity (the mapping's, or the SKU group's), never below 0.
 *
 * A reservation above a location's on hand takes that location to zero, never below: it must not
 * eat the stock of another location. Negative on hand and reservations above on hand follow the
 * mapping's `quantities` policy (quarantine the SKU, or count it as zero and report it).
 *
 * A source location that is neither mapped nor listed in `ignoreSourceLocations` is unmappable:
 * the SKU's levels are quarantined with the reason instead of being silently dropped, because
 * pushing a sum that misses a location would understate (or, after a move, overstate) stock.
 */
import { z } from 'zod';
import type { StockLevel } from './model';
import type { RejectedRecord, StockUpdate } from './model';
import { QUARANTINE_CATEGORY } from './quarantine-categories';
import { listedQuantity, NO_SAFETY_BUFFER, SafetyBuffer, type ListingRule } from './availability';
import { toChannelUnits, UnitFactor, unitRatio, type UnitRatio } from './quantity';

export const StockLocationRule = z.strictObject({
  /** The channel's own location id (e.g. "gid://shopify/Location/71001"). */
  target: z.string().min(1),
  /** Source location codes summed into this target location. */
  sources: z.array(z.string().min(1)).min(1),
  /**
   * Held back from this channel at this location: units (`1`), or `{ units, percent }` (default 0).
   * A SKU group's buffer replaces it for the group's SKUs.
   */
  safetyBuffer: SafetyBuffer.default(NO_SAFETY_BUFFER),
});

/** The most a channel lists at one location (a marketplace that must not show a warehouse's depth). */
const MaxListed = z.number().int().nonnegative();

/**
 * SKUs that a channel lists by rules of their own: those named in `skus` and those starting with
 * one of `skuPrefixes` (source SKUs). A SKU belongs to the first group that names it.
 */
export const StockSkuGroup = z
  .strictObject({
    name: z.string().min(1),
    skus: z.array(z.string().min(1)).default([]),
    skuPrefixes: z.array(z.string().min(1)).default([]),
    /** Replaces the locations' safety buffers for these SKUs, at every target location. */
    safetyBuffer: SafetyBuffer.optional(),
    /** Replaces the mapping's maxListed for these SKUs. */
    maxListed: MaxListed.optional(),
  })
  .refine((group) => group.skus.length > 0 || group.skuPrefixes.length > 0, { message: 'a SKU group needs skus or skuPrefixes' });

/** What to do with quantities that cannot be taken at face value. */
export const StockQuantityPolicy = z.strictObject({
  /**
   * On hand below zero at a mapped location (a booking error in the source). `quarantine` (default):
   * the SKU is quarantined and the channels keep their last quantity until it is fixed. `zero`:
   * the location counts as 0 and the adjustment is reported.
   */
  negativeOnHand: z.enum(['quarantine', 'zero']).default('quarantine'),
  /**
   * Reserved above on hand at a mapped location (back orders). `clamp` (default): the location
   * counts as 0 and the adjustment is reported. `quarantine`: the SKU is quarantined.
   */
  reservedAboveOnHand: z.enum(['clamp', 'quarantine']).default('clamp'),
  /**
   * How quantities, converted to the channel's unit (`units`), become whole units. Default: on
   * hand `down` (a fraction that is not there cannot be sold), reserved `up` (a reserved
   * fraction blocks a whole unit). `nearest` rounds half up.
   */
  rounding: z
    .strictObject({
      onHand: z.enum(['down', 'up', 'nearest']).default('down'),
      reserved: z.enum(['down', 'up', 'nearest']).default('up'),
    })
    .default({ onHand: 'down', reserved: 'up' }),
});
export type StockQuantityPolicy = z.infer<typeof StockQuantityPolicy>;

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
  /** The most this channel lists at any one location; default: no cap. */
  maxListed: MaxListed.optional(),
  /** SKU groups with their own safety buffer or maximum (e.g. fast sellers, expensive items). */
  groups: z.array(StockSkuGroup).default([]),
  quantities: StockQuantityPolicy.default({ negativeOnHand: 'quarantine', reservedAboveOnHand: 'clamp', rounding: { onHand: 'down', reserved: 'up' } }),
  /**
   * Channel units per source unit, where they differ: `default` for every SKU, `skus` per source
   * SKU (e.g. `PL-000123: 12`: the ERP counts cartons of 12, the shop sells pieces; `"1/6"`: the
   * ERP counts pieces, the shop sells packs of 6). Quantities are converted exactly, then rounded
   * (`quantities.rounding`). Default: 1.
   */
  units: z
    .strictObject({
      default: UnitFactor.default(1),
      skus: z.record(z.string(), UnitFactor).default({}),
    })
    .default({ default: 1, skus: {} }),
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
  const groupNames = new Set<string>();
  mapping.groups.forEach((group, index) => {
    if (groupNames.has(group.name)) problems.push(`groups[${index}].name: group "${group.name}" appears twice`);
    groupNames.add(group.name);
  });
  // Two source SKUs renamed to one channel SKU would overwrite each other's quantity there.
  const renamedFrom = new Map<string, string>();
  for (const [source, channel] of Object.entries(mapping.skus.rename)) {
    const earlier = renamedFrom.get(channel);
    if (earlier !== undefined) problems.push(`skus.rename.${source}: "${channel}" is already the new name of ${earlier}`);
    else renamedFrom.set(channel, source);
  }
  return problems;
}

export interface TargetStockResult {
  updates: StockUpdate[];
  /** SKUs set to 0 everywhere because the source marks them not for sale (reported, not quarantined). */
  zeroedNotForSale: string[];
  rejected: RejectedRecord[];
  /** Levels counted as zero under the quantity policy (reported, not quarantined). */
  adjusted: AdjustedLevel[];
}

export interface AdjustedLevel {
  sku: string;
  location: string;
  /** e.g. "reserved 7 above on hand 5, counted as 0". */
  reason: string;
}

/**
 * Computes the absolute quantity per (channel SKU, target location) for every SKU of a page.
 * SKUs without any level get 0 everywhere: a product the source lists with no stock rows has
 * nothing to sell. So do SKUs in `notForSale` (blocked or withdrawn in the source), whatever
 * their levels: a channel must not keep selling them at their last quantity.
 */
export function computeTargetStock(
  skus: readonly string[],
  levels: readonly StockLevel[],
  mapping: StockMapping,
  notForSale: ReadonlySet<string> = new Set(),
): TargetStockResult {
  const targetBySource = new Map<string, number>();
  mapping.locations.forEach((rule, index) => rule.sources.forEach((source) => targetBySource.set(source, index)));
  const ignored = new Set(mapping.ignoreSourceLocations);
  const excluded = new Set(mapping.skus.exclude);
  const policy = mapping.quantities;
  const defaultRatio = mapping.units.default === 1 ? undefined : unitRatio(mapping.units.default);
  const skuRatios = new Map<string, UnitRatio>(Object.entries(mapping.units.skus).map(([sku, factor]) => [sku, unitRatio(factor)]));
  const isUnmapped = (level: StockLevel) => !targetBySource.has(level.location) && !ignored.has(level.location);

  const levelsBySku = new Map<string, StockLevel[]>();
  for (const level of levels) {
    const list = levelsBySku.get(level.sku);
    if (list) list.push(level);
    else levelsBySku.set(level.sku, [level]);
  }

  const updates: StockUpdate[] = [];
  const rejected: RejectedRecord[] = [];
  const adjusted: AdjustedLevel[] = [];
  const zeroedNotForSale: string[] = [];
  const noLevels: StockLevel[] = [];
  const channelSkuOf = (sku: string) => (Object.hasOwn(mapping.skus.rename, sku) ? mapping.skus.rename[sku]! : sku);
  const listingRules = listingRulesOf(mapping);
  // One buffer of per-target sums, reset for each SKU: a page maps thousands of SKUs.
  const sums = new Array<number>(mapping.locations.length);
  for (const sku of skus) {
    if (excluded.has(sku)) continue;
    if (notForSale.has(sku)) {
      zeroedNotForSale.push(sku);
      for (const rule of mapping.locations) updates.push({ sku: channelSkuOf(sku), location: rule.target, quantity: 0 });
      continue;
    }
    const skuLevels = levelsBySku.get(sku) ?? noLevels;
    if (skuLevels.some(isUnmapped)) {
      const unmapped = skuLevels.filter(isUnmapped);
      const codes = [...new Set(unmapped.map((level) => level.location))].sort().join(', ');
      rejected.push({
        recordKey: sku,
        reason: `source location ${codes} has no mapping (add it to a target's sources or to ignoreSourceLocations)`,
        category: QUARANTINE_CATEGORY.unmappedLocation,
        subject: sku,
        payload: skuLevels,
      });
      continue;
    }
    const refusal = refusedByPolicy(skuLevels, targetBySource, policy);
    if (refusal !== undefined) {
      rejected.push({ recordKey: sku, reason: refusal.reason, category: refusal.category, subject: sku, payload: skuLevels });
      continue;
    }
    sums.fill(0);
    const ratio = skuRatios.get(sku) ?? defaultRatio;
    for (const level of skuLevels) {
      const index = targetBySource.get(level.location);
      if (index === undefined) continue;
      // Converted to the channel's unit exactly, then rounded by the mapping's rules.
      const onHand = Math.max(0, toChannelUnits(level.onHand, ratio, policy.rounding.onHand));
      const reserved = toChannelUnits(level.reserved, ratio, policy.rounding.reserved);
      if (level.onHand < 0) adjusted.push({ sku, location: level.location, reason: `on hand ${level.onHand} counted as 0` });
      else if (reserved > onHand) adjusted.push({ sku, location: level.location, reason: `reserved ${reserved} above on hand ${onHand}, counted as 0` });
      sums[index]! += Math.max(0, onHand - reserved);
    }
    const channelSku = channelSkuOf(sku);
    const rules = listingRules(sku);
    for (let index = 0; index < mapping.locations.length; index++) {
      updates.push({ sku: channelSku, location: mapping.locations[index]!.target, quantity: listedQuantity(sums[index]!, rules[index]!) });
    }
  }
  return { updates, zeroedNotForSale, rejected, adjusted };
}

/**
 * The listing rule of each target location (in the mapping's order) for a source SKU: its
 * group's buffer and cap where it is in a group, the location's buffer and the mapping's cap
 * otherwise. Rules are built once per mapping and group, not per SKU.
 */
function listingRulesOf(mapping: StockMapping): (sku: string) => readonly ListingRule[] {
  const byLocation = mapping.locations.map((rule): ListingRule => ({ buffer: rule.safetyBuffer, maxListed: mapping.maxListed }));
  if (mapping.groups.length === 0) return () => byLocation;
  const byGroup = mapping.groups.map((group) =>
    mapping.locations.map((rule): ListingRule => ({ buffer: group.safetyBuffer ?? rule.safetyBuffer ?? NO_SAFETY_BUFFER, maxListed: group.maxListed ?? mapping.maxListed })),
  );
  const groupOfSku = new Map<string, number>();
  mapping.groups.forEach((group, index) => group.skus.forEach((sku) => groupOfSku.has(sku) || groupOfSku.set(sku, index)));
  const prefixes = mapping.groups.flatMap((group, index) => group.skuPrefixes.map((prefix) => ({ prefix, index })));
  return (sku) => {
    const named = groupOfSku.get(sku);
    const prefixed = prefixes.find(({ prefix }) => sku.startsWith(prefix))?.index;
    // The first group that names the SKU, by exact name or by prefix.
    const group = named === undefined ? prefixed : prefixed === undefined ? named : Math.min(named, prefixed);
    return group === undefined ? byLocation : byGroup[group]!;
  };
}

/** Why the policy quarantines a SKU's levels (at mapped locations only), or undefined. */
function refusedByPolicy(
  levels: readonly StockLevel[],
  targetBySource: ReadonlyMap<string, number>,
  policy: StockQuantityPolicy,
): { reason: string; category: RejectedRecord['category'] } | undefined {
  for (const level of levels) {
    if (!targetBySource.has(level.location)) continue;
    if (level.onHand < 0 && policy.negativeOnHand === 'quarantine') {
      return { reason: `on hand is negative (${level.onHand}) at ${level.location}`, category: QUARANTINE_CATEGORY.negativeOnHand };
    }
    if (level.reserved > level.onHand && level.onHand >= 0 && policy.reservedAboveOnHand === 'quarantine') {
      return { reason: `reserved ${level.reserved} is above on hand ${level.onHand} at ${level.location}`, category: QUARANTINE_CATEGORY.reservedAboveOnHand };
    }
  }
  return undefined;
}

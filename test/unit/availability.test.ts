/**
 * The availability engine's arithmetic (core/availability.ts) and the per-channel rules of the
 * stock mapping that use it: safety buffers in units and percent, per location and per SKU
 * group, the maximum listed quantity, bundles. Properties over generated stock, because a
 * channel that lists one unit too many oversells.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleAvailable, listedQuantity, SafetyBuffer, type ListingRule } from '../../core/availability';
import type { StockLevel } from '../../core/model';
import { checkStockMapping, computeTargetStock, StockMapping } from '../../core/stock-mapping';

const rule = (units: number, percent = 0, maxListed?: number): ListingRule => ({ buffer: { units, percent }, maxListed });

const anyQuantity = fc.integer({ min: 0, max: 1_000_000 });
const anyPercent = fc.integer({ min: 0, max: 10_000 }).map((hundredths) => hundredths / 100);
const anyRule = fc.record({ units: fc.integer({ min: 0, max: 1_000 }), percent: anyPercent, maxListed: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }) });

describe('listedQuantity', () => {
  it('holds back the percentage rounded up, then the units, and caps at maxListed', () => {
    expect(listedQuantity(100, rule(0))).toBe(100);
    expect(listedQuantity(100, rule(3))).toBe(97);
    expect(listedQuantity(100, rule(0, 10))).toBe(90);
    expect(listedQuantity(101, rule(0, 10))).toBe(90); // 10.1 held back → 11
    expect(listedQuantity(7, rule(0, 12.5))).toBe(6); // 0.875 → 1
    expect(listedQuantity(100, rule(2, 10))).toBe(88);
    expect(listedQuantity(100, rule(0, 0, 25))).toBe(25);
    expect(listedQuantity(3, rule(5))).toBe(0);
    expect(listedQuantity(1, rule(0, 0.01))).toBe(0); // any share of one unit is the whole unit
    expect(listedQuantity(0, rule(0, 100))).toBe(0);
  });

  it('subtracts units of orders not yet booked in the source before the buffers', () => {
    expect(listedQuantity(10, rule(0), 4)).toBe(6);
    expect(listedQuantity(10, rule(0, 50), 4)).toBe(3); // 6 open, 3 held back
    expect(listedQuantity(10, rule(0), 40)).toBe(0);
    expect(listedQuantity(10, rule(0), -3)).toBe(10); // a negative count is no order
  });

  it('property: a whole number, never negative, never above what is available, never above maxListed', () => {
    fc.assert(
      fc.property(anyQuantity, anyRule, fc.integer({ min: 0, max: 1_000 }), (available, r, openOrders) => {
        const listed = listedQuantity(available, rule(r.units, r.percent, r.maxListed), openOrders);
        expect(Number.isInteger(listed)).toBe(true);
        expect(listed).toBeGreaterThanOrEqual(0);
        expect(listed).toBeLessThanOrEqual(Math.max(0, available - openOrders));
        if (r.maxListed !== undefined) expect(listed).toBeLessThanOrEqual(r.maxListed);
        // The percentage really is held back: what is listed is at most (100 − p) % of what is open.
        expect(listed * 10_000).toBeLessThanOrEqual(Math.max(0, available - openOrders) * (10_000 - Math.round(r.percent * 100)));
      }),
    );
  });

  it('property: monotone — more stock never lists less; a larger buffer, a lower cap or more open orders never list more', () => {
    fc.assert(
      fc.property(anyQuantity, anyQuantity, anyRule, fc.integer({ min: 0, max: 100 }), anyPercent, (a, b, r, moreUnits, morePercent) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const base = rule(r.units, r.percent, r.maxListed);
        expect(listedQuantity(low, base)).toBeLessThanOrEqual(listedQuantity(high, base));
        expect(listedQuantity(high, rule(r.units + moreUnits, r.percent, r.maxListed))).toBeLessThanOrEqual(listedQuantity(high, base));
        expect(listedQuantity(high, rule(r.units, Math.max(r.percent, morePercent), r.maxListed))).toBeLessThanOrEqual(listedQuantity(high, base));
        expect(listedQuantity(high, rule(r.units, r.percent, Math.min(r.maxListed ?? high, low)))).toBeLessThanOrEqual(listedQuantity(high, base));
        expect(listedQuantity(high, base, moreUnits)).toBeLessThanOrEqual(listedQuantity(high, base));
      }),
    );
  });
});

describe('bundleAvailable', () => {
  it('is limited by the scarcest component, per units in one bundle', () => {
    expect(bundleAvailable([{ available: 10, perBundle: 2 }, { available: 4, perBundle: 1 }])).toBe(4);
    expect(bundleAvailable([{ available: 10, perBundle: 3 }])).toBe(3);
    expect(bundleAvailable([{ available: 0, perBundle: 1 }, { available: 100, perBundle: 1 }])).toBe(0);
    expect(bundleAvailable([{ available: -5, perBundle: 1 }])).toBe(0);
    expect(bundleAvailable([])).toBe(0);
  });

  it('property: assembling what it reports never needs more of any component than is available, and one more bundle would', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ available: fc.integer({ min: -10, max: 10_000 }), perBundle: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 6 }), (components) => {
        const bundles = bundleAvailable(components);
        expect(Number.isInteger(bundles) && bundles >= 0).toBe(true);
        for (const { available, perBundle } of components) expect(bundles * perBundle).toBeLessThanOrEqual(Math.max(0, available));
        expect(components.some(({ available, perBundle }) => (bundles + 1) * perBundle > available)).toBe(true);
      }),
    );
  });
});

describe('SafetyBuffer', () => {
  it('takes units or { units, percent }, and refuses what a buffer cannot be', () => {
    expect(SafetyBuffer.parse(2)).toEqual({ units: 2, percent: 0 });
    expect(SafetyBuffer.parse({ percent: 12.5 })).toEqual({ units: 0, percent: 12.5 });
    expect(SafetyBuffer.parse(SafetyBuffer.parse({ units: 1, percent: 5 }))).toEqual({ units: 1, percent: 5 });
    for (const bad of [-1, 1.5, { percent: 101 }, { percent: 12.345 }, { percent: -1 }, { units: 1, share: 3 }]) {
      expect(SafetyBuffer.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

const level = (sku: string, location: string, onHand: number, reserved = 0): StockLevel => ({ sku, location, onHand, reserved, at: '2026-01-01T00:00:00.000Z' });

describe('stock mapping: per-channel listing rules', () => {
  const mapping = StockMapping.parse({
    entity: 'stock',
    locations: [
      { target: 'WEB', sources: ['WAW', 'POZ'], safetyBuffer: { percent: 10 } },
      { target: 'STORE', sources: ['KRK'], safetyBuffer: 1 },
    ],
    maxListed: 50,
    groups: [
      { name: 'fast sellers', skus: ['HOT-1'], safetyBuffer: { units: 5 } },
      { name: 'luxury', skuPrefixes: ['LUX-'], safetyBuffer: 0, maxListed: 2 },
    ],
  });

  it('applies the location buffer (units or percent), the mapping cap, and a group buffer or cap instead', () => {
    const levels = [
      level('A', 'WAW', 30), level('A', 'POZ', 11), level('A', 'KRK', 4),
      level('BIG', 'WAW', 500), level('BIG', 'KRK', 500),
      level('HOT-1', 'WAW', 30), level('HOT-1', 'KRK', 4),
      level('LUX-9', 'WAW', 30), level('LUX-9', 'KRK', 1),
    ];
    const { updates } = computeTargetStock(['A', 'BIG', 'HOT-1', 'LUX-9'], levels, mapping);
    expect(updates).toEqual([
      { sku: 'A', location: 'WEB', quantity: 36 }, // 41 − ⌈4.1⌉
      { sku: 'A', location: 'STORE', quantity: 3 },
      { sku: 'BIG', location: 'WEB', quantity: 50 }, // capped
      { sku: 'BIG', location: 'STORE', quantity: 50 },
      { sku: 'HOT-1', location: 'WEB', quantity: 25 }, // the group's 5 units, not 10 %
      { sku: 'HOT-1', location: 'STORE', quantity: 0 },
      { sku: 'LUX-9', location: 'WEB', quantity: 2 }, // the group's cap
      { sku: 'LUX-9', location: 'STORE', quantity: 1 }, // the group's buffer 0, not the location's 1
    ]);
  });

  it('property: never above the physical availability of the locations a target is fed by', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sku: fc.constantFrom('A', 'HOT-1', 'LUX-9'), location: fc.constantFrom('WAW', 'POZ', 'KRK'), onHand: fc.integer({ min: 0, max: 500 }), reserved: fc.integer({ min: 0, max: 50 }) })),
        (rows) => {
          const levels = rows.map((r) => level(r.sku, r.location, r.onHand, r.reserved));
          for (const update of computeTargetStock(['A', 'HOT-1', 'LUX-9'], levels, mapping).updates) {
            const sources = mapping.locations.find((r) => r.target === update.location)!.sources;
            const physical = levels.filter((l) => l.sku === update.sku && sources.includes(l.location)).reduce((sum, l) => sum + Math.max(0, l.onHand - l.reserved), 0);
            expect(update.quantity).toBeGreaterThanOrEqual(0);
            expect(update.quantity).toBeLessThanOrEqual(Math.min(physical, 50));
          }
        },
      ),
    );
  });

  it('refuses a group without SKUs and reports a group name used twice', () => {
    expect(StockMapping.safeParse({ entity: 'stock', locations: [{ target: 'T', sources: ['S'] }], groups: [{ name: 'empty' }] }).success).toBe(false);
    const twice = StockMapping.parse({ entity: 'stock', locations: [{ target: 'T', sources: ['S'] }], groups: [{ name: 'g', skus: ['A'] }, { name: 'g', skus: ['B'] }] });
    expect(checkStockMapping(twice)).toEqual(['groups[1].name: group "g" appears twice']);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StockMapping, checkStockMapping, computeTargetStock } from '../../core/stock-mapping';
import { diffAgainstSnapshot } from '../../core/stock-diff';
import { snapshotKey } from '../../state/store';
import type { StockLevel } from '../../core/model';

const mapping = StockMapping.parse({
  entity: 'stock',
  locations: [
    { target: 'T1', sources: ['WAW', 'POZ'] },
    { target: 'T2', sources: ['KRK'], safetyBuffer: 1 },
  ],
  ignoreSourceLocations: ['ZW'],
});

/** The demo mapping with negative on hand counted as zero instead of quarantined. */
const lenient = StockMapping.parse({ ...mapping, quantities: { negativeOnHand: 'zero' } });

const level = (sku: string, location: string, onHand: number, reserved = 0): StockLevel => ({ sku, location, onHand, reserved, at: '2026-01-01T00:00:00.000Z' });

describe('computeTargetStock', () => {
  it('sums mapped source locations, subtracts reservations and the safety buffer', () => {
    const result = computeTargetStock(['A'], [level('A', 'WAW', 10, 2), level('A', 'POZ', 5), level('A', 'KRK', 3, 1), level('A', 'ZW', 100)], mapping);
    expect(result.rejected).toEqual([]);
    expect(result.updates).toEqual([
      { sku: 'A', location: 'T1', quantity: 13 },
      { sku: 'A', location: 'T2', quantity: 1 },
    ]);
  });

  it('never goes below zero (oversold or buffer larger than stock)', () => {
    const result = computeTargetStock(['A'], [level('A', 'WAW', 1, 4), level('A', 'KRK', 1)], mapping);
    expect(result.updates.map((u) => u.quantity)).toEqual([0, 0]);
  });

  it('gives zero at every target location to a SKU without stock rows', () => {
    const result = computeTargetStock(['B'], [], mapping);
    expect(result.updates).toEqual([
      { sku: 'B', location: 'T1', quantity: 0 },
      { sku: 'B', location: 'T2', quantity: 0 },
    ]);
  });

  it('gives zero everywhere to a SKU the source marks not for sale, whatever its stock, and reports it', () => {
    const renamed = StockMapping.parse({ ...mapping, skus: { rename: { A: 'A-SHOP' }, exclude: ['C'] } });
    const levels = [level('A', 'WAW', 10), level('A', 'KRK', 5), level('A', 'ELSEWHERE', 3), level('B', 'WAW', 4), level('C', 'WAW', 9)];
    const result = computeTargetStock(['A', 'B', 'C'], levels, renamed, new Set(['A', 'C']));
    // Not for sale wins over an unmapped location (its stock does not matter); an excluded SKU stays untouched.
    expect(result.rejected).toEqual([]);
    expect(result.zeroedNotForSale).toEqual(['A']);
    expect(result.updates).toEqual([
      { sku: 'A-SHOP', location: 'T1', quantity: 0 },
      { sku: 'A-SHOP', location: 'T2', quantity: 0 },
      { sku: 'B', location: 'T1', quantity: 4 },
      { sku: 'B', location: 'T2', quantity: 0 },
    ]);
  });

  it('rounds exact source quantities by the mapping: on hand down, reserved up (defaults)', () => {
    const result = computeTargetStock(['A'], [level('A', 'WAW', 10.75, 0.25), level('A', 'POZ', 2.5), level('A', 'KRK', 3.999, 0.001)], mapping);
    // T1: floor(10.75) - ceil(0.25) + floor(2.5) = 10 - 1 + 2; T2: floor(3.999) - ceil(0.001) - buffer 1.
    expect(result.updates.map((u) => u.quantity)).toEqual([11, 1]);
    const nearest = StockMapping.parse({ ...mapping, quantities: { rounding: { onHand: 'nearest', reserved: 'down' } } });
    expect(computeTargetStock(['A'], [level('A', 'WAW', 10.5, 0.9), level('A', 'KRK', 3.49)], nearest).updates.map((u) => u.quantity)).toEqual([11, 2]);
  });

  it('converts units before rounding: cartons to pieces, pieces to packs, per SKU or for all', () => {
    const units = StockMapping.parse({ ...mapping, units: { skus: { CARTON: 12, PACK: '1/6' } } });
    const levels = [level('CARTON', 'WAW', 2.5, 0.25), level('PACK', 'WAW', 13), level('PACK', 'KRK', 7), level('PLAIN', 'WAW', 2.5)];
    const quantities = Object.fromEntries(computeTargetStock(['CARTON', 'PACK', 'PLAIN'], levels, units).updates.map((u) => [`${u.sku}@${u.location}`, u.quantity]));
    // 2.5 cartons = 30 pieces, 0.25 carton reserved = 3 pieces: 27 (rounding first would give 24 - 12).
    expect(quantities['CARTON@T1']).toBe(27);
    // 13 pieces = 2 whole packs of 6; 7 pieces = 1 pack, minus the buffer.
    expect(quantities['PACK@T1']).toBe(2);
    expect(quantities['PACK@T2']).toBe(0);
    expect(quantities['PLAIN@T1']).toBe(2);
    const all = StockMapping.parse({ ...mapping, units: { default: 0.5 } });
    expect(computeTargetStock(['X'], [level('X', 'WAW', 5)], all).updates[0]!.quantity).toBe(2);
  });

  it('refuses a unit factor that is not a positive number or fraction, with its path', () => {
    const parsed = StockMapping.safeParse({ ...mapping, units: { skus: { A: '12 cartons' }, default: -1 } });
    expect(parsed.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['units.default', 'units.skus.A']);
  });

  it('property: whole quantities without units give the same result as before rounding existed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('WAW', 'POZ', 'KRK'), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 50 })), { maxLength: 6 }), (rows) => {
        const levels = [...new Map(rows.map(([location, onHand, reserved]) => [location, level('A', location, onHand, reserved)])).values()];
        const expected = (target: 'T1' | 'T2') => {
          const sources = target === 'T1' ? ['WAW', 'POZ'] : ['KRK'];
          const sum = levels.filter((l) => sources.includes(l.location)).reduce((total, l) => total + Math.max(0, l.onHand - l.reserved), 0);
          return Math.max(0, sum - (target === 'T2' ? 1 : 0));
        };
        expect(computeTargetStock(['A'], levels, mapping).updates.map((u) => u.quantity)).toEqual([expected('T1'), expected('T2')]);
      }),
    );
  });

  it('quarantines a SKU with stock at an unmapped location instead of pushing a partial sum', () => {
    const result = computeTargetStock(['A', 'B'], [level('A', 'NEW', 5), level('A', 'WAW', 1), level('B', 'WAW', 2)], mapping);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.recordKey).toBe('A');
    expect(result.rejected[0]!.reason).toBe("source location NEW has no mapping (add it to a target's sources or to ignoreSourceLocations)");
    expect(result.updates.map((u) => u.sku)).toEqual(['B', 'B']);
  });

  it('renames and excludes SKUs per the mapping', () => {
    const m = StockMapping.parse({ entity: 'stock', locations: [{ target: 'T', sources: ['WAW'] }], skus: { rename: { A: 'A-WEB' }, exclude: ['X'] } });
    const result = computeTargetStock(['A', 'X'], [level('A', 'WAW', 4), level('X', 'WAW', 9)], m);
    expect(result.updates).toEqual([{ sku: 'A-WEB', location: 'T', quantity: 4 }]);
  });

  it('takes renames only from the mapping, not from what every object inherits', () => {
    const m = StockMapping.parse({ entity: 'stock', locations: [{ target: 'T', sources: ['WAW'] }], skus: { rename: { A: 'A-WEB' } } });
    const result = computeTargetStock(['constructor', 'toString'], [level('constructor', 'WAW', 1), level('toString', 'WAW', 2)], m);
    expect(result.updates).toEqual([
      { sku: 'constructor', location: 'T', quantity: 1 },
      { sku: 'toString', location: 'T', quantity: 2 },
    ]);
  });

  it('property: every quantity is a non-negative integer and there is one per SKU and target location', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sku: fc.constantFrom('A', 'B', 'C'), location: fc.constantFrom('WAW', 'POZ', 'KRK', 'ZW'), onHand: fc.integer({ min: -5, max: 50 }), reserved: fc.integer({ min: 0, max: 10 }) })),
        (rows) => {
          const levels = rows.map((r) => level(r.sku, r.location, r.onHand, r.reserved));
          const { updates, rejected } = computeTargetStock(['A', 'B', 'C'], levels, lenient);
          expect(rejected).toEqual([]);
          expect(updates).toHaveLength(6);
          for (const u of updates) expect(Number.isInteger(u.quantity) && u.quantity >= 0).toBe(true);
          // Each mapped location contributes what it can sell, never less than nothing.
          for (const u of updates) {
            const rule = lenient.locations.find((r) => r.target === u.location)!;
            const sellable = levels
              .filter((l) => l.sku === u.sku && rule.sources.includes(l.location))
              .reduce((sum, l) => sum + Math.max(0, Math.max(0, l.onHand) - l.reserved), 0);
            expect(u.quantity).toBe(Math.max(0, sellable - rule.safetyBuffer.units));
          }
        },
      ),
    );
  });
});

describe('computeTargetStock: quantity policy', () => {
  it('quarantines a SKU with negative on hand at a mapped location by default, naming the value and the location', () => {
    const result = computeTargetStock(['A', 'B'], [level('A', 'WAW', -3), level('A', 'KRK', 4), level('B', 'WAW', 2)], mapping);
    expect(result.rejected).toEqual([
      { recordKey: 'A', reason: 'on hand is negative (-3) at WAW', category: 'negative on hand', subject: 'A', payload: [level('A', 'WAW', -3), level('A', 'KRK', 4)] },
    ]);
    expect(result.updates.map((u) => u.sku)).toEqual(['B', 'B']);
  });

  it('ignores negative on hand at an ignored location', () => {
    const result = computeTargetStock(['A'], [level('A', 'ZW', -3), level('A', 'WAW', 4)], mapping);
    expect(result.rejected).toEqual([]);
    expect(result.updates[0]).toEqual({ sku: 'A', location: 'T1', quantity: 4 });
  });

  it('counts negative on hand as zero under negativeOnHand: zero, and reports it', () => {
    const result = computeTargetStock(['A'], [level('A', 'WAW', -3), level('A', 'POZ', 5)], lenient);
    expect(result.rejected).toEqual([]);
    expect(result.updates[0]).toEqual({ sku: 'A', location: 'T1', quantity: 5 });
    expect(result.adjusted).toEqual([{ sku: 'A', location: 'WAW', reason: 'on hand -3 counted as 0' }]);
  });

  it('clamps a reservation above on hand to its own location by default: it never eats the stock of another location', () => {
    const result = computeTargetStock(['A'], [level('A', 'WAW', 2, 7), level('A', 'POZ', 5)], mapping);
    expect(result.rejected).toEqual([]);
    expect(result.updates[0]).toEqual({ sku: 'A', location: 'T1', quantity: 5 });
    expect(result.adjusted).toEqual([{ sku: 'A', location: 'WAW', reason: 'reserved 7 above on hand 2, counted as 0' }]);
  });

  it('quarantines a reservation above on hand under reservedAboveOnHand: quarantine', () => {
    const strict = StockMapping.parse({ ...mapping, quantities: { reservedAboveOnHand: 'quarantine' } });
    const result = computeTargetStock(['A'], [level('A', 'WAW', 2, 7)], strict);
    expect(result.updates).toEqual([]);
    expect(result.rejected.map((r) => [r.reason, r.category])).toEqual([['reserved 7 is above on hand 2 at WAW', 'reserved above on hand']]);
  });
});

describe('checkStockMapping', () => {
  it('reports two source SKUs renamed to one channel SKU', () => {
    const m = StockMapping.parse({ entity: 'stock', locations: [{ target: 'T', sources: ['WAW'] }], skus: { rename: { A: 'WEB', B: 'WEB' } } });
    expect(checkStockMapping(m)).toEqual(['skus.rename.B: "WEB" is already the new name of A']);
  });

  it('reports a source mapped twice and a source both mapped and ignored', () => {
    const m = StockMapping.parse({
      entity: 'stock',
      locations: [
        { target: 'T1', sources: ['WAW'] },
        { target: 'T2', sources: ['WAW', 'ZW'] },
      ],
      ignoreSourceLocations: ['ZW'],
    });
    expect(checkStockMapping(m)).toEqual([
      'locations[1].sources: source location "WAW" is already mapped in locations[0]',
      'locations[1].sources: source location "ZW" is also listed in ignoreSourceLocations',
    ]);
  });
});

describe('diffAgainstSnapshot', () => {
  it('keeps only quantities that differ from the last pushed ones, with the previous value', () => {
    const snapshot = new Map([
      [snapshotKey('A', 'T1'), '5'],
      [snapshotKey('A', 'T2'), '0'],
    ]);
    const changed = diffAgainstSnapshot(
      [
        { sku: 'A', location: 'T1', quantity: 5 },
        { sku: 'A', location: 'T2', quantity: 3 },
        { sku: 'B', location: 'T1', quantity: 0 },
      ],
      snapshot,
    );
    expect(changed).toEqual([
      { sku: 'A', location: 'T2', quantity: 3, previousQuantity: 0 },
      { sku: 'B', location: 'T1', quantity: 0, previousQuantity: null },
    ]);
  });

  it('property: applying the diff to the snapshot yields the desired state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 9 })), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 31, maxLength: 31 }), (snap, desiredQty) => {
        const snapshot = new Map(snap.map(([i, q]) => [snapshotKey(`S${i}`, 'L'), String(q)]));
        const desired = desiredQty.map((q, i) => ({ sku: `S${i}`, location: 'L', quantity: q }));
        const after = new Map(snapshot);
        for (const c of diffAgainstSnapshot(desired, snapshot)) after.set(snapshotKey(c.sku, c.location), String(c.quantity));
        for (const d of desired) expect(after.get(snapshotKey(d.sku, d.location))).toBe(String(d.quantity));
      }),
    );
  });
});

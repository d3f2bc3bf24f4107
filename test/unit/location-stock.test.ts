/**
 * The hub's stock per location from counts and movements (core/location-stock.ts): late,
 * repeated and reordered news give the same stock as news in order, and a count never adds a
 * movement twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCount, applyMovement, asOf, currentLevel, NO_LOCATION_STOCK, type LocationStock, type StockCount, type StockMovement } from '../../core/location-stock';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 2, 10, minute)).toISOString();
const count = (minute: number, onHand: number, reserved = 0): StockCount => ({ onHand, reserved, at: at(minute) });
const move = (id: string, minute: number, delta: number): StockMovement => ({ id, delta, at: at(minute) });

type News = { kind: 'count'; count: StockCount } | { kind: 'movement'; movement: StockMovement };

function applyAll(news: readonly News[], start: LocationStock = NO_LOCATION_STOCK): LocationStock {
  let stock = start;
  for (const item of news) stock = item.kind === 'count' ? applyCount(stock, item.count).stock : applyMovement(stock, item.movement).stock;
  return stock;
}

describe('location stock', () => {
  it('a count plus the movements after it; movements up to the count are in it already', () => {
    const stock = applyAll([
      { kind: 'movement', movement: move('s1', 1, -1) },
      { kind: 'count', count: count(5, 20, 2) },
      { kind: 'movement', movement: move('s2', 6, -3) },
      { kind: 'movement', movement: move('r1', 7, 1) },
      { kind: 'movement', movement: move('s0', 4, -5) }, // an offline till, before the count: in it
    ]);
    expect(currentLevel(stock)).toEqual({ onHand: 18, reserved: 2 });
    expect(stock.movements.map((m) => m.id)).toEqual(['s2', 'r1']);
    expect(asOf(stock)).toBe(at(7));
  });

  it('says which news was stale: an older count, a repeated movement, a movement before the count', () => {
    let stock = applyCount(NO_LOCATION_STOCK, count(5, 10)).stock;
    expect(applyCount(stock, count(4, 99)).applied).toBe('stale');
    const first = applyMovement(stock, move('s1', 6, -1));
    expect(first.applied).toBe('applied');
    stock = first.stock;
    expect(applyMovement(stock, move('s1', 6, -1)).applied).toBe('stale');
    expect(applyMovement(stock, move('s9', 5, -1)).applied).toBe('stale');
    expect(currentLevel(stock).onHand).toBe(9);
  });

  it('a location never counted is the sum of its movements; decimals add exactly', () => {
    expect(currentLevel(applyAll([{ kind: 'movement', movement: move('a', 1, 0.1) }, { kind: 'movement', movement: move('b', 2, 0.2) }]))).toEqual({ onHand: 0.3, reserved: 0 });
    expect(currentLevel(NO_LOCATION_STOCK)).toEqual({ onHand: 0, reserved: 0 });
  });

  it('property: any arrival order, with repeats, gives the latest count plus the distinct movements after it', () => {
    const anyCount = fc.record({ minute: fc.integer({ min: 0, max: 30 }), onHand: fc.integer({ min: 0, max: 100 }), reserved: fc.integer({ min: 0, max: 5 }) });
    const anyMovement = fc.record({ minute: fc.integer({ min: 0, max: 30 }), delta: fc.integer({ min: -5, max: 5 }) });
    fc.assert(
      fc.property(
        fc.array(anyCount, { maxLength: 4 }),
        fc.array(anyMovement, { maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.infiniteStream(fc.nat()),
        (counts, movements, repeats, order) => {
          const news: News[] = [
            ...counts.map((c): News => ({ kind: 'count', count: count(c.minute, c.onHand, c.reserved) })),
            ...movements.map((m, index): News => ({ kind: 'movement', movement: move(`m${index}`, m.minute, m.delta) })),
          ];
          // Repeated deliveries of some news, then a shuffle.
          const delivered = [...news, ...repeats.filter(() => news.length > 0).map((index) => news[index % news.length]!)];
          const keys = delivered.map(() => order.next().value);
          const shuffled = delivered.map((item, index) => ({ item, key: keys[index]! })).sort((a, b) => a.key - b.key).map(({ item }) => item);

          const latest = counts.map((c) => count(c.minute, c.onHand, c.reserved)).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.onHand - b.onHand || a.reserved - b.reserved)).at(-1);
          const after = movements.map((m, index) => move(`m${index}`, m.minute, m.delta)).filter((m) => latest === undefined || m.at > latest.at);
          const expected = { onHand: (latest?.onHand ?? 0) + after.reduce((sum, m) => sum + m.delta, 0), reserved: latest?.reserved ?? 0 };

          expect(currentLevel(applyAll(shuffled))).toEqual({ onHand: expected.onHand === 0 ? 0 : expected.onHand, reserved: expected.reserved });
          expect(currentLevel(applyAll(shuffled))).toEqual(currentLevel(applyAll(news)));
        },
      ),
    );
  });
});

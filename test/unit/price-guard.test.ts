import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PriceGuardRules, guardPriceChanges, type PriceChange } from '../../core/price-guard';
import type { Money } from '../../core/money';

const defaults = PriceGuardRules.parse({});
const pln = (amount: string): Money => ({ amount, currency: 'PLN' });
const change = (previous: string | undefined, next: string, extra: Partial<PriceChange> = {}): PriceChange => ({
  sku: 'A',
  channel: 'shop',
  ...(previous === undefined ? {} : { previous: pln(previous) }),
  next: pln(next),
  ...extra,
});
/** The reasons of the held changes of a one-change run in a large catalogue. */
const heldReasons = (c: PriceChange, rules = defaults) => guardPriceChanges([c], rules, { catalogueSize: 1_000 }).held.map((held) => held.reason);

describe('PriceGuardRules', () => {
  it('holds drops above 50 %, rises above 200 %, prices below cost and runs that change more than 10 % by default', () => {
    expect(defaults).toEqual({ maxDropPercent: 50, maxRisePercent: 200, belowCost: 'hold', maxChangedShare: 10 });
  });
});

describe('guardPriceChanges: one change', () => {
  it('holds a drop above the limit, with both prices', () => {
    expect(heldReasons(change('129.99', '13.00'))).toEqual(['price drops 90.0 % (129.99 → 13.00 PLN), more than the 50 % allowed']);
  });

  it('passes a drop of exactly the limit and holds one a cent more, showing the digits that make it more', () => {
    expect(heldReasons(change('100.00', '50.00'))).toEqual([]);
    expect(heldReasons(change('100.00', '49.99'))).toEqual(['price drops 50.01 % (100.00 → 49.99 PLN), more than the 50 % allowed']);
  });

  it('holds a rise above the limit and passes one of exactly the limit', () => {
    expect(heldReasons(change('10.00', '30.00'))).toEqual([]);
    expect(heldReasons(change('10.00', '30.01'))).toEqual(['price rises 200.1 % (10.00 → 30.01 PLN), more than the 200 % allowed']);
    expect(heldReasons(change('10.00', '35.00'))).toEqual(['price rises 250.0 % (10.00 → 35.00 PLN), more than the 200 % allowed']);
    expect(heldReasons(change('10.00', '12.00'), PriceGuardRules.parse({ maxRisePercent: 10 }))).toEqual(['price rises 20.0 % (10.00 → 12.00 PLN), more than the 10 % allowed']);
  });

  it('holds a rise from zero, which no percentage measures', () => {
    expect(heldReasons(change('0.00', '5.00'))).toEqual(['price rises from 0.00 PLN (0.00 → 5.00 PLN), more than any percentage allowed']);
  });

  it('holds a new net price below cost, and passes one at cost', () => {
    const gross = (net: string, cost: string) => change('12.00', '12.30', { nextNet: pln(net), cost: pln(cost) });
    expect(heldReasons(gross('10.00', '10.50'))).toEqual(['net price 10.00 PLN is below cost 10.50 PLN']);
    expect(heldReasons(gross('10.50', '10.50'))).toEqual([]);
    // Without nextNet the price is net.
    expect(heldReasons(change(undefined, '9.99', { cost: pln('10.00') }))).toEqual(['net price 9.99 PLN is below cost 10.00 PLN']);
    expect(heldReasons(change(undefined, '9.99', { cost: pln('10.00') }), PriceGuardRules.parse({ belowCost: 'allow' }))).toEqual([]);
  });

  it('gives the first broken rule only: drop before cost', () => {
    expect(heldReasons(change('100.00', '5.00', { cost: pln('10.00') }))).toEqual(['price drops 95.0 % (100.00 → 5.00 PLN), more than the 50 % allowed']);
  });

  it('holds a change of currency: prices in two currencies cannot be compared', () => {
    expect(heldReasons(change('129.99', '30.99', { next: { amount: '30.99', currency: 'EUR' } }))).toEqual([
      'currency changes (129.99 PLN → 30.99 EUR); prices in two currencies cannot be compared',
    ]);
    expect(heldReasons(change(undefined, '30.99', { cost: { amount: '100.00', currency: 'PLN' }, next: { amount: '30.99', currency: 'EUR' } }))).toEqual([
      'cost 100.00 PLN and net price 30.99 EUR are in two currencies and cannot be compared',
    ]);
  });

  it('holds an amount that is not a decimal', () => {
    expect(heldReasons(change('10.00', '1O.00'))).toEqual(['the new price\'s amount "1O.00" is not a decimal number such as "129.99"']);
  });

  it('passes a new price of any size and an unchanged one', () => {
    expect(heldReasons(change(undefined, '99999.99'))).toEqual([]);
    expect(heldReasons(change('10.00', '10.0'))).toEqual([]);
  });
});

describe('guardPriceChanges: the run', () => {
  const rise = (index: number): PriceChange => ({ ...change('100.00', '101.00'), sku: `S${index}` });
  const many = (count: number) => Array.from({ length: count }, (_, index) => rise(index));

  it('holds every change of a run that changes more than 10 % of the catalogue', () => {
    const verdict = guardPriceChanges(many(1_200), defaults, { catalogueSize: 10_000 });
    const reason = '1,200 of 10,000 prices change (12.0 %), more than the 10 % allowed in one run';
    expect(verdict.runHeld).toBe(reason);
    expect(verdict.passed).toEqual([]);
    expect(verdict.held).toHaveLength(1_200);
    expect(new Set(verdict.held.map((held) => held.reason))).toEqual(new Set([reason]));
  });

  it('passes a run of exactly the share, and holds one more', () => {
    expect(guardPriceChanges(many(1_000), defaults, { catalogueSize: 10_000 })).toEqual({ passed: many(1_000), held: [] });
    expect(guardPriceChanges(many(1_001), defaults, { catalogueSize: 10_000 }).runHeld).toBe('1,001 of 10,000 prices change (10.01 %), more than the 10 % allowed in one run');
  });

  it('keeps the own reason of a change that breaks a rule in a held run', () => {
    const verdict = guardPriceChanges([...many(2), { ...change('100.00', '10.00'), sku: 'X' }], defaults, { catalogueSize: 20 });
    expect(verdict.held.map((held) => [held.change.sku, held.reason])).toEqual([
      ['S0', '3 of 20 prices change (15.0 %), more than the 10 % allowed in one run'],
      ['S1', '3 of 20 prices change (15.0 %), more than the 10 % allowed in one run'],
      ['X', 'price drops 90.0 % (100.00 → 10.00 PLN), more than the 50 % allowed'],
    ]);
  });

  it('holds a run above maxChangedCount', () => {
    const rules = PriceGuardRules.parse({ maxChangedCount: 1_000 });
    expect(guardPriceChanges(many(1_000), rules, { catalogueSize: 0 }).runHeld).toBeUndefined();
    expect(guardPriceChanges(many(1_001), rules, { catalogueSize: 0 }).runHeld).toBe('1,001 prices change, more than the 1,000 allowed in one run');
  });

  it('counts neither new nor unchanged prices: the first run of a channel passes', () => {
    const listings = Array.from({ length: 5_000 }, (_, index) => ({ ...change(undefined, '10.00'), sku: `N${index}` }));
    const unchanged = Array.from({ length: 500 }, (_, index) => ({ ...change('10.00', '10.00'), sku: `U${index}` }));
    const verdict = guardPriceChanges([...listings, ...unchanged], PriceGuardRules.parse({ maxChangedCount: 0 }), { catalogueSize: 500 });
    expect(verdict.runHeld).toBeUndefined();
    expect(verdict.passed).toHaveLength(5_500);
  });
});

describe('guardPriceChanges: properties', () => {
  const cents = (value: number) => `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}`;

  it('never holds a change within the thresholds', () => {
    const rulesArb = fc.record({
      maxDropPercent: fc.integer({ min: 0, max: 100 }),
      maxRisePercent: fc.integer({ min: 0, max: 500 }),
      belowCost: fc.constantFrom('hold' as const, 'allow' as const),
      maxChangedShare: fc.integer({ min: 1, max: 100 }),
      maxChangedCount: fc.option(fc.integer({ min: 30, max: 1_000 }), { nil: undefined }),
    });
    // previous, where between the lowest and the highest allowed next price (per mille), cost as a share of next.
    const changeArb = fc.record({ previous: fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: undefined }), where: fc.integer({ min: 0, max: 1_000 }), costShare: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: undefined }) });
    fc.assert(
      fc.property(rulesArb, fc.array(changeArb, { maxLength: 30 }), (raw, drafts) => {
        const rules = PriceGuardRules.parse(raw);
        const changes = drafts.map(({ previous, where, costShare }, index): PriceChange => {
          const lowest = previous === undefined ? 1 : Math.ceil((previous * (100 - rules.maxDropPercent)) / 100);
          const highest = previous === undefined ? 10_000_000 : Math.floor((previous * (100 + rules.maxRisePercent)) / 100);
          const next = lowest + Math.floor(((highest - lowest) * where) / 1_000);
          const cost = costShare === undefined ? undefined : Math.floor((next * costShare) / 1_000);
          return {
            sku: `S${index}`,
            channel: 'shop',
            ...(previous === undefined ? {} : { previous: pln(cents(previous)) }),
            next: pln(cents(next)),
            ...(cost === undefined ? {} : { cost: pln(cents(cost)) }),
          };
        });
        // A catalogue large enough that every change of the run is within the share.
        const catalogueSize = Math.ceil((changes.length * 100) / rules.maxChangedShare);
        const verdict = guardPriceChanges(changes, rules, { catalogueSize });
        expect(verdict.held).toEqual([]);
        expect(verdict.passed).toEqual(changes);
      }),
    );
  });

  it('holds every drop beyond the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 1_000 }), (maxDropPercent, previous, where) => {
        const highest = Math.ceil((previous * (100 - maxDropPercent)) / 100) - 1;
        fc.pre(highest >= 0);
        const next = Math.floor((highest * where) / 1_000);
        const rules = PriceGuardRules.parse({ maxDropPercent });
        expect(heldReasons(change(cents(previous), cents(next)), rules)).toEqual([expect.stringMatching(new RegExp(`^price drops [\\d.]+ % \\(.*\\), more than the ${maxDropPercent} % allowed$`))]);
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  OMNIBUS_DAYS,
  PriceChannel,
  PriceMapping,
  checkPriceMapping,
  computeChannelPrices,
  lowestPriorPrice,
  parsePriceValueText,
  priceListsOf,
  priceValueText,
  type ChannelPrice,
  type ChannelPricesResult,
  type PriceHistoryPoint,
} from '../../core/entities/price';
import { channelPrice, type PriceListEntry } from '../../core/price-rules';
import { Dec, type Money } from '../../core/money';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';

const at = '2026-03-01T12:00:00Z';
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** The moment `hours` after (or before) `at`, as ISO text. */
const hoursFrom = (hours: number, from = at) => new Date(Date.parse(from) + hours * HOUR).toISOString();

/** A B2C channel in PLN fed by the list DETAL, with the given rules on top. */
const channel = (overrides: Record<string, unknown> = {}) => PriceChannel.parse({ priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true, ...overrides });
const withPromo = (overrides: Record<string, unknown> = {}) => channel({ promotionPriceLists: ['PROMO'], ...overrides });
const entry = (overrides: Partial<PriceListEntry> = {}): PriceListEntry => ({ sku: 'A', priceList: 'DETAL', currency: 'PLN', vatRate: '23', ...overrides });
const promo = (gross: string, overrides: Partial<PriceListEntry> = {}) => entry({ priceList: 'PROMO', gross, ...overrides });
const pln = (amount: string): Money => ({ amount, currency: 'PLN' });

/** A mapping with the given channels (each the channel() rules plus its overrides). */
const mapping = (channels: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}) =>
  PriceMapping.parse({ entity: 'price', channels: Object.fromEntries(Object.entries(channels).map(([id, c]) => [id, { priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true, ...c }])), ...extra });
/** The issues of a mapping that does not parse, as [path, message]. */
const issuesOf = (raw: unknown) => {
  const result = PriceMapping.safeParse(raw);
  if (result.success) throw new Error('expected the mapping to be refused');
  return result.error.issues.map((issue) => [issue.path.join('.'), issue.message]);
};

/** The channel's prices at `when`, as sku → [price, compare-at, list]. */
function shown(result: ChannelPricesResult): Record<string, [string, string | null, string]> {
  return Object.fromEntries(result.prices.map((p) => [p.sku, [p.price.amount, p.compareAt?.amount ?? null, p.priceList]]));
}
const pricesAt = (entries: PriceListEntry[], c: PriceChannel, when = at) => shown(computeChannelPrices(entries, c, 'shop', when));

describe('PriceMapping and PriceChannel', () => {
  it('takes promotionPriceLists and every ChannelPriceRules field in one object, and fills the defaults', () => {
    const full = PriceMapping.parse({
      entity: 'price',
      channels: {
        shopify: {
          priceList: 'DETAL',
          promotionPriceLists: [' PROMO ', 'OUTLET'],
          currency: 'EUR',
          rates: { PLN: '0.2312' },
          pricesIncludeVat: true,
          markupPercent: '+8',
          feePercent: '2.5',
          rounding: { mode: 'ending', ending: '0.99' },
          minimumPrice: '5',
          minimumMarginPercent: '10',
          compareAtPrice: { source: 'priceList', priceList: 'REG' },
        },
      },
      guard: { maxDropPercent: 30 },
      holdTimeoutHours: 2,
    });
    expect(full.channels.shopify).toEqual({
      priceList: 'DETAL',
      promotionPriceLists: ['PROMO', 'OUTLET'],
      currency: 'EUR',
      rates: { PLN: '0.2312' },
      pricesIncludeVat: true,
      markupPercent: '+8',
      feePercent: '2.5',
      rounding: { mode: 'ending', ending: '0.99' },
      minimumPrice: '5',
      minimumMarginPercent: '10',
      compareAtPrice: { source: 'priceList', priceList: 'REG' },
    });
    expect(full.guard).toMatchObject({ maxDropPercent: 30, maxRisePercent: 200 });
    expect(full.holdTimeoutHours).toBe(2);

    const minimal = PriceMapping.parse({ entity: 'price', channels: { shop: { priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: false } } });
    expect(minimal).toEqual({
      entity: 'price',
      channels: {
        shop: {
          priceList: 'DETAL',
          promotionPriceLists: [],
          currency: 'PLN',
          rates: {},
          pricesIncludeVat: false,
          markupPercent: '0',
          feePercent: '0',
          rounding: { mode: 'none' },
          compareAtPrice: { source: 'none' },
        },
      },
      guard: { maxDropPercent: 50, maxRisePercent: 200, belowCost: 'hold', maxChangedShare: 10 },
      holdTimeoutHours: 24,
    });
  });

  it('reports a bad rules field at its path under the channel', () => {
    const base = { priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true };
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, currency: 'pln' } } })).toEqual([['channels.shopify.currency', 'expected an ISO 4217 currency code such as "PLN"']]);
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, pricesIncludeVat: undefined } } }).map(([path]) => path)).toEqual(['channels.shopify.pricesIncludeVat']);
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, rounding: { mode: 'step', step: '0.005', direction: 'up' } } } })).toEqual([
      ['channels.shopify.rounding.step', '"0.005" has more decimals than PLN allows (2)'],
    ]);
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, compareAtPrice: { source: 'priceList', priceList: 'DETAL' } } } })).toEqual([
      ['channels.shopify.compareAtPrice.priceList', '"DETAL" is the channel\'s own price list'],
    ]);
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, rates: { EUR: '0' } }, allegro: { ...base, feePercent: 12 } } })).toEqual([
      ['channels.shopify.rates.EUR', 'a rate must be above zero'],
      ['channels.allegro.feePercent', 'expected a decimal number in quotes, such as "129.99" (unquoted, YAML reads a binary float)'],
    ]);
  });

  it('reports a bad promotion list at its path', () => {
    const base = { priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true };
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, promotionPriceLists: ['PROMO', '  '] } } }).map(([path]) => path)).toEqual(['channels.shopify.promotionPriceLists.1']);
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, promotionPriceLists: 'PROMO' } } }).map(([path]) => path)).toEqual(['channels.shopify.promotionPriceLists']);
  });

  it('refuses unknown keys in a channel, in the mapping and in the guard', () => {
    const base = { priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true };
    expect(issuesOf({ entity: 'price', channels: { shopify: { ...base, promotionPriceList: ['PROMO'] } } })).toEqual([['channels.shopify', 'Unrecognized key: "promotionPriceList"']]);
    expect(issuesOf({ entity: 'price', channels: { shopify: base }, holdTimeout: 3 })).toEqual([['', 'Unrecognized key: "holdTimeout"']]);
    expect(issuesOf({ entity: 'price', channels: { shopify: base }, guard: { maxDrop: 3 } }).map(([path]) => path)).toEqual(['guard']);
  });

  it('refuses another entity and a hold timeout outside (0, 6 days] (staged batches are kept a week)', () => {
    const base = { priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true };
    expect(issuesOf({ entity: 'stock', channels: { shopify: base } }).map(([path]) => path)).toEqual(['entity']);
    expect(issuesOf({ entity: 'price', channels: { shopify: base }, holdTimeoutHours: 0 }).map(([path]) => path)).toEqual(['holdTimeoutHours']);
    expect(issuesOf({ entity: 'price', channels: { shopify: base }, holdTimeoutHours: 24 * 6 + 1 }).map(([path]) => path)).toEqual(['holdTimeoutHours']);
    expect(PriceMapping.parse({ entity: 'price', channels: { shopify: base }, holdTimeoutHours: 24 * 6 }).holdTimeoutHours).toBe(144);
  });
});

describe('checkPriceMapping', () => {
  it('finds nothing wrong when every target has rules and no list clashes', () => {
    expect(checkPriceMapping(mapping({ shop: { promotionPriceLists: ['PROMO'] }, allegro: {} }), ['shop', 'allegro'])).toEqual([]);
  });

  it('names a target without rules and rules for a channel that is not a target', () => {
    expect(checkPriceMapping(mapping({ shop: {}, erp: {} }), ['shop', 'allegro'])).toEqual([
      'channels: no rules for target "allegro" of the sync (every target needs its channel rules)',
      'channels.erp: "erp" is not a target of the sync (targets: shop, allegro)',
    ]);
  });

  it('does not take an inherited property for rules', () => {
    expect(checkPriceMapping(mapping({ shop: {} }), ['shop', 'toString'])).toEqual(['channels: no rules for target "toString" of the sync (every target needs its channel rules)']);
  });

  it("names a promotion list that is the channel's own list, at its index", () => {
    expect(checkPriceMapping(mapping({ shop: { promotionPriceLists: ['PROMO', 'DETAL'] } }), ['shop'])).toEqual(['channels.shop.promotionPriceLists[1]: "DETAL" is the channel\'s own price list']);
  });
});

describe('priceListsOf', () => {
  it('gives every regular, promotion and compare-at list once, sorted', () => {
    const m = mapping({
      shop: { priceList: 'DETAL', promotionPriceLists: ['PROMO', 'OUTLET'], compareAtPrice: { source: 'priceList', priceList: 'REG' } },
      allegro: { priceList: 'ALLEGRO', promotionPriceLists: ['PROMO'] },
      b2b: { priceList: 'HURT', pricesIncludeVat: false, compareAtPrice: { source: 'none' } },
    });
    expect(priceListsOf(m)).toEqual(['ALLEGRO', 'DETAL', 'HURT', 'OUTLET', 'PROMO', 'REG']);
    expect(priceListsOf(mapping({ shop: {} }))).toEqual(['DETAL']);
  });
});

describe('computeChannelPrices: which entry applies', () => {
  it('takes an entry from validFrom (inclusive) until validTo (exclusive)', () => {
    expect(pricesAt([entry({ gross: '10', validFrom: at })], channel())).toEqual({ A: ['10.00', null, 'DETAL'] });
    expect(pricesAt([entry({ gross: '10', validTo: at })], channel())).toEqual({});
    expect(pricesAt([entry({ gross: '10', validFrom: hoursFrom(1) })], channel())).toEqual({});
    expect(pricesAt([entry({ gross: '10', validFrom: hoursFrom(-1), validTo: hoursFrom(1) })], channel())).toEqual({ A: ['10.00', null, 'DETAL'] });
    // 13:30 at +02:00 is 11:30 UTC, before `at`; 14:30 at +02:00 is after it.
    expect(pricesAt([entry({ gross: '10', validTo: '2026-03-01T13:30:00+02:00' })], channel())).toEqual({});
    expect(pricesAt([entry({ gross: '10', validTo: '2026-03-01T14:30:00+02:00' })], channel())).toEqual({ A: ['10.00', null, 'DETAL'] });
  });

  it('of overlapping regular entries, takes the one that started last, whatever its amount', () => {
    const entries = [entry({ gross: '50' }), entry({ gross: '80', validFrom: hoursFrom(-48) }), entry({ gross: '90', validFrom: hoursFrom(-2), validTo: hoursFrom(2) })];
    expect(pricesAt(entries, channel())).toEqual({ A: ['90.00', null, 'DETAL'] });
    // After the dated entry ends, the one before it applies again.
    expect(pricesAt(entries, channel(), hoursFrom(2))).toEqual({ A: ['80.00', null, 'DETAL'] });
    expect(pricesAt(entries, channel(), hoursFrom(-49))).toEqual({ A: ['50.00', null, 'DETAL'] });
    // Started at the same moment written in two zones: a tie.
    expect(pricesAt([entry({ gross: '70', validFrom: '2026-03-01T10:00:00Z' }), entry({ gross: '60', validFrom: '2026-03-01T12:00:00+02:00' })], channel())).toEqual({ A: ['60.00', null, 'DETAL'] });
  });

  it('of regular entries that started at the same moment, takes the lowest amount, in either order', () => {
    const a = entry({ gross: '25', validFrom: hoursFrom(-1) });
    const b = entry({ gross: '20', validFrom: hoursFrom(-1) });
    expect(pricesAt([a, b], channel())).toEqual({ A: ['20.00', null, 'DETAL'] });
    expect(pricesAt([b, a], channel())).toEqual({ A: ['20.00', null, 'DETAL'] });
    expect(pricesAt([entry({ gross: '30' }), entry({ gross: '29.99' })], channel())).toEqual({ A: ['29.99', null, 'DETAL'] });
  });

  // A tie is broken by the channel price, not the raw number in the entry: a net-only entry of
  // 100 is 123.00 gross at 23 % VAT and loses to a gross-only entry of 110.00.
  it('of tied regular entries, takes the lowest price even when one gives net and the other gross', () => {
    expect(pricesAt([entry({ net: '100' }), entry({ gross: '110' })], channel())).toEqual({ A: ['110.00', null, 'DETAL'] });
  });

  it('applies a valid promotion below the regular price, with the regular price as compare-at', () => {
    expect(pricesAt([entry({ gross: '100' }), promo('79.99', { validFrom: hoursFrom(-1), validTo: hoursFrom(1) })], withPromo())).toEqual({ A: ['79.99', '100.00', 'PROMO'] });
    const result = computeChannelPrices([entry({ gross: '100', cost: '40' }), promo('79.99', { cost: '41' })], withPromo(), 'shop', at);
    expect(result.prices).toEqual([{ sku: 'A', price: pln('79.99'), compareAt: pln('100.00'), net: pln('65.03'), cost: pln('41.00'), priceList: 'PROMO' }]);
    // Through the channel's rules: +10 % and the ending .99 on both.
    expect(pricesAt([entry({ gross: '100' }), promo('80')], withPromo({ markupPercent: '+10', rounding: { mode: 'ending', ending: '0.99' } }))).toEqual({ A: ['88.99', '110.99', 'PROMO'] });
  });

  it('reverts to the regular price outside the promotion, and the compare-at rule of the channel applies again', () => {
    const c = withPromo({ compareAtPrice: { source: 'priceList', priceList: 'REG' } });
    const entries = [entry({ gross: '100' }), entry({ priceList: 'REG', gross: '120' }), promo('80', { validFrom: hoursFrom(1), validTo: hoursFrom(5) })];
    expect(pricesAt(entries, c)).toEqual({ A: ['100.00', '120.00', 'DETAL'] });
    expect(pricesAt(entries, c, hoursFrom(1))).toEqual({ A: ['80.00', '100.00', 'PROMO'] });
    expect(pricesAt(entries, c, hoursFrom(5))).toEqual({ A: ['100.00', '120.00', 'DETAL'] });
  });

  it('does not apply a promotion at or above the regular price', () => {
    expect(pricesAt([entry({ gross: '100' }), promo('100')], withPromo())).toEqual({ A: ['100.00', null, 'DETAL'] });
    expect(pricesAt([entry({ gross: '100' }), promo('120')], withPromo())).toEqual({ A: ['100.00', null, 'DETAL'] });
    // Below in the list, equal after the channel's rounding: 100.00 and 100.50 both end at 100.99.
    expect(pricesAt([entry({ gross: '100.50' }), promo('100')], withPromo({ rounding: { mode: 'ending', ending: '0.99' } }))).toEqual({ A: ['100.99', null, 'DETAL'] });
    expect(computeChannelPrices([entry({ gross: '100' }), promo('120')], withPromo(), 'shop', at).rejected).toEqual([]);
  });

  it('of two valid promotions, takes the lowest, across lists and within one', () => {
    const two = withPromo({ promotionPriceLists: ['PROMO', 'OUTLET'] });
    expect(pricesAt([entry({ gross: '100' }), promo('90'), promo('70', { priceList: 'OUTLET' }), promo('80')], two)).toEqual({ A: ['70.00', '100.00', 'OUTLET'] });
    expect(pricesAt([entry({ gross: '100' }), promo('70', { priceList: 'OUTLET' }), promo('60')], two)).toEqual({ A: ['60.00', '100.00', 'PROMO'] });
    expect(pricesAt([entry({ gross: '100' }), promo('85'), promo('75', { validTo: at }), promo('95')], withPromo())).toEqual({ A: ['85.00', '100.00', 'PROMO'] });
  });

  it('gives no price to a SKU without a valid regular entry, even with a valid promotion', () => {
    const result = computeChannelPrices(
      [entry({ sku: 'A', gross: '10' }), promo('5', { sku: 'B' }), entry({ sku: 'C', gross: '10', validFrom: hoursFrom(1) }), entry({ sku: 'D', gross: '10', validTo: at })],
      withPromo(),
      'shop',
      at,
    );
    expect(shown(result)).toEqual({ A: ['10.00', null, 'DETAL'] });
    expect(result.rejected).toEqual([]);
  });

  it('rejects a SKU whose entry cannot be computed, with the list and the cause, and prices the others', () => {
    const entries = [entry({ sku: 'A', gross: '10' }), entry({ sku: 'B', gross: '12,99' }), entry({ sku: 'C', gross: '10' }), promo('0', { sku: 'C' }), entry({ sku: 'D', gross: '20' })];
    const result = computeChannelPrices(entries, withPromo(), 'shop', at);
    expect(shown(result)).toEqual({ A: ['10.00', null, 'DETAL'], D: ['20.00', null, 'DETAL'] });
    expect(result.rejected).toEqual([
      {
        recordKey: 'B|shop',
        reason: 'price for shop: DETAL: gross "12,99" is not a decimal number such as "129.99"',
        category: QUARANTINE_CATEGORY.uncomputablePrice,
        subject: 'B',
        payload: { sku: 'B', channel: 'shop', entries: [entries[1]] },
      },
      {
        recordKey: 'C|shop',
        reason: 'price for shop: PROMO: gross "0" is not above zero',
        category: QUARANTINE_CATEGORY.uncomputablePrice,
        subject: 'C',
        payload: { sku: 'C', channel: 'shop', entries: [entries[2], entries[3]] },
      },
    ]);
    // A refusal by the rules (here the margin floor without a cost) is a rejection too.
    const margin = computeChannelPrices([entry({ gross: '10' })], channel({ minimumMarginPercent: '10' }), 'allegro', at);
    expect(margin.rejected.map((r) => r.reason)).toEqual(['price for allegro: DETAL: the entry has no cost, and minimumMarginPercent 10 needs one']);
  });

  it('ignores the entries of lists the channel does not read, even broken or cheaper ones', () => {
    const entries = [entry({ gross: '10' }), entry({ priceList: 'HURT', gross: '1', validFrom: hoursFrom(-1), validTo: hoursFrom(1) }), entry({ sku: 'B', priceList: 'HURT', gross: 'x' })];
    expect(computeChannelPrices(entries, withPromo(), 'shop', at)).toEqual({ prices: [{ sku: 'A', price: pln('10.00'), compareAt: null, net: pln('8.13'), priceList: 'DETAL' }], rejected: [] });
  });

  it('gives nextChangeAt: the earliest validFrom or validTo after `at` among the lists the channel reads', () => {
    const c = withPromo({ compareAtPrice: { source: 'priceList', priceList: 'REG' } });
    const next = (entries: PriceListEntry[], when = at) => computeChannelPrices(entries, c, 'shop', when).nextChangeAt;
    expect(next([entry({ gross: '10' })])).toBeUndefined();
    // Boundaries at or before `at` do not count.
    expect(next([entry({ gross: '10', validFrom: at, validTo: hoursFrom(-1, '2026-03-01T11:00:00Z') })])).toBeUndefined();
    expect(next([entry({ gross: '10', validFrom: at, validTo: hoursFrom(10) }), promo('5', { sku: 'B', validFrom: hoursFrom(3) })])).toBe(hoursFrom(3));
    expect(next([entry({ gross: '10', validTo: hoursFrom(10) }), entry({ priceList: 'REG', gross: '20', validTo: '2026-03-01T14:00:00+01:00' })])).toBe('2026-03-01T13:00:00.000Z');
    // Lists the channel does not read do not count; neither does a SKU that gets no price.
    expect(next([entry({ gross: '10', validTo: hoursFrom(10) }), entry({ priceList: 'HURT', gross: '5', validFrom: hoursFrom(1) })])).toBe(hoursFrom(10));
    expect(next([entry({ sku: 'Z', gross: '10', validFrom: hoursFrom(7) })])).toBe(hoursFrom(7));
  });
});

// The promotion's compare-at is the regular price as the channel shows it, floors included: were
// it the regular entry without the floors, the "was" price would be below the price shown before
// the promotion (15.00 instead of 24.60), or missing when the promotion lies between the two.
describe('computeChannelPrices: compare-at of a promotion when a floor raised the regular price', () => {
  const c = withPromo({ minimumMarginPercent: '0' });
  const regular = entry({ gross: '15', cost: '20' });

  it('raises the regular price to the margin floor: 20.00 net cost → 24.60 gross', () => {
    expect(pricesAt([regular], c)).toEqual({ A: ['24.60', null, 'DETAL'] });
  });

  it('shows the regular price the channel showed as the compare-at of the promotion', () => {
    expect(pricesAt([regular, promo('14', { cost: '0' })], c)).toEqual({ A: ['14.00', '24.60', 'PROMO'] });
  });

  it('keeps a compare-at for a promotion between the unfloored and the floored regular price', () => {
    expect(pricesAt([regular, promo('16', { cost: '0' })], c)).toEqual({ A: ['16.00', '24.60', 'PROMO'] });
  });
});

describe('priceValueText', () => {
  it('writes currency, amount and compare-at amount, and reads them back', () => {
    expect(priceValueText({ price: pln('79.99'), compareAt: pln('100.00') })).toBe('["PLN","79.99","100.00"]');
    expect(priceValueText({ price: pln('79.99'), compareAt: null })).toBe('["PLN","79.99",null]');
    expect(parsePriceValueText('["PLN","79.99","100.00"]')).toEqual({ price: pln('79.99'), compareAt: pln('100.00') });
    expect(parsePriceValueText('["EUR","5.00",null]')).toEqual({ price: { amount: '5.00', currency: 'EUR' }, compareAt: null });
  });

  it('reads anything else as no price', () => {
    for (const text of ['', 'x', '12.99', '{"amount":"1"}', '["PLN","1"]', '["PLN","1",null,null]', '["PLN",1,null]', '[null,"1",null]', '["PLN","1",2]', 'null', '[']) {
      expect(parsePriceValueText(text)).toBeUndefined();
    }
  });
});

describe('lowestPriorPrice', () => {
  const now = '2026-03-31T12:00:00Z';
  /** A history point `daysAgo` days before now. */
  const point = (daysAgo: number, amount: string): PriceHistoryPoint => ({ since: new Date(Date.parse(now) - daysAgo * DAY).toISOString(), amount, currency: 'PLN' });

  it('counts the price in effect when the window opened and every price since', () => {
    expect(lowestPriorPrice([point(40, '70.00'), point(20, '80.00'), point(5, '90.00')], now)).toEqual(pln('70.00'));
    expect(lowestPriorPrice([point(40, '100.00'), point(20, '80.00'), point(5, '90.00')], now)).toEqual(pln('80.00'));
    expect(lowestPriorPrice([point(400, '60.00')], now)).toEqual(pln('60.00'));
  });

  it('does not count prices that ended before the window opened, nor one that ended exactly then', () => {
    expect(lowestPriorPrice([point(60, '50.00'), point(35, '100.00'), point(10, '90.00')], now)).toEqual(pln('90.00'));
    expect(lowestPriorPrice([point(60, '50.00'), point(30, '100.00')], now)).toEqual(pln('100.00'));
    expect(lowestPriorPrice([point(60, '50.00'), point(30.0001, '100.00')], now)).toEqual(pln('100.00'));
    expect(lowestPriorPrice([point(60, '50.00'), point(29.9999, '100.00')], now)).toEqual(pln('50.00'));
  });

  it('does not count a price starting at or after `at`', () => {
    expect(lowestPriorPrice([point(10, '100.00'), point(0, '50.00')], now)).toEqual(pln('100.00'));
    expect(lowestPriorPrice([point(10, '100.00'), point(-1, '40.00')], now)).toEqual(pln('100.00'));
    expect(lowestPriorPrice([point(0, '50.00')], now)).toBeUndefined();
    expect(lowestPriorPrice([], now)).toBeUndefined();
  });

  it('reads an unordered history in time order, compares amounts as decimals, and takes the window in days', () => {
    expect(lowestPriorPrice([point(5, '9.50'), point(40, '100.00'), point(20, '10.00')], now)).toEqual(pln('9.50'));
    expect(lowestPriorPrice([point(20, '50.00'), point(8, '60.00'), point(3, '70.00')], now, 7)).toEqual(pln('60.00'));
    expect(OMNIBUS_DAYS).toBe(30);
    expect(lowestPriorPrice([point(31, '10.00'), point(30.5, '20.00')], now)).toEqual(pln('20.00'));
    expect(lowestPriorPrice([point(31, '10.00'), point(30.5, '20.00')], now, 31)).toEqual(pln('10.00'));
  });
});

// ---- properties ----

const T0 = Date.parse('2026-03-01T00:00:00Z');
/** Whole hours from T0: few enough that boundaries coincide with each other and with `at`. */
const moment = fc.integer({ min: 0, max: 24 }).map((hours) => new Date(T0 + hours * HOUR).toISOString());
const LISTS = ['DETAL', 'PROMO', 'OUTLET', 'REG', 'HURT'] as const;

/** Valid entries: PLN or EUR (the channel has a rate for EUR), net, gross or both, maybe a cost and validity. */
const entryArb = (gross: 'gross' | 'any') =>
  fc
    .record({
      sku: fc.constantFrom('A', 'B', 'C'),
      priceList: fc.constantFrom(...LISTS),
      currency: gross === 'gross' ? fc.constant('PLN') : fc.constantFrom('PLN', 'EUR'),
      cents: fc.integer({ min: 100, max: 20_000 }),
      given: gross === 'gross' ? fc.constant('gross' as const) : fc.constantFrom('net' as const, 'gross' as const, 'both' as const),
      cost: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
      validFrom: fc.option(moment, { nil: undefined }),
      validTo: fc.option(moment, { nil: undefined }),
    })
    .map(({ sku, priceList, currency, cents, given, cost, validFrom, validTo }): PriceListEntry => {
      const value = new Dec(cents).dividedBy(100);
      return {
        sku,
        priceList,
        currency,
        vatRate: '23',
        ...(given === 'gross' ? { gross: value.toFixed(2) } : { net: value.toFixed(2) }),
        ...(given === 'both' ? { gross: value.times('1.23').toFixed(2, Dec.ROUND_HALF_UP) } : {}),
        ...(cost === undefined ? {} : { cost: new Dec(cost).dividedBy(100).toFixed(2) }),
        ...(validFrom === undefined ? {} : { validFrom }),
        ...(validTo === undefined ? {} : { validTo }),
      };
    });

/** A channel reading DETAL, one or two promotion lists and maybe REG as compare-at, with varied rules. */
const channelArb = (floors: 'margin' | 'no margin') =>
  fc
    .record({
      pricesIncludeVat: fc.boolean(),
      markupPercent: fc.constantFrom('0', '+8', '-5', '+12.5'),
      feePercent: fc.constantFrom('0', '2.5', '12'),
      rounding: fc.constantFrom({ mode: 'none' }, { mode: 'ending', ending: '0.99' }, { mode: 'step', step: '0.05', direction: 'down' }, { mode: 'step', step: '1', direction: 'nearest' }),
      minimumPrice: fc.constantFrom(undefined, '5', '50'),
      minimumMarginPercent: floors === 'margin' ? fc.constantFrom(undefined, '0', '20') : fc.constant(undefined),
      compareAtPrice: fc.constantFrom({ source: 'none' }, { source: 'priceList', priceList: 'REG' }),
      promotionPriceLists: fc.constantFrom(['PROMO'], ['PROMO', 'OUTLET'], ['OUTLET', 'PROMO']),
    })
    .map(({ minimumPrice, minimumMarginPercent, ...rest }) =>
      channel({ rates: { EUR: '4.3' }, ...rest, ...(minimumPrice === undefined ? {} : { minimumPrice }), ...(minimumMarginPercent === undefined ? {} : { minimumMarginPercent }) }),
    );

const isValidAt = (e: PriceListEntry, when: string) => {
  const ms = Date.parse(when);
  return (e.validFrom === undefined || Date.parse(e.validFrom) <= ms) && (e.validTo === undefined || ms < Date.parse(e.validTo));
};
const readLists = (c: PriceChannel) => [c.priceList, ...c.promotionPriceLists, ...(c.compareAtPrice.source === 'priceList' ? [c.compareAtPrice.priceList] : [])];
/** The channel's price of one entry through its rules (as if the entry's list fed the channel). */
const priceOfEntry = (e: PriceListEntry, c: PriceChannel, when: string) => channelPrice(e, { ...c, priceList: e.priceList, compareAtPrice: { source: 'none' } }, { at: when });
/** The regular entry by the documented rule, for gross-only entries in one currency: started last, then lowest. */
function regularEntryOf(entries: PriceListEntry[], sku: string, c: PriceChannel, when: string): PriceListEntry | undefined {
  const start = (e: PriceListEntry) => (e.validFrom === undefined ? -Infinity : Date.parse(e.validFrom));
  const valid = entries.filter((e) => e.sku === sku && e.priceList === c.priceList && isValidAt(e, when));
  return valid.sort((a, b) => start(b) - start(a) || new Dec(a.gross!).comparedTo(b.gross!))[0];
}

describe('computeChannelPrices: properties', () => {
  it('always takes the price from an entry of a list it reads that is valid at `at`, and prices or rejects exactly the SKUs with a valid regular entry', () => {
    fc.assert(
      fc.property(fc.array(entryArb('any'), { maxLength: 14 }), channelArb('margin'), moment, (entries, c, when) => {
        const result = computeChannelPrices(entries, c, 'shop', when);
        for (const p of result.prices) {
          expect([c.priceList, ...c.promotionPriceLists]).toContain(p.priceList);
          const sources = entries.filter((e) => e.sku === p.sku && e.priceList === p.priceList && isValidAt(e, when));
          const prices = sources.map((e) => priceOfEntry(e, c, when)).flatMap((r) => (r.ok ? [r.price] : []));
          expect(prices).toContainEqual(p.price);
        }
        const withRegular = new Set(entries.filter((e) => e.priceList === c.priceList && isValidAt(e, when)).map((e) => e.sku));
        const handled = [...result.prices.map((p) => p.sku), ...result.rejected.map((r) => r.subject)];
        expect(handled.sort()).toEqual([...withRegular].sort());
      }),
    );
  });

  it('matches the documented rule on gross entries: regular entry started last then lowest, lowest promotion only when below it', () => {
    fc.assert(
      fc.property(fc.array(entryArb('gross'), { maxLength: 14 }), moment, (entries, when) => {
        const c = channel({ promotionPriceLists: ['PROMO', 'OUTLET'] });
        const expected: Record<string, [string, string | null]> = {};
        for (const sku of ['A', 'B', 'C']) {
          const regular = regularEntryOf(entries, sku, c, when);
          if (regular === undefined) continue;
          const promotions = entries.filter((e) => e.sku === sku && c.promotionPriceLists.includes(e.priceList) && isValidAt(e, when)).map((e) => new Dec(e.gross!));
          const lowest = promotions.length === 0 ? undefined : Dec.min(...promotions);
          expected[sku] = lowest !== undefined && lowest.lessThan(regular.gross!) ? [lowest.toFixed(2), new Dec(regular.gross!).toFixed(2)] : [new Dec(regular.gross!).toFixed(2), null];
        }
        const result = computeChannelPrices(entries, c, 'shop', when);
        expect(Object.fromEntries(result.prices.map((p) => [p.sku, [p.price.amount, p.compareAt?.amount ?? null]]))).toEqual(expected);
        expect(result.rejected).toEqual([]);
      }),
    );
  });

  it("never shows a promotion at or above the regular price's channel price; without a margin floor the compare-at is that price", () => {
    fc.assert(
      fc.property(fc.array(entryArb('gross'), { maxLength: 14 }), channelArb('margin'), moment, (entries, c, when) => {
        const result = computeChannelPrices(entries, c, 'shop', when);
        for (const p of result.prices) {
          const regularEntry = regularEntryOf(entries, p.sku, c, when)!;
          const regular = priceOfEntry(regularEntry, c, when);
          if (!regular.ok) throw new Error(`the regular entry of a priced SKU gives no price: ${regular.reason}`);
          if (p.priceList === c.priceList) {
            expect(p.price).toEqual(regular.price);
            continue;
          }
          expect(new Dec(p.price.amount).lessThan(regular.price.amount)).toBe(true);
          if (c.minimumMarginPercent === undefined) expect(p.compareAt).toEqual(regular.price);
        }
      }),
    );
  });

  it('gives the same prices until nextChangeAt (piecewise constant), and nextChangeAt is the earliest boundary after `at` of the lists it reads', () => {
    fc.assert(
      fc.property(fc.array(entryArb('any'), { maxLength: 14 }), channelArb('margin'), moment, fc.double({ min: 0, max: 1, noNaN: true }), (entries, c, when, fraction) => {
        const first = computeChannelPrices(entries, c, 'shop', when);
        const atMs = Date.parse(when);
        const boundaries = entries
          .filter((e) => readLists(c).includes(e.priceList))
          .flatMap((e) => [e.validFrom, e.validTo])
          .flatMap((b) => (b === undefined ? [] : [Date.parse(b)]))
          .filter((ms) => ms > atMs);
        const expectedNext = boundaries.length === 0 ? undefined : new Date(Math.min(...boundaries)).toISOString();
        expect(first.nextChangeAt).toBe(expectedNext);
        const endMs = first.nextChangeAt === undefined ? atMs + 3650 * DAY : Date.parse(first.nextChangeAt);
        const same = (ms: number) => {
          const later = computeChannelPrices(entries, c, 'shop', new Date(ms).toISOString());
          expect(later.prices).toEqual(first.prices);
          expect(later.rejected).toEqual(first.rejected);
          expect(later.nextChangeAt).toBe(first.nextChangeAt);
        };
        same(endMs - 1);
        same(atMs + Math.floor((endMs - 1 - atMs) * fraction));
      }),
    );
  });
});

describe('priceValueText: properties', () => {
  const amountArb = fc.oneof(
    fc.integer({ min: 1, max: 10_000_000 }).map((cents) => new Dec(cents).dividedBy(100).toFixed(2)),
    fc.integer({ min: 1, max: 100_000 }).map(String),
    fc.string(),
  );
  const currencyArb = fc.oneof(fc.constantFrom('PLN', 'EUR', 'JPY'), fc.string());
  const priceArb = fc.record({ currency: currencyArb, amount: amountArb, compareAt: fc.option(amountArb, { nil: null }) }).map(
    ({ currency, amount, compareAt }): Pick<ChannelPrice, 'price' | 'compareAt'> => ({ price: { amount, currency }, compareAt: compareAt === null ? null : { amount: compareAt, currency } }),
  );

  it('reads back what it wrote', () => {
    fc.assert(
      fc.property(priceArb, (p) => {
        expect(parsePriceValueText(priceValueText(p))).toEqual(p);
      }),
    );
  });

  it('gives equal texts exactly for an equal currency, amount and compare-at', () => {
    const small = fc.record({ currency: fc.constantFrom('PLN', 'EUR'), amount: fc.constantFrom('1.00', '1.0', '2.00'), compareAt: fc.constantFrom(null, '1.00', '3.00') });
    const toPrice = ({ currency, amount, compareAt }: { currency: string; amount: string; compareAt: string | null }) => ({ price: { amount, currency }, compareAt: compareAt === null ? null : { amount: compareAt, currency } });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(small, small), fc.tuple(priceArb, priceArb).map(([a, b]) => [{ currency: a.price.currency, amount: a.price.amount, compareAt: a.compareAt?.amount ?? null }, { currency: b.price.currency, amount: b.price.amount, compareAt: b.compareAt?.amount ?? null }] as const)), ([a, b]) => {
        const equal = a.currency === b.currency && a.amount === b.amount && a.compareAt === b.compareAt;
        expect(priceValueText(toPrice(a)) === priceValueText(toPrice(b))).toBe(equal);
      }),
    );
  });
});

describe('lowestPriorPrice: properties', () => {
  it('is at most every price shown during the window, and one of them; undefined when none was shown', () => {
    const history = fc.uniqueArray(fc.record({ hour: fc.integer({ min: 0, max: 24 * 90 }), cents: fc.integer({ min: 1, max: 100_000 }) }), { selector: (p) => p.hour, maxLength: 12 });
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 24 * 100 }), fc.integer({ min: 1, max: 60 }), (raw, atHour, days) => {
        const points: PriceHistoryPoint[] = raw.map(({ hour, cents }) => ({ since: new Date(T0 + hour * HOUR).toISOString(), amount: new Dec(cents).dividedBy(100).toFixed(2), currency: 'PLN' }));
        const atMs = T0 + atHour * HOUR;
        const fromMs = atMs - days * DAY;
        const ordered = [...raw].sort((a, b) => a.hour - b.hour);
        // Shown during [start, end), counted when that overlaps [from, at).
        const shownInWindow = ordered
          .filter((p, i) => {
            const start = T0 + p.hour * HOUR;
            const end = i + 1 < ordered.length ? T0 + ordered[i + 1]!.hour * HOUR : Infinity;
            return start < atMs && end > fromMs;
          })
          .map((p) => new Dec(p.cents).dividedBy(100).toFixed(2));
        const lowest = lowestPriorPrice(points, new Date(atMs).toISOString(), days);
        if (shownInWindow.length === 0) {
          expect(lowest).toBeUndefined();
          return;
        }
        expect(lowest).toBeDefined();
        expect(lowest!.currency).toBe('PLN');
        expect(shownInWindow).toContain(lowest!.amount);
        for (const amount of shownInWindow) expect(new Dec(lowest!.amount).lessThanOrEqualTo(amount)).toBe(true);
      }),
    );
  });
});

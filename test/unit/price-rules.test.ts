import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChannelPriceRules, channelPrice, type ChannelPriceResult, type PriceContext, type PriceListEntry } from '../../core/price-rules';
import { Dec, formatMoney, minorUnitDigits, parseMoney, toMoney } from '../../core/money';

const at = '2026-03-01T12:00:00Z';

/** A B2C channel in PLN fed by the list DETAL, with the given rules on top. */
const rules = (overrides: Record<string, unknown> = {}) => ChannelPriceRules.parse({ priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true, ...overrides });
const entry = (overrides: Partial<PriceListEntry> = {}): PriceListEntry => ({ sku: 'A', priceList: 'DETAL', currency: 'PLN', vatRate: '23', ...overrides });

/** The computed price, or the test fails with the reason. */
function priced(e: PriceListEntry, r: ChannelPriceRules, context: Partial<PriceContext> = {}) {
  const result = channelPrice(e, r, { at, ...context });
  if (!result.ok) throw new Error(`expected a price, got: ${result.reason}`);
  return result;
}
function refused(e: PriceListEntry, r: ChannelPriceRules, context: Partial<PriceContext> = {}): string {
  const result = channelPrice(e, r, { at, ...context });
  if (result.ok) throw new Error(`expected a reason, got ${formatMoney(result.price)}`);
  return result.reason;
}
const amount = (e: PriceListEntry, r: ChannelPriceRules) => priced(e, r).price.amount;

describe('money', () => {
  it('keeps amounts canonical, with the minor-unit digits of the currency', () => {
    expect(parseMoney('13', 'PLN')).toEqual({ ok: true, value: { amount: '13.00', currency: 'PLN' } });
    expect(parseMoney('0129.9', 'EUR')).toEqual({ ok: true, value: { amount: '129.90', currency: 'EUR' } });
    expect(parseMoney('1300', 'JPY')).toEqual({ ok: true, value: { amount: '1300', currency: 'JPY' } });
    expect(parseMoney('12.5', 'HUF')).toEqual({ ok: true, value: { amount: '12.50', currency: 'HUF' } });
    expect(toMoney(new Dec('-0.001'), 'PLN', 'half-up')).toEqual({ amount: '0.00', currency: 'PLN' });
    expect(toMoney(new Dec('2.345'), 'PLN', 'half-up').amount).toBe('2.35');
    expect(toMoney(new Dec('2.341'), 'PLN', 'up').amount).toBe('2.35');
    expect(minorUnitDigits('XYZ')).toBe(2);
  });

  it('refuses what is not money, saying why', () => {
    expect(parseMoney('12.999', 'PLN')).toEqual({ ok: false, reason: 'amount "12.999" has more decimals than PLN allows (2)' });
    expect(parseMoney('12.5', 'JPY')).toEqual({ ok: false, reason: 'amount "12.5" has more decimals than JPY allows (0)' });
    expect(parseMoney('12,99', 'PLN')).toEqual({ ok: false, reason: 'amount "12,99" is not a decimal number such as "129.99"' });
    expect(parseMoney('1e3', 'PLN')).toEqual({ ok: false, reason: 'amount "1e3" is not a decimal number such as "129.99"' });
    expect(parseMoney(12.99, 'PLN')).toEqual({ ok: false, reason: 'amount 12.99 is not a decimal string such as "129.99"' });
    expect(parseMoney('12.99', 'zł')).toEqual({ ok: false, reason: 'currency "zł" is not an ISO 4217 code such as "PLN"' });
  });
});

describe('ChannelPriceRules', () => {
  it('fills the defaults: no rates, no markup, no fee, no rounding rule, no floors, no compare-at', () => {
    expect(rules()).toEqual({
      priceList: 'DETAL',
      currency: 'PLN',
      pricesIncludeVat: true,
      rates: {},
      markupPercent: '0',
      feePercent: '0',
      rounding: { mode: 'none' },
      compareAtPrice: { source: 'none' },
    });
  });

  it('asks for decimals in quotes, so YAML does not read a binary float', () => {
    const result = ChannelPriceRules.safeParse({ priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true, feePercent: 2.5, markupPercent: 8 });
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['markupPercent', 'expected a decimal number in quotes, such as "+8" or "-5" (unquoted, YAML reads a binary float)'],
      ['feePercent', 'expected a decimal number in quotes, such as "129.99" (unquoted, YAML reads a binary float)'],
    ]);
  });

  it('requires pricesIncludeVat: a wrong default would shift every price by the VAT rate', () => {
    const result = ChannelPriceRules.safeParse({ priceList: 'DETAL', currency: 'PLN' });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['pricesIncludeVat']);
  });

  it('reports fields that disagree with each other, with their paths', () => {
    const result = ChannelPriceRules.safeParse({
      priceList: 'DETAL',
      currency: 'PLN',
      pricesIncludeVat: true,
      rates: { PLN: '1', EUR: '0' },
      markupPercent: '-100',
      feePercent: '100',
      rounding: { mode: 'step', step: '0.005', direction: 'up' },
      minimumPrice: '9.999',
      compareAtPrice: { source: 'priceList', priceList: 'DETAL' },
    });
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['rates.PLN', "PLN is the channel's own currency and needs no rate"],
      ['rates.EUR', 'a rate must be above zero'],
      ['markupPercent', '"-100" leaves no price (a markdown must be less than 100 %)'],
      ['feePercent', '"100" cannot be compensated (a fee must be less than 100 %)'],
      ['rounding.step', '"0.005" has more decimals than PLN allows (2)'],
      ['minimumPrice', '"9.999" has more decimals than PLN allows (2)'],
      ['compareAtPrice.priceList', '"DETAL" is the channel\'s own price list'],
    ]);
    const yen = ChannelPriceRules.safeParse({ priceList: 'DETAL', currency: 'JPY', pricesIncludeVat: true, rounding: { mode: 'ending', ending: '0.99' } });
    expect(yen.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['rounding.ending', '"0.99" has more decimals than JPY allows (0)']]);
    const badKey = ChannelPriceRules.safeParse({ priceList: 'DETAL', currency: 'EUR', pricesIncludeVat: true, rates: { pln: '0.2312', USD: 'x' } });
    expect(badKey.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['rates.pln', '"pln" is not an ISO 4217 code such as "PLN"'],
      ['rates.USD', 'expected a decimal number in quotes, such as "129.99"'],
    ]);
    const zeroStep = ChannelPriceRules.safeParse({ priceList: 'DETAL', currency: 'PLN', pricesIncludeVat: true, rounding: { mode: 'step', step: '0', direction: 'up' } });
    expect(zeroStep.error?.issues.map((issue) => issue.message)).toEqual(['a step must be above zero']);
  });

  it('property: parsing never throws, whatever the file holds; fields that are wrong alone are reported alone', () => {
    const anyDecimal = fc.oneof(fc.constantFrom('0', '1', '-100', '0.005', '100', 'x', ''), fc.anything());
    const candidate = fc.record(
      {
        priceList: fc.oneof(fc.constant('DETAL'), fc.anything()),
        currency: fc.constantFrom('PLN', 'JPY', 'pln', 1),
        pricesIncludeVat: fc.oneof(fc.boolean(), fc.anything()),
        rates: fc.oneof(fc.dictionary(fc.constantFrom('PLN', 'EUR', 'eur', '__proto__'), anyDecimal), fc.anything()),
        markupPercent: anyDecimal,
        feePercent: anyDecimal,
        rounding: fc.oneof(fc.record({ mode: fc.constantFrom('ending', 'step', 'none', 'x'), ending: anyDecimal, step: anyDecimal, direction: fc.constantFrom('up', 'sideways') }, { requiredKeys: ['mode'] }), fc.anything()),
        minimumPrice: anyDecimal,
        minimumMarginPercent: anyDecimal,
        compareAtPrice: fc.oneof(fc.record({ source: fc.constantFrom('none', 'priceList'), priceList: fc.constantFrom('DETAL', 'REG') }), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(candidate, (raw) => {
        const result = ChannelPriceRules.safeParse(raw);
        if (!result.success) for (const issue of result.error.issues) expect(issue.message).toMatch(/\S/);
      }),
    );
  });
});

describe('channelPrice: choosing the entry', () => {
  it('refuses an entry of another price list', () => {
    expect(refused(entry({ priceList: 'HURT', gross: '10' }), rules())).toBe('entry is from price list "HURT", not "DETAL"');
  });

  it('takes an entry from validFrom (inclusive) until validTo (exclusive)', () => {
    expect(amount(entry({ gross: '10', validFrom: at }), rules())).toBe('10.00');
    expect(refused(entry({ gross: '10', validFrom: '2026-04-01T00:00:00Z' }), rules())).toBe('entry is valid from 2026-04-01T00:00:00Z, not at 2026-03-01T12:00:00Z');
    expect(refused(entry({ gross: '10', validFrom: '2026-01-01T00:00:00Z', validTo: at }), rules())).toBe(
      'entry is valid from 2026-01-01T00:00:00Z until 2026-03-01T12:00:00Z, not at 2026-03-01T12:00:00Z',
    );
    // 13:30 at +02:00 is 11:30 UTC, before the computation at 12:00 UTC.
    expect(refused(entry({ gross: '10', validTo: '2026-03-01T13:30:00+02:00' }), rules())).toBe('entry is valid until 2026-03-01T13:30:00+02:00, not at 2026-03-01T12:00:00Z');
    expect(amount(entry({ gross: '10', validTo: '2026-03-01T14:30:00+02:00' }), rules())).toBe('10.00');
  });

  it('refuses times without a zone: the same text is another moment on another machine', () => {
    expect(refused(entry({ gross: '10', validFrom: '2026-01-01' }), rules())).toBe('validFrom "2026-01-01" is not an ISO-8601 time with a zone, such as "2026-01-01T00:00:00Z"');
    expect(refused(entry({ gross: '10' }), rules(), { at: '2026-03-01 12:00' })).toBe(
      'the time of the computation "2026-03-01 12:00" is not an ISO-8601 time with a zone, such as "2026-01-01T00:00:00Z"',
    );
  });

  it('refuses an entry whose currency is not an ISO 4217 code', () => {
    expect(refused(entry({ gross: '10', currency: 'zł' }), rules())).toBe('currency "zł" is not an ISO 4217 code such as "PLN"');
  });
});

describe('channelPrice: net and gross', () => {
  const net = rules({ pricesIncludeVat: false });

  it('derives gross from net and net from gross at 23 % VAT', () => {
    expect(priced(entry({ net: '100' }), rules())).toEqual({ ok: true, price: { amount: '123.00', currency: 'PLN' }, net: { amount: '100.00', currency: 'PLN' }, applied: [] });
    expect(amount(entry({ gross: '123' }), net)).toBe('100.00');
    // 99.99 / 1.23 = 81.2926…
    expect(priced(entry({ gross: '99.99' }), net)).toMatchObject({ price: { amount: '81.29' }, applied: ['rounded half up to 2 decimals'] });
  });

  it('derives gross from net and net from gross at 8 % VAT', () => {
    expect(amount(entry({ net: '10', vatRate: '8' }), rules())).toBe('10.80');
    expect(amount(entry({ gross: '9.99', vatRate: '8' }), net)).toBe('9.25');
    expect(amount(entry({ gross: '10', vatRate: '8' }), net)).toBe('9.26');
    expect(amount(entry({ net: '10', vatRate: '0' }), rules())).toBe('10.00');
  });

  it('takes the amount on the channel basis as given when the entry has both', () => {
    // 81.30 × 1.23 = 99.999: the ERP rounded gross to 99.99, within a cent.
    const both = entry({ net: '81.30', gross: '99.99' });
    expect(priced(both, rules())).toMatchObject({ price: { amount: '99.99' }, net: { amount: '81.29' } });
    expect(amount(both, net)).toBe('81.30');
  });

  it('refuses net and gross that disagree by more than one minor unit, and accepts exactly one', () => {
    expect(amount(entry({ net: '100', gross: '123.01' }), rules())).toBe('123.01');
    expect(refused(entry({ net: '100', gross: '123.02' }), rules())).toBe('gross 123.02 PLN does not match net 100.00 PLN at VAT 23 % (expected 123.00, more than 0.01 apart)');
    expect(refused(entry({ net: '10.555', gross: '13', vatRate: '8' }), rules())).toBe('gross 13.00 PLN does not match net 10.555 PLN at VAT 8 % (expected 11.3994, more than 0.01 apart)');
  });

  it('refuses an entry without a usable amount or VAT rate', () => {
    expect(refused(entry(), rules())).toBe('the entry has neither net nor gross');
    expect(refused(entry({ net: '-5.00' }), rules())).toBe('net "-5.00" is not above zero');
    expect(refused(entry({ gross: '0' }), rules())).toBe('gross "0" is not above zero');
    expect(refused(entry({ net: '12,99' }), rules())).toBe('net "12,99" is not a decimal number such as "129.99"');
    expect(refused(entry({ net: '10', vatRate: '123' }), rules())).toBe('vatRate "123" is not a percentage from 0 to below 100');
    expect(refused(entry({ net: '10', vatRate: '-8' }), rules())).toBe('vatRate "-8" is not a percentage from 0 to below 100');
    expect(refused(entry({ net: '10', cost: '-1' }), rules())).toBe('cost "-1" is negative');
  });

  it('refuses a price that rounds to zero', () => {
    expect(refused(entry({ gross: '0.004' }), rules())).toBe('price computes to 0.00 PLN; a channel price must be above zero');
  });
});

describe('channelPrice: currency conversion', () => {
  const euro = rules({ currency: 'EUR', rates: { PLN: '0.2312' } });

  it('multiplies by the rate of the entry currency: 1 PLN = 0.2312 EUR', () => {
    expect(priced(entry({ gross: '100' }), euro)).toEqual({ ok: true, price: { amount: '23.12', currency: 'EUR' }, net: { amount: '18.80', currency: 'EUR' }, applied: [] });
    // 129.99 × 0.2312 = 30.053688
    expect(priced(entry({ gross: '129.99' }), euro)).toMatchObject({ price: { amount: '30.05', currency: 'EUR' }, applied: ['rounded half up to 2 decimals'] });
  });

  it('refuses an entry in a currency without a rate instead of pushing it unconverted', () => {
    expect(refused(entry({ gross: '100', currency: 'USD' }), euro)).toBe('no conversion rate from USD to EUR (add rates.USD: the EUR for 1 USD)');
  });

  it('rounds to whole units of a currency without minor units', () => {
    const yen = rules({ currency: 'JPY', rates: { PLN: '37.5' } });
    // 99.99 × 37.5 = 3749.625
    expect(priced(entry({ gross: '99.99' }), yen)).toMatchObject({ price: { amount: '3750', currency: 'JPY' }, applied: ['rounded half up to whole JPY'] });
  });
});

describe('channelPrice: markup and fee', () => {
  it('applies a markup and a markdown in percent', () => {
    expect(amount(entry({ gross: '100' }), rules({ markupPercent: '+8' }))).toBe('108.00');
    expect(amount(entry({ gross: '100' }), rules({ markupPercent: '-5' }))).toBe('95.00');
  });

  it('compensates the channel fee: price ÷ (1 − fee)', () => {
    expect(amount(entry({ gross: '100' }), rules({ feePercent: '20' }))).toBe('125.00');
    // 100 ÷ 0.875 = 114.2857…
    expect(amount(entry({ gross: '100' }), rules({ feePercent: '12.5' }))).toBe('114.29');
    // 100 × 1.08 ÷ 0.875 = 123.4285…
    expect(amount(entry({ gross: '100' }), rules({ feePercent: '12.5', markupPercent: '+8' }))).toBe('123.43');
  });

  it('converts before the markup, so the markup is in the channel currency', () => {
    expect(amount(entry({ gross: '100' }), rules({ currency: 'EUR', rates: { PLN: '0.25' }, markupPercent: '+10' }))).toBe('27.50');
  });
});

describe('channelPrice: rounding', () => {
  const ending = (text: string, extra: Record<string, unknown> = {}) => rules({ rounding: { mode: 'ending', ending: text }, ...extra });
  const step = (direction: 'nearest' | 'up' | 'down') => rules({ rounding: { mode: 'step', step: '0.05', direction } });

  it('rounds up to the next price ending in .99: 12.01 → 12.99, 12.99 → 12.99, 13.00 → 13.99', () => {
    expect(priced(entry({ gross: '12.01' }), ending('0.99'))).toMatchObject({ price: { amount: '12.99' }, applied: ['rounded up to end in 0.99'] });
    expect(priced(entry({ gross: '12.99' }), ending('0.99'))).toMatchObject({ price: { amount: '12.99' }, applied: [] });
    expect(amount(entry({ gross: '13.00' }), ending('0.99'))).toBe('13.99');
    expect(amount(entry({ gross: '12.995' }), ending('0.99'))).toBe('13.99');
    expect(amount(entry({ gross: '12.9901' }), ending('0.99'))).toBe('13.99');
    expect(amount(entry({ gross: '0.50' }), ending('0.99'))).toBe('0.99');
  });

  it('repeats a longer ending every power of ten above it', () => {
    expect(amount(entry({ gross: '12.01' }), ending('9.99'))).toBe('19.99');
    expect(amount(entry({ gross: '19.99' }), ending('9.99'))).toBe('19.99');
    expect(amount(entry({ gross: '20.00' }), ending('9.99'))).toBe('29.99');
    const yen = (gross: string) => amount(entry({ gross, currency: 'JPY' }), ending('90', { currency: 'JPY' }));
    expect([yen('1234'), yen('1290'), yen('1291')]).toEqual(['1290', '1290', '1390']);
  });

  it('rounds to the nearest step of 0.05, a half up', () => {
    const nearest = step('nearest');
    expect(priced(entry({ gross: '12.02' }), nearest)).toMatchObject({ price: { amount: '12.00' }, applied: ['rounded to the nearest step of 0.05'] });
    expect(amount(entry({ gross: '12.03' }), nearest)).toBe('12.05');
    expect(amount(entry({ gross: '12.025' }), nearest)).toBe('12.05');
    expect(amount(entry({ gross: '12.0249' }), nearest)).toBe('12.00');
    expect(priced(entry({ gross: '12.05' }), nearest)).toMatchObject({ price: { amount: '12.05' }, applied: [] });
  });

  it('rounds up or down to a step of 0.05', () => {
    expect(priced(entry({ gross: '12.01' }), step('up'))).toMatchObject({ price: { amount: '12.05' }, applied: ['rounded up to a step of 0.05'] });
    expect(amount(entry({ gross: '12.05' }), step('up'))).toBe('12.05');
    expect(priced(entry({ gross: '12.04' }), step('down'))).toMatchObject({ price: { amount: '12.00' }, applied: ['rounded down to a step of 0.05'] });
    expect(amount(entry({ gross: '12.05' }), step('down'))).toBe('12.05');
  });
});

describe('channelPrice: floors', () => {
  it('raises a price below the minimum price and rounds it up by the rule', () => {
    expect(priced(entry({ gross: '12.01' }), rules({ minimumPrice: '20', rounding: { mode: 'ending', ending: '0.99' } }))).toMatchObject({
      price: { amount: '20.99' },
      applied: ['raised to the minimum price 20.00 PLN', 'rounded up to end in 0.99'],
    });
    // Rounded down to 19.95 it would be below 19.98: the floor rounds up, whatever the direction.
    expect(priced(entry({ gross: '19.97' }), rules({ minimumPrice: '19.98', rounding: { mode: 'step', step: '0.05', direction: 'down' } }))).toMatchObject({
      price: { amount: '20.00' },
      applied: ['raised to the minimum price 19.98 PLN', 'rounded up to a step of 0.05'],
    });
    expect(priced(entry({ gross: '5' }), rules({ minimumPrice: '9.99' }))).toMatchObject({ price: { amount: '9.99' }, applied: ['raised to the minimum price 9.99 PLN'] });
    expect(priced(entry({ gross: '20' }), rules({ minimumPrice: '20' }))).toMatchObject({ price: { amount: '20.00' }, applied: [] });
  });

  it('raises a net price below cost × (1 + margin)', () => {
    const net = rules({ pricesIncludeVat: false, minimumMarginPercent: '25' });
    expect(priced(entry({ net: '11', cost: '10' }), net)).toMatchObject({
      price: { amount: '12.50' },
      cost: { amount: '10.00' },
      applied: ['raised to the margin floor 12.50 PLN (cost 10.00 PLN + 25 % margin)'],
    });
    expect(priced(entry({ net: '13', cost: '10' }), net)).toMatchObject({ price: { amount: '13.00' }, applied: [] });
  });

  it('puts VAT on the margin floor of a channel that shows gross prices', () => {
    // 10 × 1.25 × 1.23 = 15.375, up to the next .99.
    expect(priced(entry({ gross: '12.01', cost: '10' }), rules({ minimumMarginPercent: '25', rounding: { mode: 'ending', ending: '0.99' } }))).toMatchObject({
      price: { amount: '15.99' },
      net: { amount: '13.00' },
      applied: ['raised to the margin floor 15.375 PLN (cost 10.00 PLN + 25 % margin + 23 % VAT)', 'rounded up to end in 0.99'],
    });
  });

  it('rounds a floored price up to the minor unit, so the floor holds to the last digit', () => {
    // 10.01 × 1.1 = 11.011: half up would give 11.01, below the floor.
    expect(priced(entry({ net: '5', cost: '10.01' }), rules({ pricesIncludeVat: false, minimumMarginPercent: '10' }))).toMatchObject({
      price: { amount: '11.02' },
      applied: ['raised to the margin floor 11.011 PLN (cost 10.01 PLN + 10 % margin)', 'rounded up to 2 decimals'],
    });
  });

  it('converts the cost with the rate of the entry', () => {
    const euro = rules({ pricesIncludeVat: false, currency: 'EUR', rates: { PLN: '0.25' }, minimumMarginPercent: '25' });
    expect(priced(entry({ net: '40', cost: '40' }), euro)).toMatchObject({
      price: { amount: '12.50', currency: 'EUR' },
      cost: { amount: '10.00', currency: 'EUR' },
      applied: ['raised to the margin floor 12.50 EUR (cost 40.00 PLN + 25 % margin × 0.25 EUR/PLN)'],
    });
  });

  it('raises to the higher of the two floors', () => {
    const both = rules({ pricesIncludeVat: false, minimumPrice: '20', minimumMarginPercent: '25' });
    expect(priced(entry({ net: '5', cost: '10' }), both).applied).toEqual(['raised to the minimum price 20.00 PLN']);
    expect(priced(entry({ net: '5', cost: '20' }), both).applied).toEqual(['raised to the margin floor 25.00 PLN (cost 20.00 PLN + 25 % margin)']);
  });

  it('refuses an entry without cost when a margin floor is set: the floor cannot be checked', () => {
    expect(refused(entry({ net: '5' }), rules({ minimumMarginPercent: '25' }))).toBe('the entry has no cost, and minimumMarginPercent 25 needs one');
  });
});

describe('channelPrice: compare-at price', () => {
  const withRegular = (extra: Record<string, unknown> = {}) => rules({ compareAtPrice: { source: 'priceList', priceList: 'REG' }, ...extra });
  const regular = (gross: string) => entry({ priceList: 'REG', gross });

  it('takes the same SKU of the other price list through the same steps', () => {
    expect(priced(entry({ gross: '99.99' }), withRegular(), { compareAtEntry: regular('149.99') })).toMatchObject({ price: { amount: '99.99' }, compareAt: { amount: '149.99', currency: 'PLN' }, applied: [] });
    const marked = priced(entry({ gross: '100' }), withRegular({ markupPercent: '+10', rounding: { mode: 'ending', ending: '0.99' } }), { compareAtEntry: regular('150') });
    expect([marked.price.amount, marked.compareAt?.amount]).toEqual(['110.99', '165.99']);
  });

  it('leaves it out when it is not above the price, and says so', () => {
    const equal = priced(entry({ gross: '99.99' }), withRegular(), { compareAtEntry: regular('99.99') });
    expect(equal.compareAt).toBeUndefined();
    expect(equal.applied).toEqual(['compare-at left out: 99.99 PLN is not above the price 99.99 PLN']);
    // The minimum price lifts the price to 20.00, above the regular 15.00.
    const floored = priced(entry({ gross: '12.01' }), withRegular({ minimumPrice: '20' }), { compareAtEntry: regular('15') });
    expect(floored.compareAt).toBeUndefined();
    expect(floored.applied).toEqual(['raised to the minimum price 20.00 PLN', 'compare-at left out: 15.00 PLN is not above the price 20.00 PLN']);
  });

  it('leaves it out when the other entry is missing or unusable, without refusing the price', () => {
    expect(priced(entry({ gross: '10' }), withRegular()).applied).toEqual(['compare-at left out: no entry in price list "REG"']);
    expect(priced(entry({ gross: '10' }), withRegular(), { compareAtEntry: entry({ priceList: 'REG' }) }).applied).toEqual(['compare-at left out: price list "REG": the entry has neither net nor gross']);
    expect(priced(entry({ gross: '10' }), withRegular(), { compareAtEntry: { ...regular('20'), sku: 'B' } }).applied).toEqual(['compare-at left out: the entry of price list "REG" is for SKU "B", not "A"']);
    expect(priced(entry({ gross: '10' }), withRegular(), { compareAtEntry: regular('20'), at }).compareAt).toEqual({ amount: '20.00', currency: 'PLN' });
  });

  it('gives none without a compare-at rule, whatever the context holds', () => {
    expect(priced(entry({ gross: '10' }), rules(), { compareAtEntry: regular('20') })).toEqual({ ok: true, price: { amount: '10.00', currency: 'PLN' }, net: { amount: '8.13', currency: 'PLN' }, applied: [] });
  });
});

// ---- properties ----

const RATES: Record<string, string> = { PLN: '0.2312', EUR: '4.3245', USD: '3.9871', JPY: '0.0266', HUF: '0.0109' };
const TO_JPY: Record<string, string> = { PLN: '37.52', EUR: '162.3', USD: '149.77' };

/** A decimal string with up to `digits` decimals, from `min` to `max` in whole units. */
const decimalText = (max: number, digits: number) =>
  fc.tuple(fc.nat(max), fc.nat(10 ** digits - 1)).map(([whole, fraction]) => (digits === 0 ? String(whole) : `${whole}.${String(fraction).padStart(digits, '0')}`));

const roundingArb = fc.oneof(
  fc.constant({ mode: 'none' }),
  fc.record({ mode: fc.constant('ending'), ending: fc.constantFrom('0.99', '9.99', '0.49', '0.00', '90') }),
  fc.record({ mode: fc.constant('step'), step: fc.constantFrom('0.05', '0.10', '1', '5'), direction: fc.constantFrom('nearest', 'up', 'down') }),
);

/** Valid rules: candidates that the schema refuses (e.g. ending 0.99 in JPY) are skipped. */
const rulesArb = fc
  .record({
    currency: fc.constantFrom('PLN', 'EUR', 'JPY', 'HUF'),
    pricesIncludeVat: fc.boolean(),
    markupPercent: fc.tuple(fc.constantFrom('+', '-'), decimalText(60, 1)).map(([sign, text]) => sign + text),
    feePercent: decimalText(40, 2),
    rounding: roundingArb,
    minimumPrice: fc.option(decimalText(300, 0), { nil: undefined }),
    minimumMarginPercent: fc.option(decimalText(80, 1), { nil: undefined }),
  })
  .map(({ currency, minimumPrice, minimumMarginPercent, ...rest }) => {
    const table = currency === 'JPY' ? TO_JPY : RATES;
    const rates = Object.fromEntries(Object.entries(table).filter(([from]) => from !== currency));
    return ChannelPriceRules.safeParse({
      priceList: 'DETAL',
      currency,
      rates,
      ...rest,
      ...(minimumPrice === undefined ? {} : { minimumPrice }),
      ...(minimumMarginPercent === undefined ? {} : { minimumMarginPercent }),
    });
  })
  .filter((parsed) => parsed.success)
  .map((parsed) => parsed.data!);

/** Valid entries: net, gross or both (gross from net, rounded as an ERP does), with or without a cost. */
const entryArb = fc
  .record({
    currency: fc.constantFrom('PLN', 'EUR', 'USD'),
    cents: fc.integer({ min: 1, max: 5_000_000 }),
    vatRate: fc.constantFrom('23', '8', '5', '0', '27'),
    given: fc.constantFrom('net', 'gross', 'both'),
    cost: fc.option(decimalText(50_000, 2), { nil: undefined }),
  })
  .map(({ currency, cents, vatRate, given, cost }): PriceListEntry => {
    const value = new Dec(cents).dividedBy(100);
    const gross = value.times(new Dec(vatRate).dividedBy(100).plus(1)).toFixed(2, Dec.ROUND_HALF_UP);
    return {
      sku: 'P',
      priceList: 'DETAL',
      currency,
      vatRate,
      ...(given === 'gross' ? { gross: value.toFixed(2) } : { net: value.toFixed(2) }),
      ...(given === 'both' ? { gross } : {}),
      ...(cost === undefined ? {} : { cost }),
    };
  });

/** What a valid entry can still be refused for. */
const ALLOWED_REFUSALS = /^(the entry has no cost, and minimumMarginPercent .* needs one|price computes to 0(\.0+)? [A-Z]{3}; a channel price must be above zero)$/;

function expectPriceOrAllowedRefusal(result: ChannelPriceResult): result is Extract<ChannelPriceResult, { ok: true }> {
  if (!result.ok) expect(result.reason).toMatch(ALLOWED_REFUSALS);
  return result.ok;
}

describe('channelPrice: properties', () => {
  it('never gives more decimals than the currency allows, and always exactly that many', () => {
    fc.assert(
      fc.property(entryArb, rulesArb, (e, r) => {
        const result = channelPrice(e, r, { at });
        if (!expectPriceOrAllowedRefusal(result)) return;
        const digits = minorUnitDigits(r.currency);
        const canonical = new RegExp(digits === 0 ? '^[1-9]\\d*$' : `^(0|[1-9]\\d*)\\.\\d{${digits}}$`);
        expect(result.price.amount).toMatch(canonical);
        expect(result.net.amount).toMatch(canonical);
        expect(result.price.currency).toBe(r.currency);
      }),
    );
  });

  it('with the ending 0.99, every price ends in .99', () => {
    const ninetyNine = rulesArb.filter((r) => r.currency !== 'JPY').map((r) => ChannelPriceRules.parse({ ...r, rounding: { mode: 'ending', ending: '0.99' } }));
    fc.assert(
      fc.property(entryArb, ninetyNine, (e, r) => {
        const result = channelPrice(e, r, { at });
        if (!expectPriceOrAllowedRefusal(result)) return;
        expect(result.price.amount).toMatch(/\.99$/);
      }),
    );
  });

  it('never gives a price below the minimum price or a net price below the margin floor', () => {
    fc.assert(
      fc.property(entryArb, rulesArb, (e, r) => {
        const result = channelPrice(e, r, { at });
        if (!expectPriceOrAllowedRefusal(result)) return;
        const shown = new Dec(result.price.amount);
        if (r.minimumPrice !== undefined) expect(shown.greaterThanOrEqualTo(r.minimumPrice)).toBe(true);
        if (r.minimumMarginPercent !== undefined) {
          const rate = e.currency === r.currency ? new Dec(1) : new Dec(r.rates[e.currency]!);
          const netFloor = new Dec(e.cost!).times(new Dec(r.minimumMarginPercent).dividedBy(100).plus(1)).times(rate);
          const vatFactor = new Dec(e.vatRate).dividedBy(100).plus(1);
          // net ≥ floor, compared without a division: shown ≥ floor × (1 + VAT) on a gross channel.
          expect(shown.greaterThanOrEqualTo(r.pricesIncludeVat ? netFloor.times(vatFactor) : netFloor)).toBe(true);
        }
      }),
    );
  });

  it('is deterministic and never throws, whatever the entry holds: it gives a reason instead', () => {
    const anyText = fc.oneof(fc.string(), fc.constantFrom('12.99', '-1', '0', '1e3', '23', 'PLN', 'DETAL', '2026-01-01T00:00:00Z', '2026-13-45T99:99:99Z'));
    const field = fc.oneof(anyText, fc.constant(undefined), fc.anything());
    const garbage = fc.record({ sku: field, priceList: fc.oneof(fc.constant('DETAL'), field), currency: fc.oneof(fc.constantFrom('PLN', 'EUR'), field), net: field, gross: field, vatRate: field, cost: field, validFrom: field, validTo: field });
    const compareAtRules = rulesArb.map((r) => ChannelPriceRules.parse({ ...r, compareAtPrice: { source: 'priceList', priceList: 'REG' } }));
    fc.assert(
      fc.property(garbage, fc.option(garbage, { nil: undefined }), compareAtRules, fc.oneof(fc.constant(at), anyText), (raw, other, r, moment) => {
        const e = raw as unknown as PriceListEntry;
        const context: PriceContext = other === undefined ? { at: moment } : { at: moment, compareAtEntry: { ...(other as unknown as PriceListEntry), priceList: 'REG' } };
        const first = channelPrice(e, r, context);
        expect(channelPrice(e, r, context)).toEqual(first);
        if (!first.ok) expect(first.reason).toMatch(/\S/);
      }),
    );
  });
});

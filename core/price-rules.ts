/**
 * Price rules: from an ERP price list entry to the price one sales channel shows. Declared per
 * channel (`ChannelPriceRules`), applied by one pure function (`channelPrice`).
 *
 * Order of operations (each step works on the exact result of the one before; nothing is rounded
 * before step 6, so no step rounds what an earlier step already rounded):
 *
 *  1. Choose the entry: it must come from the channel's price list and be valid at the time of
 *     the computation (validFrom inclusive, validTo exclusive).
 *  2. Net/gross: take the amount on the channel's basis, gross when `pricesIncludeVat`, else net.
 *     When the entry gives only the other one, derive it with the entry's VAT rate
 *     (gross = net × (1 + vat/100), net = gross ÷ (1 + vat/100)); when it gives both, they must
 *     agree within one minor unit of the entry's currency (ERPs round one of them), and the one
 *     on the channel's basis is taken as given.
 *     VAT comes first, not last: the ending rounding and the minimum price are about the number
 *     the customer sees, and 12.99 net is 15.98 gross. Conversion, markup and fee multiply, so
 *     where VAT is applied does not change them.
 *  3. Currency conversion: × the rate of the entry's currency to the channel's (`rates`).
 *  4. Markup or markdown: × (1 + markupPercent/100).
 *  5. Fee compensation: ÷ (1 − feePercent/100), so that what is left after the channel's fee
 *     is the price before it.
 *  6. Rounding rule: none, up to an ending (12.01 → 12.99), or to a step.
 *  7. Floors: the minimum price, and the margin floor net ≥ cost × (1 + minimumMarginPercent/100)
 *     (in the channel's currency and basis). A price below the higher floor is raised to it and
 *     then rounded UP by the rounding rule, so it ends as the rule says and stays above the
 *     floor.
 *  8. Final rounding to the currency's minor unit: ROUND_HALF_UP (commercial rounding, as an
 *     invoice rounds one price; banker's rounding only evens out sums of many roundings). A
 *     price raised to a floor is rounded up instead, so the floor holds to the last digit. After
 *     an ending or a step rule this changes nothing: the schema keeps endings and steps within
 *     the currency's minor unit.
 *  9. The price must be above zero.
 *
 * A price that cannot be computed (no net or gross, net and gross that disagree, a missing
 * conversion rate, a price of zero) gives a reason for the quarantine, never a thrown error: one
 * bad entry must not stop the prices of the rest.
 */
import { z } from 'zod';
import { CurrencyCode, Dec, DecimalText, SignedDecimalText, describeValue, formatAmount, formatMoney, minorUnit, minorUnitDigits, parseDecimal, toMoney, type Money, type Parsed } from './money';

/** One entry of an ERP price list, as a source connector reads it. Amounts are decimal strings. */
export interface PriceListEntry {
  sku: string;
  /** The ERP price list the entry belongs to (e.g. "DETAL"). */
  priceList: string;
  /** ISO 4217 code of the entry's amounts. */
  currency: string;
  /** Price without VAT. At least one of net and gross. */
  net?: string;
  /** Price with VAT. */
  gross?: string;
  /** VAT rate in percent: "23" is 23 %. */
  vatRate: string;
  /** Purchase price without VAT, in the entry's currency. Needed by the margin floor. */
  cost?: string;
  /** First moment the entry applies (ISO-8601 with a zone, inclusive). Absent: always did. */
  validFrom?: string;
  /** First moment it no longer applies (ISO-8601 with a zone, exclusive). Absent: open end. */
  validTo?: string;
}

/** How the price is rounded before the floors (step 6). */
export const PriceRounding = z.discriminatedUnion('mode', [
  /** Only the final rounding to the currency's minor unit. */
  z.strictObject({ mode: z.literal('none') }),
  /**
   * Up to the next price that ends in `ending`, never down (rounding down would give away the
   * markup and the fee compensation). The ending repeats every power of ten above it: "0.99"
   * every 1 (12.01 → 12.99, 12.99 → 12.99, 13.00 → 13.99), "9.99" every 10 (12.01 → 19.99),
   * "90" every 100 (1234 → 1290).
   */
  z.strictObject({ mode: z.literal('ending'), ending: DecimalText }),
  /**
   * To a multiple of `step` (e.g. "0.05"): `nearest` (halves up), `up` or `down`. A price raised
   * to a floor is always rounded up, whatever the direction.
   */
  z.strictObject({ mode: z.literal('step'), step: DecimalText, direction: z.enum(['nearest', 'up', 'down']) }),
]);
export type PriceRounding = z.infer<typeof PriceRounding>;

/** Where the channel's "was" price (compare-at) comes from. */
export const CompareAtPrice = z.discriminatedUnion('source', [
  /** No compare-at price. */
  z.strictObject({ source: z.literal('none') }),
  /**
   * The same SKU's entry in another price list (e.g. the regular list while the channel's list
   * holds promotions), through the same steps except the floors. It is shown only when above
   * the price; otherwise it is left out and the reason reported.
   */
  z.strictObject({ source: z.literal('priceList'), priceList: z.string().min(1) }),
]);
export type CompareAtPrice = z.infer<typeof CompareAtPrice>;

export const ChannelPriceRules = z
  .strictObject({
    /** The ERP price list that feeds this channel (e.g. "DETAL"). Required: there is no usual one. */
    priceList: z.string().min(1),
    /** The channel's currency. Required: the shop's currency is not ours to guess. */
    currency: CurrencyCode,
    /**
     * Conversion rates from the currencies of the entries to the channel's: the key is the
     * entry's currency, the value how many units of the channel's currency one unit of it buys
     * (channel EUR, `PLN: "0.2312"`: 1 PLN = 0.2312 EUR). A multiplication, so no rate division
     * adds digits. Default none: an entry in another currency without a rate is refused, never
     * pushed unconverted.
     */
    rates: z
      .record(CurrencyCode, DecimalText, { error: (issue) => (issue.code === 'invalid_key' ? `${describeValue(issue.input)} is not an ISO 4217 code such as "PLN"` : undefined) })
      .default({}),
    /**
     * Whether the channel shows prices with VAT (B2C shops: true) or without (B2B: false).
     * Required: a wrong default would shift every price by the VAT rate.
     */
    pricesIncludeVat: z.boolean(),
    /** Markup (e.g. "+8") or markdown ("-5") in percent, applied after conversion. Default "0". */
    markupPercent: SignedDecimalText.default('0'),
    /**
     * The channel's fee in percent of the price (e.g. "12" for a marketplace commission): the
     * price is divided by (1 − fee/100) so the fee is paid by the customer. Default "0".
     */
    feePercent: DecimalText.default('0'),
    /** Default none: a price shows as computed, rounded to the currency's minor unit. */
    rounding: PriceRounding.default({ mode: 'none' }),
    /** Lowest price shown, in the channel's currency and on its basis (gross or net). Default none. */
    minimumPrice: DecimalText.optional(),
    /**
     * Lowest margin on cost, in percent: the channel's net price is at least cost × (1 + margin/100),
     * before the channel's fee. Entries without a cost are then refused, because the floor cannot
     * be checked. Default none.
     */
    minimumMarginPercent: DecimalText.optional(),
    /** Default none: a compare-at price only when asked for. */
    compareAtPrice: CompareAtPrice.default({ source: 'none' }),
  })
  .superRefine(
    (rules, ctx) => {
      for (const problem of crossFieldProblems(rules)) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    },
    // Only once every field is valid: a rate that is not a decimal has its own issue already,
    // and the cross-field checks read the fields as decimals.
    { when: (payload) => payload.issues.length === 0 },
  );
export type ChannelPriceRules = z.infer<typeof ChannelPriceRules>;

/** Problems between fields that each look right alone. */
function crossFieldProblems(rules: ChannelPriceRules): Array<{ path: string[]; message: string }> {
  const problems: Array<{ path: string[]; message: string }> = [];
  const digits = minorUnitDigits(rules.currency);
  const tooPrecise = (path: string[], text: string) => {
    if (new Dec(text).decimalPlaces() > digits) problems.push({ path, message: `"${text}" has more decimals than ${rules.currency} allows (${digits})` });
  };
  if (Object.hasOwn(rules.rates, rules.currency)) problems.push({ path: ['rates', rules.currency], message: `${rules.currency} is the channel's own currency and needs no rate` });
  for (const [currency, rate] of Object.entries(rules.rates)) {
    if (new Dec(rate).isZero()) problems.push({ path: ['rates', currency], message: 'a rate must be above zero' });
  }
  if (new Dec(rules.markupPercent).lessThanOrEqualTo(-100)) problems.push({ path: ['markupPercent'], message: `"${rules.markupPercent}" leaves no price (a markdown must be less than 100 %)` });
  if (new Dec(rules.feePercent).greaterThanOrEqualTo(100)) problems.push({ path: ['feePercent'], message: `"${rules.feePercent}" cannot be compensated (a fee must be less than 100 %)` });
  if (rules.rounding.mode === 'ending') tooPrecise(['rounding', 'ending'], rules.rounding.ending);
  if (rules.rounding.mode === 'step') {
    if (new Dec(rules.rounding.step).isZero()) problems.push({ path: ['rounding', 'step'], message: 'a step must be above zero' });
    else tooPrecise(['rounding', 'step'], rules.rounding.step);
  }
  if (rules.minimumPrice !== undefined) tooPrecise(['minimumPrice'], rules.minimumPrice);
  if (rules.compareAtPrice.source === 'priceList' && rules.compareAtPrice.priceList === rules.priceList) {
    problems.push({ path: ['compareAtPrice', 'priceList'], message: `"${rules.priceList}" is the channel's own price list` });
  }
  return problems;
}

export interface PriceContext {
  /** The moment the price is computed for (ISO-8601 with a zone): the entry must be valid then. */
  at: string;
  /** The same SKU's entry in `compareAtPrice.priceList`, when the rules take compare-at from a list. */
  compareAtEntry?: PriceListEntry;
}

export type ChannelPriceResult =
  | {
      ok: true;
      /** The price to show, in the channel's currency and on its basis (gross or net). */
      price: Money;
      /** The channel's net price (the price itself when the channel shows net), for the guard. */
      net: Money;
      /** The entry's cost in the channel's currency, when it has one, for the guard. */
      cost?: Money;
      /** The "was" price, only when above the price. */
      compareAt?: Money;
      /** What changed the price after markup and fee (roundings, floors), and a left-out compare-at, for reports. */
      applied: string[];
    }
  | { ok: false; reason: string };

/** The channel's price for one ERP price list entry (see the order of operations above). */
export function channelPrice(entry: PriceListEntry, rules: ChannelPriceRules, context: PriceContext): ChannelPriceResult {
  const basis = priceOnChannelBasis(entry, rules, rules.priceList, context.at);
  if (!basis.ok) return basis;
  const { value: before, vatFactor, rate } = basis.value;
  let cost: Dec | undefined;
  if (entry.cost !== undefined) {
    const parsedCost = parseDecimal(entry.cost, 'cost');
    if (!parsedCost.ok) return parsedCost;
    if (parsedCost.value.isNegative()) return { ok: false, reason: `cost "${entry.cost}" is negative` };
    cost = parsedCost.value;
  }
  const floor = highestFloor(entry, rules, cost, rate, vatFactor);
  if (!floor.ok) return floor;

  const ruleDirection = rules.rounding.mode === 'step' ? rules.rounding.direction : 'up';
  let value = applyRoundingRule(before, rules.rounding, ruleDirection);
  let applied = value.equals(before) ? [] : [describeRounding(rules.rounding, ruleDirection)];
  const floorToMeet = floor.value !== undefined && value.lessThan(floor.value.amount) ? floor.value : undefined;
  if (floorToMeet !== undefined) {
    // What rounded the value below the floor no longer describes the price.
    applied = [floorToMeet.description];
    value = applyRoundingRule(floorToMeet.amount, rules.rounding, 'up');
    if (!value.equals(floorToMeet.amount)) applied.push(describeRounding(rules.rounding, 'up'));
  }
  const raised = floorToMeet !== undefined;
  const price = toMoney(value, rules.currency, raised ? 'up' : 'half-up');
  if (!value.equals(price.amount)) applied.push(`rounded ${raised ? 'up' : 'half up'} to ${describeDigits(rules.currency)}`);
  if (new Dec(price.amount).lessThanOrEqualTo(0)) {
    return { ok: false, reason: `price computes to ${formatMoney(price)}; a channel price must be above zero` };
  }

  const net = rules.pricesIncludeVat ? toMoney(new Dec(price.amount).dividedBy(vatFactor), rules.currency, 'half-up') : price;
  const result: ChannelPriceResult = { ok: true, price, net, applied };
  if (cost !== undefined) result.cost = toMoney(cost.times(rate), rules.currency, 'half-up');
  const compareAt = compareAtPrice(entry, rules, context, price);
  if (compareAt.ok) {
    if (compareAt.value !== undefined) result.compareAt = compareAt.value;
  } else {
    applied.push(`compare-at left out: ${compareAt.reason}`);
  }
  return result;
}

interface BasisPrice {
  /** After conversion, markup and fee, before any rounding. */
  value: Dec;
  /** 1 + vat/100 of the entry. */
  vatFactor: Dec;
  /** Units of the channel's currency per unit of the entry's (1 for the same currency). */
  rate: Dec;
}

/** Steps 1 to 5 for the entry of `priceList`: shared by the price and the compare-at price. */
function priceOnChannelBasis(entry: PriceListEntry, rules: ChannelPriceRules, priceList: string, at: string): Parsed<BasisPrice> {
  if (entry.priceList !== priceList) return { ok: false, reason: `entry is from price list ${describeValue(entry.priceList)}, not "${priceList}"` };
  const validity = validityProblem(entry, at);
  if (validity !== undefined) return { ok: false, reason: validity };
  if (typeof entry.currency !== 'string' || !CurrencyCode.safeParse(entry.currency).success) {
    return { ok: false, reason: `currency ${describeValue(entry.currency)} is not an ISO 4217 code such as "PLN"` };
  }
  const vatRate = parseDecimal(entry.vatRate, 'vatRate');
  if (!vatRate.ok) return vatRate;
  if (vatRate.value.isNegative() || vatRate.value.greaterThanOrEqualTo(100)) return { ok: false, reason: `vatRate "${entry.vatRate}" is not a percentage from 0 to below 100` };
  const vatFactor = vatRate.value.dividedBy(100).plus(1);

  const net = optionalPositive(entry.net, 'net');
  if (!net.ok) return net;
  const gross = optionalPositive(entry.gross, 'gross');
  if (!gross.ok) return gross;
  if (net.value === undefined && gross.value === undefined) return { ok: false, reason: 'the entry has neither net nor gross' };
  if (net.value !== undefined && gross.value !== undefined) {
    const expectedGross = net.value.times(vatFactor);
    if (gross.value.minus(expectedGross).abs().greaterThan(minorUnit(entry.currency))) {
      const c = entry.currency;
      return {
        ok: false,
        reason: `gross ${formatAmount(gross.value, c)} ${c} does not match net ${formatAmount(net.value, c)} ${c} at VAT ${vatRate.value.toFixed()} % (expected ${formatAmount(expectedGross, c)}, more than ${formatAmount(minorUnit(c), c)} apart)`,
      };
    }
  }
  const onBasis = rules.pricesIncludeVat ? (gross.value ?? net.value!.times(vatFactor)) : (net.value ?? gross.value!.dividedBy(vatFactor));

  let rate = new Dec(1);
  if (entry.currency !== rules.currency) {
    if (!Object.hasOwn(rules.rates, entry.currency)) {
      return { ok: false, reason: `no conversion rate from ${entry.currency} to ${rules.currency} (add rates.${entry.currency}: the ${rules.currency} for 1 ${entry.currency})` };
    }
    rate = new Dec(rules.rates[entry.currency]!);
  }
  const value = onBasis
    .times(rate)
    .times(new Dec(rules.markupPercent).dividedBy(100).plus(1))
    .dividedBy(new Dec(1).minus(new Dec(rules.feePercent).dividedBy(100)));
  return { ok: true, value: { value, vatFactor, rate } };
}

/** A net or gross amount: absent, or a decimal above zero. */
function optionalPositive(text: string | undefined, what: 'net' | 'gross'): Parsed<Dec | undefined> {
  if (text === undefined) return { ok: true, value: undefined };
  const parsed = parseDecimal(text, what);
  if (!parsed.ok) return parsed;
  if (!parsed.value.isPositive() || parsed.value.isZero()) return { ok: false, reason: `${what} "${text}" is not above zero` };
  return parsed;
}

/** An ISO-8601 time with a zone: without one, the same text is another moment on another machine. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function readTime(text: unknown, what: string): Parsed<number> {
  const millis = typeof text === 'string' && ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(millis)) return { ok: false, reason: `${what} ${describeValue(text)} is not an ISO-8601 time with a zone, such as "2026-01-01T00:00:00Z"` };
  return { ok: true, value: millis };
}

function validityProblem(entry: PriceListEntry, at: string): string | undefined {
  const now = readTime(at, 'the time of the computation');
  if (!now.ok) return now.reason;
  const from = entry.validFrom === undefined ? undefined : readTime(entry.validFrom, 'validFrom');
  if (from !== undefined && !from.ok) return from.reason;
  const to = entry.validTo === undefined ? undefined : readTime(entry.validTo, 'validTo');
  if (to !== undefined && !to.ok) return to.reason;
  const started = from === undefined || from.value <= now.value;
  const ended = to !== undefined && to.value <= now.value;
  if (started && !ended) return undefined;
  const window = [entry.validFrom === undefined ? '' : `from ${entry.validFrom}`, entry.validTo === undefined ? '' : `until ${entry.validTo}`].filter(Boolean).join(' ');
  return `entry is valid ${window}, not at ${at}`;
}

/** Step 6: the rounding rule, in `direction` for a step rule (endings always round up). */
function applyRoundingRule(value: Dec, rounding: PriceRounding, direction: 'nearest' | 'up' | 'down'): Dec {
  switch (rounding.mode) {
    case 'none':
      return value;
    case 'ending': {
      const ending = new Dec(rounding.ending);
      const period = endingPeriod(ending);
      // The smallest n × period + ending that is not below the value.
      const periods = Dec.max(0, value.minus(ending).dividedBy(period).ceil());
      return periods.times(period).plus(ending);
    }
    case 'step': {
      const step = new Dec(rounding.step);
      if (step.isZero()) return value;
      const steps = value.dividedBy(step);
      const whole = direction === 'up' ? steps.ceil() : direction === 'down' ? steps.floor() : steps.toDecimalPlaces(0, Dec.ROUND_HALF_UP);
      return whole.times(step);
    }
  }
}

/** The smallest power of ten above the ending: "0.99" repeats every 1, "9.99" every 10. */
function endingPeriod(ending: Dec): Dec {
  let period = new Dec(1);
  while (period.lessThanOrEqualTo(ending)) period = period.times(10);
  return period;
}

/** Only called for a rule that changed the value, so never for mode none. */
function describeRounding(rounding: PriceRounding, direction: 'nearest' | 'up' | 'down'): string {
  if (rounding.mode === 'ending') return `rounded up to end in ${rounding.ending}`;
  if (rounding.mode === 'step') return direction === 'nearest' ? `rounded to the nearest step of ${rounding.step}` : `rounded ${direction} to a step of ${rounding.step}`;
  return 'not rounded';
}

function describeDigits(currency: string): string {
  const digits = minorUnitDigits(currency);
  return digits === 0 ? `whole ${currency}` : `${digits} decimal${digits === 1 ? '' : 's'}`;
}

/** Step 7: the higher of the minimum price and the margin floor, in the channel's currency and basis. */
function highestFloor(
  entry: PriceListEntry,
  rules: ChannelPriceRules,
  cost: Dec | undefined,
  rate: Dec,
  vatFactor: Dec,
): Parsed<{ amount: Dec; description: string } | undefined> {
  const c = rules.currency;
  let floor: { amount: Dec; description: string } | undefined;
  if (rules.minimumPrice !== undefined) {
    const minimum = new Dec(rules.minimumPrice);
    floor = { amount: minimum, description: `raised to the minimum price ${formatAmount(minimum, c)} ${c}` };
  }
  if (rules.minimumMarginPercent !== undefined) {
    if (cost === undefined) return { ok: false, reason: `the entry has no cost, and minimumMarginPercent ${rules.minimumMarginPercent} needs one` };
    const netFloor = cost.times(new Dec(rules.minimumMarginPercent).dividedBy(100).plus(1)).times(rate);
    const amount = rules.pricesIncludeVat ? netFloor.times(vatFactor) : netFloor;
    if (floor === undefined || amount.greaterThan(floor.amount)) {
      const ec = entry.currency;
      const terms = [`cost ${formatAmount(cost, ec)} ${ec}`, `+ ${rules.minimumMarginPercent} % margin`];
      if (ec !== c) terms.push(`× ${rate.toFixed()} ${c}/${ec}`);
      if (rules.pricesIncludeVat) terms.push(`+ ${vatFactor.minus(1).times(100).toFixed()} % VAT`);
      floor = { amount, description: `raised to the margin floor ${formatAmount(amount, c)} ${c} (${terms.join(' ')})` };
    }
  }
  return { ok: true, value: floor };
}

/** The compare-at price of the rules, undefined when there is none, or why it is left out. */
function compareAtPrice(entry: PriceListEntry, rules: ChannelPriceRules, context: PriceContext, price: Money): Parsed<Money | undefined> {
  if (rules.compareAtPrice.source === 'none') return { ok: true, value: undefined };
  const list = rules.compareAtPrice.priceList;
  const other = context.compareAtEntry;
  if (other === undefined) return { ok: false, reason: `no entry in price list "${list}"` };
  if (other.sku !== entry.sku) return { ok: false, reason: `the entry of price list "${list}" is for SKU ${describeValue(other.sku)}, not ${describeValue(entry.sku)}` };
  const basis = priceOnChannelBasis(other, rules, list, context.at);
  if (!basis.ok) return { ok: false, reason: `price list "${list}": ${basis.reason}` };
  const rounded = applyRoundingRule(basis.value.value, rules.rounding, rules.rounding.mode === 'step' ? rules.rounding.direction : 'up');
  const compareAt = toMoney(rounded, rules.currency, 'half-up');
  if (!new Dec(compareAt.amount).greaterThan(price.amount)) return { ok: false, reason: `${formatMoney(compareAt)} is not above the price ${formatMoney(price)}` };
  return { ok: true, value: compareAt };
}

/**
 * Money: an amount as a decimal string in canonical form and an ISO 4217 currency code.
 *
 * Never a binary float: 0.1 + 0.2 is not 0.3 in a double, and a price that is off by a
 * hundredth of a cent after a VAT division shows as a wrong cent after rounding. Arithmetic goes
 * through decimal.js (`Dec`, a private configuration of it, so that no other module's settings
 * change ours); values cross module and process boundaries as strings.
 *
 * Canonical amount: digits with exactly the currency's minor-unit digits after the point ("129.99",
 * "13.00" for PLN; "1300" for JPY), a leading "-" only below zero, no "+", no exponent, no
 * leading zeros. Two equal amounts of one currency are equal strings.
 */
import Decimal from 'decimal.js';
import { z } from 'zod';

/**
 * decimal.js configured for money: 40 significant digits (a VAT division or a conversion rate
 * with many decimals keeps far more digits than any price needs before the one final rounding),
 * ROUND_HALF_UP where an operation rounds, and never exponent notation in `toString`.
 */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -9e15, toExpPos: 9e15 });
export type Dec = Decimal;

/** A three-letter ISO 4217 code in capitals, e.g. "PLN". */
export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as "PLN"');

/** A decimal number written as a string: digits, optionally a point and more digits. */
const UNSIGNED_DECIMAL = /^\d+(\.\d+)?$/;
/** As UNSIGNED_DECIMAL with an optional sign, for values read from a source. */
const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

/** The message for a number where a decimal string belongs; a missing value keeps zod's own. */
function notQuoted(example: string) {
  return (issue: { input?: unknown }) => (typeof issue.input === 'number' ? `expected a decimal number in quotes, such as ${example} (unquoted, YAML reads a binary float)` : undefined);
}

/**
 * A non-negative decimal in quotes (e.g. "0.2312"). Config values that feed money arithmetic are
 * strings: YAML reads an unquoted 0.2312 as a binary float, which is not the number written.
 */
export const DecimalText = z.string({ error: notQuoted('"129.99"') }).regex(UNSIGNED_DECIMAL, 'expected a decimal number in quotes, such as "129.99"');
/** A decimal in quotes with an optional sign (e.g. "+8", "-5"): markups and markdowns. */
export const SignedDecimalText = z.string({ error: notQuoted('"+8" or "-5"') }).regex(DECIMAL, 'expected a decimal number in quotes with an optional sign, such as "+8" or "-5"');

export interface Money {
  /** Canonical decimal string with exactly the currency's minor-unit digits. */
  readonly amount: string;
  /** ISO 4217 code. */
  readonly currency: string;
}

/**
 * Digits after the decimal point that a channel stores for a currency. Not always what cash can
 * pay: HUF and CZK have no coins below 1 in circulation, but ISO 4217 and Shopify keep 2 digits
 * for them. A currency not listed here has 2, the most common case.
 */
export const MINOR_UNIT_DIGITS: Readonly<Record<string, number>> = {
  PLN: 2,
  EUR: 2,
  USD: 2,
  GBP: 2,
  CZK: 2,
  HUF: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  JPY: 0,
  KRW: 0,
};

export function minorUnitDigits(currency: string): number {
  return Object.hasOwn(MINOR_UNIT_DIGITS, currency) ? MINOR_UNIT_DIGITS[currency]! : 2;
}

/** The smallest amount of a currency, e.g. 0.01 for PLN, 1 for JPY. */
export function minorUnit(currency: string): Dec {
  return new Dec(1).dividedBy(new Dec(10).toPower(minorUnitDigits(currency)));
}

/** A parse that either gives a value or says precisely why it cannot. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * A decimal string as a `Dec`. `what` names the value in the reason (e.g. `net`). A number is
 * refused too: a source that hands over floats has already lost the amount it read.
 */
export function parseDecimal(text: unknown, what: string): Parsed<Dec> {
  if (typeof text !== 'string') return { ok: false, reason: `${what} ${describeValue(text)} is not a decimal string such as "129.99"` };
  if (!DECIMAL.test(text)) return { ok: false, reason: `${what} "${text}" is not a decimal number such as "129.99"` };
  return { ok: true, value: new Dec(text) };
}

/** A currency code and an amount that has no more decimals than the currency allows, canonical. */
export function parseMoney(amount: unknown, currency: unknown): Parsed<Money> {
  if (typeof currency !== 'string' || !CurrencyCode.safeParse(currency).success) {
    return { ok: false, reason: `currency ${describeValue(currency)} is not an ISO 4217 code such as "PLN"` };
  }
  const parsed = parseDecimal(amount, 'amount');
  if (!parsed.ok) return parsed;
  const digits = minorUnitDigits(currency);
  if (parsed.value.decimalPlaces() > digits) {
    return { ok: false, reason: `amount "${String(amount)}" has more decimals than ${currency} allows (${digits})` };
  }
  return { ok: true, value: toMoney(parsed.value, currency, 'half-up') };
}

/**
 * How a value is brought to the currency's minor unit. `half-up` (away from zero at exactly
 * half): commercial rounding, as invoices and tills round one price; banker's rounding only
 * pays off over sums of many rounded values, and a price is rounded once. `up`: away from zero,
 * where a floor must hold. `down`: towards zero.
 */
export type MinorRounding = 'half-up' | 'up' | 'down';

const DECIMAL_ROUNDING: Record<MinorRounding, Decimal.Rounding> = {
  'half-up': Decimal.ROUND_HALF_UP,
  up: Decimal.ROUND_UP,
  down: Decimal.ROUND_DOWN,
};

/** `value` rounded to the currency's minor unit, as canonical money. */
export function toMoney(value: Dec, currency: string, rounding: MinorRounding): Money {
  const rounded = value.toDecimalPlaces(minorUnitDigits(currency), DECIMAL_ROUNDING[rounding]);
  // -0.001 rounds to zero: canonical zero has no sign.
  const amount = rounded.isZero() ? new Dec(0).toFixed(minorUnitDigits(currency)) : rounded.toFixed(minorUnitDigits(currency));
  return { amount, currency };
}

export function moneyValue(money: Money): Dec {
  return new Dec(money.amount);
}

/** "129.99 PLN": for messages and reports. */
export function formatMoney(money: Money): string {
  return `${money.amount} ${money.currency}`;
}

/**
 * An amount for a message: with the currency's minor-unit digits when it has no more
 * ("8" → "8.00"), otherwise every digit it has ("8.1234"), so a message never hides a digit.
 */
export function formatAmount(value: Dec, currency: string): string {
  const digits = minorUnitDigits(currency);
  return value.decimalPlaces() <= digits ? value.toFixed(digits) : value.toFixed();
}

/** A value of any type for a message: strings quoted, objects unnamed; never throws. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === undefined) return 'undefined';
  return typeof value === 'object' && value !== null ? 'an object' : String(value as number | boolean | bigint | symbol | null);
}

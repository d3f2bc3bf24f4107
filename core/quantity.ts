/**
 * Stock quantities: exact decimals from the source, whole units in the channels.
 *
 * Sources report quantities as they keep them (an ERP's `numeric(12,3)`, a file's "12,5"),
 * exactly, in the source's unit. The stock mapping converts them to the channel's unit (packs ↔
 * pieces) and only then rounds them to whole units, by its explicit rules: rounding first would
 * lose the half carton that is six pieces. Quantities travel as JS numbers, which hold every
 * decimal of up to 15 significant digits exactly enough that its shortest text form is the
 * decimal itself; arithmetic on them goes through decimal.js on that text, never through binary
 * floating point.
 */
import { z } from 'zod';
import { Dec } from './money';

/** Significant digits a source quantity may have: a JS number carries 15 without loss. */
export const MAX_QUANTITY_DIGITS = 15;

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * A quantity from its decimal text (`12.500`, `-3`, `.5`; an optional sign, digits, an optional
 * point): the number, or what is wrong with the text.
 */
export function quantityFromDecimalText(text: string): { ok: true; value: number } | { ok: false; problem: string } {
  const trimmed = text.trim();
  const match = DECIMAL_TEXT.exec(trimmed);
  const [, , integerDigits = '', fractionDigits = ''] = match ?? [];
  if (!match || (integerDigits === '' && fractionDigits === '')) return { ok: false, problem: `is not a number (${JSON.stringify(text)})` };
  const significant = `${integerDigits}${fractionDigits}`.replace(/^0+/, '').replace(/0+$/, '');
  if (significant.length > MAX_QUANTITY_DIGITS) return { ok: false, problem: `has more than ${MAX_QUANTITY_DIGITS} significant digits (${JSON.stringify(text)})` };
  const value = Number(trimmed);
  return { ok: true, value: value === 0 ? 0 : value };
}

/** How the mapping rounds a converted quantity to whole channel units. */
export type QuantityRounding = 'down' | 'up' | 'nearest';

/**
 * Channel units per source unit: `12` (the source counts cartons of 12, the channel sells
 * pieces), `"1/6"` (the source counts pieces, the channel sells packs of 6), `0.5`.
 */
export const UnitFactor = z.union([
  z.number().positive().finite(),
  z.string().regex(/^\s*\d+(\.\d+)?\s*\/\s*\d+(\.\d+)?\s*$/, 'expected channel units per source unit: a number such as 12, or a fraction such as "1/6"'),
]);
export type UnitFactor = z.infer<typeof UnitFactor>;

/** A unit factor as an exact decimal ratio. */
export interface UnitRatio {
  multiply: Dec;
  divide: Dec;
}

export function unitRatio(factor: UnitFactor): UnitRatio {
  if (typeof factor === 'number') return { multiply: new Dec(String(factor)), divide: new Dec(1) };
  const [numerator = '1', denominator = '1'] = factor.split('/').map((part) => part.trim());
  const divide = new Dec(denominator);
  if (divide.isZero()) throw new RangeError(`unit factor ${factor}: the denominator is zero`);
  return { multiply: new Dec(numerator), divide };
}

/**
 * A source quantity in whole channel units: converted by `ratio` (none: 1), then rounded.
 * Whole quantities without a ratio, the common case, skip the decimal arithmetic.
 */
export function toChannelUnits(value: number, ratio: UnitRatio | undefined, rounding: QuantityRounding): number {
  if (ratio === undefined && Number.isInteger(value)) return value === 0 ? 0 : value;
  // A number read from at most 15 significant digits lies far closer to its decimal than to the
  // next integer, so rounding it down or up directly gives the decimal's result.
  if (ratio === undefined && rounding !== 'nearest') return (rounding === 'down' ? Math.floor(value) : Math.ceil(value)) || 0;
  let exact = new Dec(String(value));
  if (ratio !== undefined) exact = exact.times(ratio.multiply).div(ratio.divide);
  const whole = rounding === 'down' ? exact.floor() : rounding === 'up' ? exact.ceil() : exact.toDecimalPlaces(0, Dec.ROUND_HALF_UP);
  const result = whole.toNumber();
  return result === 0 ? 0 : result;
}

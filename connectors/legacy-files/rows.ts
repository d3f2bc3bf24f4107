/**
 * One row of a file → a canonical stock or price row, or the reason it cannot be one. Shared by
 * the CSV and EDIFACT readers, which only find the fields. Pure.
 */
import { CurrencyCode, Dec, formatAmount } from '../../core/money';
import { quantityFromDecimalText } from '../../core/quantity';
import type { PriceListEntry } from '../../core/price-rules';
import type { FileRow, LineProblem, StockValue } from './report';
import { decimalText, fileTime } from './values';

/** Longest SKU the canonical model accepts (core/model SkuCode). */
const MAX_SKU_LENGTH = 128;

export interface StockFields {
  sku: string | undefined;
  location: string | undefined;
  quantity: string | undefined;
  reserved: string | undefined;
}

export interface PriceFields {
  sku: string | undefined;
  priceList: string | undefined;
  net: string | undefined;
  gross: string | undefined;
  vatRate: string | undefined;
  currency: string | undefined;
  validFrom: string | undefined;
  validTo: string | undefined;
}

export interface ReadOptions {
  decimalSeparator: ',' | '.';
  utcOffset: string;
}

/** Names the readers use in reasons, e.g. the CSV header of a field ("ilosc") or an EDIFACT segment ("QTY+145"). */
export type FieldNames<F> = { [K in keyof F]: string };

type Result<V> = { ok: true; row: FileRow<V> } | { ok: false; problem: LineProblem };

export function stockRow(fields: StockFields, names: FieldNames<StockFields>, where: string, raw: Record<string, string>, options: ReadOptions): Result<StockValue> {
  const sku = fields.sku?.trim() ?? '';
  const location = fields.location?.trim() ?? '';
  const problem = (reason: string): Result<StockValue> => ({
    ok: false,
    problem: { where, reason, ...(sku !== '' ? { sku } : {}), ...(sku !== '' && location !== '' ? { part: location } : {}), fields: raw },
  });
  const skuProblem = skuProblemOf(sku, names.sku);
  if (skuProblem !== undefined) return problem(skuProblem);
  if (location === '') return problem(`${names.location} is empty`);
  const onHand = fileQuantity(fields.quantity, names.quantity, options.decimalSeparator);
  if (typeof onHand === 'string') return problem(onHand);
  let reserved = 0;
  if (fields.reserved !== undefined && fields.reserved.trim() !== '') {
    const read = fileQuantity(fields.reserved, names.reserved, options.decimalSeparator);
    if (typeof read === 'string') return problem(read);
    if (read < 0) return problem(`${names.reserved} is negative (${JSON.stringify(fields.reserved.trim())})`);
    reserved = read;
  }
  return { ok: true, row: { sku, part: location, value: { onHand, reserved }, where, duplicateKey: `${sku}\u0000${location}` } };
}

export function priceRow(fields: PriceFields, names: FieldNames<PriceFields>, where: string, raw: Record<string, string>, options: ReadOptions): Result<PriceListEntry> {
  const sku = fields.sku?.trim() ?? '';
  const priceList = fields.priceList?.trim() ?? '';
  const problem = (reason: string): Result<PriceListEntry> => ({
    ok: false,
    problem: { where, reason, ...(sku !== '' ? { sku } : {}), ...(sku !== '' && priceList !== '' ? { part: priceList } : {}), fields: raw },
  });
  const skuProblem = skuProblemOf(sku, names.sku);
  if (skuProblem !== undefined) return problem(skuProblem);
  if (priceList === '') return problem(`${names.priceList} is empty`);
  const currency = fields.currency?.trim().toUpperCase() ?? '';
  if (!CurrencyCode.safeParse(currency).success) return problem(`${names.currency} is not an ISO 4217 code such as "PLN" (${JSON.stringify(fields.currency ?? '')})`);

  const amount = (value: string | undefined, name: string): { ok: true; value: Dec | undefined } | { ok: false; reason: string } => {
    if (value === undefined || value.trim() === '') return { ok: true, value: undefined };
    const text = decimalText(value, options.decimalSeparator);
    if (text === undefined) return { ok: false, reason: `${name} is not a number (${JSON.stringify(value.trim())})` };
    const decimal = new Dec(text);
    if (decimal.isNegative() && !decimal.isZero()) return { ok: false, reason: `${name} is negative (${JSON.stringify(value.trim())})` };
    return { ok: true, value: decimal };
  };
  const net = amount(fields.net, names.net);
  if (!net.ok) return problem(net.reason);
  const gross = amount(fields.gross, names.gross);
  if (!gross.ok) return problem(gross.reason);
  if (net.value === undefined && gross.value === undefined) return problem(`neither ${names.net} nor ${names.gross} is set`);
  const vat = amount(fields.vatRate, names.vatRate);
  if (!vat.ok) return problem(vat.reason);
  if (vat.value === undefined) return problem(`${names.vatRate} is empty`);

  const time = (value: string | undefined, name: string): { ok: true; value: string | undefined } | { ok: false; reason: string } => {
    if (value === undefined || value.trim() === '') return { ok: true, value: undefined };
    const read = fileTime(value, options.utcOffset);
    return read === undefined ? { ok: false, reason: `${name} is not a date (${JSON.stringify(value.trim())}); expected e.g. 2025-06-01, 2025-06-01 08:00 or 01.06.2025` } : { ok: true, value: read };
  };
  const validFrom = time(fields.validFrom, names.validFrom);
  if (!validFrom.ok) return problem(validFrom.reason);
  const validTo = time(fields.validTo, names.validTo);
  if (!validTo.ok) return problem(validTo.reason);
  if (validFrom.value !== undefined && validTo.value !== undefined && validTo.value <= validFrom.value) {
    return problem(`${names.validTo} (${validTo.value}) is not after ${names.validFrom} (${validFrom.value})`);
  }
  const entry: PriceListEntry = { sku, priceList, currency, vatRate: vat.value.toFixed() };
  if (net.value !== undefined) entry.net = formatAmount(net.value, currency);
  if (gross.value !== undefined) entry.gross = formatAmount(gross.value, currency);
  if (validFrom.value !== undefined) entry.validFrom = validFrom.value;
  if (validTo.value !== undefined) entry.validTo = validTo.value;
  return { ok: true, row: { sku, part: priceList, value: entry, where, duplicateKey: `${sku}\u0000${priceList}\u0000${validFrom.value ?? ''}` } };
}

function skuProblemOf(sku: string, name: string): string | undefined {
  if (sku === '') return `${name} is empty`;
  if (sku.length > MAX_SKU_LENGTH) return `${name} is longer than ${MAX_SKU_LENGTH} characters`;
  return undefined;
}

/**
 * A quantity exactly as the file writes it (decimal comma or point, blanks as thousands
 * separators), in the file's unit: the stock mapping converts and rounds (core/quantity.ts).
 * Returns the reason when it is none.
 */
export function fileQuantity(value: string | undefined, name: string, decimalSeparator: ',' | '.'): number | string {
  if (value === undefined || value.trim() === '') return `${name} is empty`;
  const text = decimalText(value, decimalSeparator);
  if (text === undefined) return `${name} is not a number (${JSON.stringify(value.trim())})`;
  const read = quantityFromDecimalText(text);
  return read.ok ? read.value : `${name} ${read.problem}`;
}

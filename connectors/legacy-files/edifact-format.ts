/**
 * EDIFACT D.96A files: INVRPT (inventory report: stock) and PRICAT (price catalogue: prices),
 * tokenized by the `edifact` package (node-edifact; UNA service characters and release
 * characters are its job). Pure.
 *
 * The text is decoded first (the pattern's encoding, else the one the UNB syntax identifier
 * names), then parsed at level UNOY so that characters of any level pass through; segments are
 * numbered from 1 in the order they stand (the UNA string is not a segment), and problems name
 * that number: "segment 12".
 *
 * INVRPT, per LIN item: the SKU from PIA (code type `piaCodeType`, default SA) or from LIN's item
 * number; QTY+145 (actual stock) is the quantity on hand; its location is the LOC that follows
 * the QTY, else a LOC of the item before its first QTY, else a LOC of the message before its
 * first LIN, else the pattern's `location`.
 *
 * PRICAT, per LIN item (one price list entry each; several periods of a SKU are several LIN
 * items): PRI+AAA (calculation net) and/or PRI+AAB (calculation gross); CUX+2:<currency> of
 * the item or of the message; TAX+7+VAT+++:::<rate> of the item or the message; DTM+194 (start)
 * and DTM+206 (end) of the item; the price list is the pattern's `priceList`.
 *
 * The document's own time (the file's order with `order.from: content`): DTM+137 before the
 * first LIN, else the UNB date and time.
 */
import { Parser } from 'edifact';
import type { PriceFilePattern, StockFilePattern, TextEncoding } from './config';
import { UnreadableFileError, type LineProblem, type PriceReport, type StockReport } from './report';
import { priceRow, stockRow, type PriceFields, type ReadOptions, type StockFields } from './rows';
import { decodeText } from './values';

export interface Segment {
  name: string;
  elements: string[][];
  /** 1-based position in the interchange. */
  number: number;
}

type EdifactOf<P extends { format: unknown }> = Extract<P['format'], { type: 'edifact' }>;

/** UNB syntax identifiers and the encoding of their character sets. */
const SYNTAX_ENCODINGS: Record<string, TextEncoding | 'iso-8859-1'> = { UNOA: 'utf-8', UNOB: 'utf-8', UNOC: 'iso-8859-1', UNOD: 'iso-8859-2', UNOY: 'utf-8', UNOW: 'utf-8' };

/** The segments of an interchange; an UnreadableFileError when it is not EDIFACT. */
export function readSegments(bytes: Buffer, encoding: TextEncoding | undefined): Segment[] {
  const head = bytes.subarray(0, 200).toString('latin1');
  const syntax = /UNB\+(UNO[A-Z])/.exec(head)?.[1];
  const chosen = encoding ?? (syntax === undefined ? 'utf-8' : SYNTAX_ENCODINGS[syntax]);
  if (chosen === undefined) throw new UnreadableFileError(`declares the character set ${syntax ?? '?'} in UNB, which is not supported (UNOA, UNOB, UNOC, UNOD, UNOY, UNOW); set the pattern's format.encoding`);
  const decoded = decodeText(bytes, chosen);
  if (!decoded.ok) throw new UnreadableFileError(decoded.reason);
  const segments: Segment[] = [];
  let elements: string[][] = [];
  const parser = new Parser();
  parser.encoding('UNOY');
  parser.onopensegment = (name) => {
    elements = [];
    segments.push({ name, elements, number: segments.length + 1 });
  };
  parser.onelement = () => {
    elements.push([]);
  };
  parser.oncomponent = (value) => {
    elements[elements.length - 1]?.push(value);
  };
  try {
    parser.write(decoded.text.replace(/[\r\n]+/g, ''));
    parser.end();
  } catch (err) {
    throw new UnreadableFileError(`is not EDIFACT: ${(err as Error).message} (after segment ${segments.length})`);
  }
  if (segments.length === 0) throw new UnreadableFileError('is not EDIFACT: no segments');
  return segments;
}

/** Component `c` of element `e` of a segment, trimmed ('' when absent). */
function component(segment: Segment, e: number, c: number): string {
  return segment.elements[e]?.[c]?.trim() ?? '';
}

/** The messages of an interchange (UNH … UNT), each of the expected type; an UnreadableFileError otherwise. */
function messagesOf(segments: Segment[], type: 'INVRPT' | 'PRICAT'): Segment[][] {
  const messages: Segment[][] = [];
  let current: Segment[] | undefined;
  for (const segment of segments) {
    if (segment.name === 'UNH') {
      const found = component(segment, 1, 0);
      const version = `${component(segment, 1, 1)}:${component(segment, 1, 2)}`;
      if (found !== type) throw new UnreadableFileError(`holds an EDIFACT ${found || 'unnamed'} message at segment ${segment.number}, not ${type}`);
      if (version !== 'D:96A') throw new UnreadableFileError(`holds ${type} version ${version} at segment ${segment.number}; this connector reads D.96A (UNH+…+${type}:D:96A:UN)`);
      current = [];
      messages.push(current);
    } else if (segment.name === 'UNT') {
      current = undefined;
    } else if (current !== undefined) {
      current.push(segment);
    }
  }
  if (messages.length === 0) throw new UnreadableFileError(`holds no EDIFACT message (no UNH segment); expected ${type}`);
  return messages;
}

/** The document time: DTM+137 before the first LIN, else the UNB date and time. */
function documentTimeOf(segments: Segment[], utcOffset: string): string | undefined {
  for (const segment of segments) {
    if (segment.name === 'LIN') break;
    if (segment.name === 'DTM' && component(segment, 0, 0) === '137') {
      const time = edifactTime(component(segment, 0, 1), component(segment, 0, 2), utcOffset);
      if (time !== undefined) return time;
    }
  }
  const unb = segments.find((segment) => segment.name === 'UNB');
  if (unb === undefined) return undefined;
  const date = component(unb, 3, 0);
  const time = component(unb, 3, 1) || '0000';
  return edifactTime(`${date.length === 6 ? `20${date}` : date}${time}`, '203', utcOffset);
}

/** A DTM value in format 102 (CCYYMMDD), 203 (CCYYMMDDHHMM) or 204 (CCYYMMDDHHMMSS) as ISO-8601 UTC. */
export function edifactTime(value: string, format: string, utcOffset: string): string | undefined {
  const lengths: Record<string, number> = { '102': 8, '203': 12, '204': 14 };
  const length = lengths[format || '102'];
  if (length === undefined || value.length !== length || !/^\d+$/.test(value)) return undefined;
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(8, 10) || '00'}:${value.slice(10, 12) || '00'}:${value.slice(12, 14) || '00'}`;
  const local = Date.parse(`${iso}Z`);
  if (Number.isNaN(local) || new Date(local).toISOString().slice(0, 19) !== iso) return undefined;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(utcOffset);
  const offset = match === null ? 0 : (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
  return new Date(local - offset * 60_000).toISOString();
}

/** The segments of each LIN item, with the message's segments before the first LIN. */
function itemsOf(message: Segment[]): { header: Segment[]; items: Segment[][] } {
  const header: Segment[] = [];
  const items: Segment[][] = [];
  for (const segment of message) {
    if (segment.name === 'LIN') items.push([segment]);
    else if (items.length === 0) header.push(segment);
    else items[items.length - 1]!.push(segment);
  }
  return { header, items };
}

function skuOf(item: Segment[], format: { skuFrom: 'PIA' | 'LIN'; piaCodeType: string }): string | undefined {
  const lin = item[0]!;
  if (format.skuFrom === 'LIN') return component(lin, 2, 0) || undefined;
  for (const pia of item.filter((segment) => segment.name === 'PIA')) {
    for (let e = 1; e < pia.elements.length; e++) if (component(pia, e, 1) === format.piaCodeType && component(pia, e, 0) !== '') return component(pia, e, 0);
  }
  return undefined;
}

function raw(segments: Segment[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const segment of segments) fields[`segment ${segment.number}`] = [segment.name, ...segment.elements.map((element) => element.join(':'))].join('+');
  return fields;
}

/** EDIFACT's decimal mark may be a comma or a point, whatever UNA says (ISO 9735): both are read. */
const EDIFACT_READ: Omit<ReadOptions, 'utcOffset'> = { decimalSeparator: '.' };
function edifactDecimal(value: string): string {
  return value.replace(',', '.');
}

export function readInvrpt(bytes: Buffer, pattern: StockFilePattern & { format: EdifactOf<StockFilePattern> }, utcOffset: string): StockReport {
  const segments = readSegments(bytes, pattern.format.encoding);
  const report: StockReport = { rows: [], problems: [] };
  const documentTime = documentTimeOf(segments, utcOffset);
  if (documentTime !== undefined) report.documentTime = documentTime;
  const skuName = pattern.format.skuFrom === 'LIN' ? 'LIN item number' : `PIA of code type ${pattern.format.piaCodeType}`;
  const names = { sku: skuName, location: 'LOC', quantity: 'QTY+145', reserved: 'reserved' } satisfies Record<keyof StockFields, string>;
  for (const message of messagesOf(segments, 'INVRPT')) {
    const { header, items } = itemsOf(message);
    const messageLocation = header.find((segment) => segment.name === 'LOC')?.elements[1]?.[0]?.trim();
    for (const item of items) {
      const lin = item[0]!;
      const sku = skuOf(item, pattern.format);
      let itemLocation: string | undefined;
      const quantities: Array<{ qty: Segment; location: string | undefined }> = [];
      for (const segment of item) {
        if (segment.name === 'QTY' && component(segment, 0, 0) === '145') quantities.push({ qty: segment, location: undefined });
        if (segment.name === 'LOC') {
          const code = component(segment, 1, 0) || undefined;
          const last = quantities[quantities.length - 1];
          if (last === undefined) itemLocation = code;
          else if (last.location === undefined) last.location = code;
        }
      }
      if (quantities.length === 0) {
        report.problems.push({ where: `segment ${lin.number}`, reason: 'the LIN item has no QTY+145 (actual stock)', ...(sku === undefined ? {} : { sku }), fields: raw(item) });
        continue;
      }
      for (const { qty, location } of quantities) {
        const result = stockRow(
          { sku, location: location ?? itemLocation ?? messageLocation ?? pattern.location, quantity: edifactDecimal(component(qty, 0, 1)), reserved: undefined },
          names,
          `segment ${qty.number}`,
          raw(item),
          { ...EDIFACT_READ, utcOffset },
        );
        if (result.ok) report.rows.push(result.row);
        else report.problems.push(result.problem);
      }
    }
  }
  return report;
}

export function readPricat(bytes: Buffer, pattern: PriceFilePattern & { format: EdifactOf<PriceFilePattern> }, utcOffset: string): PriceReport {
  const segments = readSegments(bytes, pattern.format.encoding);
  const report: PriceReport = { rows: [], problems: [] };
  const documentTime = documentTimeOf(segments, utcOffset);
  if (documentTime !== undefined) report.documentTime = documentTime;
  const skuName = pattern.format.skuFrom === 'LIN' ? 'LIN item number' : `PIA of code type ${pattern.format.piaCodeType}`;
  const names = { sku: skuName, priceList: 'the price list (files[].priceList)', net: 'PRI+AAA', gross: 'PRI+AAB', vatRate: 'TAX+7+VAT', currency: 'CUX+2', validFrom: 'DTM+194', validTo: 'DTM+206' } satisfies Record<keyof PriceFields, string>;
  for (const message of messagesOf(segments, 'PRICAT')) {
    const { header, items } = itemsOf(message);
    const messageCurrency = currencyOf(header);
    const messageVat = vatOf(header);
    for (const item of items) {
      const lin = item[0]!;
      const price = (qualifier: string) => {
        const pri = item.find((segment) => segment.name === 'PRI' && component(segment, 0, 0) === qualifier);
        return pri === undefined ? undefined : edifactDecimal(component(pri, 0, 1));
      };
      const date = (qualifier: string): { ok: true; value: string | undefined } | { ok: false; problem: LineProblem } => {
        const dtm = item.find((segment) => segment.name === 'DTM' && component(segment, 0, 0) === qualifier);
        if (dtm === undefined) return { ok: true, value: undefined };
        const time = edifactTime(component(dtm, 0, 1), component(dtm, 0, 2), utcOffset);
        if (time !== undefined) return { ok: true, value: time };
        const sku = skuOf(item, pattern.format);
        return { ok: false, problem: { where: `segment ${dtm.number}`, reason: `DTM+${qualifier} is not a date in format 102, 203 or 204 (${JSON.stringify(component(dtm, 0, 1))})`, ...(sku === undefined ? {} : { sku }), ...(sku !== undefined && pattern.priceList !== undefined ? { part: pattern.priceList } : {}), fields: raw(item) } };
      };
      const validFrom = date('194');
      if (!validFrom.ok) {
        report.problems.push(validFrom.problem);
        continue;
      }
      const validTo = date('206');
      if (!validTo.ok) {
        report.problems.push(validTo.problem);
        continue;
      }
      const fields: PriceFields = {
        sku: skuOf(item, pattern.format),
        priceList: pattern.priceList,
        net: price('AAA'),
        gross: price('AAB'),
        vatRate: vatOf(item) ?? messageVat ?? pattern.vatRate,
        currency: currencyOf(item) ?? messageCurrency ?? pattern.currency,
        // Already ISO-8601 UTC: priceRow reads them as times with a zone.
        validFrom: validFrom.value,
        validTo: validTo.value,
      };
      const result = priceRow(fields, names, `segment ${lin.number}`, raw(item), { ...EDIFACT_READ, utcOffset });
      if (result.ok) report.rows.push(result.row);
      else report.problems.push(result.problem);
    }
  }
  return report;
}

function currencyOf(segments: Segment[]): string | undefined {
  const cux = segments.find((segment) => segment.name === 'CUX' && component(segment, 0, 0) === '2');
  return cux === undefined ? undefined : component(cux, 0, 1) || undefined;
}

function vatOf(segments: Segment[]): string | undefined {
  const tax = segments.find((segment) => segment.name === 'TAX' && component(segment, 0, 0) === '7' && component(segment, 1, 0) === 'VAT');
  return tax === undefined ? undefined : edifactDecimal(component(tax, 4, 3)) || undefined;
}

/**
 * CSV files: the text in the pattern's encoding, the first line a header, fields by header name
 * (config `columns`). Pure.
 *
 * Each physical line is parsed on its own (csv-parse, with the pattern's delimiter and quote):
 * a line with a broken quote is rejected with its line number while the lines after it are
 * read, instead of the quote swallowing the rest of the file. Fields spanning several lines are
 * therefore not supported; ERP exports do not write them.
 */
import { parse } from 'csv-parse/sync';
import type { PriceFilePattern, StockFilePattern } from './config';
import { UnreadableFileError, type FileReport, type LineProblem, type PriceReport, type StockReport } from './report';
import { priceRow, stockRow, type FieldNames, type PriceFields, type ReadOptions, type StockFields } from './rows';
import { decodeText } from './values';

type CsvOf<P extends { format: unknown }> = Extract<P['format'], { type: 'csv' }>;
export type StockCsv = CsvOf<StockFilePattern>;
export type PriceCsv = CsvOf<PriceFilePattern>;

interface CsvLine {
  number: number;
  fields: string[];
}

/** The header and the data lines, or an UnreadableFileError. */
export function readCsv(bytes: Buffer, format: Pick<StockCsv, 'encoding' | 'delimiter' | 'quote'>): { header: string[]; lines: Array<CsvLine | { number: number; error: string }> } {
  const decoded = decodeText(bytes, format.encoding);
  if (!decoded.ok) throw new UnreadableFileError(decoded.reason);
  const physical = decoded.text.split(/\r\n|\n|\r/);
  const lines: Array<CsvLine | { number: number; error: string }> = [];
  let header: string[] | undefined;
  physical.forEach((text, index) => {
    if (text.trim() === '') return;
    const number = index + 1;
    let fields: string[];
    try {
      // relax_quotes: a quote inside an unquoted field (Stół 15" dąb) is a character, as ERPs write it.
      fields = (parse(text, { delimiter: format.delimiter, quote: format.quote, relax_column_count: true, relax_quotes: true }) as string[][])[0] ?? [];
    } catch (err) {
      if (header === undefined) throw new UnreadableFileError(`line ${number}, the header, is not CSV with delimiter ${JSON.stringify(format.delimiter)}: ${csvProblem(err, format.quote)}`);
      lines.push({ number, error: `is not CSV: ${csvProblem(err, format.quote)}` });
      return;
    }
    if (header === undefined) header = fields.map((name) => name.trim());
    else lines.push({ number, fields });
  });
  if (header === undefined) throw new UnreadableFileError('is empty: no header line');
  return { header, lines };
}

export function readStockCsv(bytes: Buffer, pattern: StockFilePattern & { format: StockCsv }, utcOffset: string): StockReport {
  const { columns } = pattern.format;
  const names: FieldNames<StockFields> = {
    sku: column(columns.sku),
    location: columns.location === undefined ? 'the location' : column(columns.location),
    quantity: column(columns.quantity),
    reserved: columns.reserved === undefined ? 'reserved' : column(columns.reserved),
  };
  return readRows(bytes, pattern.format, { decimalSeparator: pattern.format.decimalSeparator, utcOffset }, configuredHeaders(columns), (get, where, raw, options) =>
    stockRow(
      { sku: get(columns.sku), location: columns.location === undefined ? pattern.location : get(columns.location), quantity: get(columns.quantity), reserved: columns.reserved === undefined ? undefined : get(columns.reserved) },
      names,
      where,
      raw,
      options,
    ),
  );
}

export function readPriceCsv(bytes: Buffer, pattern: PriceFilePattern & { format: PriceCsv }, utcOffset: string): PriceReport {
  const { columns } = pattern.format;
  const named = (header: string | undefined, fallback: string) => (header === undefined ? fallback : column(header));
  const names: FieldNames<PriceFields> = {
    sku: column(columns.sku),
    priceList: named(columns.priceList, 'the price list'),
    net: named(columns.net, 'net'),
    gross: named(columns.gross, 'gross'),
    vatRate: named(columns.vatRate, 'the VAT rate'),
    currency: named(columns.currency, 'the currency'),
    validFrom: named(columns.validFrom, 'validFrom'),
    validTo: named(columns.validTo, 'validTo'),
  };
  const or = (get: (header: string | undefined) => string | undefined, header: string | undefined, fallback: string | undefined) => (header === undefined ? fallback : get(header));
  return readRows(bytes, pattern.format, { decimalSeparator: pattern.format.decimalSeparator, utcOffset }, configuredHeaders(columns), (get, where, raw, options) =>
    priceRow(
      {
        sku: get(columns.sku),
        priceList: or(get, columns.priceList, pattern.priceList),
        net: get(columns.net),
        gross: get(columns.gross),
        vatRate: or(get, columns.vatRate, pattern.vatRate),
        currency: or(get, columns.currency, pattern.currency),
        validFrom: get(columns.validFrom),
        validTo: get(columns.validTo),
      },
      names,
      where,
      raw,
      options,
    ),
  );
}

/** Every configured header (the SKU's first), with the config path that names it, for the check against the file's header. */
function configuredHeaders(columns: { sku: string } & Record<string, string | undefined>): Array<{ header: string; path: string }> {
  const rest = Object.entries(columns).filter((entry): entry is [string, string] => entry[0] !== 'sku' && entry[1] !== undefined);
  return [['sku', columns.sku] as const, ...rest].map(([key, header]) => ({ header, path: `format.columns.${key}` }));
}

function readRows<V>(
  bytes: Buffer,
  format: Pick<StockCsv, 'encoding' | 'delimiter' | 'quote'>,
  options: ReadOptions,
  configured: Array<{ header: string; path: string }>,
  toRow: (get: (header: string | undefined) => string | undefined, where: string, raw: Record<string, string>, options: ReadOptions) => { ok: true; row: FileReport<V>['rows'][number] } | { ok: false; problem: LineProblem },
): FileReport<V> {
  const { header, lines } = readCsv(bytes, format);
  const index = new Map(header.map((name, i) => [name, i]));
  // A configured column missing from the header means this is not the file the pattern describes.
  const missing = configured.filter((c) => !index.has(c.header));
  if (missing.length > 0) {
    throw new UnreadableFileError(
      `has no column ${missing.map((c) => `"${c.header}" (${c.path})`).join(', ')} in its header ${JSON.stringify(header.join(format.delimiter))} (delimiter ${JSON.stringify(format.delimiter)})`,
    );
  }
  const report: FileReport<V> = { rows: [], problems: [] };
  for (const line of lines) {
    const where = `line ${line.number}`;
    if ('error' in line) {
      report.problems.push({ where, reason: line.error, fields: {} });
      continue;
    }
    const raw: Record<string, string> = {};
    header.forEach((name, i) => {
      if (line.fields[i] !== undefined) raw[name] = line.fields[i]!;
    });
    if (line.fields.length !== header.length) {
      const sku = configured[0] === undefined ? undefined : raw[configured[0].header]?.trim();
      report.problems.push({ where, reason: `has ${line.fields.length} fields, the header ${header.length}`, ...(sku ? { sku } : {}), fields: raw });
      continue;
    }
    const get = (name: string | undefined) => (name === undefined ? undefined : raw[name]);
    const result = toRow(get, where, raw, options);
    if (result.ok) report.rows.push(result.row);
    else report.problems.push(result.problem);
  }
  return report;
}

function column(header: string): string {
  return `column "${header}"`;
}

/** csv-parse's complaint about one line, in words that do not count lines of their own (it parsed one). */
function csvProblem(err: unknown, quote: string): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'CSV_QUOTE_NOT_CLOSED') return `a quote (${quote}) is not closed`;
  if (code === 'CSV_INVALID_CLOSING_QUOTE') return `a closing quote (${quote}) is followed by other characters than the delimiter`;
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/ at line \d+.*$/s, '');
}

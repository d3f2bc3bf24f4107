/**
 * A shop catalogue from a file, for rehearsing with an integrator's own SKUs: the sandbox shop
 * lists these products (one variant each) at these locations instead of the demo catalogue, so
 * a real ERP can be synced against the simulator before anything touches the real shop.
 *
 * Formats (by extension):
 * - `.csv`: a header with `sku` and `name` (`title` also accepted) and optionally `price`;
 *   `,` or `;` as delimiter (taken from the header line); UTF-8, a BOM skipped.
 * - `.json`: `{ "products": [{ "sku", "name", "price"? }], "locations"?: ["Warehouse", …] }`
 *   (a location may also be `{ "name", "id"? }`).
 * Locations default to the demo's two; prices to "0.00" (the store's currency). Every problem
 * names the file and the line (CSV) or the index (JSON).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';

export interface ShopCatalogProduct {
  sku: string;
  title: string;
  /** Decimal string in the store's currency. */
  price: string;
}

export interface ShopCatalog {
  products: ShopCatalogProduct[];
  /** The shop's locations; undefined: the demo's. */
  locations?: Array<{ id: string; name: string }>;
  /** SHA-256 of the catalogue's content: a saved shop state belongs to exactly one catalogue. */
  digest: string;
}

export class CatalogFileError extends Error {
  constructor(file: string, problems: readonly string[]) {
    super(`shop catalogue ${file}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'CatalogFileError';
  }
}

const PRICE = /^\d+(\.\d{1,2})?$/;
/** First id of the locations a catalogue names without ids (the demo's are 71001…). */
const FIRST_LOCATION_ID = 72001;

const ProductEntry = z.strictObject({
  sku: z.string().trim().min(1, 'expected a SKU').max(255, 'SKUs are at most 255 characters'),
  name: z.string().trim().min(1, 'expected a product name'),
  price: z.union([z.string(), z.number()]).optional(),
});
const LocationEntry = z.union([z.string().trim().min(1), z.strictObject({ name: z.string().trim().min(1), id: z.string().regex(/^gid:\/\/shopify\/Location\/\d+$/).optional() })]);
const JsonCatalog = z.strictObject({ products: z.array(ProductEntry).min(1, 'expected at least one product'), locations: z.array(LocationEntry).min(1).optional() });

export function readShopCatalog(file: string): ShopCatalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new CatalogFileError(file, [`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const extension = extname(file).toLowerCase();
  const parsed = extension === '.json' ? fromJson(text) : extension === '.csv' ? fromCsv(text) : { problems: [`expected a .csv or .json file, got "${extension || 'no extension'}"`] };
  if ('problems' in parsed) throw new CatalogFileError(file, parsed.problems);
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { where, sku } of parsed.products) {
    const key = sku.toLowerCase();
    const earlier = seen.get(key);
    // Shopify compares SKUs without letter case; the hub quarantines a SKU two variants share.
    if (earlier !== undefined) problems.push(`${where}: SKU "${sku}" is listed already at ${earlier} (letter case ignored)`);
    else seen.set(key, where);
  }
  for (const { where, price } of parsed.products) if (!PRICE.test(price)) problems.push(`${where}: price "${price}" is not a decimal with at most 2 places (e.g. 19.99)`);
  if (problems.length > 0) throw new CatalogFileError(file, problems);
  const locations = parsed.locations?.map((location, index) => ({ id: location.id ?? `gid://shopify/Location/${FIRST_LOCATION_ID + index}`, name: location.name }));
  return {
    products: parsed.products.map(({ sku, title, price }) => ({ sku, title, price })),
    ...(locations === undefined ? {} : { locations }),
    digest: createHash('sha256').update(text).digest('hex'),
  };
}

type Parsed = { products: Array<ShopCatalogProduct & { where: string }>; locations?: Array<{ name: string; id?: string }> } | { problems: string[] };

function fromJson(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { problems: [`is not valid JSON (${(err as Error).message})`] };
  }
  const result = JsonCatalog.safeParse(raw);
  if (!result.success) return { problems: result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  return {
    products: result.data.products.map((product, index) => ({ where: `products.${index}`, sku: product.sku, title: product.name, price: priceText(product.price) })),
    ...(result.data.locations === undefined ? {} : { locations: result.data.locations.map((location) => (typeof location === 'string' ? { name: location } : location)) }),
  };
}

function fromCsv(text: string): Parsed {
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = header.includes(';') && !header.includes(',') ? ';' : ',';
  let records: Record<string, string>[];
  try {
    // A quote inside an unquoted name (`Stół "Żuraw"`) is a character, as spreadsheets export it.
    records = parse(text, { columns: (names: string[]) => names.map((name) => name.trim().toLowerCase()), delimiter, skip_empty_lines: true, trim: true, relax_quotes: true }) as Record<string, string>[];
  } catch (err) {
    return { problems: [(err as Error).message] };
  }
  const columns = header.split(delimiter).map((name) => name.trim().replace(/^"|"$/g, '').toLowerCase());
  const nameColumn = columns.includes('name') ? 'name' : columns.includes('title') ? 'title' : undefined;
  if (!columns.includes('sku') || nameColumn === undefined) return { problems: [`line 1: expected a header with "sku" and "name" (or "title"), got "${header}"`] };
  if (records.length === 0) return { problems: ['has no products after its header'] };
  const problems: string[] = [];
  const products = records.map((record, index) => {
    const where = `line ${index + 2}`;
    const sku = record.sku ?? '';
    const title = record[nameColumn] ?? '';
    if (sku === '') problems.push(`${where}: sku is empty`);
    if (title === '') problems.push(`${where}: ${nameColumn} is empty`);
    return { where, sku, title, price: priceText(record.price) };
  });
  return problems.length > 0 ? { problems } : { products };
}

function priceText(value: string | number | undefined): string {
  if (value === undefined || value === '') return '0.00';
  const text = String(value).trim().replace(',', '.');
  return PRICE.test(text) && !text.includes('.') ? `${text}.00` : text;
}

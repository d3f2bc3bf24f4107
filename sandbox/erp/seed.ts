/**
 * Demo data for the sandbox ERP and the "sales" that make delta syncs visible.
 *
 * The catalog comes from sandbox/demo-catalog.ts, shared with the sandbox Shopify store, so both
 * describe the same products. Quantities are seeded: the same seed gives the same stock on every
 * machine. Seeding 100,000 products (about 190,000 stock rows) takes a few seconds: one
 * transaction, multi-row inserts.
 */
import { sql } from 'kysely';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { ErpDatabaseConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql/config';
import { DEMO_ERP_LOCATIONS, demoProducts, seededRandom } from '../demo-catalog';
import { createDemoErpSchema, demoErpHasData, demoErpHasPrices, dropDemoErpSchema, type DemoErpDatabase } from './schema';

export interface SeedDemoErpOptions {
  /** Products to create (PL-000001 …). */
  productCount: number;
  /** PRNG seed of the quantities and times. Default 1. */
  seed?: number;
  /** Drop and rebuild the tables even when they hold data. Default false: existing data is kept. */
  reset?: boolean;
  /** Stock rows are modified within the 30 days before this time. Default: now. */
  now?: Date;
}

/** Rows per INSERT: 10 columns × 1,000 rows stays far below SQLite's 32,766 bind parameters. */
const ROWS_PER_INSERT = 1_000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Ids per IN list, within SQLite's bind-parameter limit. */
const IDS_PER_STATEMENT = 900;

/**
 * Creates the demo ERP's tables and fills them, unless they already hold data (then nothing
 * happens, so `npm start` keeps the demo's state across restarts) or `reset` is set.
 * Takes an open database (left open) or a database config (opened, written, closed; a relative
 * SQLite path is resolved against the working directory).
 */
export async function seedDemoErp(target: DemoErpDatabase | ErpDatabaseConfigInput, options: SeedDemoErpOptions): Promise<void> {
  await withDatabase(target, async (db) => {
    if (options.reset === true) {
      await dropDemoErpSchema(db);
    } else if (await demoErpHasData(db)) {
      // An ERP seeded before the price tables existed gains them, with prices for its products.
      await createDemoErpSchema(db);
      if (!(await demoErpHasPrices(db))) await db.transaction().execute((trx) => seedDemoPrices(trx, options));
      return;
    }
    await createDemoErpSchema(db);

    const random = seededRandom(options.seed ?? 1);
    const now = (options.now ?? new Date()).getTime();
    const modifiedAt = () => new Date(now - Math.floor(random() * 30 * DAY_MS)).toISOString();
    const products = demoProducts(options.productCount);

    const stockRows: StockRow[] = [];
    for (const product of products) {
      for (const location of DEMO_ERP_LOCATIONS) {
        const quantities = demoQuantities(location.code, random);
        if (quantities === undefined) continue;
        stockRows.push({
          id: stockRows.length + 1,
          towar_id: product.erpId,
          magazyn_id: location.erpId,
          ilosc: quantities.onHand,
          zarezerwowano: quantities.reserved,
          zmodyfikowano: modifiedAt(),
        });
      }
    }

    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('magazyny')
        .values(DEMO_ERP_LOCATIONS.map((location) => ({ id: location.erpId, symbol: location.code, nazwa: location.name, typ: location.type })))
        .execute();
      for (let start = 0; start < products.length; start += ROWS_PER_INSERT) {
        const rows = products.slice(start, start + ROWS_PER_INSERT).map((product) => ({
          id: product.erpId,
          indeks: product.sku,
          nazwa: product.name,
          kod_ean: product.ean,
          jm: 'szt',
        }));
        await trx.insertInto('towary').values(rows).execute();
      }
      for (let start = 0; start < stockRows.length; start += ROWS_PER_INSERT) {
        await trx.insertInto('stany').values(stockRows.slice(start, start + ROWS_PER_INSERT)).execute();
      }
      await seedDemoPrices(trx, options);
    });
  });
}

/** The demo price lists: the regular retail list and a winter promotion. */
export const DEMO_ERP_PRICE_LISTS = [
  { id: 1, symbol: 'DETAL', nazwa: 'Cennik detaliczny', waluta: 'PLN' },
  { id: 2, symbol: 'PROMO-ZIMA', nazwa: 'Promocja zimowa', waluta: 'PLN' },
] as const;
/** Every Nth product has a PROMO-ZIMA price too. */
export const DEMO_PROMO_EVERY = 20;

interface PriceRow {
  id: number;
  towar_id: number;
  cennik_id: number;
  netto: string | null;
  brutto: string | null;
  stawka_vat: string;
  koszt: string | null;
  data_od: string | null;
  data_do: string | null;
  zmodyfikowano: string;
}

/**
 * The price lists and a price of every product in towary (in id order): a DETAL price for
 * each — most kept gross (some with the net beside it), some net only; VAT 23 % for most, 8 %
 * for some; a purchase cost below the net price for nearly all — and for every
 * DEMO_PROMO_EVERY-th product a PROMO-ZIMA price 15 % lower, valid from a week before `now` to
 * two weeks after it. Deterministic: the prices have a stream of the seeded PRNG of their own,
 * so the stock stays as it was and an ERP seeded before the price tables gets the same prices
 * as a new one. Amounts are computed in grosze (integers) and written as decimal text.
 */
async function seedDemoPrices(db: DemoErpDatabase, options: SeedDemoErpOptions): Promise<void> {
  const random = seededRandom(((options.seed ?? 1) ^ PRICE_STREAM) >>> 0);
  const now = (options.now ?? new Date()).getTime();
  const modifiedAt = () => new Date(now - Math.floor(random() * 30 * DAY_MS)).toISOString();
  const promoFrom = new Date(now - 7 * DAY_MS).toISOString();
  const promoTo = new Date(now + 14 * DAY_MS).toISOString();
  const products = await sql<{ id: number | string }>`select id from towary order by id`.execute(db);

  const rows: PriceRow[] = [];
  for (const { id } of products.rows) {
    const productId = Number(id);
    const vat = random() < 0.85 ? 23 : 8;
    const grossCents = (9 + Math.floor(random() * 500)) * 100 + 99; // 9.99 … 508.99
    const netCents = Math.round((grossCents * 100) / (100 + vat));
    const shape = random();
    const costCents = random() < 0.95 ? Math.floor(netCents * (0.5 + random() * 0.35)) : null;
    rows.push({
      id: rows.length + 1,
      towar_id: productId,
      cennik_id: 1,
      // 60 %: both kept; 25 %: gross only; 15 %: net only.
      netto: shape < 0.6 || shape >= 0.85 ? centsText(netCents) : null,
      brutto: shape < 0.85 ? centsText(grossCents) : null,
      stawka_vat: String(vat),
      koszt: costCents === null ? null : centsText(costCents),
      data_od: null,
      data_do: null,
      zmodyfikowano: modifiedAt(),
    });
    if (productId % DEMO_PROMO_EVERY === 0) {
      const promoGross = Math.round(grossCents * 0.85);
      rows.push({
        id: rows.length + 1,
        towar_id: productId,
        cennik_id: 2,
        netto: null,
        brutto: centsText(promoGross),
        stawka_vat: String(vat),
        koszt: costCents === null ? null : centsText(costCents),
        data_od: promoFrom,
        data_do: promoTo,
        zmodyfikowano: modifiedAt(),
      });
    }
  }
  await db.insertInto('cenniki').values(DEMO_ERP_PRICE_LISTS.map((list) => ({ ...list }))).execute();
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    await db.insertInto('ceny').values(rows.slice(start, start + ROWS_PER_INSERT)).execute();
  }
}

/** Mixed into the seed for the prices' own PRNG stream. */
const PRICE_STREAM = 0x9e3779b9;

/** 1999 → "19.99": exact, no binary fraction involved. */
function centsText(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

interface StockRow {
  id: number;
  towar_id: number;
  magazyn_id: number;
  ilosc: number;
  zarezerwowano: number;
  zmodyfikowano: string;
}

/**
 * Which locations stock a product, and how much: the central warehouse stocks everything, the
 * Kraków store most products, the returns warehouse a few — in half units, because damaged
 * goods are booked by weight or length there (12.5).
 */
function demoQuantities(locationCode: string, random: () => number): { onHand: number; reserved: number } | undefined {
  switch (locationCode) {
    case 'MAG-WAW': {
      const onHand = Math.floor(random() * 51);
      return { onHand, reserved: random() < 0.2 ? Math.min(onHand, 1 + Math.floor(random() * 3)) : 0 };
    }
    case 'SKLEP-KRK': {
      if (random() >= 0.7) return undefined;
      const onHand = Math.floor(random() * 21);
      return { onHand, reserved: random() < 0.1 ? Math.min(onHand, 1) : 0 };
    }
    case 'MAG-ZW':
      if (random() >= 0.15) return undefined;
      return { onHand: Math.floor(random() * 50) / 2, reserved: 0 };
    default:
      return undefined;
  }
}

export interface SimulateErpSalesOptions {
  /** Stock rows to sell one unit from (rows with at least one unit on hand). */
  count: number;
  /** The sale time written to zmodyfikowano. Default: now. */
  now?: Date;
}

/**
 * Sells one unit from `count` random stock rows that have stock: decrements `ilosc` and sets
 * `zmodyfikowano`, as the ERP does when a sale is booked. Returns the SKUs changed (sorted, each
 * once), for demos and tests of delta syncs.
 */
export async function simulateErpSales(target: DemoErpDatabase | ErpDatabaseConfigInput, options: SimulateErpSalesOptions): Promise<string[]> {
  if (options.count <= 0) return [];
  const soldAt = (options.now ?? new Date()).toISOString();
  return withDatabase(target, (db) =>
    db.transaction().execute(async (trx) => {
      const picked = await sql<{ id: number }>`select id from stany where ilosc >= 1 order by random() limit ${options.count}`.execute(trx);
      const ids = picked.rows.map((row) => row.id);
      const skus = new Set<string>();
      for (let start = 0; start < ids.length; start += IDS_PER_STATEMENT) {
        const chunk = ids.slice(start, start + IDS_PER_STATEMENT);
        await trx.updateTable('stany').set({ ilosc: sql`ilosc - 1`, zmodyfikowano: soldAt }).where('id', 'in', chunk).execute();
        const sold = await trx
          .selectFrom('stany')
          .innerJoin('towary', 'towary.id', 'stany.towar_id')
          .select('towary.indeks as sku')
          .where('stany.id', 'in', chunk)
          .execute();
        for (const row of sold) skus.add(String(row.sku));
      }
      return [...skus].sort();
    }),
  );
}

async function withDatabase<T>(target: DemoErpDatabase | ErpDatabaseConfigInput, body: (db: DemoErpDatabase) => Promise<T>): Promise<T> {
  if (!isDatabaseConfig(target)) return body(target);
  const db = openErpDatabase(ErpDatabaseConfig.parse(target), { baseDir: process.cwd(), readOnly: false });
  try {
    return await body(db);
  } finally {
    await db.destroy();
  }
}

function isDatabaseConfig(target: DemoErpDatabase | ErpDatabaseConfigInput): target is ErpDatabaseConfigInput {
  return typeof (target as { driver?: unknown }).driver === 'string';
}

/**
 * Demo data for the sandbox ERP and the "sales" that make delta syncs visible.
 *
 * The catalog comes from sandbox/demo-catalog.ts, shared with the sandbox Shopify store, so both
 * describe the same products. Quantities are seeded: the same seed gives the same stock on every
 * machine. Prices too (seedDemoPrices): a regular retail list and a promotion, whose validity
 * window scheduleDemoPromotion moves. Seeding 100,000 products (about 190,000 stock rows and
 * 100,000 prices) takes a few seconds: one transaction, multi-row inserts.
 */
import { sql } from 'kysely';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { ErpDatabaseConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql/config';
import { DEMO_ERP_LOCATIONS, demoProducts, seededRandom } from '../demo-catalog';
import {
  createDemoErpSchema,
  demoErpDialect,
  demoErpHasData,
  demoErpHasPrices,
  DEMO_PROMOTION_PRICE_LIST,
  DEMO_REGULAR_PRICE_LIST,
  demoErpTime,
  dropDemoErpSchema,
  type DemoErpDatabase,
} from './schema';

export interface SeedDemoErpOptions {
  /** Products to create (PL-000001 …). */
  productCount: number;
  /** PRNG seed of the quantities and times. Default 1. */
  seed?: number;
  /** Drop and rebuild the tables even when they hold data. Default false: existing data is kept. */
  reset?: boolean;
  /** Stock and price rows are modified within the 30 days before this time; the promotion runs around it. Default: now. */
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
      // An ERP seeded before the price tables existed gains them, with prices for its products;
      // one seeded with the earlier demo prices (no PROMO list) gets the current ones instead.
      await createDemoErpSchema(db);
      if (!(await demoErpHasPrices(db)) || !(await hasDemoPromotionList(db))) {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('ceny').execute();
          await trx.deleteFrom('cenniki').execute();
          await seedDemoPrices(trx, options);
        });
      }
      return;
    }
    await createDemoErpSchema(db);

    const random = seededRandom(options.seed ?? 1);
    const now = (options.now ?? new Date()).getTime();
    const dialect = demoErpDialect(db);
    const modifiedAt = () => demoErpTime(dialect, new Date(now - Math.floor(random() * 30 * DAY_MS)).toISOString());
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

/** The demo price lists: the regular retail list and one promotion, both in PLN. */
export const DEMO_ERP_PRICE_LISTS = [
  { id: 1, symbol: DEMO_REGULAR_PRICE_LIST, nazwa: 'Cennik detaliczny', waluta: 'PLN' },
  { id: 2, symbol: DEMO_PROMOTION_PRICE_LIST, nazwa: 'Promocja', waluta: 'PLN' },
] as const;
/** Products in the promotion (all of them when the catalog is smaller). */
export const DEMO_PROMOTION_PRODUCTS = 25;
/** The promotion's discount on the regular gross price, in percent. */
export const DEMO_PROMOTION_DISCOUNT_PERCENT = 20;
/** VAT rates of the demo: the standard rate, and the reduced one of some products (demoVatRate). */
export const DEMO_VAT_STANDARD = 23;
export const DEMO_VAT_REDUCED = 8;

/**
 * The VAT rate of a demo product, from its id: 8 % for every product whose id ends in 7 (one in
 * ten: it stands for the food and books a retailer sells at the reduced rate; the demo catalog
 * has no categories), 23 % for the rest.
 */
export function demoVatRate(productId: number): number {
  return productId % 10 === 7 ? DEMO_VAT_REDUCED : DEMO_VAT_STANDARD;
}

/**
 * The products of the promotion among products with the given ids (in id order): up to
 * DEMO_PROMOTION_PRODUCTS of them, spread evenly over the catalog (for the demo's ids
 * 1 … n: `demoPromotionProductIds(range(1, n))`).
 */
export function demoPromotionProductIds(productIds: readonly number[]): number[] {
  const n = productIds.length;
  const count = Math.min(DEMO_PROMOTION_PRODUCTS, n);
  const picked: number[] = [];
  for (let k = 0; k < count; k++) picked.push(productIds[Math.floor(((2 * k + 1) * n) / (2 * count))]!);
  return picked;
}

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
 * The price lists and the prices of every product in towary (in id order), all in PLN:
 *
 * - DETAL (DEMO_REGULAR_PRICE_LIST), one row per product, always valid: a gross price ending
 *   in .99 (9.99 … 508.99), the net price beside it that agrees with it at the product's VAT
 *   rate (demoVatRate: 23 %, or 8 %; net = gross ÷ (1 + VAT), rounded half up to the grosz), and
 *   the purchase cost (50–75 % of the net price), so margin floors can be checked.
 * - PROMO (DEMO_PROMOTION_PRICE_LIST), one running promotion: DEMO_PROMOTION_PRODUCTS products
 *   (demoPromotionProductIds) at DEMO_PROMOTION_DISCOUNT_PERCENT % off the regular gross price
 *   (net agreeing, the same cost, still above it), valid from a week before `now` to two weeks
 *   after it; scheduleDemoPromotion moves the window. Its rows come after all DETAL rows, as a
 *   promotion an ERP adds later: a product's two prices are far apart in price id order.
 *
 * Deterministic: the amounts have a stream of the seeded PRNG of their own, so the stock stays
 * as it was and an ERP seeded before the price tables gets the same prices as a new one.
 * Amounts are computed in grosze (integers) and written as decimal text.
 */
async function seedDemoPrices(db: DemoErpDatabase, options: SeedDemoErpOptions): Promise<void> {
  const random = seededRandom(((options.seed ?? 1) ^ PRICE_STREAM) >>> 0);
  const now = (options.now ?? new Date()).getTime();
  const dialect = demoErpDialect(db);
  const time = (at: number) => demoErpTime(dialect, new Date(at).toISOString());
  const modifiedAt = () => time(now - Math.floor(random() * 30 * DAY_MS));
  const promotionFrom = time(now - 7 * DAY_MS);
  const promotionTo = time(now + 14 * DAY_MS);
  const productIds = (await sql<{ id: number | string }>`select id from towary order by id`.execute(db)).rows.map((row) => Number(row.id));

  const rows: PriceRow[] = [];
  const regular = new Map<number, { grossCents: number; costCents: number }>();
  for (const productId of productIds) {
    const vat = demoVatRate(productId);
    const grossCents = (9 + Math.floor(random() * 500)) * 100 + 99;
    const netCents = netOfGross(grossCents, vat);
    const costCents = Math.floor((netCents * (50 + Math.floor(random() * 26))) / 100);
    regular.set(productId, { grossCents, costCents });
    rows.push({
      id: rows.length + 1,
      towar_id: productId,
      cennik_id: DEMO_ERP_PRICE_LISTS[0].id,
      netto: centsText(netCents),
      brutto: centsText(grossCents),
      stawka_vat: String(vat),
      koszt: centsText(costCents),
      data_od: null,
      data_do: null,
      zmodyfikowano: modifiedAt(),
    });
  }
  for (const productId of demoPromotionProductIds(productIds)) {
    const { grossCents, costCents } = regular.get(productId)!;
    const vat = demoVatRate(productId);
    // Half up, in integers: round(gross × (100 − discount) / 100).
    const promotionGross = Math.floor((2 * grossCents * (100 - DEMO_PROMOTION_DISCOUNT_PERCENT) + 100) / 200);
    rows.push({
      id: rows.length + 1,
      towar_id: productId,
      cennik_id: DEMO_ERP_PRICE_LISTS[1].id,
      netto: centsText(netOfGross(promotionGross, vat)),
      brutto: centsText(promotionGross),
      stawka_vat: String(vat),
      koszt: centsText(costCents),
      data_od: promotionFrom,
      data_do: promotionTo,
      zmodyfikowano: modifiedAt(),
    });
  }
  await db.insertInto('cenniki').values(DEMO_ERP_PRICE_LISTS.map((list) => ({ ...list }))).execute();
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    await db.insertInto('ceny').values(rows.slice(start, start + ROWS_PER_INSERT)).execute();
  }
}

/** The net price in grosze of a gross price in grosze at a VAT rate in whole percent, rounded half up. */
function netOfGross(grossCents: number, vatPercent: number): number {
  return Math.floor((2 * grossCents * 100 + (100 + vatPercent)) / (2 * (100 + vatPercent)));
}

export interface DemoPromotionWindow {
  /** First moment the promotion applies (data_od, inclusive). */
  startsAt: Date;
  /** First moment it no longer applies (data_do, exclusive); after startsAt. */
  endsAt: Date;
  /** Written to zmodyfikowano of the rows it changes, so delta reads see them. Default: now. */
  now?: Date;
}

/**
 * (Re)writes the validity window of the demo promotion: data_od and data_do of every price in
 * the PROMO list (DEMO_PROMOTION_PRICE_LIST), and zmodyfikowano of the rows it changes (rows
 * that already have this window are left as they are). The demo ERP file survives restarts,
 * so a promotion seeded once would soon be over; the dev command calls this on each start to
 * show a promotion starting and ending while one watches, e.g.
 *
 *   const now = Date.now();
 *   await scheduleDemoPromotion(erp, { startsAt: new Date(now + 2 * 60_000), endsAt: new Date(now + 32 * 60_000) });
 *
 * Takes an open database or a database config (as seedDemoErp). Returns the SKUs of the
 * promotion, sorted (empty when the ERP has no PROMO list).
 */
export async function scheduleDemoPromotion(target: DemoErpDatabase | ErpDatabaseConfigInput, window: DemoPromotionWindow): Promise<string[]> {
  if (!(window.endsAt.getTime() > window.startsAt.getTime())) {
    throw new Error(`scheduleDemoPromotion: endsAt (${window.endsAt.toISOString()}) must be after startsAt (${window.startsAt.toISOString()})`);
  }
  return withDatabase(target, (db) =>
    db.transaction().execute(async (trx) => {
      const dialect = demoErpDialect(db);
      const startsAt = demoErpTime(dialect, window.startsAt.toISOString());
      const endsAt = demoErpTime(dialect, window.endsAt.toISOString());
      const modifiedAt = demoErpTime(dialect, (window.now ?? new Date()).toISOString());
      const list = sql`(select id from cenniki where symbol = ${DEMO_PROMOTION_PRICE_LIST})`;
      await sql`update ceny set data_od = ${startsAt}, data_do = ${endsAt}, zmodyfikowano = ${modifiedAt}
        where cennik_id in ${list}
          and (data_od is null or data_do is null or data_od <> ${startsAt} or data_do <> ${endsAt})`.execute(trx);
      const skus = await sql<{ sku: unknown }>`select distinct t.indeks as sku from ceny c join towary t on t.id = c.towar_id where c.cennik_id in ${list}`.execute(trx);
      return skus.rows.map((row) => String(row.sku)).sort();
    }),
  );
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
  return withDatabase(target, (db) =>
    db.transaction().execute(async (trx) => {
      const dialect = demoErpDialect(db);
      const soldAt = demoErpTime(dialect, (options.now ?? new Date()).toISOString());
      const shuffled = dialect === 'mysql' ? sql`rand()` : sql`random()`;
      const picked = await sql<{ id: number }>`select id from stany where ilosc >= 1 order by ${shuffled} limit ${options.count}`.execute(trx);
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

async function hasDemoPromotionList(db: DemoErpDatabase): Promise<boolean> {
  const found = await sql<{ found: number }>`select 1 as found from cenniki where symbol = ${DEMO_PROMOTION_PRICE_LIST}`.execute(db);
  return found.rows.length > 0;
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

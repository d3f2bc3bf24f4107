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
import { createDemoErpSchema, demoErpHasData, dropDemoErpSchema, type DemoErpDatabase } from './schema';

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

/** Rows per INSERT: 7 columns × 1,000 rows stays far below SQLite's 32,766 bind parameters. */
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
    if (options.reset === true) await dropDemoErpSchema(db);
    else if (await demoErpHasData(db)) return;
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
    });
  });
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

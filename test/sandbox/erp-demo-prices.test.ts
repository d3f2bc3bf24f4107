/**
 * The sandbox ERP's demo prices (sandbox/erp/seed.ts) on real databases: the price lists, the
 * promotion and its window (scheduleDemoPromotion), and an ERP seeded with the earlier demo
 * prices. What the connector reads of them is in test/connectors/erp-sql-prices.test.ts.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErpDatabaseConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { DEMO_PROMOTION_PRICE_LIST, DEMO_REGULAR_PRICE_LIST, type DemoErpDatabase } from '../../sandbox/erp/schema';
import {
  DEMO_ERP_PRICE_LISTS,
  DEMO_PROMOTION_DISCOUNT_PERCENT,
  DEMO_PROMOTION_PRODUCTS,
  demoPromotionProductIds,
  demoVatRate,
  scheduleDemoPromotion,
  seedDemoErp,
} from '../../sandbox/erp/seed';
import { startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';

const PRODUCT_COUNT = 1_200;
const SEEDED_AT = new Date('2025-12-01T00:00:00.000Z');
const MINUTE_MS = 60_000;

/** A time column cast to text (UTC: `2026-03-02 09:02:00` on PostgreSQL, as written on SQLite) as ISO-8601 with milliseconds. */
function isoOf(value: unknown): string | null {
  if (value === null) return null;
  return new Date(String(value).replace(' ', 'T').replace(/Z?$/, 'Z')).toISOString();
}

describe('demo ERP prices helpers', () => {
  it('spreads the promotion over the catalog, and taxes one product in ten at 8 %', () => {
    const ids = Array.from({ length: PRODUCT_COUNT }, (_, i) => i + 1);
    const promoted = demoPromotionProductIds(ids);
    expect(promoted).toHaveLength(DEMO_PROMOTION_PRODUCTS);
    expect(promoted[0]).toBe(25);
    expect(promoted.at(-1)).toBe(1_177);
    expect([...promoted].sort((a, b) => a - b)).toEqual(promoted);
    expect(new Set(promoted).size).toBe(DEMO_PROMOTION_PRODUCTS);
    expect(demoPromotionProductIds([4, 8, 15])).toEqual([4, 8, 15]);
    expect(demoPromotionProductIds([])).toEqual([]);
    expect(ids.filter((id) => demoVatRate(id) === 8)).toHaveLength(PRODUCT_COUNT / 10);
    expect(ids.every((id) => [8, 23].includes(demoVatRate(id)))).toBe(true);
    expect(DEMO_ERP_PRICE_LISTS.map((list) => list.symbol)).toEqual([DEMO_REGULAR_PRICE_LIST, DEMO_PROMOTION_PRICE_LIST]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('demo ERP prices on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  let database: ErpDatabaseConfigInput;
  let db: DemoErpDatabase;

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-demo-prices-', productCount: PRODUCT_COUNT, now: SEEDED_AT });
    ({ database, db } = demoErp);
  });

  afterAll(async () => {
    await demoErp?.close();
  });

  const promotionRows = async () =>
    (
      await sql<{ id: number; towar_id: number; brutto: unknown; data_od: unknown; data_do: unknown; zmodyfikowano: unknown }>`
        select c.id, c.towar_id, c.brutto, cast(c.data_od as text) as data_od, cast(c.data_do as text) as data_do, cast(c.zmodyfikowano as text) as zmodyfikowano
        from ceny c join cenniki l on l.id = c.cennik_id
        where l.symbol = ${DEMO_PROMOTION_PRICE_LIST} order by c.towar_id`.execute(db)
    ).rows.map((row) => ({ ...row, id: Number(row.id), towar_id: Number(row.towar_id), data_od: isoOf(row.data_od), data_do: isoOf(row.data_do), zmodyfikowano: isoOf(row.zmodyfikowano) }));

  it('seeds a DETAL price per product and one PROMO of 25 products at 20 % off, after every DETAL row', async () => {
    const lists = (await sql<{ symbol: string; waluta: string }>`select symbol, waluta from cenniki order by id`.execute(db)).rows;
    expect(lists).toEqual([
      { symbol: 'DETAL', waluta: 'PLN' },
      { symbol: 'PROMO', waluta: 'PLN' },
    ]);
    const [detal] = (await sql<{ n: number | string; max_id: number | string }>`select count(*) as n, max(c.id) as max_id from ceny c where c.cennik_id = 1`.execute(db)).rows;
    expect(Number(detal?.n)).toBe(PRODUCT_COUNT);
    const promo = await promotionRows();
    expect(promo.map((row) => row.towar_id)).toEqual(demoPromotionProductIds(Array.from({ length: PRODUCT_COUNT }, (_, i) => i + 1)));
    expect(promo.every((row) => row.id > Number(detal?.max_id))).toBe(true);
    expect(new Set(promo.map((row) => `${row.data_od}|${row.data_do}`))).toEqual(new Set([`2025-11-24T00:00:00.000Z|2025-12-15T00:00:00.000Z`]));
    const regular = (await sql<{ towar_id: number; brutto: unknown }>`select towar_id, brutto from ceny where cennik_id = 1`.execute(db)).rows;
    const regularGross = new Map(regular.map((row) => [Number(row.towar_id), Math.round(Number(row.brutto) * 100)]));
    for (const row of promo) {
      const gross = regularGross.get(row.towar_id)!;
      expect(Math.round(Number(row.brutto) * 100)).toBe(Math.round((gross * (100 - DEMO_PROMOTION_DISCOUNT_PERCENT)) / 100));
    }
  });

  it('scheduleDemoPromotion rewrites the window and the modification time, once per new window', async () => {
    const startedAt = new Date('2026-03-02T09:00:00.000Z');
    const window = { startsAt: new Date(startedAt.getTime() + 2 * MINUTE_MS), endsAt: new Date(startedAt.getTime() + 32 * MINUTE_MS), now: startedAt };
    const skus = await scheduleDemoPromotion(db, window);
    expect(skus).toEqual(demoPromotionProductIds(Array.from({ length: PRODUCT_COUNT }, (_, i) => i + 1)).map((id) => `PL-${String(id).padStart(6, '0')}`));
    const promo = await promotionRows();
    expect(promo).toHaveLength(DEMO_PROMOTION_PRODUCTS);
    for (const row of promo) {
      expect(row).toMatchObject({ data_od: '2026-03-02T09:02:00.000Z', data_do: '2026-03-02T09:32:00.000Z', zmodyfikowano: '2026-03-02T09:00:00.000Z' });
    }
    // The same window again changes nothing (a delta sync has nothing to read); a new one does.
    await scheduleDemoPromotion(database, { ...window, now: new Date('2026-03-02T10:00:00.000Z') });
    expect((await promotionRows()).map((row) => row.zmodyfikowano)).toEqual(promo.map((row) => row.zmodyfikowano));
    await scheduleDemoPromotion(database, { startsAt: new Date('2026-03-03T00:00:00.000Z'), endsAt: new Date('2026-03-04T00:00:00.000Z'), now: new Date('2026-03-02T11:00:00.000Z') });
    for (const row of await promotionRows()) {
      expect(row).toMatchObject({ data_od: '2026-03-03T00:00:00.000Z', data_do: '2026-03-04T00:00:00.000Z', zmodyfikowano: '2026-03-02T11:00:00.000Z' });
    }
    // Regular prices are never touched.
    const [touched] = (await sql<{ n: number | string }>`select count(*) as n from ceny where cennik_id = 1 and data_od is not null`.execute(db)).rows;
    expect(Number(touched?.n)).toBe(0);
    await expect(scheduleDemoPromotion(db, { startsAt: window.endsAt, endsAt: window.startsAt })).rejects.toThrow(/endsAt .* must be after startsAt/);
  });

  it('an ERP seeded with the earlier demo prices (no PROMO list) gets the current ones; stock and products stay', async () => {
    const earlier = await demoErp.createDatabase('erp_earlier');
    const other = openErpDatabase(ErpDatabaseConfig.parse(earlier), { baseDir: '/', readOnly: false });
    try {
      const dump = async (table: string) => (await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by id`.execute(other)).rows;
      await seedDemoErp(other, { productCount: 100, now: SEEDED_AT });
      const [prices, lists, stock] = [await dump('ceny'), await dump('cenniki'), await dump('stany')];
      // As the earlier demo had them: a winter promotion list, other prices.
      await sql`update cenniki set symbol = 'PROMO-ZIMA' where symbol = ${DEMO_PROMOTION_PRICE_LIST}`.execute(other);
      await sql`update ceny set brutto = 1.23, netto = null`.execute(other);
      await sql`update stany set ilosc = 7 where id = 1`.execute(other);

      await seedDemoErp(other, { productCount: 100, now: SEEDED_AT });
      expect(await dump('ceny')).toEqual(prices);
      expect(await dump('cenniki')).toEqual(lists);
      const after = await dump('stany');
      expect(after.slice(1)).toEqual(stock.slice(1));
      expect(Number(after[0]?.ilosc)).toBe(7);
    } finally {
      await other.destroy();
    }
  });
});

/**
 * erp-sql on stock tables shaped as vendors ship them: a row identity of several columns
 * (tables.stock.id as a list, or product and location by default) and no modification column
 * (delta runs compare). The sandbox ERP serves as the database: its stock table is also unique
 * by (towar_id, magazyn_id).
 */
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance, StockCursor, StockReadMode } from '../../connectors/contract';
import type { StockLevel } from '../../core/model';
import { erpSqlManifest, ErpSqlConfig } from '../../connectors/erp-sql';
import { DEMO_ERP_TABLES, type DemoErpDatabase } from '../../sandbox/erp/schema';
import { simulateErpSales } from '../../sandbox/erp/seed';
import type { CrosswalkStore } from '../../state/store';
import { readAllStockPages } from '../support/stock-pages';
import { startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';

const PRODUCT_COUNT = 600;
const SEEDED_AT = new Date('2025-06-01T00:00:00.000Z');
const unusedCrosswalk: CrosswalkStore = { get: async () => new Map(), put: async () => undefined };

const readAll = (erp: ConnectorInstance, mode: StockReadMode, start: StockCursor | null, limit: number) => readAllStockPages(erp, { mode, start, limit });

const levelKey = (level: StockLevel) => `${level.sku}|${level.location}|${level.onHand}|${level.reserved}`;

describe.each(['sqlite', 'postgres'] as const)('erp-sql stock keys and change detection on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  let erpDb: DemoErpDatabase;
  const connectors: ConnectorInstance[] = [];
  const connector = (stock: Record<string, unknown>) => {
    const config = ErpSqlConfig.parse({ database: demoErp.database, tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, ...stock } } });
    const instance = erpSqlManifest.create('erp', config, { logger: pino({ level: 'silent' }), crosswalk: unusedCrosswalk, baseDir: '/' });
    connectors.push(instance);
    return instance;
  };

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-keys-', productCount: PRODUCT_COUNT, now: SEEDED_AT });
    erpDb = demoErp.db;
  });

  afterAll(async () => {
    for (const instance of connectors) await instance.close();
    await demoErp?.close();
  });

  it('a composite key (product, location) reads what the id column reads, in full and delta runs', async () => {
    const byId = connector({});
    const byPair = connector({ id: ['towar_id', 'magazyn_id'] });
    const byDefault = connector({ id: undefined });
    for (const mode of ['full', 'delta'] as const) {
      const expected = (await readAll(byId, mode, null, 97)).levels.map(levelKey).sort();
      expect((await readAll(byPair, mode, null, 97)).levels.map(levelKey).sort()).toEqual(expected);
      expect((await readAll(byDefault, mode, null, 97)).levels.map(levelKey).sort()).toEqual(expected);
    }
  });

  it('delta pages through a burst of rows with one timestamp by the composite key, losing and repeating nothing', async () => {
    const byPair = connector({ id: ['towar_id', 'magazyn_id'] });
    const { resume } = await readAll(byPair, 'delta', null, 200);
    expect(resume).toMatchObject({ strategy: 'modified', afterKey: [expect.any(String), expect.any(String)] });
    // 40 rows modified at one instant: pages of 7 split the burst several times.
    const burstAt = '2025-07-01 12:00:00';
    await sql`update stany set zmodyfikowano = ${driver === 'sqlite' ? burstAt : sql`cast(${burstAt} as timestamp)`}, ilosc = ilosc + 1 where towar_id <= 20`.execute(erpDb);
    const [count] = (await sql<{ n: number | string }>`select count(*) as n from stany where towar_id <= 20`.execute(erpDb)).rows;
    const { pages } = await readAll(byPair, 'delta', resume, 7);
    const rowsRead = pages.reduce((sum, page) => sum + page.levels.length, 0);
    // Each page carries every location of the SKUs it touches; a SKU may appear on two pages when the burst splits it, never lost.
    expect(new Set(pages.flatMap((page) => page.skus))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `PL-${String(i + 1).padStart(6, '0')}`)));
    expect(rowsRead).toBeGreaterThanOrEqual(Number(count?.n));
  });

  it('without a modification column, delta runs read everything and leave no cursor to resume from', async () => {
    const comparing = connector({ modifiedAt: undefined });
    const full = await readAll(comparing, 'full', null, 150);
    const delta = await readAll(comparing, 'delta', null, 150);
    expect(delta.skus).toHaveLength(PRODUCT_COUNT);
    expect(delta.levels.map(levelKey).sort()).toEqual(full.levels.map(levelKey).sort());
    expect(delta.pages.every((page) => page.resumeCursor === null)).toBe(true);
    expect(delta.levels.every((level) => typeof level.at === 'string' && !Number.isNaN(Date.parse(level.at)))).toBe(true);
    // A cursor stored by delta runs before the table was switched to compare starts a comparing run from the beginning.
    const old = await readAll(comparing, 'delta', { strategy: 'modified', afterModifiedAt: '2030-01-01T00:00:00.000Z', afterKey: '5' }, 150);
    expect(old.skus).toHaveLength(PRODUCT_COUNT);
    // Sales change quantities; the comparing read sees them (the engine's snapshot decides what to push).
    await simulateErpSales(demoErp.database, { count: 5, now: new Date('2025-08-01T00:00:00.000Z') });
    const after = await readAll(comparing, 'delta', null, 150);
    expect(after.levels.map(levelKey).sort()).not.toEqual(full.levels.map(levelKey).sort());
  });

  it('config validate explains how delta runs find changes, and which products are not for sale', () => {
    const vendor = ErpSqlConfig.parse({
      database: demoErp.database,
      tables: { ...DEMO_ERP_TABLES, products: { ...DEMO_ERP_TABLES.products, notForSale: { column: 'zablokowany', in: [1, 'T'] } }, stock: { ...DEMO_ERP_TABLES.stock, modifiedAt: undefined } },
    });
    expect(erpSqlManifest.notes(vendor)).toEqual([
      'stock delta runs read every row of stany and push what differs from what each channel last confirmed (the table has no tables.stock.modifiedAt); 100,000 SKUs take seconds',
      'products whose zablokowany is 1 or "T" are not for sale: 0 in every channel',
    ]);
  });

  it('connectors check refuses a modification column that cannot drive delta runs: NULL everywhere, or one value everywhere', async () => {
    const checkWith = (stock: Record<string, unknown>) => connector(stock).check();
    expect(await checkWith({})).toMatchObject({ ok: true });
    // A column the ERP fills only at import: one value in every row.
    await sql`update stany set zmodyfikowano = (select min(zmodyfikowano) from stany)`.execute(erpDb);
    const constant = await checkWith({});
    expect(constant.ok).toBe(false);
    expect(constant.detail).toMatch(/^erp-sql: column "stany\.zmodyfikowano" \(configured at tables\.stock\.modifiedAt\) holds one value in all \d+ rows: delta runs would find no changes; set tables\.stock\.changeDetection: compare/);
    // The same table, compared instead: fine.
    expect(await checkWith({ changeDetection: 'compare' })).toMatchObject({ ok: true });
    await sql`update stany set zmodyfikowano = null`.execute(erpDb);
    expect((await checkWith({})).detail).toMatch(/is NULL in all \d+ rows/);
  });

  it('config: changeDetection modifiedAt without the column is refused with its path', () => {
    const parsed = ErpSqlConfig.safeParse({ database: demoErp.database, tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, modifiedAt: undefined, changeDetection: 'modifiedAt' } } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['tables', 'stock', 'changeDetection']);
  });
});

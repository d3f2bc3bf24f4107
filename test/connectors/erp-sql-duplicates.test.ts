/**
 * SKUs held by several product rows, on real SQLite and PostgreSQL: left out of full and delta
 * pages, every row rejected with a reason naming all of them.
 */
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance, StockCursor, StockPage, StockReadMode } from '../../connectors/contract';
import { erpSqlManifest, ErpSqlConfig } from '../../connectors/erp-sql';
import { DEMO_ERP_TABLES, type DemoErpDatabase } from '../../sandbox/erp/schema';
import { DEMO_ERP_TEST_DRIVERS, startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';
import { readAllStockPages } from '../support/stock-pages';

const PRODUCTS = 40;
const SEEDED_AT = new Date('2025-06-01T00:00:00.000Z');

const readAll = async (erp: ConnectorInstance, mode: StockReadMode, caseInsensitiveSkus: boolean, start: StockCursor | null = null): Promise<StockPage[]> =>
  (await readAllStockPages(erp, { mode, start, limit: 10, caseInsensitiveSkus })).pages;

describe.each(DEMO_ERP_TEST_DRIVERS)('erp-sql duplicate SKUs on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  let erpDb: DemoErpDatabase;
  let erp: ConnectorInstance;

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-dup-', productCount: PRODUCTS, now: SEEDED_AT });
    const { database } = demoErp;
    erpDb = demoErp.db;
    // The demo table keeps SKUs unique as stored; a trailing blank or other letter case slips through.
    // MySQL compares text as its collation does (letter case and trailing blanks ignored): the
    // demo's unique index would refuse these rows there, which an ERP without one can hold.
    if (driver === 'mysql') await sql`alter table towary drop index indeks`.execute(erpDb);
    await sql`insert into towary (id, indeks, nazwa) values (1001, 'PL-000005 ', 'Duplikat z spacją'), (1002, 'pl-000007', 'Duplikat małymi literami')`.execute(erpDb);
    await sql`insert into stany (id, towar_id, magazyn_id, ilosc, zarezerwowano, zmodyfikowano) values
      (9001, 1001, 1, 4, 0, ${'2025-05-20 10:00:00'}), (9002, 1002, 1, 6, 0, ${'2025-05-20 10:00:00'})`.execute(erpDb);
    const config = ErpSqlConfig.parse({ database, tables: DEMO_ERP_TABLES });
    erp = erpSqlManifest.create('erp', config, { logger: pino({ level: 'silent' }), crosswalk: { get: async () => new Map(), put: async () => undefined }, baseDir: '/' });
  });

  afterAll(async () => {
    await erp?.close();
    await demoErp?.close();
  });

  it('full read, SKUs compared case-insensitively: both duplicates left out, each row rejected naming all rows of its SKU', async () => {
    const pages = await readAll(erp, 'full', true);
    const skus = pages.flatMap((page) => page.skus);
    const levels = pages.flatMap((page) => page.levels);
    expect(skus).toHaveLength(PRODUCTS - 2);
    for (const sku of ['PL-000005', 'PL-000007', 'pl-000007']) {
      expect(skus).not.toContain(sku);
      expect(levels.some((level) => level.sku === sku)).toBe(false);
    }
    const rejected = pages.flatMap((page) => page.rejected).sort((a, b) => a.recordKey.localeCompare(b.recordKey));
    expect(rejected.map((r) => [r.recordKey, r.category, r.subject])).toEqual([
      ['towary#1001', 'duplicate key in source', 'PL-000005'],
      ['towary#1002', 'duplicate key in source', 'PL-000007'],
      ['towary#5', 'duplicate key in source', 'PL-000005'],
      ['towary#7', 'duplicate key in source', 'PL-000007'],
    ]);
    expect(rejected[0]!.reason).toBe(
      'SKU "PL-000005" is held by 2 rows of towary (ignoring surrounding blanks and letter case): id 5 (indeks "PL-000005"), id 1001 (indeks "PL-000005 "); nothing is pushed for it until one row remains',
    );
    expect(rejected[1]!.reason).toBe(
      'SKU "PL-000007" is held by 2 rows of towary (ignoring surrounding blanks and letter case): id 7 (indeks "PL-000007"), id 1002 (indeks "pl-000007"); nothing is pushed for it until one row remains',
    );
  });

  it('full read, SKUs compared as written: only the blank-padded duplicate counts', async () => {
    const pages = await readAll(erp, 'full', false);
    const skus = pages.flatMap((page) => page.skus);
    expect(skus).toContain('PL-000007');
    expect(skus).toContain('pl-000007');
    expect(skus).not.toContain('PL-000005');
    expect(pages.flatMap((page) => page.rejected).map((r) => r.recordKey).sort()).toEqual(['towary#1001', 'towary#5']);
  });

  it('delta read: a changed row of a duplicate SKU is rejected, not pushed', async () => {
    const start: StockCursor = { strategy: 'modified', afterModifiedAt: '2025-05-31T00:00:00.000Z', afterKey: '0' };
    await sql`update stany set ilosc = 9, zmodyfikowano = ${'2025-06-02 08:00:00'} where id in (9001, 1)`.execute(erpDb);
    const pages = await readAll(erp, 'delta', true, start);
    const skus = pages.flatMap((page) => page.skus);
    expect(skus).not.toContain('PL-000005');
    expect(skus).toContain('PL-000001');
    expect(pages.flatMap((page) => page.rejected).map((r) => r.recordKey)).toEqual(['towary#1001']);
  });
});

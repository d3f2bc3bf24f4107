/**
 * erp-sql reading stock through a query the integrator wrote (queries.stock): the query's text
 * is wrapped, never edited; it reads what the table mapping reads, pages whole SKUs, finds
 * changes by its modification column, and `connectors check` names what is wrong with it.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance, StockCursor, StockReadMode } from '../../connectors/contract';
import { erpSqlManifest, ErpSqlConfig } from '../../connectors/erp-sql';
import type { StockLevel } from '../../core/model';
import { DEMO_ERP_TABLES } from '../../sandbox/erp/schema';
import { simulateErpSales } from '../../sandbox/erp/seed';
import type { CrosswalkStore } from '../../state/store';
import { readAllStockPages } from '../support/stock-pages';
import { DEMO_ERP_TEST_DRIVERS, startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';

const PRODUCT_COUNT = 500;
const SEEDED_AT = new Date('2025-06-01T00:00:00.000Z');
const unusedCrosswalk: CrosswalkStore = { get: async () => new Map(), put: async () => undefined };

/** The demo ERP's stock as a vendor's report query would give it: joins, one row per SKU and warehouse. */
const STOCK_QUERY = `select t.indeks as sku, m.symbol as location, s.ilosc as on_hand, s.zarezerwowano as reserved, s.zmodyfikowano as changed_at
  from stany s
  join towary t on t.id = s.towar_id
  join magazyny m on m.id = s.magazyn_id`;
const COLUMNS = { sku: 'sku', location: 'location', onHand: 'on_hand', reserved: 'reserved' };

const readAll = (erp: ConnectorInstance, mode: StockReadMode, start: StockCursor | null, limit: number) => readAllStockPages(erp, { mode, start, limit });

const levelKey = (level: StockLevel) => `${level.sku}|${level.location}|${level.onHand}|${level.reserved}`;

describe.each(DEMO_ERP_TEST_DRIVERS)('erp-sql stock through queries.stock on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  const connectors: ConnectorInstance[] = [];
  const connector = (config: Record<string, unknown>) => {
    const parsed = ErpSqlConfig.parse({ database: demoErp.database, ...config });
    const instance = erpSqlManifest.create('erp', parsed, { logger: pino({ level: 'silent' }), crosswalk: unusedCrosswalk, baseDir: '/' });
    connectors.push(instance);
    return instance;
  };
  const queryConnector = (stock: Record<string, unknown> = {}) => connector({ queries: { stock: { sql: STOCK_QUERY, columns: COLUMNS, ...stock } } });

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-query-', productCount: PRODUCT_COUNT, now: SEEDED_AT });
  });

  afterAll(async () => {
    for (const instance of connectors) await instance.close();
    await demoErp?.close();
  });

  it('reads what the table mapping reads, in pages of whole SKUs', async () => {
    const byTables = await readAll(connector({ tables: DEMO_ERP_TABLES }), 'full', null, 1_000);
    const byQuery = await readAll(queryConnector(), 'full', null, 37);
    expect(byQuery.levels.map(levelKey).sort()).toEqual(byTables.levels.map(levelKey).sort());
    expect(byQuery.rejected).toEqual([]);
    // Every SKU's locations are on one page.
    const pagesOfSku = new Map<string, Set<number>>();
    byQuery.pages.forEach((page, index) => page.levels.forEach((level) => pagesOfSku.set(level.sku, (pagesOfSku.get(level.sku) ?? new Set()).add(index))));
    expect([...pagesOfSku.values()].every((pages) => pages.size === 1)).toBe(true);
    expect(byQuery.pages.length).toBeGreaterThan(10);
  });

  it("delta by the query's modification column reads only the changed SKUs, with all their locations", async () => {
    const erp = queryConnector({ columns: { ...COLUMNS, modifiedAt: 'changed_at' } });
    const first = await readAll(erp, 'delta', null, 150);
    expect(new Set(first.skus).size).toBe(PRODUCT_COUNT);
    expect(first.resume).toMatchObject({ strategy: 'modified', afterKey: [expect.any(String), expect.any(String)] });
    const sold = await simulateErpSales(demoErp.database, { count: 7, now: new Date('2025-07-01T00:00:00.000Z') });
    const next = await readAll(erp, 'delta', first.resume, 3);
    expect(new Set(next.skus)).toEqual(new Set(sold));
    expect(next.levels.every((level) => sold.includes(level.sku))).toBe(true);
    expect((await readAll(erp, 'delta', next.resume, 3)).skus).toEqual([]);
  });

  it('without a modification column, delta runs read everything and keep no cursor', async () => {
    const delta = await readAll(queryConnector(), 'delta', null, 200);
    expect(new Set(delta.skus).size).toBe(PRODUCT_COUNT);
    expect(delta.pages.every((page) => page.resumeCursor === null)).toBe(true);
  });

  it('marks rows not for sale by a result column, and quarantines bad and doubled rows instead of failing the page', async () => {
    const erp = connector({
      queries: {
        stock: {
          sql: `select sku, location, case when sku = 'PL-000003' then 'abc' else cast(on_hand as char(40)) end as on_hand, reserved, case when sku = 'PL-000002' then 1 else 0 end as blocked
                from (${STOCK_QUERY}) base
                union all
                select sku, location, cast(on_hand as char(40)), reserved, 0 from (${STOCK_QUERY}) again where sku = 'PL-000004'`,
          columns: COLUMNS,
          notForSale: { column: 'blocked', in: [1] },
        },
      },
    });
    const { skus, rejected, pages } = await readAll(erp, 'full', null, 100);
    expect(pages.flatMap((page) => page.notForSale ?? [])).toEqual(['PL-000002']);
    expect(skus).not.toContain('PL-000003');
    expect(skus).not.toContain('PL-000004');
    expect(rejected.find((r) => r.subject === 'PL-000003')?.reason).toMatch(/^on_hand is not a number \("abc"\) in queries\.stock row sku=PL-000003, location=/);
    expect(rejected.find((r) => r.subject === 'PL-000004')).toMatchObject({ category: 'duplicate key in source', reason: expect.stringMatching(/^queries\.stock returns more than one row for SKU "PL-000004"/) });
  });

  it('connectors check: runs the query, names a column it does not return and a key that is not unique', async () => {
    expect(await queryConnector().check()).toMatchObject({ ok: true, detail: expect.stringMatching(/queries\.stock returns \d[\d,]* rows for 500 SKUs, locations such as MAG-WAW, MAG-ZW, SKLEP-KRK$/) });
    expect(await queryConnector({ columns: { ...COLUMNS, onHand: 'quantity' } }).check()).toEqual({
      ok: false,
      detail: 'erp-sql: queries.stock.columns.onHand names "quantity", which the query does not return (names as the database reports them; PostgreSQL folds unquoted aliases to lower case)',
    });
    const doubled = connector({ queries: { stock: { sql: `${STOCK_QUERY} union all ${STOCK_QUERY}`, columns: COLUMNS } } });
    expect((await doubled.check()).detail).toMatch(/^erp-sql: queries\.stock returns 2 rows for SKU "PL-000001" at "MAG-WAW": it must return one row per SKU and location/);
  });

  it('config: needs tables or queries.stock; a query must read, without a trailing semicolon', () => {
    const issues = (config: Record<string, unknown>) => ErpSqlConfig.safeParse({ database: demoErp.database, ...config }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({})).toEqual(['tables: erp-sql needs tables (the ERP tables of products, locations and stock) or queries.stock (a query that reads the stock)']);
    expect(issues({ queries: { stock: { sql: 'delete from stany', columns: COLUMNS } } })).toEqual(['queries.stock.sql: expected one SELECT statement (or WITH … SELECT): the query only reads']);
    expect(issues({ queries: { stock: { sql: `${STOCK_QUERY};`, columns: COLUMNS } } })).toEqual(['queries.stock.sql: drop the trailing semicolon: omnisync wraps the query as a subquery']);
  });
});

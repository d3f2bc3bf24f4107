/**
 * Prices from the erp-sql connector (`price.read`) against the sandbox ERP's price tables on
 * real databases: SQLite and PostgreSQL run the same tests.
 */
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance, PriceCursor, PricePage, PriceReadRequest, StockReadMode } from '../../connectors/contract';
import { ErpDatabaseConfig, erpSqlManifest, ErpSqlConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { Dec } from '../../core/money';
import { channelPrice, ChannelPriceRules, type PriceListEntry } from '../../core/price-rules';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import { DEMO_ERP_PRICE_TABLES, DEMO_ERP_TABLES, DEMO_PROMOTION_PRICE_LIST, DEMO_REGULAR_PRICE_LIST, demoErpTime, type DemoErpDatabase } from '../../sandbox/erp/schema';
import { DEMO_PROMOTION_PRODUCTS, demoPromotionProductIds, demoVatRate, seedDemoErp } from '../../sandbox/erp/seed';
import type { CrosswalkStore } from '../../state/store';
import { DEMO_ERP_TEST_DRIVERS, startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';

const PRODUCT_COUNT = 300;
/** Seeded prices were modified in the 30 days before this; the promotion runs around it. */
const SEEDED_AT = new Date('2025-12-01T00:00:00.000Z');
const DAY_MS = 24 * 60 * 60 * 1000;

const unusedCrosswalk: CrosswalkStore = {
  get: async () => new Map(),
  put: async () => undefined,
};

function connector(database: ErpDatabaseConfigInput, tables: Record<string, unknown> = { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES }): ConnectorInstance {
  const config = ErpSqlConfig.parse({ database, tables });
  return erpSqlManifest.create('erp', config, { logger: pino({ level: 'silent' }), crosswalk: unusedCrosswalk, baseDir: '/' });
}

function read(erp: ConnectorInstance, request: PriceReadRequest): Promise<PricePage> {
  return erp.operations['price.read']!.readPricePage(request);
}

/** Reads pages until nextCursor is null; returns the pages and the last resume cursor. */
async function readAll(erp: ConnectorInstance, mode: StockReadMode, start: PriceCursor | null, limit: number, priceLists?: string[]) {
  const pages: PricePage[] = [];
  let cursor = start;
  let resume: PriceCursor | null = start;
  for (let guard = 0; guard < 1_000; guard++) {
    const page = await read(erp, { mode, cursor, limit, ...(priceLists === undefined ? {} : { priceLists }) });
    pages.push(page);
    resume = page.resumeCursor ?? resume;
    if (page.nextCursor === null) return { pages, resume, entries: pages.flatMap((p) => p.entries), rejected: pages.flatMap((p) => p.rejected) };
    cursor = page.nextCursor;
  }
  throw new Error('more than 1,000 pages: the cursor does not advance');
}

const entryKey = (entry: PriceListEntry) => `${entry.sku}|${entry.priceList}|${entry.validFrom ?? ''}`;
const skuOf = (productId: number) => `PL-${String(productId).padStart(6, '0')}`;
/** The demo's product ids 1 … n. */
const demoIds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Every SKU with entries is in exactly one page, and that page holds all of its entries (as
 * `all` has them: the same entries read in one page).
 */
function expectWholeSkus(pages: PricePage[], all: PriceListEntry[], context: string): void {
  const expected = new Map<string, string[]>();
  for (const entry of all) expected.set(entry.sku, [...(expected.get(entry.sku) ?? []), entryKey(entry)].sort());
  const pageOf = new Map<string, number>();
  pages.forEach((page, index) => {
    const own = new Map<string, string[]>();
    for (const entry of page.entries) own.set(entry.sku, [...(own.get(entry.sku) ?? []), entryKey(entry)].sort());
    for (const [sku, keys] of own) {
      expect(pageOf.get(sku), `${context}: ${sku} in pages ${pageOf.get(sku)} and ${index}`).toBeUndefined();
      pageOf.set(sku, index);
      expect(keys, `${context}: ${sku} in page ${index}`).toEqual(expected.get(sku));
    }
  });
  expect(pageOf.size, context).toBe(expected.size);
}

describe.each(DEMO_ERP_TEST_DRIVERS)('erp-sql prices on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  let database: ErpDatabaseConfigInput;
  /** A writable connection for the tests to change the ERP's data (the connector only reads). */
  let erpDb: DemoErpDatabase;
  let erp: ConnectorInstance;
  let priceRowCount: number;

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-prices-test-', productCount: PRODUCT_COUNT, now: SEEDED_AT });
    ({ database, db: erpDb } = demoErp);
    const [count] = (await sql<{ n: number | string }>`select count(*) as n from ceny`.execute(erpDb)).rows;
    priceRowCount = Number(count?.n);
    erp = connector(database);
  });

  afterAll(async () => {
    await erp?.close();
    await demoErp?.close();
  });

  it('the demo ERP has a DETAL price for every product and a running PROMO of 25 products at 20 % off, with net, gross and cost that fit', async () => {
    const promoted = demoPromotionProductIds(demoIds(PRODUCT_COUNT)).map(skuOf);
    expect(promoted).toHaveLength(DEMO_PROMOTION_PRODUCTS);
    expect(new Set(promoted).size).toBe(DEMO_PROMOTION_PRODUCTS);
    expect(priceRowCount).toBe(PRODUCT_COUNT + DEMO_PROMOTION_PRODUCTS);
    const { entries, rejected } = await readAll(erp, 'full', null, 1_000);
    expect(rejected).toEqual([]);
    const detal = entries.filter((entry) => entry.priceList === DEMO_REGULAR_PRICE_LIST);
    const promo = entries.filter((entry) => entry.priceList === DEMO_PROMOTION_PRICE_LIST);
    expect(detal.map((entry) => entry.sku)).toEqual(demoIds(PRODUCT_COUNT).map(skuOf));
    expect(promo.map((entry) => entry.sku)).toEqual(promoted);
    for (const entry of entries) {
      expect(entry.currency).toBe('PLN');
      expect(entry.vatRate).toBe(String(demoVatRate(Number(entry.sku.slice(3)))));
      for (const amount of [entry.net, entry.gross, entry.cost]) expect(amount).toMatch(/^[1-9]\d*\.\d{2}$|^0\.\d{2}$/);
      // Net and gross agree within a grosz at the entry's VAT rate; the cost is below the net price.
      const vatFactor = new Dec(entry.vatRate).dividedBy(100).plus(1);
      expect(new Dec(entry.gross!).minus(new Dec(entry.net!).times(vatFactor)).abs().lessThanOrEqualTo('0.01'), JSON.stringify(entry)).toBe(true);
      expect(Number(entry.cost)).toBeLessThan(Number(entry.net));
    }
    expect(detal.every((entry) => entry.gross!.endsWith('.99'))).toBe(true);
    expect(detal.filter((entry) => entry.vatRate === '8').map((entry) => entry.sku)).toEqual(demoIds(PRODUCT_COUNT).filter((id) => id % 10 === 7).map(skuOf));
    expect(detal.every((entry) => entry.validFrom === undefined && entry.validTo === undefined)).toBe(true);
    for (const entry of promo) {
      expect(entry).toMatchObject({
        validFrom: new Date(SEEDED_AT.getTime() - 7 * DAY_MS).toISOString(),
        validTo: new Date(SEEDED_AT.getTime() + 14 * DAY_MS).toISOString(),
      });
      const regular = detal.find((candidate) => candidate.sku === entry.sku)!;
      expect(entry.gross).toBe(new Dec(regular.gross!).times('0.8').toFixed(2));
      expect(entry.cost).toBe(regular.cost);
    }
    // The hub's price rules take them as they are: the promotion applies while it runs, above a
    // 5 % margin, with the regular price as compare-at.
    const at = SEEDED_AT.toISOString();
    const regularRules = ChannelPriceRules.parse({ priceList: DEMO_REGULAR_PRICE_LIST, currency: 'PLN', pricesIncludeVat: true, minimumMarginPercent: '5' });
    const promoRules = ChannelPriceRules.parse({
      priceList: DEMO_PROMOTION_PRICE_LIST, currency: 'PLN', pricesIncludeVat: true, minimumMarginPercent: '5',
      compareAtPrice: { source: 'priceList', priceList: DEMO_REGULAR_PRICE_LIST },
    });
    for (const entry of detal) expect(channelPrice(entry, regularRules, { at })).toMatchObject({ ok: true, price: { amount: entry.gross }, applied: [] });
    for (const entry of promo) {
      const compareAtEntry = detal.find((candidate) => candidate.sku === entry.sku)!;
      expect(channelPrice(entry, promoRules, { at, compareAtEntry })).toMatchObject({ ok: true, price: { amount: entry.gross }, compareAt: { amount: compareAtEntry.gross }, applied: [] });
    }
  });

  it('a full read pages by product: every price exactly once, whole SKUs, stable product cursors', async () => {
    const { pages, entries, resume } = await readAll(erp, 'full', null, 70);
    expect(entries).toHaveLength(priceRowCount);
    expect(new Set(entries.map(entryKey)).size).toBe(priceRowCount);
    // limit counts products: 70 a page, whatever their entries.
    expect(pages.map((page) => new Set(page.entries.map((entry) => entry.sku)).size)).toEqual([70, 70, 70, 70, 20]);
    expect(pages.slice(0, -1).map((page) => page.nextCursor)).toEqual([70, 140, 210, 280].map((id) => ({ strategy: 'product', afterProductId: String(id) })));
    expect(resume).toEqual({ strategy: 'product', afterProductId: String(PRODUCT_COUNT) });
    // Products in key order, a product's entries in price id order (DETAL before PROMO here).
    expect(entries.map((entry) => entry.sku)).toEqual([...entries.map((entry) => entry.sku)].sort());
    expectWholeSkus(pages, entries, 'limit 70');
    // The same cursor gives the same page again.
    const again = await read(erp, { mode: 'full', cursor: pages[1]!.nextCursor, limit: 70 });
    expect(again).toEqual(pages[2]);
    // A cursor survives a JSON round trip (the hub stores it as it is).
    const stored: unknown = JSON.parse(JSON.stringify(pages[0]!.nextCursor));
    expect(await read(erp, { mode: 'full', cursor: stored, limit: 70 })).toEqual(pages[1]);
    // Whole SKUs at any page size, with or without a filter of price lists.
    for (const limit of [1, 2, 7, 24, 25, 26, 299, 300, 301]) {
      const all = await readAll(erp, 'full', null, limit);
      expect(all.entries).toEqual(entries);
      expectWholeSkus(all.pages, entries, `limit ${limit}`);
      expect(all.pages).toHaveLength(Math.floor(PRODUCT_COUNT / limit) + 1);
    }
  });

  it('a SKU with entries in several lists, far apart in price id order, comes whole in one page at every page size', async () => {
    // A prices table of its own: each product's DETAL, PROMO and HURT rows are hundreds of ids
    // apart, in another order than the products'; a product id that matches no product, and
    // rows without a product id, which come after every product.
    await sql`create table ceny_rozrzucone as select * from ceny where 1 = 0`.execute(erpDb);
    // MySQL's create … as select keeps the columns' NOT NULL; these rows need a nullable product id.
    if (driver === 'mysql') await sql`alter table ceny_rozrzucone modify towar_id integer null`.execute(erpDb);
    await sql`insert into cenniki (id, symbol, nazwa, waluta) values (4, 'HURT', 'Cennik hurtowy', 'PLN')`.execute(erpDb);
    const at = '2025-11-20 10:00:00';
    const rows: Array<[number, number | null, number, string]> = [];
    const products = [9, 3, 250, 1, 77, 120, 4, 60];
    products.forEach((product, i) => {
      rows.push([500 - i, product, 1, '10.00']);
      if (product % 3 !== 2) rows.push([900 + i * 40, product, 2, '8.00']);
      if (product % 2 === 1) rows.push([10 + i, product, 4, '7.00']);
    });
    rows.push([700, 999_999, 1, '10.00'], [701, null, 1, '10.00'], [20, null, 2, '10.00'], [3000, null, 4, '10.00']);
    for (const [id, product, list, net] of rows) {
      await sql`insert into ceny_rozrzucone (id, towar_id, cennik_id, netto, stawka_vat, zmodyfikowano) values (${id}, ${product}, ${list}, ${net}, 23, ${at})`.execute(erpDb);
    }
    const spread = connector(database, { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES, prices: { ...DEMO_ERP_PRICE_TABLES.prices, table: 'ceny_rozrzucone' } });
    try {
      for (const lists of [undefined, ['DETAL', 'PROMO'], ['PROMO'], ['HURT', 'PROMO']]) {
        const wanted = (list: number) => lists === undefined || lists.includes(['DETAL', 'PROMO', 'HURT'][list === 4 ? 2 : list - 1]!);
        const expectedRows = rows.filter(([, , list]) => wanted(list));
        const whole = await readAll(spread, 'full', null, 1_000, lists);
        const withProduct = [...new Set(expectedRows.filter(([, product]) => product !== null && product !== 999_999).map(([, product]) => product!))].sort((a, b) => a - b);
        expect(whole.entries.map((entry) => entry.sku), JSON.stringify(lists)).toEqual(
          withProduct.flatMap((product) => expectedRows.filter(([, p]) => p === product).map(() => skuOf(product))),
        );
        const rejectedKeys = expectedRows.filter(([, product]) => product === null || product === 999_999).map(([id]) => `ceny_rozrzucone#${id}`);
        expect(whole.rejected.map((r) => r.recordKey).sort()).toEqual(rejectedKeys.sort());
        const productCount = withProduct.length + (expectedRows.some(([, product]) => product === 999_999) ? 1 : 0);
        for (let limit = 1; limit <= productCount + 1; limit++) {
          const paged = await readAll(spread, 'full', null, limit, lists);
          const context = `lists ${JSON.stringify(lists)}, limit ${limit}`;
          expect(paged.entries, context).toEqual(whole.entries);
          expect(paged.rejected.map((r) => r.recordKey).sort(), context).toEqual(rejectedKeys.sort());
          expectWholeSkus(paged.pages, whole.entries, context);
          for (const page of paged.pages) {
            const covered = new Set([...page.entries.map((entry) => entry.sku), ...page.rejected.filter((r) => r.subject !== '').map((r) => r.subject)]);
            expect(covered.size, context).toBeLessThanOrEqual(limit);
          }
        }
      }
      // Rows without a product id page by price id after the products, `limit` rows a page.
      const first = await read(spread, { mode: 'full', cursor: null, limit: 100 });
      expect(first.nextCursor).toBeNull();
      expect(first.resumeCursor).toEqual({ strategy: 'without-product', afterKey: '3000' });
      const tail = await read(spread, { mode: 'full', cursor: { strategy: 'product', afterProductId: '999999' }, limit: 2 });
      expect(tail.rejected.map((r) => r.recordKey)).toEqual(['ceny_rozrzucone#20', 'ceny_rozrzucone#701']);
      expect(tail.nextCursor).toEqual({ strategy: 'without-product', afterKey: '701' });
      const last = await read(spread, { mode: 'full', cursor: tail.nextCursor, limit: 2 });
      expect(last.rejected.map((r) => ({ recordKey: r.recordKey, reason: r.reason }))).toEqual([
        { recordKey: 'ceny_rozrzucone#3000', reason: 'towar_id is empty (NULL) in ceny_rozrzucone row 3000' },
      ]);
      expect(last.nextCursor).toBeNull();
      expect(await read(spread, { mode: 'full', cursor: last.resumeCursor, limit: 2 })).toEqual({ entries: [], rejected: [], nextCursor: null, resumeCursor: null });
    } finally {
      await spread.close();
    }
  });

  it('filters by price list code', async () => {
    const promo = await readAll(erp, 'full', null, 4, [' PROMO ']);
    expect(promo.entries).toHaveLength(DEMO_PROMOTION_PRODUCTS);
    expect(promo.entries.every((entry) => entry.priceList === 'PROMO')).toBe(true);
    // Pages of 4 products that have PROMO prices: products without them take no room.
    expect(promo.pages.map((page) => page.entries.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    const both = await readAll(erp, 'full', null, 1_000, ['DETAL', 'PROMO']);
    expect(both.entries).toHaveLength(priceRowCount);
    expect((await readAll(erp, 'full', null, 1_000, ['HURT'])).entries).toEqual([]);
    expect(await read(erp, { mode: 'full', cursor: null, limit: 10, priceLists: [] })).toEqual({ entries: [], rejected: [], nextCursor: null, resumeCursor: null });
    const deltaPromo = await readAll(erp, 'delta', null, 1_000, ['PROMO']);
    expect(deltaPromo.entries.map(entryKey).sort()).toEqual(promo.entries.map(entryKey).sort());
  });

  it('a delta read after changing a few prices returns exactly them, with exact decimals, and resumes', async () => {
    const initial = await readAll(erp, 'delta', null, 100);
    expect(initial.entries).toHaveLength(priceRowCount);
    const changedAt = new Date(SEEDED_AT.getTime() + DAY_MS).toISOString();
    const storedAt = demoErpTime(driver, changedAt);
    await sql`update ceny set brutto = '19.99', netto = null, zmodyfikowano = ${storedAt} where id = 5`.execute(erpDb);
    await sql`update ceny set brutto = '1234567.89', netto = '1003713.73', koszt = '0.10', zmodyfikowano = ${storedAt} where id = 42`.execute(erpDb);
    // 0.1 + 0.2 computed by the database: a double on SQLite (0.30000000000000004), exact on PostgreSQL.
    await sql`update ceny set netto = 0.1 + 0.2, brutto = null, stawka_vat = 8, zmodyfikowano = ${storedAt} where id = 77`.execute(erpDb);

    const first = await read(erp, { mode: 'delta', cursor: initial.resume, limit: 2 });
    expect(first.entries).toHaveLength(2);
    expect(first.nextCursor).toEqual({ strategy: 'modified', afterModifiedAt: changedAt, afterKey: '42' });
    const second = await read(erp, { mode: 'delta', cursor: first.nextCursor, limit: 2 });
    expect(second.nextCursor).toBeNull();
    expect(second.resumeCursor).toEqual({ strategy: 'modified', afterModifiedAt: changedAt, afterKey: '77' });
    const changed = [...first.entries, ...second.entries];
    expect(changed.map((entry) => ({ sku: entry.sku, net: entry.net, gross: entry.gross, cost: entry.cost, vatRate: entry.vatRate }))).toEqual([
      { sku: 'PL-000005', net: undefined, gross: '19.99', cost: changed[0]!.cost, vatRate: changed[0]!.vatRate },
      { sku: 'PL-000042', net: '1003713.73', gross: '1234567.89', cost: '0.10', vatRate: changed[1]!.vatRate },
      { sku: 'PL-000077', net: '0.30', gross: undefined, cost: changed[2]!.cost, vatRate: '8' },
    ]);
    const rows = (await sql<{ id: number; towar_id: number }>`select id, towar_id from ceny where id in (5, 42, 77) order by id`.execute(erpDb)).rows;
    expect(changed.map((entry) => entry.sku)).toEqual(rows.map((row) => `PL-${String(row.towar_id).padStart(6, '0')}`));

    // Resuming after the last page finds nothing new.
    expect(await read(erp, { mode: 'delta', cursor: second.resumeCursor, limit: 2 })).toEqual({ entries: [], rejected: [], nextCursor: null, resumeCursor: null });
  });

  it('rejects every kind of bad row with its reason, and the rest of the page goes on', async () => {
    // A legacy table with amounts kept as text; on PostgreSQL its times are timestamps (a text
    // column that is no time fails the query as a whole, as for stock), on SQLite text.
    const time = driver === 'postgres' ? sql`timestamp` : sql`text`;
    await sql`create table ceny_zle (id integer primary key, towar_id integer, cennik_id integer, netto text, brutto text, stawka_vat text, koszt text, data_od ${time}, data_do ${time}, zmodyfikowano ${time})`.execute(erpDb);
    await sql`insert into cenniki (id, symbol, nazwa, waluta) values (3, 'ZLY', 'Cennik z błędną walutą', 'zł')`.execute(erpDb);
    const at = '2025-11-20 10:00:00';
    const rows: Array<[number, number | null, number | null, string | null, string | null, string | null, string | null, string | null, string | null, string | null]> = [
      [1, 1, 1, ' 10.00 ', '12.3', '23', '7.5', null, null, at],
      [2, 2, 1, 'abc', '12.30', '23', null, null, null, at],
      [3, 3, 1, null, null, '23', null, null, null, at],
      [4, 4, 1, '10.00', null, '-23', null, null, null, at],
      [5, 999_999, 1, '10.00', null, '23', null, null, null, at],
      [6, 6, 99, '10.00', null, '23', null, null, null, at],
      [7, 7, 1, null, '-1.00', '23', null, null, null, at],
      [8, 8, 1, '10.00', null, null, null, null, null, at],
      [9, 9, 1, '10.00', null, '23', 'x', null, null, at],
      [10, 10, 1, '10.00', null, '8', null, '2025-02-01 00:00:00', '2025-01-01 00:00:00', at],
      [11, 11, 1, '10.00', null, '23', null, null, null, null],
      [12, 12, 3, '10.00', null, '23', null, null, null, at],
      [13, 13, 2, '0.1', null, '5.5', '0', '2025-11-24 00:00:00', '2025-12-15 00:00:00', at],
      [14, 14, 1, '1,50', null, '23', null, null, null, at],
      [16, null, 1, '10.00', null, '23', null, null, null, at],
      [17, 17, null, '10.00', null, '23', null, null, null, at],
    ];
    for (const row of rows) await sql`insert into ceny_zle values (${sql.join(row)})`.execute(erpDb);
    if (driver === 'sqlite') await sql`insert into ceny_zle values (15, 15, 1, '10.00', null, '23', null, 'wczoraj', null, ${at})`.execute(erpDb);
    const zle = connector(database, { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES, prices: { ...DEMO_ERP_PRICE_TABLES.prices, table: 'ceny_zle' } });
    try {
      const { entries, rejected } = await readAll(zle, 'full', null, 5);
      expect(entries).toEqual([
        { sku: 'PL-000001', priceList: 'DETAL', currency: 'PLN', net: '10.00', gross: '12.30', vatRate: '23', cost: '7.50' },
        {
          sku: 'PL-000013', priceList: 'PROMO', currency: 'PLN', net: '0.10', vatRate: '5.5', cost: '0.00',
          validFrom: '2025-11-24T00:00:00.000Z', validTo: '2025-12-15T00:00:00.000Z',
        },
      ]);
      // In product order (the page's products, then their rows); rows without a product id last.
      const expected = [
        [2, 'PL-000002', 'netto is not a number ("abc") in ceny_zle row 2'],
        [3, 'PL-000003', 'neither netto nor brutto is set in ceny_zle row 3'],
        [4, 'PL-000004', 'stawka_vat is negative (-23) in ceny_zle row 4'],
        [6, 'PL-000006', 'cennik_id 99 matches no row in cenniki in ceny_zle row 6'],
        [7, 'PL-000007', 'brutto is negative (-1.00) in ceny_zle row 7'],
        [8, 'PL-000008', 'stawka_vat is empty (NULL) in ceny_zle row 8'],
        [9, 'PL-000009', 'koszt is not a number ("x") in ceny_zle row 9'],
        [10, 'PL-000010', 'data_do (2025-01-01T00:00:00.000Z) is not after data_od (2025-02-01T00:00:00.000Z) in ceny_zle row 10'],
        [11, 'PL-000011', 'zmodyfikowano is empty (NULL) in ceny_zle row 11'],
        [12, 'PL-000012', `the price list's waluta is not an ISO 4217 code such as "PLN" ("zł") in ceny_zle row 12`],
        [14, 'PL-000014', 'netto is not a number ("1,50") in ceny_zle row 14'],
        ...(driver === 'sqlite' ? [[15, 'PL-000015', 'data_od is not a date and time ("wczoraj") in ceny_zle row 15']] : []),
        [17, 'PL-000017', 'cennik_id is empty (NULL) in ceny_zle row 17'],
        [5, '', 'towar_id 999999 matches no row in towary in ceny_zle row 5'],
        [16, '', 'towar_id is empty (NULL) in ceny_zle row 16'],
      ] as const;
      expect(rejected.map((r) => ({ recordKey: r.recordKey, subject: r.subject, reason: r.reason, category: r.category }))).toEqual(
        expected.map(([id, subject, reason]) => ({ recordKey: `ceny_zle#${id}`, subject, reason, category: QUARANTINE_CATEGORY.invalidSourceRow })),
      );
      expect(rejected[0]!.payload).toMatchObject({ 'ceny_zle.id': 2, 'ceny_zle.netto': 'abc', 'towary.indeks': 'PL-000002', 'cenniki.symbol': 'DETAL' });
    } finally {
      await zle.close();
    }
  });

  it('names the config key of a price table or column the database does not have', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prices: { ...DEMO_ERP_PRICE_TABLES.prices, net: 'netto2' } }, 'erp-sql: table "ceny" has no column "netto2" (configured at tables.prices.net)'],
      [{ prices: { ...DEMO_ERP_PRICE_TABLES.prices, table: 'ceny2' } }, 'erp-sql: table "ceny2" does not exist (configured at tables.prices.table)'],
      [{ priceLists: { ...DEMO_ERP_PRICE_TABLES.priceLists, currency: 'waluta2' } }, 'erp-sql: table "cenniki" has no column "waluta2" (configured at tables.priceLists.currency)'],
    ];
    for (const [tables, message] of cases) {
      const wrong = connector(database, { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES, ...tables });
      try {
        await expect(read(wrong, { mode: 'full', cursor: null, limit: 10 })).rejects.toMatchObject({ kind: 'config', message });
        await expect(read(wrong, { mode: 'delta', cursor: null, limit: 10 })).rejects.toMatchObject({ kind: 'config', message });
      } finally {
        await wrong.close();
      }
    }
  });

  it.runIf(driver === 'postgres')('names the price time columns when a text column there holds something that is no time', async () => {
    await sql`create table ceny_czas as select * from ceny where id <= 3`.execute(erpDb);
    await sql`alter table ceny_czas alter column data_od type text`.execute(erpDb);
    await sql`update ceny_czas set data_od = 'wczoraj' where id = 2`.execute(erpDb);
    const wrong = connector(database, { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES, prices: { ...DEMO_ERP_PRICE_TABLES.prices, table: 'ceny_czas' } });
    try {
      await expect(read(wrong, { mode: 'full', cursor: null, limit: 10 })).rejects.toMatchObject({
        kind: 'config',
        message: expect.stringMatching(
          /^erp-sql: column "ceny_czas.zmodyfikowano" \(configured at tables.prices.modifiedAt\) or column "ceny_czas.data_od" \(configured at tables.prices.validFrom\) or column "ceny_czas.data_do" \(configured at tables.prices.validTo\) holds values that are not times, such as "wczoraj"; expected a timestamp, timestamptz or date column/,
        ) as unknown,
      });
    } finally {
      await wrong.close();
    }
  });

  it('refuses a cursor it cannot have written, with a config error', async () => {
    const cases: Array<[StockReadMode, unknown, string]> = [
      ['full', 'garbage', 'erp-sql: the price cursor "garbage" is not one this connector writes'],
      ['full', { strategy: 'product' }, 'at afterProductId'],
      ['full', { strategy: 'product', afterProductId: 5 }, 'at afterProductId'],
      ['full', { strategy: 'product', afterProductId: '5', extra: 1 }, 'erp-sql: the price cursor {"strategy":"product","afterProductId":"5","extra":1} is not one this connector writes'],
      ['full', { strategy: 'without-product' }, 'at afterKey'],
      ['full', { strategy: 'key', afterKey: '5', extra: 1 }, 'erp-sql: the price cursor {"strategy":"key","afterKey":"5","extra":1} is not one this connector writes'],
      // The price-id cursor of earlier versions: refused, with what to do.
      [
        'full',
        { strategy: 'key', afterKey: '70' },
        'erp-sql: the price cursor {"strategy":"key","afterKey":"70"} pages price rows by price id, as earlier versions of this connector wrote it; ' +
          'full price reads now page by product: start the full read again (without a cursor)',
      ],
      ['delta', { strategy: 'modified', afterModifiedAt: 'yesterday', afterKey: '1' }, 'expected an ISO-8601 UTC time such as "2025-06-01T12:00:00.000Z" at afterModifiedAt'],
      ['full', { strategy: 'modified', afterModifiedAt: '2025-06-01T00:00:00.000Z', afterKey: '1' }, 'erp-sql: a full price read resumes from a "product" cursor, got a "modified" cursor'],
      ['delta', { strategy: 'key', afterKey: '1' }, 'erp-sql: a delta price read resumes from a "modified" cursor, got a "key" cursor'],
      ['delta', { strategy: 'product', afterProductId: '1' }, 'erp-sql: a delta price read resumes from a "modified" cursor, got a "product" cursor'],
      ['delta', { strategy: 'without-product', afterKey: '1' }, 'erp-sql: a delta price read resumes from a "modified" cursor, got a "without-product" cursor'],
    ];
    for (const [mode, cursor, message] of cases) {
      const failure = await read(erp, { mode, cursor, limit: 10 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure, JSON.stringify(cursor)).toMatchObject({ kind: 'config', retryable: false });
      expect((failure as Error).message).toContain(message);
    }
  });

  it('without tables.prices the kind still offers price.read, and a read fails with a config error naming tables.prices', async () => {
    expect(erpSqlManifest.capabilities).toContain('price.read');
    const stockOnly = connector(database, { ...DEMO_ERP_TABLES });
    try {
      await expect(read(stockOnly, { mode: 'full', cursor: null, limit: 10 })).rejects.toMatchObject({
        kind: 'config',
        retryable: false,
        message: 'erp-sql: reading prices needs tables.prices (and tables.priceLists) in the connector config: the ERP tables of prices and price lists are not configured',
      });
      // Stock reads as before.
      const stock = await stockOnly.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 5 });
      expect(stock.skus).toHaveLength(5);
    } finally {
      await stockOnly.close();
    }
  });

  it('rejects the prices of a SKU held by several product rows as duplicates (runs last: it adds a product)', async () => {
    // MySQL's unique index ignores trailing blanks (its collation): an ERP without one can hold this row.
    if (driver === 'mysql') await sql`alter table towary drop index indeks`.execute(erpDb);
    await sql`insert into towary (id, indeks, nazwa) values (1001, 'PL-000005 ', 'Duplikat ze spacją')`.execute(erpDb);
    await sql`insert into ceny (id, towar_id, cennik_id, brutto, stawka_vat, zmodyfikowano) values (10001, 1001, 1, '20.00', 23, ${'2025-11-20 10:00:00'})`.execute(erpDb);
    const { entries, rejected } = await readAll(erp, 'full', null, 1_000);
    expect(entries.filter((entry) => entry.sku === 'PL-000005')).toEqual([]);
    expect(entries).toHaveLength(priceRowCount - 1);
    const reason = 'SKU "PL-000005" is held by 2 rows of towary (ignoring surrounding blanks): id 5 (indeks "PL-000005"), id 1001 (indeks "PL-000005 "); nothing is pushed for it until one row remains';
    expect(rejected.map((r) => ({ recordKey: r.recordKey, reason: r.reason, category: r.category, subject: r.subject }))).toEqual([
      { recordKey: 'towary#5', reason, category: QUARANTINE_CATEGORY.duplicateKey, subject: 'PL-000005' },
      { recordKey: 'towary#1001', reason, category: QUARANTINE_CATEGORY.duplicateKey, subject: 'PL-000005' },
    ]);
    // A delta page with only the new row rejects the row it covers.
    const delta = await read(erp, { mode: 'delta', cursor: { strategy: 'modified', afterModifiedAt: '2025-11-20T09:00:00.000Z', afterKey: '0' }, limit: 1_000 });
    expect(delta.entries.some((entry) => entry.sku === 'PL-000005')).toBe(false);
    expect(delta.rejected.filter((r) => r.category === QUARANTINE_CATEGORY.duplicateKey).map((r) => r.recordKey)).toContain('towary#1001');
  });

  it('seeding an ERP created before the price tables adds them, with the prices a new ERP gets, and keeps the stock', async () => {
    const upgraded = await demoErp.createDatabase('erp_upgraded');
    const db = openErpDatabase(ErpDatabaseConfig.parse(upgraded), { baseDir: '/', readOnly: false });
    try {
      const dump = async (table: string) => (await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by id`.execute(db)).rows;
      await seedDemoErp(db, { productCount: 50, now: SEEDED_AT });
      const [freshPrices, freshLists, stock] = [await dump('ceny'), await dump('cenniki'), await dump('stany')];
      expect(freshPrices.length).toBeGreaterThan(50);
      // An ERP as seeded before prices existed.
      await db.schema.dropTable('ceny').execute();
      await db.schema.dropTable('cenniki').execute();

      await seedDemoErp(db, { productCount: 50, now: SEEDED_AT });
      expect(await dump('ceny')).toEqual(freshPrices);
      expect(await dump('cenniki')).toEqual(freshLists);
      expect(await dump('stany')).toEqual(stock);
      // Seeding again keeps everything as it is.
      await seedDemoErp(db, { productCount: 50, now: SEEDED_AT });
      expect(await dump('ceny')).toEqual(freshPrices);

      const reader = connector(upgraded);
      try {
        const { entries, rejected } = await readAll(reader, 'full', null, 1_000);
        expect(rejected).toEqual([]);
        expect(entries).toHaveLength(freshPrices.length);
      } finally {
        await reader.close();
      }
    } finally {
      await db.destroy();
    }
  });
});

describe('erp-sql price tables config', () => {
  const database = { driver: 'sqlite', file: 'erp.sqlite' };

  it('is optional, and parses the demo blocks as given', () => {
    expect(ErpSqlConfig.parse({ database, tables: DEMO_ERP_TABLES }).tables).toEqual(DEMO_ERP_TABLES);
    expect(ErpSqlConfig.parse({ database, tables: { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES } }).tables).toEqual({ ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES });
  });

  it('says precisely what is wrong', () => {
    const problems = (tables: Record<string, unknown>) => {
      const result = ErpSqlConfig.safeParse({ database, tables: { ...DEMO_ERP_TABLES, ...tables } });
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    const { net: _net, gross: _gross, ...withoutAmounts } = DEMO_ERP_PRICE_TABLES.prices;
    expect(problems({ priceLists: DEMO_ERP_PRICE_TABLES.priceLists, prices: withoutAmounts })).toEqual([
      'tables.prices: tables.prices needs net or gross (or both): the column of the price without VAT (e.g. "netto") or with VAT (e.g. "brutto")',
    ]);
    expect(problems({ priceLists: DEMO_ERP_PRICE_TABLES.priceLists, prices: { ...withoutAmounts, gross: 'brutto' } })).toEqual([]);
    expect(problems({ prices: DEMO_ERP_PRICE_TABLES.prices })).toEqual([
      'tables.priceLists: tables.prices needs tables.priceLists: the table its price list ids refer to (e.g. "cenniki")',
    ]);
    expect(problems({ priceLists: DEMO_ERP_PRICE_TABLES.priceLists })).toEqual(['tables.prices: tables.priceLists is read only with tables.prices: configure both or neither']);
    expect(problems({ ...DEMO_ERP_PRICE_TABLES, prices: { ...DEMO_ERP_PRICE_TABLES.prices, discount: 'rabat' } })).toHaveLength(1);
    expect(problems({ ...DEMO_ERP_PRICE_TABLES, prices: { ...DEMO_ERP_PRICE_TABLES.prices, net: 'netto; drop table ceny' } })[0]).toMatch(/^tables\.prices\.net: expected a column name/);
  });
});

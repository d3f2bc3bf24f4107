/**
 * The erp-sql connector against the sandbox ERP on real databases: SQLite and PostgreSQL run
 * the same tests, because the connector promises the same behaviour on both.
 */
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance, StockCursor, StockReadMode } from '../../connectors/contract';
import { ErpDatabaseConfig, erpSqlManifest, ErpSqlConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { OmnisyncError } from '../../core/errors';
import { demoProducts } from '../../sandbox/demo-catalog';
import { DEMO_ERP_TABLES, demoErpTime, type DemoErpDatabase } from '../../sandbox/erp/schema';
import { seedDemoErp, simulateErpSales } from '../../sandbox/erp/seed';
import type { CrosswalkStore } from '../../state/store';
import { readAllStockPages } from '../support/stock-pages';
import { DEMO_ERP_TEST_DRIVERS, startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';

const PRODUCT_COUNT = 2_500;
/** Seeded stock was modified in the 30 days before this; sales happen after it. */
const SEEDED_AT = new Date('2025-06-01T00:00:00.000Z');
const ALL_SKUS = demoProducts(PRODUCT_COUNT).map((product) => product.sku);

const unusedCrosswalk: CrosswalkStore = {
  get: async () => new Map(),
  put: async () => undefined,
};

function connector(database: ErpDatabaseConfigInput, overrides: Record<string, unknown> = {}): ConnectorInstance {
  const config = ErpSqlConfig.parse({ database, tables: DEMO_ERP_TABLES, ...overrides });
  return erpSqlManifest.create('erp', config, { logger: pino({ level: 'silent' }), crosswalk: unusedCrosswalk, baseDir: '/' });
}

/** Reads pages until nextCursor is null (test/support/stock-pages.ts). */
const readAll = (erp: ConnectorInstance, mode: StockReadMode, start: StockCursor | null, limit: number) => readAllStockPages(erp, { mode, start, limit });

describe.each(DEMO_ERP_TEST_DRIVERS)('erp-sql connector on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  let database: ErpDatabaseConfigInput;
  /** A writable connection for the tests to change the ERP's data (the connector only reads). */
  let erpDb: DemoErpDatabase;
  let erp: ConnectorInstance;
  let stockRowCount: number;

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-test-', productCount: PRODUCT_COUNT, now: SEEDED_AT });
    ({ database, db: erpDb } = demoErp);
    const [count] = (await sql<{ n: number | string }>`select count(*) as n from stany`.execute(erpDb)).rows;
    stockRowCount = Number(count?.n);
    erp = connector(database);
  });

  afterAll(async () => {
    await erp?.close();
    await demoErp?.close();
  });

  it('seeding again keeps the data (idempotent), reset rebuilds it', async () => {
    await sql`update stany set ilosc = 999 where id = 1`.execute(erpDb);
    await seedDemoErp(database, { productCount: 10, now: SEEDED_AT });
    expect((await sql<{ ilosc: unknown }>`select ilosc from stany where id = 1`.execute(erpDb)).rows[0]?.ilosc).toEqual(driver === 'sqlite' ? 999 : '999.000');
    await seedDemoErp(database, { productCount: PRODUCT_COUNT, now: SEEDED_AT, reset: true });
    expect((await sql<{ ilosc: unknown }>`select ilosc from stany where id = 1`.execute(erpDb)).rows[0]?.ilosc).not.toEqual(driver === 'sqlite' ? 999 : '999.000');
  });

  it('check() reads every configured table and column', async () => {
    const result = await erp.check();
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/2,500 products in "towary", locations in "magazyny": MAG-WAW, MAG-ZW, SKLEP-KRK$/);
  });

  it('a full read pages through every product exactly once, in numeric id order', async () => {
    const { pages, resume } = await readAll(erp, 'full', null, 1_000);
    expect(pages.map((page) => page.skus.length)).toEqual([1_000, 1_000, 500]);
    // Keys compare as integers: "1000" follows "999" (as text, "1000" < "999").
    expect(pages.map((page) => page.nextCursor)).toEqual([{ strategy: 'key', afterKey: '1000' }, { strategy: 'key', afterKey: '2000' }, null]);
    expect(pages[1]!.skus[0]).toBe('PL-001001');
    expect(resume).toEqual({ strategy: 'key', afterKey: '2500' });

    const skus = pages.flatMap((page) => page.skus);
    expect(skus).toEqual(ALL_SKUS);
    const levels = pages.flatMap((page) => page.levels);
    expect(levels).toHaveLength(stockRowCount);
    expect(new Set(levels.map((level) => `${level.sku}|${level.location}`)).size).toBe(stockRowCount);
    // Each page holds all levels of its own SKUs.
    for (const page of pages) {
      const own = new Set(page.skus);
      expect(page.levels.every((level) => own.has(level.sku))).toBe(true);
      expect(page.rejected).toEqual([]);
    }
    expect(levels.every((level) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(level.at) && level.at < SEEDED_AT.toISOString())).toBe(true);
  });

  it('a full read resumes from a stored cursor (JSON round trip) with the same page', async () => {
    const first = await erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 700 });
    const stored = JSON.parse(JSON.stringify(first.nextCursor)) as StockCursor;
    const resumed = await erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: stored, limit: 700 });
    const direct = await erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: first.nextCursor, limit: 700 });
    expect(resumed).toEqual(direct);
    expect(resumed.skus[0]).toBe('PL-000701');
  });

  it('reads decimal quantities exactly (the stock mapping converts units and rounds)', async () => {
    await sql`update stany set ilosc = 12.5, zarezerwowano = 0.25 where towar_id = 7 and magazyn_id = 1`.execute(erpDb);
    const page = await erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: { strategy: 'key', afterKey: '6' }, limit: 1 });
    expect(page.skus).toEqual(['PL-000007']);
    expect(page.levels.find((level) => level.location === 'MAG-WAW')).toMatchObject({ sku: 'PL-000007', onHand: 12.5, reserved: 0.25 });
  });

  it('caps pages at the configured pageSize', async () => {
    const small = connector(database, { pageSize: 300 });
    try {
      const page = await small.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 1_000 });
      expect(page.skus).toHaveLength(300);
      expect(page.nextCursor).toEqual({ strategy: 'key', afterKey: '300' });
    } finally {
      await small.close();
    }
  });

  it('a delta read from the start reads every stock row once; after sales it returns exactly the sold SKUs with all their levels', async () => {
    const initial = await readAll(erp, 'delta', null, 1_000);
    const changedRows = initial.pages.reduce((sum, page) => sum + page.levels.length, 0);
    expect(changedRows).toBeGreaterThanOrEqual(stockRowCount); // pages repeat the sibling levels of each changed SKU
    expect(new Set(initial.pages.flatMap((page) => page.skus))).toEqual(new Set(ALL_SKUS));
    expect(initial.resume).toMatchObject({ strategy: 'modified' });

    const soldAt = new Date(SEEDED_AT.getTime() + 60_000);
    const sold = await simulateErpSales(database, { count: 7, now: soldAt });
    expect(sold.length).toBeGreaterThan(0);

    const delta = await readAll(erp, 'delta', initial.resume, 1_000);
    expect(delta.pages).toHaveLength(1);
    const page = delta.pages[0]!;
    expect([...page.skus].sort()).toEqual(sold);
    const [expectedLevels] = (
      await sql<{ n: number | string }>`select count(*) as n from stany join towary on towary.id = stany.towar_id where towary.indeks in (${sql.join(sold)})`.execute(erpDb)
    ).rows;
    expect(page.levels).toHaveLength(Number(expectedLevels?.n));
    expect(page.levels.some((level) => level.at === soldAt.toISOString())).toBe(true);
    expect(page.nextCursor).toBeNull();
    expect(page.resumeCursor).toMatchObject({ strategy: 'modified', afterModifiedAt: soldAt.toISOString() });

    // Caught up: the next run reads nothing and keeps its cursor.
    const after = await erp.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: page.resumeCursor, limit: 1_000 });
    expect(after).toEqual({ levels: [], skus: [], rejected: [], nextCursor: null, resumeCursor: null });
  });

  it('a delta read pages through a burst of rows with one timestamp without gaps or repeats', async () => {
    const burstAt = '2025-07-01T12:00:00.000Z';
    await sql`update stany set zmodyfikowano = ${demoErpTime(driver, burstAt)} where towar_id <= 1200`.execute(erpDb);
    const burstIds = (await sql<{ id: number }>`select id from stany where towar_id <= 1200 order by id`.execute(erpDb)).rows.map((row) => String(row.id));
    const limit = 250;

    const { pages, resume } = await readAll(erp, 'delta', { strategy: 'modified', afterModifiedAt: '2025-06-30T00:00:00.000Z', afterKey: '0' }, limit);
    // Within one timestamp rows go by id: each page ends exactly `limit` rows further.
    const expectedBoundaries = burstIds.filter((_, index) => (index + 1) % limit === 0 && index + 1 < burstIds.length);
    expect(pages.slice(0, -1).map((page) => page.nextCursor)).toEqual(expectedBoundaries.map((afterKey) => ({ strategy: 'modified', afterModifiedAt: burstAt, afterKey })));
    expect(pages).toHaveLength(Math.ceil(burstIds.length / limit));
    expect(resume).toEqual({ strategy: 'modified', afterModifiedAt: burstAt, afterKey: burstIds.at(-1) });
    expect(new Set(pages.flatMap((page) => page.skus))).toEqual(new Set(ALL_SKUS.slice(0, 1_200)));
  });

  it('compares modification times as times, whatever their stored form', async () => {
    // Rows 1 and 2: SQLite text without "T"/"Z"/fraction; PostgreSQL microseconds within one millisecond.
    const [first, second] = driver === 'sqlite' ? ['2031-01-01 10:00:00', '2031-01-01T09:00:00.500Z'] : ['2031-01-01 10:00:00.123456', '2031-01-01 10:00:00.123789'];
    await sql`update stany set zmodyfikowano = ${first} where id = 1`.execute(erpDb);
    await sql`update stany set zmodyfikowano = ${second} where id = 2`.execute(erpDb);

    const from: StockCursor = { strategy: 'modified', afterModifiedAt: '2031-01-01T09:30:00.000Z', afterKey: '0' };
    if (driver === 'sqlite') {
      const page = await erp.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: from, limit: 10 });
      expect(page.resumeCursor).toEqual({ strategy: 'modified', afterModifiedAt: '2031-01-01T10:00:00.000Z', afterKey: '1' });
      expect(page.levels.find((level) => level.location === 'MAG-WAW' && level.sku === 'PL-000001')?.at).toBe('2031-01-01T10:00:00.000Z');
    } else {
      // One row per page inside the same millisecond: the cursor keeps microseconds, so each row comes once.
      const earlier: StockCursor = { strategy: 'modified', afterModifiedAt: '2031-01-01T09:00:00.000Z', afterKey: '0' };
      const one = await erp.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: earlier, limit: 1 });
      expect(one.nextCursor).toEqual({ strategy: 'modified', afterModifiedAt: '2031-01-01T10:00:00.123456Z', afterKey: '1' });
      const two = await erp.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: one.nextCursor, limit: 1 });
      expect(two.nextCursor).toEqual({ strategy: 'modified', afterModifiedAt: '2031-01-01T10:00:00.123789Z', afterKey: '2' });
      const three = await erp.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: two.nextCursor, limit: 1 });
      expect(three.skus).toEqual([]);
      expect(one.levels.find((level) => level.sku === 'PL-000001' && level.location === 'MAG-WAW')?.at).toBe('2031-01-01T10:00:00.123Z');
    }
  });

  it('turns bad rows into rejections and still returns the rest of the page', async () => {
    await sql`update stany set zarezerwowano = -2 where towar_id = 11 and magazyn_id = 1`.execute(erpDb);
    await sql`update stany set ilosc = null where towar_id = 12 and magazyn_id = 1`.execute(erpDb);
    if (driver === 'sqlite') {
      // SQLite stores what it is given: text in a numeric column, and (with references not
      // enforced, as in many legacy databases) a row pointing at no warehouse.
      await sql`update stany set ilosc = 'abc' where towar_id = 13 and magazyn_id = 1`.execute(erpDb);
      // An integer beyond 2^53: the driver reads it exactly (as a bigint) instead of failing the page.
      await sql`update stany set ilosc = 9007199254740993 where towar_id = 16 and magazyn_id = 1`.execute(erpDb);
      await sql`pragma foreign_keys = off`.execute(erpDb);
      await sql`insert into stany (id, towar_id, magazyn_id, ilosc, zarezerwowano, zmodyfikowano) values (900001, 14, 99, 5, 0, '2025-05-30T00:00:00.000Z')`.execute(erpDb);
    }
    const page = await erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: { strategy: 'key', afterKey: '10' }, limit: 10 });
    const expected = [
      { recordKey: 'PL-000011|MAG-WAW', reason: expect.stringMatching(/^zarezerwowano is negative \(-2(\.000)?\) in stany row \d+$/) },
      { recordKey: 'PL-000012|MAG-WAW', reason: expect.stringMatching(/^ilosc is empty \(NULL\) in stany row \d+$/) },
      ...(driver === 'sqlite'
        ? [
            { recordKey: 'PL-000013|MAG-WAW', reason: expect.stringMatching(/^ilosc is not a number \("abc"\) in stany row \d+$/) },
            { recordKey: 'stany#900001', reason: 'magazyn_id 99 matches no row in magazyny in stany row 900001' },
            { recordKey: 'PL-000016|MAG-WAW', reason: expect.stringMatching(/^ilosc is out of range \(9007199254740993\) in stany row \d+$/) },
          ]
        : []),
    ];
    expect(page.rejected).toEqual(expected.map((rejection) => expect.objectContaining(rejection)));
    expect(page.rejected[0]!.payload).toMatchObject({ 'towary.indeks': 'PL-000011', 'magazyny.symbol': 'MAG-WAW' });
    // The rest of the page is intact; SKUs with a bad row are left out whole (a partial sum
    // would understate their availability), so the channels keep their last quantity.
    const incomplete = driver === 'sqlite' ? ['PL-000011', 'PL-000012', 'PL-000013', 'PL-000014', 'PL-000016'] : ['PL-000011', 'PL-000012'];
    expect(page.skus).toEqual(ALL_SKUS.slice(10, 20).filter((sku) => !incomplete.includes(sku)));
    expect(page.levels.filter((level) => incomplete.includes(level.sku))).toEqual([]);
    expect(page.levels.filter((level) => level.sku === 'PL-000015' && level.location === 'MAG-WAW')).toHaveLength(1);
  });

  it('check() and reads name the config entry of a missing column or table', async () => {
    const wrongColumn = connector(database, { tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, onHand: 'ilosc2' } } });
    const wrongTable = connector(database, { tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, table: 'stany2' } } });
    const wrongProductColumn = connector(database, { tables: { ...DEMO_ERP_TABLES, products: { ...DEMO_ERP_TABLES.products, ean: 'ean13' } } });
    try {
      await expect(wrongColumn.check()).rejects.toMatchObject({ kind: 'config', message: 'erp-sql: table "stany" has no column "ilosc2" (configured at tables.stock.onHand)' });
      await expect(wrongColumn.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 10 })).rejects.toThrow(
        'erp-sql: table "stany" has no column "ilosc2" (configured at tables.stock.onHand)',
      );
      await expect(wrongTable.check()).rejects.toMatchObject({ kind: 'config', message: 'erp-sql: table "stany2" does not exist (configured at tables.stock.table)' });
      await expect(wrongProductColumn.check()).rejects.toMatchObject({ kind: 'config', message: 'erp-sql: table "towary" has no column "ean13" (configured at tables.products.ean)' });
    } finally {
      await Promise.all([wrongColumn.close(), wrongTable.close(), wrongProductColumn.close()]);
    }
  });

  it('never writes to the ERP', async () => {
    const reader = openErpDatabase(ErpDatabaseConfig.parse(database), { baseDir: '/', readOnly: true });
    try {
      await expect(sql`update stany set ilosc = 0 where id = 1`.execute(reader)).rejects.toThrow(/readonly|read-only|read only/i);
    } finally {
      await reader.destroy();
    }
  });

  /**
   * A stock table beside the demo's, with the demo's columns in the given types (the time column
   * is the driver's own unless given), holding the given rows; returns a connector reading it.
   */
  async function stockTableOf(name: string, types: { towar_id?: string; ilosc?: string; zarezerwowano?: string; zmodyfikowano?: string }, rows: unknown[][]) {
    await sql`drop table if exists ${sql.table(name)}`.execute(erpDb);
    const type = (column: keyof typeof types, fallback: string) => sql.raw(types[column] ?? fallback);
    await sql`create table ${sql.table(name)} (
      id integer primary key, towar_id ${type('towar_id', 'integer')}, magazyn_id integer, ilosc ${type('ilosc', 'numeric(12, 3)')},
      zarezerwowano ${type('zarezerwowano', 'numeric(12, 3)')}, zmodyfikowano ${type('zmodyfikowano', { sqlite: 'text', postgres: 'timestamp', mysql: 'datetime(6)' }[driver])})`.execute(erpDb);
    for (const row of rows) {
      await sql`insert into ${sql.table(name)} (id, towar_id, magazyn_id, ilosc, zarezerwowano, zmodyfikowano) values (${sql.join(row)})`.execute(erpDb);
    }
    return connector(database, { tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, table: name } } });
  }

  it('check() names a quantity column that holds text that is not a number', async () => {
    const erpWithText = await stockTableOf('stany_tekst', { ilosc: 'text' }, [
      [1, 1, 1, '5', 0, '2025-05-01 10:00:00'],
      [2, 2, 1, ' 7.5 ', 0, '2025-05-01 10:00:00'],
      [3, 3, 1, 'abc', 0, '2025-05-01 10:00:00'],
    ]);
    try {
      const failure = erpWithText.check();
      await expect(failure).rejects.toBeInstanceOf(OmnisyncError);
      await expect(failure).rejects.toMatchObject({
        kind: 'config',
        retryable: false,
        message: 'erp-sql: column "stany_tekst.ilosc" (configured at tables.stock.onHand) holds text values such as "abc"; expected numbers',
      });
      // Text holding decimal numbers is read like numbers: without "abc" the check passes.
      await sql`update stany_tekst set ilosc = '4' where id = 3`.execute(erpDb);
      await expect(erpWithText.check()).resolves.toMatchObject({ ok: true });
    } finally {
      await erpWithText.close();
    }
  });

  it('check() names a quantity column of a type that is not a number', async () => {
    const erpWithFlags =
      driver === 'postgres'
        ? await stockTableOf('stany_flagi', { zarezerwowano: 'boolean' }, [[1, 1, 1, 5, false, '2025-05-01 10:00:00']])
        : await stockTableOf('stany_flagi', { zarezerwowano: 'blob' }, [[1, 1, 1, 5, Buffer.from([1, 2]), '2025-05-01 10:00:00']]);
    try {
      await expect(erpWithFlags.check()).rejects.toMatchObject({
        kind: 'config',
        message:
          driver === 'postgres'
            ? 'erp-sql: column "stany_flagi.zarezerwowano" (configured at tables.stock.reserved) is of type boolean; expected numbers (a numeric, integer or floating-point column)'
            : driver === 'mysql'
            ? 'erp-sql: column "stany_flagi.zarezerwowano" (configured at tables.stock.reserved) is of type blob; expected numbers (a numeric, integer or floating-point column)'
            : `erp-sql: column "stany_flagi.zarezerwowano" (configured at tables.stock.reserved) holds blob values such as x'0102'; expected numbers`,
      });
    } finally {
      await erpWithFlags.close();
    }
  });

  it('check() names a modification time column that does not hold times; reads fail at once naming it', async () => {
    const erpWithText = await stockTableOf('stany_czas', { zmodyfikowano: 'text' }, [
      [1, 1, 1, 5, 0, '2025-05-01 10:00:00'],
      [2, 2, 1, 5, 0, 'wczoraj'],
    ]);
    try {
      if (driver === 'sqlite') {
        await expect(erpWithText.check()).rejects.toMatchObject({
          kind: 'config',
          message: 'erp-sql: column "stany_czas.zmodyfikowano" (configured at tables.stock.modifiedAt) holds text that is not a time, such as "wczoraj"; expected ISO-8601 times in UTC (e.g. "2025-06-01 12:00:00")',
        });
        // A number is a Julian day to SQLite's date functions, not a time the ERP wrote; a
        // "datetime" column (numeric affinity) keeps it a number.
        await sql`update stany_czas set zmodyfikowano = '12' where id = 2`.execute(erpDb);
        await expect(erpWithText.check()).rejects.toMatchObject({
          message: 'erp-sql: column "stany_czas.zmodyfikowano" (configured at tables.stock.modifiedAt) holds text that is not a time, such as "12"; expected ISO-8601 times in UTC (e.g. "2025-06-01 12:00:00")',
        });
        const erpWithNumbers = await stockTableOf('stany_czas_liczby', { zmodyfikowano: 'datetime' }, [
          [1, 1, 1, 5, 0, '2025-05-01 10:00:00'],
          [2, 2, 1, 5, 0, 2460800.5],
        ]);
        try {
          await expect(erpWithNumbers.check()).rejects.toMatchObject({
            kind: 'config',
            message: 'erp-sql: column "stany_czas_liczby.zmodyfikowano" (configured at tables.stock.modifiedAt) holds real values such as 2460800.5; expected ISO-8601 times in UTC as text (e.g. "2025-06-01 12:00:00")',
          });
        } finally {
          await erpWithNumbers.close();
        }
      } else if (driver === 'mysql') {
        // MySQL's date functions turn text that is no time into NULL (a row the reads reject): the check names the column.
        await expect(erpWithText.check()).rejects.toMatchObject({
          kind: 'config',
          message: 'erp-sql: column "stany_czas.zmodyfikowano" (configured at tables.stock.modifiedAt) is of type text; expected times (a datetime, timestamp or date column)',
        });
      } else {
        const label = 'column "stany_czas.zmodyfikowano" (configured at tables.stock.modifiedAt)';
        await expect(erpWithText.check()).rejects.toMatchObject({ kind: 'config', message: `erp-sql: ${label} is of type text; expected times (a timestamp, timestamptz or date column)` });
        // Delta reads compare the column with times: text fails on its first unparsable value,
        // and with a cursor on the comparison itself. Neither is retried.
        await expect(erpWithText.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: null, limit: 10 })).rejects.toMatchObject({
          kind: 'config',
          retryable: false,
          message: `erp-sql: ${label} holds values that are not times, such as "wczoraj"; expected a timestamp, timestamptz or date column (22007: invalid input syntax for type timestamp with time zone: "wczoraj")`,
        });
        const cursor: StockCursor = { strategy: 'modified', afterModifiedAt: '2025-01-01T00:00:00.000Z', afterKey: '0' };
        await expect(erpWithText.operations['stock.read']!.readStockPage({ mode: 'delta', cursor, limit: 10 })).rejects.toMatchObject({
          kind: 'config',
          retryable: false,
          message: `erp-sql: ${label} is not a time column; expected a timestamp, timestamptz or date column (42883: operator does not exist: text >= timestamp with time zone)`,
        });
      }
    } finally {
      await erpWithText.close();
    }
  });

  it('check() names a reference column that cannot be compared with the id it references; reads fail at once naming both', async () => {
    const erpWithCodes = await stockTableOf('stany_klucze', { towar_id: 'text' }, [[1, 'PL-000001', 1, 5, 0, '2025-05-01 10:00:00']]);
    const reference = 'column "stany_klucze.towar_id" (configured at tables.stock.productId)';
    const id = 'column "towary.id" (configured at tables.products.id)';
    try {
      if (driver === 'sqlite') {
        // SQLite compares text with an integer column as a number when it looks like one: only
        // values that match nothing show that the columns do not fit.
        await expect(erpWithCodes.check()).rejects.toMatchObject({
          kind: 'config',
          message: `erp-sql: no row of "stany_klucze" finds its row of "towary": no value of ${reference} equals a value of ${id}`,
        });
      } else if (driver === 'mysql') {
        // MySQL compares text with an integer as numbers, so reads run; the check names the types.
        await expect(erpWithCodes.check()).rejects.toMatchObject({
          kind: 'config',
          message: `erp-sql: ${reference} is of type text and cannot be compared with ${id}, of type int; expected alike types (numbers with numbers, text with text)`,
        });
      } else {
        await expect(erpWithCodes.check()).rejects.toMatchObject({
          kind: 'config',
          message: `erp-sql: ${reference} is of type text and cannot be compared with ${id}, of type integer; expected alike types (numbers with numbers, text with text)`,
        });
        await expect(erpWithCodes.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 10 })).rejects.toMatchObject({
          kind: 'config',
          retryable: false,
          message: `erp-sql: ${reference} cannot be compared with ${id}; expected alike types (42883: operator does not exist: text = integer)`,
        });
      }
    } finally {
      await erpWithCodes.close();
    }
  });

  it('check() names a location reference that matches no location', async () => {
    const erpElsewhere = await stockTableOf('stany_gdzie', {}, [[1, 1, 77, 5, 0, '2025-05-01 10:00:00']]);
    try {
      await expect(erpElsewhere.check()).rejects.toMatchObject({
        kind: 'config',
        message:
          'erp-sql: no row of "stany_gdzie" finds its row of "magazyny": no value of column "stany_gdzie.magazyn_id" (configured at tables.stock.locationId) ' +
          'equals a value of column "magazyny.id" (configured at tables.locations.id)',
      });
    } finally {
      await erpElsewhere.close();
    }
  });
});

describe('erp-sql config', () => {
  const valid = { database: { driver: 'sqlite', file: './data/erp.sqlite' }, tables: DEMO_ERP_TABLES };

  it('applies documented defaults', () => {
    expect(ErpSqlConfig.parse(valid)).toMatchObject({ pageSize: 1_000 });
    expect(ErpSqlConfig.parse({ ...valid, database: { driver: 'postgres', connectionString: 'postgresql://erp@db/erp' } }).database).toEqual({
      driver: 'postgres',
      connectionString: 'postgresql://erp@db/erp',
      maxConnections: 2,
    });
  });

  it.each([
    [['tables', 'stock', 'onHand'], { stock: { ...DEMO_ERP_TABLES.stock, onHand: 'ilosc; drop table stany' } }],
    [['tables', 'stock', 'table'], { stock: { ...DEMO_ERP_TABLES.stock, table: 'stany" --' } }],
    [['tables', 'products', 'sku'], { products: { ...DEMO_ERP_TABLES.products, sku: 'indeks"||(select 1)||"' } }],
    [['tables', 'locations', 'table'], { locations: { ...DEMO_ERP_TABLES.locations, table: 'a.b.c' } }],
    [['tables', 'locations', 'code'], { locations: { ...DEMO_ERP_TABLES.locations, code: 'l.symbol' } }],
    [['tables', 'products', 'id'], { products: { ...DEMO_ERP_TABLES.products, id: '1id' } }],
  ])('rejects an unsafe identifier at %j', (path, tables) => {
    const result = ErpSqlConfig.safeParse({ ...valid, tables: { ...DEMO_ERP_TABLES, ...tables } });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]).toMatchObject({ path, message: expect.stringMatching(/^expected a (column|table) name/) });
  });

  it('accepts a schema-qualified table and rejects an unsafe schema', () => {
    expect(ErpSqlConfig.safeParse({ ...valid, tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, table: 'erp.stany' } } }).success).toBe(true);
    const result = ErpSqlConfig.safeParse({ ...valid, database: { driver: 'postgres', connectionString: 'postgresql://db/erp', schema: 'public; drop' } });
    expect(result.error?.issues[0]).toMatchObject({ path: ['database', 'schema'] });
  });

  it('rejects unknown keys anywhere', () => {
    const result = ErpSqlConfig.safeParse({ ...valid, tables: { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, quantity: 'ilosc' } } });
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', path: ['tables', 'stock'], keys: ['quantity'] });
    expect(ErpSqlConfig.safeParse({ ...valid, database: { ...valid.database, password: 'x' } }).error?.issues[0]).toMatchObject({ path: ['database'] });
  });

  it('derives the rate budget from maxQueriesPerSecond (default unlimited)', () => {
    expect(erpSqlManifest.rateBudget(ErpSqlConfig.parse(valid))).toEqual({ kind: 'unlimited' });
    expect(erpSqlManifest.rateBudget(ErpSqlConfig.parse({ ...valid, maxQueriesPerSecond: 20 }))).toEqual({ kind: 'requests', perSecond: 20, burst: 20 });
  });
});

describe('erp-sql connection errors', () => {
  it('a missing SQLite file is a config error naming database.file', async () => {
    const erp = connector({ driver: 'sqlite', file: '/nonexistent/folder/erp.sqlite' });
    try {
      const failure = erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 10 });
      await expect(failure).rejects.toBeInstanceOf(OmnisyncError);
      await expect(failure).rejects.toMatchObject({ kind: 'config', message: 'erp-sql: SQLite file "/nonexistent/folder/erp.sqlite" does not exist (configured at database.file)' });
    } finally {
      await erp.close();
    }
  });

  it('a PostgreSQL server that refuses connections is a transient error', async () => {
    const erp = connector({ driver: 'postgres', connectionString: 'postgresql://erp@127.0.0.1:1/erp', maxConnections: 1 });
    try {
      await expect(erp.check()).rejects.toMatchObject({ kind: 'transient', message: expect.stringMatching(/^erp-sql: PostgreSQL 127\.0\.0\.1:1\/erp is not available \(ECONNREFUSED\)/) });
    } finally {
      await erp.close();
    }
  });
});

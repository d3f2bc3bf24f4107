/**
 * `connectors check` of an erp-sql connector with price tables (tables.prices, tables.priceLists)
 * on real SQLite and PostgreSQL: the configured tables and columns exist, amounts hold numbers,
 * validity and modification columns hold times, references reach their rows; every problem is
 * named by its config path.
 */
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance } from '../../connectors/contract';
import { erpSqlManifest, ErpSqlConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql';
import { DEMO_ERP_PRICE_TABLES, DEMO_ERP_TABLES, type DemoErpDatabase } from '../../sandbox/erp/schema';
import type { CrosswalkStore } from '../../state/store';
import { DEMO_ERP_TEST_DRIVERS, startDemoErp, type DemoErpTestDatabase } from '../support/demo-erp';

const unusedCrosswalk: CrosswalkStore = {
  get: async () => new Map(),
  put: async () => undefined,
};

type Prices = Record<keyof typeof DEMO_ERP_PRICE_TABLES.prices, string>;

describe.each(DEMO_ERP_TEST_DRIVERS)('erp-sql check of the price tables on %s', (driver) => {
  let demoErp: DemoErpTestDatabase;
  let database: ErpDatabaseConfigInput;
  let erpDb: DemoErpDatabase;
  const time = { sqlite: 'text', postgres: 'timestamp', mysql: 'datetime(6)' }[driver];

  function connector(prices: Partial<Prices> = {}, priceLists: Record<string, string> = {}, databaseOverrides: Record<string, unknown> = {}): ConnectorInstance {
    const tables = {
      ...DEMO_ERP_TABLES,
      priceLists: { ...DEMO_ERP_PRICE_TABLES.priceLists, ...priceLists },
      prices: { ...DEMO_ERP_PRICE_TABLES.prices, ...prices },
    };
    const config = ErpSqlConfig.parse({ database: { ...database, ...databaseOverrides }, tables });
    return erpSqlManifest.create('erp', config, { logger: pino({ level: 'silent' }), crosswalk: unusedCrosswalk, baseDir: '/' });
  }

  async function checkOf(erp: ConnectorInstance): Promise<unknown> {
    try {
      return await erp.check();
    } catch (err) {
      return err;
    } finally {
      await erp.close();
    }
  }

  /** A prices table beside the demo's, with the demo's columns in the given types, holding the given rows. */
  async function pricesTableOf(name: string, types: Partial<Record<'towar_id' | 'cennik_id' | 'netto' | 'brutto' | 'stawka_vat' | 'koszt' | 'data_od' | 'data_do' | 'zmodyfikowano', string>>, rows: unknown[][]) {
    const type = (column: keyof typeof types, fallback: string) => sql.raw(types[column] ?? fallback);
    await sql`create table ${sql.table(name)} (
      id integer primary key, towar_id ${type('towar_id', 'integer')}, cennik_id ${type('cennik_id', 'integer')},
      netto ${type('netto', 'numeric(12, 2)')}, brutto ${type('brutto', 'numeric(12, 2)')}, stawka_vat ${type('stawka_vat', 'numeric(5, 2)')},
      koszt ${type('koszt', 'numeric(12, 2)')}, data_od ${type('data_od', time)}, data_do ${type('data_do', time)}, zmodyfikowano ${type('zmodyfikowano', time)})`.execute(erpDb);
    for (const row of rows) await sql`insert into ${sql.table(name)} values (${sql.join(row)})`.execute(erpDb);
  }

  beforeAll(async () => {
    demoErp = await startDemoErp(driver, { tempDirPrefix: 'omnisync-erp-price-check-', productCount: 50, now: new Date('2025-12-01T00:00:00.000Z') });
    ({ database, db: erpDb } = demoErp);
  });

  afterAll(async () => {
    await demoErp?.close();
  });

  it('passes on the demo ERP, and names its price lists', async () => {
    expect(await checkOf(connector())).toEqual({
      ok: true,
      detail: expect.stringMatching(/50 products in "towary", locations in "magazyny": MAG-WAW, MAG-ZW, SKLEP-KRK, price lists in "cenniki": DETAL, PROMO$/) as unknown,
    });
  });

  it('names every missing table and column by its config path, at once', async () => {
    expect(await checkOf(connector({ table: 'ceny2' }))).toMatchObject({
      kind: 'config',
      message: 'erp-sql: table "ceny2" does not exist (configured at tables.prices.table)',
    });
    // Each column is looked up in its own table: "ilosc", a column of the stock table, is not
    // blamed on tables.stock.onHand.
    expect(await checkOf(connector({ net: 'netto2', cost: 'ilosc', modifiedAt: 'zmiana' }, { currency: 'waluta2' }))).toMatchObject({
      kind: 'config',
      retryable: false,
      message:
        'erp-sql: 4 problems in the price tables: (1) table "cenniki" has no column "waluta2" (configured at tables.priceLists.currency); ' +
        '(2) table "ceny" has no column "netto2" (configured at tables.prices.net); ' +
        '(3) table "ceny" has no column "ilosc" (configured at tables.prices.cost); ' +
        '(4) table "ceny" has no column "zmiana" (configured at tables.prices.modifiedAt)',
    });
    expect(await checkOf(connector({}, { table: 'cenniki2' }))).toMatchObject({
      message: 'erp-sql: table "cenniki2" does not exist (configured at tables.priceLists.table)',
    });
  });

  it.runIf(driver === 'postgres')('names database.schema with a table it does not have', async () => {
    expect(await checkOf(connector({ table: 'ceny2' }, {}, { schema: 'public' }))).toMatchObject({
      message: 'erp-sql: table "public.ceny2" does not exist (configured at tables.prices.table and database.schema)',
    });
    expect(await checkOf(connector({}, {}, { schema: 'public' }))).toMatchObject({ ok: true });
  });

  it('names amount columns that do not hold numbers and time columns that do not hold times', async () => {
    const at = '2025-11-20 10:00:00';
    if (driver === 'postgres') {
      await pricesTableOf('ceny_typy', { netto: 'boolean', brutto: 'text', stawka_vat: 'text', data_od: 'text', data_do: 'date' }, [
        [1, 1, 1, true, '12.30', ' 23 ', '7.50', at, '2026-01-01', at],
        [2, 2, 1, false, 'abc', '8', null, null, null, at],
      ]);
    } else if (driver === 'mysql') {
      await pricesTableOf('ceny_typy', { netto: 'varbinary(8)', brutto: 'text', stawka_vat: 'text', data_od: 'text', data_do: 'date' }, [
        [1, 1, 1, Buffer.from([1, 2]), '12.30', ' 23 ', '7.50', at, '2026-01-01', at],
        [2, 2, 1, null, 'abc', '8', null, null, null, at],
      ]);
    } else {
      await pricesTableOf('ceny_typy', { netto: 'blob', brutto: 'text', stawka_vat: 'text', data_do: 'datetime' }, [
        [1, 1, 1, Buffer.from([1, 2]), '12.30', ' 23 ', '7.50', at, '2026-01-01', at],
        [2, 2, 1, null, 'abc', '8', null, 'wczoraj', 2460800.5, at],
      ]);
    }
    const message =
      driver === 'postgres'
        ? 'erp-sql: 3 problems in the price tables: ' +
          '(1) column "ceny_typy.netto" (configured at tables.prices.net) is of type boolean; expected numbers (a numeric, integer or floating-point column); ' +
          '(2) column "ceny_typy.brutto" (configured at tables.prices.gross) holds text values such as "abc"; expected numbers; ' +
          '(3) column "ceny_typy.data_od" (configured at tables.prices.validFrom) is of type text; expected times (a timestamp, timestamptz or date column)'
        : driver === 'mysql'
        ? 'erp-sql: 3 problems in the price tables: ' +
          '(1) column "ceny_typy.netto" (configured at tables.prices.net) is of type varbinary; expected numbers (a numeric, integer or floating-point column); ' +
          '(2) column "ceny_typy.brutto" (configured at tables.prices.gross) holds text values such as "abc"; expected numbers; ' +
          '(3) column "ceny_typy.data_od" (configured at tables.prices.validFrom) is of type text; expected times (a datetime, timestamp or date column)'
        : 'erp-sql: 4 problems in the price tables: ' +
          `(1) column "ceny_typy.netto" (configured at tables.prices.net) holds blob values such as x'0102'; expected numbers; ` +
          '(2) column "ceny_typy.brutto" (configured at tables.prices.gross) holds text values such as "abc"; expected numbers; ' +
          '(3) column "ceny_typy.data_od" (configured at tables.prices.validFrom) holds text that is not a time, such as "wczoraj"; expected ISO-8601 times in UTC (e.g. "2025-06-01 12:00:00"); ' +
          '(4) column "ceny_typy.data_do" (configured at tables.prices.validTo) holds real values such as 2460800.5; expected ISO-8601 times in UTC as text (e.g. "2025-06-01 12:00:00")';
    expect(await checkOf(connector({ table: 'ceny_typy' }))).toMatchObject({ kind: 'config', retryable: false, message });

    // Text holding decimal numbers is read like numbers (stawka_vat " 23 "), and without "abc"
    // the amount passes; a column that is not configured is not checked.
    await sql`update ceny_typy set brutto = '12.31' where id = 2`.execute(erpDb);
    if (driver === 'postgres') {
      await sql`alter table ceny_typy alter column netto type numeric(12, 2) using case when netto then 1 else 0 end`.execute(erpDb);
      await sql`alter table ceny_typy alter column data_od type timestamp using cast(data_od as timestamp)`.execute(erpDb);
    } else if (driver === 'mysql') {
      await sql`update ceny_typy set netto = null`.execute(erpDb);
      await sql`alter table ceny_typy modify netto numeric(12, 2), modify data_od datetime(6)`.execute(erpDb);
    } else {
      await sql`update ceny_typy set netto = 10, data_od = null, data_do = '2026-01-01'`.execute(erpDb);
    }
    expect(await checkOf(connector({ table: 'ceny_typy' }))).toMatchObject({ ok: true });
  });

  it('names price references that cannot be compared with the ids they reference or reach none', async () => {
    const at = '2025-11-20 10:00:00';
    // The servers know the columns' types: a text reference is refused before any row is read.
    const typed = driver !== 'sqlite';
    await pricesTableOf('ceny_odniesienia', typed ? { towar_id: driver === 'mysql' ? 'varchar(20)' : 'text' } : {}, [
      [1, typed ? 'PL-000001' : 9_999, 99, '10.00', '12.30', 23, null, null, null, at],
    ]);
    const reference = 'column "ceny_odniesienia.towar_id" (configured at tables.prices.productId)';
    const listReference = 'column "ceny_odniesienia.cennik_id" (configured at tables.prices.priceListId)';
    expect(await checkOf(connector({ table: 'ceny_odniesienia' }))).toMatchObject({
      kind: 'config',
      message:
        'erp-sql: 2 problems in the price tables: ' +
        (typed
          ? `(1) ${reference} is of type ${driver === 'mysql' ? 'varchar' : 'text'} and cannot be compared with column "towary.id" (configured at tables.products.id), of type ${driver === 'mysql' ? 'int' : 'integer'}; expected alike types (numbers with numbers, text with text); `
          : `(1) no row of "ceny_odniesienia" finds its row of "towary": no value of ${reference} equals a value of column "towary.id" (configured at tables.products.id); `) +
        `(2) no row of "ceny_odniesienia" finds its row of "cenniki": no value of ${listReference} equals a value of column "cenniki.id" (configured at tables.priceLists.id)`,
    });
    // An empty price table has nothing to reach anything with.
    await sql`delete from ceny_odniesienia`.execute(erpDb);
    const empty = await checkOf(connector({ table: 'ceny_odniesienia' }));
    if (typed) expect(empty).toMatchObject({ message: expect.stringMatching(/^erp-sql: column "ceny_odniesienia.towar_id" .* is of type (text|varchar) and cannot be compared/) as unknown });
    else expect(empty).toMatchObject({ ok: true });
  });
});

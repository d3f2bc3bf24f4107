/**
 * The erp-sql connector on SQL Server, which cannot run on this machine or in CI: the SQL the
 * reads generate is compiled with Kysely's MssqlDialect without connecting (executeQuery is
 * replaced, so nothing reaches a server), driver errors are translated from their tedious
 * shapes, and a live test runs only when OMNISYNC_TEST_MSSQL_URL names a server
 * (`mssql://user:password@host:1433/database?trustServerCertificate=true`) whose login may
 * create tables there.
 */
import type { CompiledQuery } from 'kysely';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OmnisyncError } from '../../core/errors';
import type { ConnectorInstance } from '../../connectors/contract';
import { describeDatabaseError, ErpSqlClient, mssqlTarget, openErpDatabase } from '../../connectors/erp-sql/client';
import { ErpDatabaseConfig, ErpSqlConfig } from '../../connectors/erp-sql/config';
import { erpSqlManifest } from '../../connectors/erp-sql/manifest';
import { ErpPriceSource } from '../../connectors/erp-sql/price-source';
import { ErpStockSource } from '../../connectors/erp-sql/stock-source';
import { DEMO_ERP_PRICE_TABLES, DEMO_ERP_TABLES } from '../../sandbox/erp/schema';

const DATABASE = { driver: 'mssql', connectionString: 'mssql://reader@erp-db:1433/erp' } as const;

/** A client whose queries are compiled for SQL Server and recorded, never sent; every query returns no rows. */
function recordingClient(): { client: ErpSqlClient; queries: CompiledQuery[] } {
  const config = ErpSqlConfig.parse({ database: DATABASE, tables: { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES } });
  const client = new ErpSqlClient(config, '/');
  const queries: CompiledQuery[] = [];
  Object.assign(client.db, {
    executeQuery: (compiled: CompiledQuery) => {
      queries.push(compiled);
      return Promise.resolve({ rows: [] });
    },
  });
  return { client, queries };
}

/** A query's text with its whitespace runs as single spaces. */
function flat(query: CompiledQuery | undefined): string {
  return (query?.sql ?? '').replace(/\s+/g, ' ').trim();
}

describe('erp-sql SQL for SQL Server (compiled, not run)', () => {
  it('a full stock read limits its ordered product page with offset … fetch and Kysely\'s @n parameters', async () => {
    const { client, queries } = recordingClient();
    await new ErpStockSource(client, 1_000).readStockPage({ mode: 'full', cursor: { strategy: 'key', afterKey: '10' }, limit: 5 });
    expect(flat(queries[0])).toBe(
      'select "p"."id" as product_id, "p"."indeks" as sku from "towary" as p where "p"."id" > @1 order by "p"."id" offset 0 rows fetch next @2 rows only',
    );
    expect(queries[0]!.parameters).toEqual(['10', 5]);
  });

  it('the duplicate SKU check groups trimmed keys by name in a derived table (SQL Server groups neither by position nor by alias)', async () => {
    const { client, queries } = recordingClient();
    await new ErpStockSource(client, 1_000).readStockPage({ mode: 'full', cursor: null, limit: 5 });
    const key = 'trim(char(32) + char(9) + char(10) + char(13) from cast("p"."indeks" as nvarchar(max)))';
    expect(queries.map(flat)).toContain(
      `select "p"."id" as product_id, "p"."indeks" as sku from "towary" as p where ${key} in ( select dup_key from ( select ${key} as dup_key from "towary" as p ) as sku_keys group by dup_key having count(*) > 1 ) order by "p"."id"`,
    );
  });

  it('a delta stock read compares the column with the cursor as datetimeoffset(7) and keeps 7 fractional digits in the cursor', async () => {
    const { client, queries } = recordingClient();
    const cursor = { strategy: 'modified', afterModifiedAt: '2025-01-01T00:00:00.1234567Z', afterKey: '3' } as const;
    await new ErpStockSource(client, 1_000).readStockPage({ mode: 'delta', cursor, limit: 5 });
    const delta = flat(queries[0]);
    const utc = 'cast(switchoffset("s"."zmodyfikowano", \'+00:00\') as datetime2(7))';
    expect(delta).toContain(`convert(char(19), ${utc}, 126) + '.' + right('000000' + cast(datepart(nanosecond, ${utc}) / 100 as varchar(7)), 7) + 'Z' as modified_at`);
    expect(delta).toContain('where 1 = 1 and "s"."zmodyfikowano" >= cast(@1 as datetimeoffset(7)) and ("s"."zmodyfikowano" > cast(@2 as datetimeoffset(7)) or');
    expect(delta).toMatch(/order by "s"\."zmodyfikowano", "s"\."id" offset 0 rows fetch next @\d+ rows only$/);
    expect(queries[0]!.parameters.slice(0, 2)).toEqual([cursor.afterModifiedAt, cursor.afterModifiedAt]);
  });

  it('price reads: times as ISO-8601 UTC with milliseconds, stored values as nvarchar(max), pages by offset … fetch', async () => {
    const { client, queries } = recordingClient();
    const config = ErpSqlConfig.parse({ database: DATABASE, tables: { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES } });
    const prices = new ErpPriceSource(client, config);
    await prices.readPricePage({ mode: 'full', cursor: null, limit: 5 });
    await prices.readPricePage({ mode: 'delta', cursor: null, limit: 5 });
    const texts = queries.map(flat);
    expect(texts).toContain('select distinct "c"."towar_id" as product_id from "ceny" as c where "c"."towar_id" is not null order by "c"."towar_id" offset 0 rows fetch next @1 rows only');
    const delta = texts.at(-1)!;
    const utc = 'cast(switchoffset("c"."data_od", \'+00:00\') as datetime2(7))';
    expect(delta).toContain(`convert(char(19), ${utc}, 126) + '.' + right('00' + cast(datepart(millisecond, ${utc}) as varchar(3)), 3) + 'Z' as "valid_from"`);
    expect(delta).toContain('cast("c"."data_od" as nvarchar(max)) as "valid_from_raw"');
    expect(delta).toMatch(/where "c"\."zmodyfikowano" is not null order by "c"\."zmodyfikowano", "c"\."id" offset 0 rows fetch next @1 rows only$/);
  });

  it('probes without an ordering get one that orders nothing', () => {
    const { client } = recordingClient();
    expect(sql`select 1 as found from ${client.table('stock')} ${client.anyRows(1)}`.compile(client.db).sql).toBe(
      'select 1 as found from "stany" as s order by (select null) offset 0 rows fetch next @1 rows only',
    );
  });

  it('names the server without credentials', () => {
    const { client } = recordingClient();
    expect(client.databaseLabel()).toBe('SQL Server erp-db:1433/erp');
  });

  it('a query fails with a config error naming the missing tarn package, not a crash, when tarn is not installed', async () => {
    let tarnInstalled = true;
    try {
      require.resolve('tarn');
    } catch {
      tarnInstalled = false;
    }
    if (tarnInstalled) return; // the pool would try to connect to erp-db
    const db = openErpDatabase(ErpDatabaseConfig.parse(DATABASE), { baseDir: '/', readOnly: true });
    try {
      await expect(sql`select 1 as one`.execute(db)).rejects.toMatchObject({
        kind: 'config',
        message: 'erp-sql: driver mssql needs the npm package "tarn" (the connection pool of Kysely\'s MssqlDialect), which is not installed (configured at database.driver)',
      });
    } finally {
      await db.destroy();
    }
  });
});

describe('erp-sql SQL Server connection strings', () => {
  it('reads host, port, database, user, password and the TLS flags', () => {
    expect(mssqlTarget({ connectionString: 'mssql://reader:s%40cret@erp-db:1433/erp?encrypt=false&trustServerCertificate=true' })).toEqual({
      host: 'erp-db',
      port: 1433,
      instanceName: undefined,
      database: 'erp',
      user: 'reader',
      password: 's@cret',
      encrypt: false,
      trustServerCertificate: true,
    });
  });

  it('takes database.password over one in the string, a named instance, and encrypts by default', () => {
    expect(mssqlTarget({ connectionString: 'mssql://reader:old@erp-db/erp?instanceName=SQLEXPRESS', password: 'new' })).toMatchObject({
      port: undefined,
      instanceName: 'SQLEXPRESS',
      password: 'new',
      encrypt: true,
      trustServerCertificate: false,
    });
  });

  it('refuses what it cannot read, naming database.connectionString', () => {
    expect(() => mssqlTarget({ connectionString: 'erp-db:1433' })).toThrow(
      'erp-sql: the SQL Server connection string does not start with "mssql://", e.g. "mssql://reader@erp-db:1433/erp" (configured at database.connectionString)',
    );
    expect(() => mssqlTarget({ connectionString: 'mssql://erp-db/erp?encrypt=yes' })).toThrow(
      'erp-sql: encrypt=yes in the SQL Server connection string; expected true or false (configured at database.connectionString)',
    );
  });
});

describe('erp-sql SQL Server error translation', () => {
  const database = ErpDatabaseConfig.parse({ ...DATABASE, schema: 'erp' });
  const context = { tables: DEMO_ERP_TABLES, purpose: 'full read (stock)', database, databaseLabel: 'SQL Server erp-db:1433/erp' };
  /** An error as tedious reports it: a RequestError has SQL Server's number, a ConnectionError only a code. */
  const tediousError = (message: string, fields: { code: string; number?: number }) => Object.assign(new Error(message), fields);

  it('names the config key of a missing table (208) and column (207)', () => {
    expect(describeDatabaseError(tediousError("Invalid object name 'erp.stany'.", { code: 'EREQUEST', number: 208 }), context)).toMatchObject({
      kind: 'config',
      message: 'erp-sql: table "erp.stany" does not exist (configured at tables.stock.table and database.schema)',
    });
    expect(describeDatabaseError(tediousError("Invalid column name 'ilosc'.", { code: 'EREQUEST', number: 207 }), { ...context, table: 'stock' as const })).toMatchObject({
      kind: 'config',
      message: 'erp-sql: table "stany" has no column "ilosc" (configured at tables.stock.onHand)',
    });
  });

  it('login failures are auth errors; a database the login cannot open is a config error', () => {
    expect(describeDatabaseError(tediousError("Login failed for user 'reader'.", { code: 'ELOGIN', number: 18456 }), context)).toMatchObject({
      kind: 'auth',
      message: "erp-sql: SQL Server erp-db:1433/erp refused the credentials (configured at database.connectionString and database.password) (18456): Login failed for user 'reader'.",
    });
    expect(describeDatabaseError(tediousError('Cannot open database "erp" requested by the login. The login failed.', { code: 'ELOGIN' }), context)).toMatchObject({ kind: 'config' });
  });

  it('no SELECT permission names the table to grant it on', () => {
    const denied = tediousError("The SELECT permission was denied on the object 'stany', database 'erp', schema 'erp'.", { code: 'EREQUEST', number: 229 });
    expect(describeDatabaseError(denied, context)).toMatchObject({
      kind: 'auth',
      message: "erp-sql: the database user may not read table \"stany\" (configured at tables.stock.table); grant it SELECT (229: The SELECT permission was denied on the object 'stany', database 'erp', schema 'erp'.)",
    });
  });

  it('deadlocks, lock timeouts and dropped or timed-out connections are transient', () => {
    for (const error of [
      tediousError('Transaction (Process ID 52) was deadlocked on lock resources with another process and has been chosen as the deadlock victim.', { code: 'EREQUEST', number: 1205 }),
      tediousError('Lock request time out period exceeded.', { code: 'EREQUEST', number: 1222 }),
      tediousError('Connection lost - read ECONNRESET', { code: 'ESOCKET' }),
      tediousError('Failed to connect to erp-db:1433 in 15000ms', { code: 'ETIMEOUT' }),
    ]) {
      const translated = describeDatabaseError(error, context);
      expect(translated, error.message).toBeInstanceOf(OmnisyncError);
      expect(translated, error.message).toMatchObject({ kind: 'transient', retryable: true });
    }
  });

  it('a value that does not convert is a config error pointing at the check', () => {
    const conversion = tediousError("Conversion failed when converting the nvarchar value 'PL-000001' to data type int.", { code: 'EREQUEST', number: 245 });
    expect(describeDatabaseError(conversion, context)).toMatchObject({
      kind: 'config',
      message: expect.stringContaining('`omnisync connectors check` verifies the configured tables, columns and their types') as unknown,
    });
  });
});

const liveUrl = process.env.OMNISYNC_TEST_MSSQL_URL;

/**
 * Against a real SQL Server, only with OMNISYNC_TEST_MSSQL_URL set: a few demo tables (names
 * prefixed, dropped before and after), then check, a full read and a delta read.
 */
describe.runIf(liveUrl !== undefined)('erp-sql on a live SQL Server (OMNISYNC_TEST_MSSQL_URL)', () => {
  const prefix = 'omnisync_test_';
  const tables = {
    products: { ...DEMO_ERP_TABLES.products, table: `${prefix}towary` },
    locations: { ...DEMO_ERP_TABLES.locations, table: `${prefix}magazyny` },
    stock: { ...DEMO_ERP_TABLES.stock, table: `${prefix}stany` },
  };
  const database = { driver: 'mssql', connectionString: liveUrl ?? '' } as const;
  let owner: ReturnType<typeof openErpDatabase>;
  let erp: ConnectorInstance;

  async function dropTables(): Promise<void> {
    for (const table of [tables.stock.table, tables.products.table, tables.locations.table]) {
      await sql`drop table if exists ${sql.table(table)}`.execute(owner);
    }
  }

  beforeAll(async () => {
    owner = openErpDatabase(ErpDatabaseConfig.parse(database), { baseDir: '/', readOnly: false });
    await dropTables();
    await sql`create table ${sql.table(tables.products.table)} (id int primary key, indeks nvarchar(64) not null, nazwa nvarchar(200) not null, kod_ean nvarchar(14))`.execute(owner);
    await sql`create table ${sql.table(tables.locations.table)} (id int primary key, symbol nvarchar(32) not null)`.execute(owner);
    await sql`create table ${sql.table(tables.stock.table)} (id int primary key, towar_id int not null, magazyn_id int not null,
      ilosc numeric(12, 3), zarezerwowano numeric(12, 3), zmodyfikowano datetime2(7))`.execute(owner);
    await sql`insert into ${sql.table(tables.products.table)} values (1, 'PL-000001', 'Jeden', null), (2, 'PL-000002 ', 'Dwa', null), (3, 'PL-000003', 'Trzy', null)`.execute(owner);
    await sql`insert into ${sql.table(tables.locations.table)} values (1, 'MAG-WAW')`.execute(owner);
    await sql`insert into ${sql.table(tables.stock.table)} values
      (1, 1, 1, 5.5, 1, '2025-06-01T10:00:00.1234567'), (2, 2, 1, 3, 0, '2025-06-01T10:00:00.1234568'), (3, 3, 1, 7, 2, '2025-06-02T08:00:00')`.execute(owner);
    erp = erpSqlManifest.create('erp', ErpSqlConfig.parse({ database, tables }), {
      logger: pino({ level: 'silent' }),
      crosswalk: { get: async () => new Map(), put: async () => undefined },
      baseDir: '/',
    });
  });

  afterAll(async () => {
    await erp?.close();
    if (owner !== undefined) {
      await dropTables();
      await owner.destroy();
    }
  });

  it('check passes and reads the tables', async () => {
    await expect(erp.check()).resolves.toMatchObject({ ok: true, detail: expect.stringContaining('3 products') as unknown });
  });

  it('a full read pages by product id', async () => {
    const page = await erp.operations['stock.read']!.readStockPage({ mode: 'full', cursor: null, limit: 2 });
    expect(page.skus).toEqual(['PL-000001', 'PL-000002']);
    expect(page.levels.find((level) => level.sku === 'PL-000001')).toMatchObject({ onHand: 5, reserved: 1, at: '2025-06-01T10:00:00.123Z' });
  });

  it('a delta read keeps 100 ns in its cursor, so rows 100 ns apart come once each', async () => {
    const read = erp.operations['stock.read']!;
    const one = await read.readStockPage({ mode: 'delta', cursor: { strategy: 'modified', afterModifiedAt: '2025-06-01T00:00:00.000Z', afterKey: '0' }, limit: 1 });
    expect(one.nextCursor).toMatchObject({ strategy: 'modified', afterModifiedAt: '2025-06-01T10:00:00.1234567Z' });
    const two = await read.readStockPage({ mode: 'delta', cursor: one.nextCursor, limit: 1 });
    expect(two.nextCursor).toMatchObject({ afterModifiedAt: '2025-06-01T10:00:00.1234568Z' });
    const three = await read.readStockPage({ mode: 'delta', cursor: two.nextCursor, limit: 1 });
    expect(three.nextCursor).toMatchObject({ afterModifiedAt: '2025-06-02T08:00:00.000Z' });
  });
});

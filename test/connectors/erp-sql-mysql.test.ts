/**
 * What the erp-sql connector asks of a MySQL/MariaDB session, and how that server's refusals
 * reach the operator, against a real MariaDB server (test/support/mariadb.ts) with the demo ERP
 * seeded and a user granted only SELECT on its database. The stock and price reads themselves
 * run on MariaDB in the shared erp-sql tests (DEMO_ERP_TEST_DRIVERS).
 */
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInstance } from '../../connectors/contract';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { ErpDatabaseConfig, ErpSqlConfig, type ErpDatabaseConfigInput } from '../../connectors/erp-sql/config';
import { erpSqlManifest } from '../../connectors/erp-sql/manifest';
import { DEMO_ERP_TABLES } from '../../sandbox/erp/schema';
import { seedDemoErp } from '../../sandbox/erp/seed';
import { startMariaDbTestServer, type MariaDbTestServer } from '../support/mariadb';

describe('erp-sql on MySQL/MariaDB: sessions and refusals', () => {
  let server: MariaDbTestServer;
  const opened: ConnectorInstance[] = [];

  function connector(database: ErpDatabaseConfigInput, tables: object = DEMO_ERP_TABLES): ConnectorInstance {
    const config = ErpSqlConfig.parse({ database, tables });
    const erp = erpSqlManifest.create('erp', config, { logger: pino({ level: 'silent' }), crosswalk: { get: async () => new Map(), put: async () => undefined }, baseDir: '/' });
    opened.push(erp);
    return erp;
  }

  beforeAll(async () => {
    server = await startMariaDbTestServer();
    await seedDemoErp({ driver: 'mysql', connectionString: server.connectionString }, { productCount: 20, now: new Date('2025-06-01T00:00:00.000Z') });
  });

  afterAll(async () => {
    await Promise.all(opened.map((erp) => erp.close()));
    await server?.stop();
  });

  it('sessions run in UTC and read-only, and decimals and times come back as the server wrote them', async () => {
    const reader = openErpDatabase(ErpDatabaseConfig.parse({ driver: 'mysql', connectionString: server.connectionString }), { baseDir: '/', readOnly: true });
    try {
      // MariaDB before 11.1 names the read-only flag tx_read_only (MySQL 8: transaction_read_only).
      const [session] = (await sql<{ zone: string; readOnly: unknown }>`select @@session.time_zone as zone, @@session.tx_read_only as readOnly`.execute(reader)).rows;
      // A BIGINT, so text (bigNumberStrings), like every exact number the connector reads.
      expect(session).toEqual({ zone: '+00:00', readOnly: '1' });
      const [row] = (await sql<{ ilosc: unknown; zmodyfikowano: unknown }>`select ilosc, zmodyfikowano from stany where id = 1`.execute(reader)).rows;
      expect(row?.ilosc).toMatch(/^\d+\.000$/);
      expect(row?.zmodyfikowano).toMatch(/^2025-05-\d\d \d\d:\d\d:\d\d\.\d{3}000$/);
      await expect(sql`update stany set ilosc = 0 where id = 1`.execute(reader)).rejects.toThrow('Cannot execute statement in a READ ONLY transaction');
    } finally {
      await reader.destroy();
    }
  });

  it('a user granted only SELECT reads and checks; a table outside its grant is named with the key to fix', async () => {
    const reader = { driver: 'mysql', connectionString: server.readerConnectionString } as const;
    await expect(connector(reader).check()).resolves.toMatchObject({ ok: true, detail: expect.stringMatching(/^connected to MySQL\/MariaDB 127\.0\.0\.1:\d+\/omnisync_test: 20 products/) as unknown });
    await sql`create database if not exists erp_archiwum`.execute(openOwner());
    await sql`create table if not exists erp_archiwum.stany as select * from omnisync_test.stany`.execute(openOwner());
    const outside = connector(reader, { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, table: 'erp_archiwum.stany' } });
    await expect(outside.operations['stock.read']!.readStockPage({ mode: 'delta', cursor: null, limit: 10 })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/^erp-sql: the database user may not read table "stany" \(configured at tables\.stock\.table\); grant it SELECT \(ER_TABLEACCESS_DENIED_ERROR: SELECT command denied to user 'omnisync_reader'@'127\.0\.0\.1' for table/) as unknown,
    });
  });

  it('a wrong password is an auth error, an unknown database a config error, a closed port transient', async () => {
    const port = new URL(server.connectionString).port;
    await expect(connector({ driver: 'mysql', connectionString: server.readerConnectionString, password: 'wrong' }).check()).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/^erp-sql: MySQL\/MariaDB 127\.0\.0\.1:\d+\/omnisync_test refused the credentials \(configured at database\.connectionString and database\.password\) \(ER_ACCESS_DENIED_ERROR\)/) as unknown,
    });
    await expect(connector({ driver: 'mysql', connectionString: `mysql://root@127.0.0.1:${port}/erp_brak` }).check()).rejects.toMatchObject({
      kind: 'config',
      message: `erp-sql: Unknown database 'erp_brak' (MySQL/MariaDB 127.0.0.1:${port}/erp_brak, configured at database.connectionString)`,
    });
    await expect(connector({ driver: 'mysql', connectionString: 'mysql://root@127.0.0.1:1/erp' }).check()).rejects.toMatchObject({ kind: 'transient', retryable: true });
  });

  it('a missing column or table names its config key', async () => {
    const database = { driver: 'mysql', connectionString: server.connectionString } as const;
    await expect(connector(database, { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, onHand: 'ilosc2' } }).check()).rejects.toMatchObject({
      kind: 'config',
      message: 'erp-sql: table "stany" has no column "ilosc2" (configured at tables.stock.onHand)',
    });
    await expect(connector(database, { ...DEMO_ERP_TABLES, stock: { ...DEMO_ERP_TABLES.stock, table: 'stany2' } }).check()).rejects.toMatchObject({
      kind: 'config',
      message: 'erp-sql: table "stany2" does not exist (configured at tables.stock.table)',
    });
  });

  let owner: ReturnType<typeof openErpDatabase> | undefined;
  /** A writable connection as root, closed with the connectors. */
  function openOwner(): ReturnType<typeof openErpDatabase> {
    if (owner === undefined) {
      const db = openErpDatabase(ErpDatabaseConfig.parse({ driver: 'mysql', connectionString: server.connectionString }), { baseDir: '/', readOnly: false });
      owner = db;
      opened.push({ close: () => db.destroy() } as unknown as ConnectorInstance);
    }
    return owner;
  }
});

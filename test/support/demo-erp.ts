/**
 * The sandbox ERP, seeded with demo data, on a real database, for tests that run once per
 * driver (SQLite, PostgreSQL, and MySQL on a MariaDB server). Those tests all need the same
 * setup and teardown; keeping it here means each of them seeds, connects and cleans up alike.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openErpDatabase } from '../../connectors/erp-sql/client';
import { ErpDatabaseConfig, type ErpDatabaseConfigInput, type ErpDialect } from '../../connectors/erp-sql/config';
import type { DemoErpDatabase } from '../../sandbox/erp/schema';
import { seedDemoErp } from '../../sandbox/erp/seed';
import { startMariaDbTestServer } from './mariadb';
import { startPostgresTestServer } from './postgres';

/** The drivers the erp-sql tests run on, each against a real database (SQL Server cannot run here). */
export const DEMO_ERP_TEST_DRIVERS = ['sqlite', 'postgres', 'mysql'] as const satisfies readonly ErpDialect[];
export type DemoErpTestDriver = (typeof DEMO_ERP_TEST_DRIVERS)[number];

export interface DemoErpTestOptions {
  /** Name prefix of the temporary folder that holds the SQLite files (none is made for the servers). */
  tempDirPrefix: string;
  /** Products seeded (PL-000001 …). */
  productCount: number;
  /** Stock and prices were modified in the 30 days before this time (seedDemoErp's `now`). */
  now: Date;
}

export interface DemoErpTestDatabase {
  /** The config of the seeded database, for connectors and seedDemoErp. */
  database: ErpDatabaseConfigInput;
  /** A writable connection for the tests to change the ERP's data (connectors only read). */
  db: DemoErpDatabase;
  /**
   * Another, empty database beside the seeded one: a SQLite file `<name>.sqlite` in the folder, or
   * database `name` on the same PostgreSQL or MariaDB server. close() removes it with the rest.
   */
  createDatabase(name: string): Promise<ErpDatabaseConfigInput>;
  /** Closes `db`, stops the server and removes the folder. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a database of the given driver (a SQLite file in a new temporary folder, or a fresh
 * PostgreSQL or MariaDB server), seeds the demo ERP into it and opens a writable connection.
 * When a step fails, what was started is cleaned up before the error is thrown.
 */
export async function startDemoErp(driver: DemoErpTestDriver, options: DemoErpTestOptions): Promise<DemoErpTestDatabase> {
  let tempDir: string | undefined;
  let server: { connectionString: string; stop(): Promise<void> } | undefined;
  let db: DemoErpDatabase | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await db?.destroy();
    } finally {
      try {
        await server?.stop();
      } finally {
        if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
      }
    }
  };
  try {
    let database: ErpDatabaseConfigInput;
    if (driver === 'sqlite') {
      tempDir = await mkdtemp(join(tmpdir(), options.tempDirPrefix));
      database = { driver: 'sqlite', file: join(tempDir, 'erp.sqlite') };
    } else if (driver === 'postgres') {
      server = await startPostgresTestServer();
      database = { driver: 'postgres', connectionString: server.connectionString };
    } else {
      server = await startMariaDbTestServer();
      database = { driver: 'mysql', connectionString: server.connectionString };
    }
    await seedDemoErp(database, { productCount: options.productCount, now: options.now });
    const seeded = openErpDatabase(ErpDatabaseConfig.parse(database), { baseDir: '/', readOnly: false });
    db = seeded;
    const createDatabase = async (name: string): Promise<ErpDatabaseConfigInput> => {
      if (tempDir !== undefined) return { driver: 'sqlite', file: join(tempDir, `${name}.sqlite`) };
      await sql`create database ${sql.id(name)}`.execute(seeded);
      const connectionString = server!.connectionString.replace(/\/[^/]+$/, `/${name}`);
      return driver === 'mysql' ? { driver, connectionString } : { driver: 'postgres', connectionString };
    };
    return { database, db: seeded, createDatabase, close };
  } catch (err) {
    await close();
    throw err;
  }
}

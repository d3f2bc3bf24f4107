/**
 * A real, throw-away PostgreSQL server for tests (databases and SFTP are real servers in
 * tests, never simulators): the shared loopback server of sandbox/postgres-server.ts (Debian's
 * packages, its own data directory and port per call) with the tests' database created in it.
 */
import pg from 'pg';
import { startLocalPostgres } from '../../sandbox/postgres-server';

export interface PostgresTestServer {
  /** `postgresql://postgres@127.0.0.1:<port>/omnisync_test` (trust auth, no password). */
  connectionString: string;
  /** Stops the server (fast shutdown) and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

const DATABASE_NAME = 'omnisync_test';

export async function startPostgresTestServer(): Promise<PostgresTestServer> {
  const server = await startLocalPostgres();
  try {
    await createDatabase(server.adminConnectionString);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { connectionString: `postgresql://postgres@127.0.0.1:${server.port}/${DATABASE_NAME}`, stop: () => server.stop() };
}

async function createDatabase(adminConnectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminConnectionString });
  try {
    await client.connect();
    await client.query(`create database ${DATABASE_NAME}`);
  } catch (err) {
    throw new Error(`PostgreSQL test server started, but creating database ${DATABASE_NAME} failed: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A real, throw-away MariaDB server for tests (databases and SFTP are real servers in
 * tests, never simulators), standing for MySQL and MariaDB (the erp-sql `mysql` driver).
 *
 * Uses the Debian package's `mariadb-install-db` and `mariadbd` (installing `mariadb-server`
 * with apt when missing, which works as root on CI). Each call gets its own data directory, TCP
 * port on loopback and unix socket in its temporary folder, so test files running in parallel
 * never share a server. mariadbd refuses to run as root: when the tests run as root, the server
 * runs as the `mysql` OS user.
 */
import { chownToUser, findFreePort, installWithApt, runCommand } from '../../sandbox/local-machine';
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export interface MariaDbTestServer {
  /** `mysql://root@127.0.0.1:<port>/omnisync_test`: the server's administrator, no password. */
  connectionString: string;
  /**
   * `mysql://omnisync_reader:reader@127.0.0.1:<port>/omnisync_test`: a user that may only
   * SELECT in omnisync_test, as the docs tell ERP owners to grant the connector.
   */
  readerConnectionString: string;
  /** Stops the server and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

const DATABASE_NAME = 'omnisync_test';
const READER = { user: 'omnisync_reader', password: 'reader' } as const;
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
/** A port picked as free can be taken by a parallel test file before the server binds it. */
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 60_000;

/** Servers still running in this process: killed synchronously if the process exits without stop(). */
const runningServers = new Map<string, ChildProcess>();
let exitHookInstalled = false;

export async function startMariaDbTestServer(): Promise<MariaDbTestServer> {
  await findOrInstallMariaDb();
  const asRoot = process.getuid?.() === 0;
  const baseDir = await mkdtemp(join(tmpdir(), 'omnisync-mariadb-'));
  const dataDir = join(baseDir, 'data');
  const socket = join(baseDir, 'mariadbd.sock');
  let server: ChildProcess | undefined;
  try {
    if (asRoot) await chownToUser(baseDir, 'mysql');
    await runCommand(INSTALL_DB, [
      '--no-defaults', `--datadir=${dataDir}`, ...(asRoot ? ['--user=mysql'] : []),
      '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve',
    ]);
    const started = await startOnFreePort(baseDir, dataDir, socket, asRoot);
    server = started.server;
    runningServers.set(baseDir, server);
    installExitHook();
    await createDatabaseAndUsers(socket);

    const connectionString = `mysql://root@127.0.0.1:${started.port}/${DATABASE_NAME}`;
    const readerConnectionString = `mysql://${READER.user}:${READER.password}@127.0.0.1:${started.port}/${DATABASE_NAME}`;
    let stopped = false;
    const running = server;
    return {
      connectionString,
      readerConnectionString,
      async stop() {
        if (stopped) return;
        stopped = true;
        runningServers.delete(baseDir);
        try {
          await terminate(running);
        } finally {
          await rm(baseDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    if (server) {
      runningServers.delete(baseDir);
      await terminate(server).catch(() => undefined);
    }
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }
}

async function startOnFreePort(baseDir: string, dataDir: string, socket: string, asRoot: boolean): Promise<{ server: ChildProcess; port: number }> {
  const logFile = join(baseDir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const server = spawn(
      MARIADBD,
      [
        '--no-defaults', `--datadir=${dataDir}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
        `--pid-file=${join(baseDir, 'mariadbd.pid')}`, `--log-error=${logFile}`, `--tmpdir=${baseDir}`,
        ...(asRoot ? ['--user=mysql'] : []),
        '--skip-name-resolve', '--skip-log-bin', '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci',
        // Test settings: durability off (a crashed test server is thrown away anyway), small memory.
        '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0', '--innodb-buffer-pool-size=64M', '--sync-binlog=0',
      ],
      { cwd: tmpdir(), stdio: 'ignore' },
    );
    try {
      await waitUntilServing(server, socket);
      return { server, port };
    } catch (err) {
      await terminate(server).catch(() => undefined);
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const portTaken = /address already in use|another server running on port/i.test(log);
      if (portTaken && attempt < START_ATTEMPTS) continue;
      throw new Error(`MariaDB test server did not start on port ${port}: ${(err as Error).message}\nserver log:\n${log.trim()}`);
    }
  }
}

/** Resolves once the server answers on its socket; rejects when it exits first or takes too long. */
async function waitUntilServing(server: ChildProcess, socket: string): Promise<void> {
  let exited: string | undefined;
  server.once('exit', (code, signal) => {
    exited = `mariadbd exited (${code ?? signal ?? 'unknown'})`;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(exited);
    try {
      const connection = await mysql.createConnection({ socketPath: socket, user: 'root' });
      await connection.end();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no answer on ${socket} within ${START_TIMEOUT_MS / 1000} s: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function createDatabaseAndUsers(socket: string): Promise<void> {
  const connection = await mysql.createConnection({ socketPath: socket, user: 'root' });
  try {
    // root@localhost is the socket's; the connection strings use TCP, where the client is 127.0.0.1
    // (which mariadb-install-db --skip-name-resolve may have made already).
    for (const statement of [
      `create database ${DATABASE_NAME} character set utf8mb4`,
      `create user if not exists 'root'@'127.0.0.1'`,
      `grant all privileges on *.* to 'root'@'127.0.0.1' with grant option`,
      `create user '${READER.user}'@'127.0.0.1' identified by '${READER.password}'`,
      `grant select on ${DATABASE_NAME}.* to '${READER.user}'@'127.0.0.1'`,
    ]) {
      await connection.query(statement);
    }
  } catch (err) {
    throw new Error(`MariaDB test server started, but creating database ${DATABASE_NAME} and its users failed: ${(err as Error).message}`);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Stops the server with SIGTERM (a clean shutdown), SIGKILL after 30 s. */
async function terminate(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 30_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function findOrInstallMariaDb(): Promise<void> {
  await installWithApt(['mariadb-server'], isInstalled);
  if (!(await isInstalled())) throw new Error(`MariaDB test server: apt-get installed "mariadb-server" but ${MARIADBD} or ${INSTALL_DB} is missing`);
}

async function isInstalled(): Promise<boolean> {
  const usable = await Promise.all([MARIADBD, INSTALL_DB].map((tool) => access(tool, fsConstants.X_OK).then(() => true, () => false)));
  return usable.every(Boolean);
}





/** A test process that dies without calling stop() must not leave servers running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [baseDir, server] of runningServers) {
      server.kill('SIGKILL');
      rmSync(baseDir, { recursive: true, force: true });
    }
  });
}

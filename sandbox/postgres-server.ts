/**
 * A throw-away PostgreSQL server on loopback, for the tests (databases are real servers in
 * tests, never simulators) and for the local Temporal cluster (`npm run cluster`,
 * cluster/start.ts), which keeps its persistence in one.
 *
 * Uses the Debian packages' `initdb`/`pg_ctl` (installing the `postgresql` package when missing,
 * which works as root on CI). Each call gets its own data directory and TCP port on loopback, so
 * callers running in parallel never share a server. PostgreSQL refuses to run as root: when
 * the caller runs as root, the server runs as the `postgres` OS user. Durability is off: a server
 * that crashed is thrown away anyway.
 */
import { chownToUser, findFreePort, installWithApt, runCommand } from './local-machine';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, access } from 'node:fs/promises';
import { constants as fsConstants, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface LocalPostgres {
  /** The TCP port on 127.0.0.1. */
  port: number;
  /** `postgresql://postgres@127.0.0.1:<port>/postgres` (trust auth, no password). */
  adminConnectionString: string;
  /** Stops the server (fast shutdown) and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** Extra `postgresql.conf` lines, e.g. `max_connections = 200`. */
  settings?: readonly string[];
}

const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';
/** A port picked as free can be taken by a parallel process before the server binds it. */
const START_ATTEMPTS = 3;

/** Servers still running in this process: stopped synchronously if the process exits without stop(). */
const runningServers = new Map<string, { pgCtl: string; dataDir: string; runAs: string[] }>();
let exitHookInstalled = false;

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const binDir = await findOrInstallPostgres();
  const runAs = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const baseDir = await mkdtemp(join(tmpdir(), 'omnisync-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'server.log');
  try {
    if (runAs.length > 0) await chownToUser(baseDir, 'postgres');
    await runAsServerUser(runAs, join(binDir, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync',
    ]);
    // Durability off (a crashed server is thrown away anyway), socket in the private directory
    // instead of /var/run/postgresql (which may not exist or be shared).
    await writeFile(join(dataDir, 'postgresql.auto.conf'), [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${baseDir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      ...(options.settings ?? []),
      '',
    ].join('\n'));
    if (runAs.length > 0) await chownToUser(join(dataDir, 'postgresql.auto.conf'), 'postgres');

    const pgCtl = join(binDir, 'pg_ctl');
    const port = await startOnFreePort(runAs, pgCtl, dataDir, logFile);
    runningServers.set(dataDir, { pgCtl, dataDir, runAs });
    installExitHook();

    let stopped = false;
    return {
      port,
      adminConnectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        if (stopped) return;
        stopped = true;
        runningServers.delete(dataDir);
        try {
          await runAsServerUser(runAs, pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30']);
        } finally {
          await rm(baseDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    const running = runningServers.get(dataDir);
    if (running) stopSync(running);
    runningServers.delete(dataDir);
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }
}

async function startOnFreePort(runAs: string[], pgCtl: string, dataDir: string, logFile: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      await runAsServerUser(runAs, pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`]);
      return port;
    } catch (err) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const portTaken = /could not bind|address already in use/i.test(log);
      if (portTaken && attempt < START_ATTEMPTS) continue;
      throw new Error(`PostgreSQL did not start on port ${port}: ${(err as Error).message}\nserver log:\n${log.trim()}`);
    }
  }
}

/** The newest PostgreSQL under /usr/lib/postgresql/<major>/bin, installed with apt when absent. */
async function findOrInstallPostgres(): Promise<string> {
  const found = await findPostgresBinDir();
  if (found) return found;
  await installWithApt(['postgresql'], async () => (await findPostgresBinDir()) !== undefined);
  const installed = await findPostgresBinDir();
  if (!installed) throw new Error(`apt-get installed "postgresql" but no initdb/pg_ctl under ${DEBIAN_POSTGRES_ROOT}/*/bin`);
  return installed;
}

async function findPostgresBinDir(): Promise<string | undefined> {
  const majors = await readdir(DEBIAN_POSTGRES_ROOT).catch(() => [] as string[]);
  const newestFirst = majors.filter((name) => /^\d+(\.\d+)?$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const major of newestFirst) {
    const binDir = join(DEBIAN_POSTGRES_ROOT, major, 'bin');
    const usable = await Promise.all(['initdb', 'pg_ctl'].map((tool) => access(join(binDir, tool), fsConstants.X_OK).then(() => true, () => false)));
    if (usable.every(Boolean)) return binDir;
  }
  return undefined;
}

/** Runs a command (optionally as another user); rejects with the command line and its stderr. */

/** `command` run through the `runAs` prefix (`runuser -u postgres --` as root, nothing otherwise). */
function runAsServerUser(runAs: readonly string[], command: string, args: string[]): Promise<string> {
  const [file, ...rest] = [...runAs, command, ...args];
  return runCommand(file ?? command, rest);
}

function stopSync(server: { pgCtl: string; dataDir: string; runAs: string[] }): void {
  const commandLine = [...server.runAs, server.pgCtl, 'stop', '-D', server.dataDir, '-m', 'immediate', '-w'];
  try {
    execFileSync(commandLine[0] ?? server.pgCtl, commandLine.slice(1), { stdio: 'ignore', cwd: tmpdir() });
  } catch {
    // Already stopped or never started: nothing to clean up.
  }
}

/** A process that dies without calling stop() must not leave servers running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of runningServers.values()) {
      stopSync(server);
      rmSync(dirname(server.dataDir), { recursive: true, force: true });
    }
  });
}

/**
 * What the sandbox servers and the tests' throw-away servers (PostgreSQL, MariaDB, OpenSSH) need
 * of this machine: a free loopback port, files owned by a service user, and turns with the other
 * processes through a lock directory (apt and dpkg refuse to run twice at once, useradd and
 * chpasswd do not like company, and parallel test files or a test beside `npm start` may each
 * want to install a server package).
 */
import { execFile } from 'node:child_process';
import { chown, mkdir, rmdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The one lock every apt-get install of the project takes: dpkg's own lock is machine-wide. */
export const APT_INSTALL_LOCK = 'omnisync-apt-install.lock';

/** Runs `body` while holding the lock `name` (a directory under the temp folder); waits up to 10 minutes for it. */
export async function withMachineLock(name: string, body: () => Promise<void>): Promise<void> {
  const lockDir = join(tmpdir(), name);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`waited 10 minutes for ${lockDir}; remove it if nothing holds it`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await body();
  } finally {
    await rmdir(lockDir).catch(() => undefined);
  }
}

/** A TCP port free on 127.0.0.1 right now (a parallel process may still take it: servers retry). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Gives `path` to an OS user (e.g. `postgres`, `mysql`), for a server that refuses to run as root. */
export async function chownToUser(path: string, user: string): Promise<void> {
  const id = async (flag: '-u' | '-g') => Number((await promisify(execFile)('id', [flag, user])).stdout.trim());
  await chown(path, await id('-u'), await id('-g'));
}

/**
 * Runs a command with the temp folder as working directory (a service user such as `postgres`
 * may not be allowed into the caller's); resolves with its stdout, rejects with the command line
 * and its stderr. `input` is written to its stdin.
 */
export function runCommand(command: string, args: string[], env?: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: env ?? process.env, cwd: tmpdir(), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${[command, ...args].join(' ')}\` failed (${err.code ?? err.signal ?? 'error'}): ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Installs a Debian package unless `isPresent` says it is there, holding APT_INSTALL_LOCK and
 * asking again under it (another process may have installed it meanwhile). Needs root.
 */
export async function installWithApt(packageArgs: string[], isPresent: () => Promise<boolean>): Promise<void> {
  if (await isPresent()) return;
  await withMachineLock(APT_INSTALL_LOCK, async () => {
    if (await isPresent()) return;
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await runCommand('apt-get', ['update', '-qq'], env);
    await runCommand('apt-get', ['install', '-y', '-qq', ...packageArgs], env);
  });
}

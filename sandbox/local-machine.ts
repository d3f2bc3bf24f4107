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

/**
 * Taking turns with the other processes of this machine through a lock directory: apt and dpkg
 * refuse to run twice at once (and useradd and chpasswd do not like company), and parallel test
 * files or a test beside `npm start` may each want to install a server package.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * A real, throw-away OpenSSH SFTP server for tests (databases and SFTP are real servers in
 * tests, never simulators): sandbox/sftp/server.ts, the server the demo runs, started on a
 * free 127.0.0.1 port with its own generated keys and its own temp root holding the drop
 * folders. The `openssh-server` package is installed with apt when `sshd` is missing (works as
 * root on CI), as test/support/postgres.ts installs PostgreSQL.
 *
 * Who logs in: sshd refuses root logins by password, so when the tests run as root the server
 * lets a dedicated OS user in (SFTP_TEST_USER, created when missing) by password and by key.
 * Without root, sshd can only authenticate the user it runs as, and only by key (reading
 * passwords needs root): `password` is then undefined.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../sandbox/sftp/keys';
import { findOrInstallSshd, startSftpServer } from '../../sandbox/sftp/server';
import { runCommand, withMachineLock } from '../../sandbox/local-machine';

/** The OS user the server lets in when the tests run as root. */
export const SFTP_TEST_USER = 'omnisync-sftp';

export interface SftpTestServer {
  host: '127.0.0.1';
  port: number;
  username: string;
  /** The user's password; undefined when the tests do not run as root (key only). */
  password: string | undefined;
  /** The client's private key (PEM, no passphrase), authorized for the user. */
  privateKey: string;
  /** The server's host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:…`. */
  hostKeyFingerprint: string;
  /** The server's file system root of the test (absolute; the SFTP paths are the same). */
  root: string;
  /** Creates a folder under root that the SFTP user owns; returns its absolute path. */
  folder(name: string): Promise<string>;
  /** Stops sshd and deletes the root. Safe to call twice. */
  stop(): Promise<void>;
}

/** Roots of servers still running in this process: deleted if the process exits without stop(). */
const runningRoots = new Set<string>();
let exitHookInstalled = false;

export async function startSftpTestServer(): Promise<SftpTestServer> {
  const sshd = await findOrInstallSshd();
  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? await ensureTestUser() : { username: userInfo().username, password: undefined, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const root = await mkdtemp(join(tmpdir(), 'omnisync-sftp-'));
  try {
    await chmod(root, 0o755);
    const stateDir = join(root, '.sshd');
    const hostKey = generateSshKeyPair('omnisync-test-host');
    const clientKey = generateSshKeyPair('omnisync-test-client');
    await mkdir(stateDir, { mode: 0o711 });
    const hostKeyFile = join(stateDir, 'host_key');
    await writeFile(hostKeyFile, hostKey.privateKey, { mode: 0o600 });
    const server = await startSftpServer({
      sshd,
      stateDir,
      hostKeyFile,
      username: account.username,
      authorizedKeys: [clientKey.publicKeyLine],
      passwordAuthentication: asRoot,
      port: 'any',
    });
    runningRoots.add(root);
    installExitHook();
    let stopped = false;
    return {
      host: '127.0.0.1',
      port: server.port,
      username: account.username,
      password: account.password,
      privateKey: clientKey.privateKey,
      hostKeyFingerprint: hostKey.fingerprint,
      root,
      async folder(name) {
        const path = join(root, name);
        await mkdir(path, { recursive: true });
        await chown(path, account.uid, account.gid);
        return path;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop();
        runningRoots.delete(root);
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/** `256 SHA256:abc… comment (ED25519)` → `SHA256:abc…`. */
export function fingerprintOf(sshKeygenLine: string): string {
  const match = /\b(SHA256:[A-Za-z0-9+/]+)/.exec(sshKeygenLine);
  if (!match?.[1]) throw new Error(`ssh-keygen -l printed no SHA256 fingerprint: ${sshKeygenLine.trim()}`);
  return match[1];
}

/**
 * The dedicated SFTP user, created when missing, with a password generated once per machine
 * and kept (root only) beside the install lock, so test files running in parallel agree on it.
 */
async function ensureTestUser(): Promise<{ username: string; password: string; uid: number; gid: number }> {
  const passwordFile = join(tmpdir(), 'omnisync-sftp-user.password');
  let password = '';
  await withMachineLock('omnisync-sftp-user.lock', async () => {
    const exists = await runCommand('id', ['-u', SFTP_TEST_USER]).then(() => true, () => false);
    if (!exists) await runCommand('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', SFTP_TEST_USER]);
    password = (await readFile(passwordFile, 'utf8').catch(() => '')).trim();
    if (password === '') {
      password = randomBytes(18).toString('base64url');
      await writeFile(passwordFile, password, { mode: 0o600 });
    }
    await runCommand('chpasswd', [], undefined, `${SFTP_TEST_USER}:${password}\n`);
  });
  const uid = Number((await runCommand('id', ['-u', SFTP_TEST_USER])).trim());
  const gid = Number((await runCommand('id', ['-g', SFTP_TEST_USER])).trim());
  return { username: SFTP_TEST_USER, password, uid, gid };
}

/** A test process that dies without calling stop() leaves no root behind (server.ts kills its sshd). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const root of runningRoots) rmSync(root, { recursive: true, force: true });
  });
}

/**
 * A real, throw-away OpenSSH SFTP server for tests (DESIGN.md §6: "Databases and SFTP are real
 * servers, not simulators").
 *
 * Each call starts its own `sshd` on a free 127.0.0.1 port, with its own generated host key,
 * its own config file (no PAM, `Subsystem sftp internal-sftp`, `ForceCommand internal-sftp`)
 * and its own temp root holding the drop folders. The `openssh-server` package is installed
 * with apt when `sshd` is missing (works as root on CI), as test/support/postgres.ts installs
 * PostgreSQL.
 *
 * Who logs in: sshd refuses root logins, so when the tests run as root the server lets a
 * dedicated OS user in (SFTP_TEST_USER, created when missing) by password and by key. Without
 * root, sshd can only authenticate the user it runs as, and only by key (reading passwords
 * needs root): `password` is then undefined.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, rmdir, writeFile, access } from 'node:fs/promises';
import { constants as fsConstants, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The OS user the server lets in when the tests run as root. */
export const SFTP_TEST_USER = 'omnisync-sftp';

export interface SftpTestServer {
  host: '127.0.0.1';
  port: number;
  username: string;
  /** The user's password; undefined when the tests do not run as root (key only). */
  password: string | undefined;
  /** The client's private key (OpenSSH format, no passphrase), authorized for the user. */
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

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/bin/sshd'];
const START_ATTEMPTS = 3;

/** Servers still running in this process: killed if the process exits without stop(). */
const runningServers = new Map<string, ChildProcess>();
let exitHookInstalled = false;

export async function startSftpTestServer(): Promise<SftpTestServer> {
  const sshd = await findOrInstallSshd();
  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? await ensureTestUser() : { username: userInfo().username, password: undefined, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const root = await mkdtemp(join(tmpdir(), 'omnisync-sftp-'));
  const stateDir = join(root, '.sshd');
  let child: ChildProcess | undefined;
  try {
    // sshd reads authorized_keys as the user logging in: the folders are traversable by anyone,
    // the host's private key stays readable by its owner only (ssh-keygen writes it 0600).
    await mkdir(stateDir, { mode: 0o711 });
    await chmod(root, 0o755);
    const hostKey = join(stateDir, 'host_ed25519');
    const clientKey = join(stateDir, 'client_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'omnisync-test-host', '-f', hostKey]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'omnisync-test-client', '-f', clientKey]);
    const hostKeyFingerprint = fingerprintOf(await run('ssh-keygen', ['-l', '-f', `${hostKey}.pub`]));
    const authorizedKeys = join(stateDir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`, 'utf8'), { mode: 0o644 });
    // sshd's privilege separation needs this directory when it runs as root.
    if (asRoot) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      const configFile = join(stateDir, 'sshd_config');
      await writeFile(configFile, sshdConfig({ port, stateDir, hostKey, authorizedKeys, username: account.username, asRoot }));
      const started = await startSshd(sshd, configFile, port);
      if (started.ok) {
        child = started.child;
        runningServers.set(root, child);
        installExitHook();
        let stopped = false;
        return {
          host: '127.0.0.1',
          port,
          username: account.username,
          password: account.password,
          privateKey: await readFile(clientKey, 'utf8'),
          hostKeyFingerprint,
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
            runningServers.delete(root);
            await stopChild(started.child);
            await rm(root, { recursive: true, force: true });
          },
        };
      }
      if (!started.portTaken || attempt >= START_ATTEMPTS) throw new Error(`sshd test server did not start on port ${port}:\n${started.log.trim()}`);
    }
  } catch (err) {
    if (child) await stopChild(child);
    runningServers.delete(root);
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

function sshdConfig(options: { port: number; stateDir: string; hostKey: string; authorizedKeys: string; username: string; asRoot: boolean }): string {
  return [
    `Port ${options.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${options.hostKey}`,
    `PidFile ${join(options.stateDir, 'sshd.pid')}`,
    'UsePAM no',
    // Without root, sshd cannot read password hashes: key only.
    `PasswordAuthentication ${options.asRoot ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${options.authorizedKeys}`,
    // The test's temp files are owned by whoever runs the tests, not by the SFTP user.
    'StrictModes no',
    'PermitRootLogin no',
    `AllowUsers ${options.username}`,
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/** Starts `sshd -D -e` and waits until its port accepts connections (or it exits). */
async function startSshd(sshd: string, configFile: string, port: number): Promise<{ ok: true; child: ChildProcess } | { ok: false; portTaken: boolean; log: string }> {
  // sshd wants to be started by its absolute path (it re-executes itself).
  const child = spawn(sshd, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited) return { ok: false, portTaken: /address already in use|bind.*failed/i.test(log), log };
    if (await accepts(port)) return { ok: true, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stopChild(child);
  return { ok: false, portTaken: false, log: `${log}\n(sshd did not listen within 15 s)` };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
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
  await withLock('omnisync-sftp-user.lock', async () => {
    const exists = await run('id', ['-u', SFTP_TEST_USER]).then(() => true, () => false);
    if (!exists) await run('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', SFTP_TEST_USER]);
    password = (await readFile(passwordFile, 'utf8').catch(() => '')).trim();
    if (password === '') {
      password = randomBytes(18).toString('base64url');
      await writeFile(passwordFile, password, { mode: 0o600 });
    }
    await runWithInput('chpasswd', [], `${SFTP_TEST_USER}:${password}\n`);
  });
  const uid = Number((await run('id', ['-u', SFTP_TEST_USER])).trim());
  const gid = Number((await run('id', ['-g', SFTP_TEST_USER])).trim());
  return { username: SFTP_TEST_USER, password, uid, gid };
}

async function findOrInstallSshd(): Promise<string> {
  const found = await findSshd();
  if (found) return found;
  await withLock('omnisync-sshd-install.lock', async () => {
    if (await findSshd()) return; // another test file installed it meanwhile
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], env);
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'openssh-server'], env);
  });
  const installed = await findSshd();
  if (!installed) throw new Error(`SFTP test server: apt-get installed "openssh-server" but found no sshd at ${SSHD_CANDIDATES.join(' or ')}`);
  return installed;
}

async function findSshd(): Promise<string | undefined> {
  for (const candidate of SSHD_CANDIDATES) {
    if (await access(candidate, fsConstants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** Parallel test files take turns through a lock directory (apt, useradd and chpasswd do not like company). */
async function withLock(name: string, body: () => Promise<void>): Promise<void> {
  const lockDir = join(tmpdir(), name);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`SFTP test server: waited 10 minutes for ${lockDir}; remove it if nothing holds it`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await body();
  } finally {
    await rmdir(lockDir).catch(() => undefined);
  }
}

function findFreePort(): Promise<number> {
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

/** Runs a command; rejects with the command line and its stderr. */
function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: env ?? process.env, cwd: tmpdir(), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${[command, ...args].join(' ')}\` failed (${err.code ?? err.signal ?? 'error'}): ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

function runWithInput(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd: tmpdir() }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`\`${command}\` failed (${err.code ?? err.signal ?? 'error'}): ${String(stderr).trim() || err.message}`));
      else resolve();
    });
    child.stdin?.end(input);
  });
}

/** A test process that dies without calling stop() must not leave sshd running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [root, child] of runningServers) {
      child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
}


/**
 * A real OpenSSH SFTP server on loopback: the demo's partner drop (`omnisync dev`) and the
 * throw-away server of the legacy-files tests (test/support/sftp-server.ts) both run this.
 *
 * sshd runs with its own config file (no PAM, `ForceCommand internal-sftp`, no forwarding, no
 * TTY), its own host key, its own authorized_keys, and lets in exactly one user. Without root,
 * sshd can authenticate only the user it runs as, and only by key (reading password hashes
 * needs root).
 *
 * The sandbox server (`startSandboxSftpServer`) keeps everything under `<dataDir>/sftp/`: its
 * host key (so the fingerprint the demo config pins stays the same across restarts), the
 * client's key, and the drop root with the connector's inbox, archive and error folders, where
 * the SFTP session starts (`internal-sftp -d`), so the config names them relative
 * (`inbox`, …) and holds no path of this machine.
 */
import { findFreePort, installWithApt } from '../local-machine';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ensureSshKeyPair } from './keys';
import { dieWithParent } from '../../temporal/dev-server';

/** Where Debian's openssh-server puts sshd (other distributions: /usr/bin). */
export const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/bin/sshd'];
/** How long sshd may take to listen. */
const LISTEN_TIMEOUT_MS = 15_000;
/** Free ports tried when another process takes the one picked first (port: 'any'). */
const START_ATTEMPTS = 3;

export interface SftpServerOptions {
  /** Absolute path of the sshd binary (`findSshd`); sshd re-executes itself by it. */
  sshd: string;
  /** Folder for the sshd config, pid file and authorized_keys (created when missing). */
  stateDir: string;
  /** The host key file (private key; sshd wants it readable by its owner only). */
  hostKeyFile: string;
  /** The one user let in. */
  username: string;
  /** authorized_keys lines of that user. */
  authorizedKeys: string[];
  /** Also by password (needs sshd to run as root). Default false. */
  passwordAuthentication?: boolean;
  /** A fixed loopback port, or 'any' free one. */
  port: number | 'any';
  /** Folder the SFTP session starts in (relative paths resolve against it). Default the user's home. */
  startDirectory?: string;
}

export interface RunningSftpServer {
  host: '127.0.0.1';
  port: number;
  /** Stops sshd (SIGTERM, SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

/** sshd processes of this process: killed if it exits without stop(), so none outlives it. */
const runningSshds = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startSftpServer(options: SftpServerOptions): Promise<RunningSftpServer> {
  const asRoot = process.getuid?.() === 0;
  // Traversable by anyone: sshd reads authorized_keys as the user logging in.
  await mkdir(options.stateDir, { recursive: true, mode: 0o711 });
  const authorizedKeys = join(options.stateDir, 'authorized_keys');
  await writeFile(authorizedKeys, `${options.authorizedKeys.join('\n')}\n`, { mode: 0o644 });
  // sshd's privilege separation needs this directory when it runs as root.
  if (asRoot) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const configFile = join(options.stateDir, 'sshd_config');

  for (let attempt = 1; ; attempt++) {
    const port = options.port === 'any' ? await findFreePort() : options.port;
    await writeFile(configFile, sshdConfig({ ...options, port, authorizedKeysFile: authorizedKeys }));
    const started = await startSshd(options.sshd, configFile, port);
    if (started.ok) {
      const child = started.child;
      runningSshds.add(child);
      installExitHook();
      return {
        host: '127.0.0.1',
        port,
        async stop() {
          runningSshds.delete(child);
          await stopChild(child);
        },
      };
    }
    if (options.port !== 'any' || !started.portTaken || attempt >= START_ATTEMPTS) {
      throw new Error(`sshd did not start on 127.0.0.1:${port}${started.portTaken ? ' (the port is taken)' : ''}: ${started.log.trim() || 'no output'}`);
    }
  }
}

function sshdConfig(options: Omit<SftpServerOptions, 'port' | 'authorizedKeys'> & { port: number; authorizedKeysFile: string }): string {
  const loginIsRoot = options.username === 'root';
  return [
    `Port ${options.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${options.hostKeyFile}`,
    `PidFile ${join(options.stateDir, 'sshd.pid')}`,
    'UsePAM no',
    `PasswordAuthentication ${options.passwordAuthentication === true ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${options.authorizedKeysFile}`,
    // The key files belong to whoever runs the server, not necessarily to the SFTP user.
    'StrictModes no',
    // Root only by key, and only when the server was told to let root in (the demo run as root).
    `PermitRootLogin ${loginIsRoot ? 'prohibit-password' : 'no'}`,
    `AllowUsers ${options.username}`,
    'Subsystem sftp internal-sftp',
    `ForceCommand internal-sftp${options.startDirectory === undefined ? '' : ` -d ${options.startDirectory}`}`,
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/**
 * Starts `sshd -D -e` and waits until its port accepts connections (or it exits). sshd runs in a
 * process group of its own, so a Ctrl-C in the terminal does not reach it: its owner stops it
 * (`stop()`, SIGTERM) when it is ready to. It gets SIGTERM when this process dies, `kill -9`
 * included, on Linux with `setpriv` (see dieWithParent); elsewhere it is killed on exit only.
 */
async function startSshd(sshd: string, configFile: string, port: number): Promise<{ ok: true; child: ChildProcess } | { ok: false; portTaken: boolean; log: string }> {
  const [command, args] = await dieWithParent(sshd, ['-D', '-e', '-f', configFile]);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) return { ok: false, portTaken: /address already in use|bind.*failed/i.test(log), log };
    if (await accepts(port)) return { ok: true, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stopChild(child);
  return { ok: false, portTaken: false, log: `${log}\n(sshd did not listen within ${LISTEN_TIMEOUT_MS / 1000} s)` };
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
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of runningSshds) child.kill('SIGKILL');
  });
}

export async function findSshd(): Promise<string | undefined> {
  for (const candidate of SSHD_CANDIDATES) {
    if (await access(candidate, fsConstants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/**
 * sshd, installed with apt-get (`openssh-server`) when missing: only root can, so callers that
 * may run without root check `findSshd` first. Parallel callers take turns through a lock.
 */
export async function findOrInstallSshd(): Promise<string> {
  const found = await findSshd();
  if (found) return found;
  await installWithApt(['--no-install-recommends', 'openssh-server'], async () => (await findSshd()) !== undefined);
  const installed = await findSshd();
  if (!installed) throw new Error(`apt-get installed "openssh-server" but there is no sshd at ${SSHD_CANDIDATES.join(' or ')}`);
  return installed;
}


// ---- the demo's partner drop ----

/** The sandbox SFTP server's files under the data directory; the demo config references some by `${file:…}`. */
export function sandboxSftpPaths(dataDir: string) {
  const dir = join(dataDir, 'sftp');
  return {
    dir,
    hostKey: join(dir, 'host_key'),
    /** The host key's fingerprint: the demo config pins it (`sftp.hostKey: ${file:./data/sftp/host_key.fingerprint}`). */
    hostKeyFingerprint: join(dir, 'host_key.fingerprint'),
    /** The client's private key: the demo config's `sftp.privateKey`. */
    clientKey: join(dir, 'client_key'),
    /** The user sshd lets in (the one running it): the demo config's `sftp.username`. */
    username: join(dir, 'username'),
    sshdState: join(dir, 'sshd'),
    /** Where SFTP sessions start; the connector's folders are relative to it. */
    dropRoot: join(dir, 'drop'),
  };
}

export interface SandboxSftpIdentity {
  username: string;
  hostKeyFingerprint: string;
  clientKey: string;
  clientPublicKeyLine: string;
}

/**
 * The keys and the user name the demo config reads, created once under `<dataDir>/sftp/` and
 * kept: `omnisync dev` calls this before loading the config, which references them, and it
 * needs no OpenSSH (keys.ts).
 */
export async function prepareSandboxSftpIdentity(dataDir: string): Promise<SandboxSftpIdentity> {
  const paths = sandboxSftpPaths(dataDir);
  const host = await ensureSshKeyPair(paths.hostKey, 'omnisync-sandbox-sftp-host');
  const client = await ensureSshKeyPair(paths.clientKey, 'omnisync-sandbox-sftp-client');
  // sshd without root can let in only the user it runs as; as root, that is root (by key only).
  const username = userInfo().username;
  await writeFile(paths.hostKeyFingerprint, `${host.fingerprint}\n`);
  await writeFile(paths.username, `${username}\n`);
  return { username, hostKeyFingerprint: host.fingerprint, clientKey: client.privateKey, clientPublicKeyLine: client.publicKeyLine };
}

export interface SandboxSftpOptions {
  dataDir: string;
  /** The loopback port the demo connector connects to. */
  port: number;
  /** Folders the connector uses, relative to the drop root (created when missing). */
  folders: string[];
}

export interface RunningSandboxSftp {
  port: number;
  username: string;
  hostKeyFingerprint: string;
  /** The drop root on this machine; the connector's relative folders are under it. */
  dropRoot: string;
  stop(): Promise<void>;
}

/** The one line `omnisync dev` prints when there is no sshd and it may not install one. */
export const SFTP_DEMO_SKIPPED_NO_SSHD = `SFTP demo skipped: no sshd at ${SSHD_CANDIDATES.join(' or ')}; to enable the partner warehouse's file drop, install it (apt-get install openssh-server) and run npm start again`;

/**
 * Starts the demo's SFTP server, or says why it is skipped. Without sshd, root installs
 * openssh-server with apt-get; anyone else gets `SFTP_DEMO_SKIPPED_NO_SSHD` and nothing is
 * installed.
 */
export async function startSandboxSftpServer(options: SandboxSftpOptions): Promise<{ ok: true; server: RunningSandboxSftp } | { ok: false; skipped: string }> {
  const asRoot = process.getuid?.() === 0;
  let sshd = await findSshd();
  if (sshd === undefined) {
    if (!asRoot) return { ok: false, skipped: SFTP_DEMO_SKIPPED_NO_SSHD };
    try {
      sshd = await findOrInstallSshd();
    } catch (err) {
      return { ok: false, skipped: `SFTP demo skipped: installing openssh-server failed (${(err as Error).message.split('\n')[0]}); install it (apt-get install openssh-server) and run npm start again` };
    }
  }
  const paths = sandboxSftpPaths(options.dataDir);
  const identity = await prepareSandboxSftpIdentity(options.dataDir);
  for (const folder of options.folders) await mkdir(join(paths.dropRoot, folder), { recursive: true });
  try {
    const server = await startSftpServer({
      sshd,
      stateDir: paths.sshdState,
      hostKeyFile: paths.hostKey,
      username: identity.username,
      authorizedKeys: [identity.clientPublicKeyLine],
      port: options.port,
      startDirectory: paths.dropRoot,
    });
    return { ok: true, server: { port: server.port, username: identity.username, hostKeyFingerprint: identity.hostKeyFingerprint, dropRoot: paths.dropRoot, stop: () => server.stop() } };
  } catch (err) {
    return { ok: false, skipped: `SFTP demo skipped: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * SFTP transport of the legacy-files connector (ssh2-sftp-client over ssh2): one session per
 * read, the host key pinned, failures translated into core/errors kinds. No file handling
 * rules here (ingest.ts).
 *
 * - The server's host key must have the configured SHA-256 fingerprint; any other key ends the
 *   handshake before a password or key is offered (config error: a retry will not fix it).
 * - Refused credentials: auth error. Refused or dropped connections, timeouts: transient.
 */
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Logger } from 'pino';
import SftpClient from 'ssh2-sftp-client';
import { authError, configError, isTransientNetworkCode, OmnisyncError, transientError } from '../../core/errors';
import type { LegacyFilesConfig, SftpConfig } from './config';
import type { ListedFile } from './file-names';

/** `SHA256:` and the unpadded base64 SHA-256 of the key blob, as `ssh-keygen -lf` prints it. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The config path of a folder, for messages. */
export type FolderName = keyof LegacyFilesConfig['folders'];

export class SftpSession {
  constructor(
    private readonly client: SftpClient,
    private readonly folders: LegacyFilesConfig['folders'],
  ) {}

  path(folder: FolderName, name: string): string {
    return posix.join(this.folders[folder], name);
  }

  /** Regular files of a folder. A missing folder is a config error naming it. */
  async list(folder: FolderName): Promise<ListedFile[]> {
    const entries = await this.call(`list folders.${folder}`, () => this.client.list(this.folders[folder]), folder);
    return entries.filter((entry) => entry.type === '-').map((entry) => ({ name: entry.name, size: entry.size, modifiedAt: entry.modifyTime }));
  }

  async read(folder: FolderName, name: string): Promise<Buffer> {
    return this.call(`read ${name}`, async () => (await this.client.get(this.path(folder, name))) as Buffer);
  }

  async exists(folder: FolderName, name: string): Promise<boolean> {
    return this.call(`look for ${name}`, async () => (await this.client.exists(this.path(folder, name))) !== false);
  }

  async folderExists(folder: FolderName): Promise<boolean> {
    return this.call(`look for folders.${folder}`, async () => (await this.client.exists(this.folders[folder])) === 'd');
  }

  /** Moves a file between folders; fails if the target exists (SFTP rename never overwrites). */
  async move(from: FolderName, name: string, to: FolderName, newName: string = name): Promise<void> {
    await this.call(`move ${name} to folders.${to}`, () => this.client.rename(this.path(from, name), this.path(to, newName)), to);
  }

  async remove(folder: FolderName, name: string): Promise<void> {
    await this.call(`delete ${name}`, () => this.client.delete(this.path(folder, name), true));
  }

  /**
   * Writes a file so that it appears whole or not at all: under a dot-name first (readers of
   * the folder skip those), then renamed in place (OpenSSH's posix-rename replaces an earlier
   * file of the name atomically).
   */
  async writeAtomically(folder: FolderName, name: string, content: Buffer): Promise<void> {
    const temporary = `.${name}.${randomBytes(4).toString('hex')}.tmp`;
    await this.call(`write ${name}`, () => this.client.put(content, this.path(folder, temporary)), folder);
    try {
      await this.call(`rename ${temporary} to ${name}`, () => this.client.posixRename(this.path(folder, temporary), this.path(folder, name)), folder);
    } catch (err) {
      await this.client.delete(this.path(folder, temporary), true).catch(() => undefined);
      throw err;
    }
  }

  private async call<T>(what: string, action: () => Promise<T>, folder?: FolderName): Promise<T> {
    try {
      return await action();
    } catch (err) {
      throw translateOperationError(err, what, folder === undefined ? undefined : { name: folder, path: this.folders[folder] });
    }
  }
}

export class LegacyFilesSftp {
  constructor(
    private readonly connectorId: string,
    private readonly config: Pick<LegacyFilesConfig, 'sftp' | 'folders'>,
    private readonly logger: Logger,
  ) {}

  /** Label for messages and logs: host and port, never credentials. */
  get label(): string {
    return `${this.config.sftp.host}:${this.config.sftp.port}`;
  }

  /** Opens a session, runs `body`, and closes the session whatever happens. */
  async withSession<T>(body: (session: SftpSession) => Promise<T>): Promise<T> {
    const client = new SftpClient(`omnisync-${this.connectorId}`);
    await this.connect(client, this.config.sftp);
    try {
      return await body(new SftpSession(client, this.config.folders));
    } finally {
      await client.end().catch((err: unknown) => this.logger.debug({ connector: this.connectorId, err: (err as Error).message }, 'legacy-files: closing the SFTP session failed'));
    }
  }

  private async connect(client: SftpClient, sftp: SftpConfig): Promise<void> {
    let presented: string | undefined;
    try {
      await client.connect({
        host: sftp.host,
        port: sftp.port,
        username: sftp.username,
        ...(sftp.password === undefined ? {} : { password: sftp.password }),
        ...(sftp.privateKey === undefined ? {} : { privateKey: sftp.privateKey }),
        ...(sftp.passphrase === undefined ? {} : { passphrase: sftp.passphrase }),
        readyTimeout: sftp.timeoutMs,
        // Retries are the activity's (with backoff and a visible attempt count), not hidden here.
        retries: 0,
        hostVerifier: (key: Buffer) => {
          presented = hostKeyFingerprint(key);
          return presented === sftp.hostKey;
        },
      });
    } catch (err) {
      await client.end().catch(() => undefined);
      if (presented !== undefined && presented !== sftp.hostKey) {
        throw configError(
          `legacy-files: the SFTP server ${this.label} presented host key ${presented}, but sftp.hostKey is ${sftp.hostKey}: refusing to connect ` +
            `(if the server's key was replaced on purpose, pin the new one: ssh-keyscan -p ${sftp.port} ${sftp.host} | ssh-keygen -lf -)`,
        );
      }
      throw translateConnectError(err, this.label, sftp);
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors of connecting, as kinds. Messages name the server and the config fields, never secrets. */
export function translateConnectError(err: unknown, label: string, sftp: Pick<SftpConfig, 'username' | 'password' | 'privateKey'>): OmnisyncError {
  if (err instanceof OmnisyncError) return err;
  const message = messageOf(err);
  if (/authentication methods failed/i.test(message)) {
    const methods = [sftp.password === undefined ? undefined : 'sftp.password', sftp.privateKey === undefined ? undefined : 'sftp.privateKey'].filter((m) => m !== undefined).join(' and ');
    return authError(`legacy-files: the SFTP server ${label} refused user "${sftp.username}" with ${methods}`);
  }
  if (/privateKey|private key|Unsupported key format|passphrase/i.test(message)) {
    return configError(`legacy-files: sftp.privateKey cannot be used: ${message.replace(/^getConnection: /, '')} (expected an OpenSSH or PEM private key, e.g. \${file:keys/erp_ed25519}; sftp.passphrase when it is encrypted)`);
  }
  const code = codeOf(err) ?? /\b(E[A-Z]+)\b/.exec(message)?.[1];
  const detail = message.replace(/^getConnection: /, '');
  if (isTransientNetworkCode(code) || /timed out|timeout/i.test(message)) return transientError(`legacy-files: cannot reach the SFTP server ${label}: ${detail}`, { status: code, cause: err });
  return transientError(`legacy-files: connecting to the SFTP server ${label} failed: ${detail}`, { status: code, cause: err });
}

/** Errors of a file operation: a missing or forbidden folder is config; the rest transient. */
function translateOperationError(err: unknown, what: string, folder: { name: FolderName; path: string } | undefined): OmnisyncError {
  if (err instanceof OmnisyncError) return err;
  const message = messageOf(err);
  const code = codeOf(err);
  // ssh2 reports SFTP status codes as numbers: 2 no such file, 3 permission denied.
  const status = (err as { code?: unknown } | null)?.code;
  if (folder !== undefined && (status === 2 || /no such file/i.test(message)) && /^list|^look for folders/.test(what)) {
    return configError(`legacy-files: folders.${folder.name} "${folder.path}" does not exist on the SFTP server`);
  }
  if (folder !== undefined && (status === 3 || /permission denied/i.test(message))) {
    return configError(`legacy-files: the SFTP user may not ${what} in folders.${folder.name} "${folder.path}" (permission denied)`);
  }
  return transientError(`legacy-files: could not ${what}: ${message}`, { status: code, cause: err });
}

/**
 * SSH key pairs for the sandbox SFTP server and its client, made with node:crypto alone.
 *
 * ECDSA P-256 in traditional PEM (`BEGIN EC PRIVATE KEY`): both OpenSSH's sshd (as a host key)
 * and ssh2 (the legacy-files connector's client) read it, and Node writes it without
 * `ssh-keygen`. That matters to `omnisync dev`: the demo config references the client key and
 * the host key's fingerprint as files, so they must exist before the config is loaded, also on
 * a machine without OpenSSH (where the SFTP demo is then skipped).
 */
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const KEY_TYPE = 'ecdsa-sha2-nistp256';
const CURVE = 'nistp256';

export interface SshKeyPair {
  /** The private key, PEM (no passphrase). */
  privateKey: string;
  /** The public key as one authorized_keys line: `ecdsa-sha2-nistp256 AAAA… comment`. */
  publicKeyLine: string;
  /** SHA-256 fingerprint of the public key as `ssh-keygen -lf` prints it: `SHA256:` and 43 characters. */
  fingerprint: string;
}

export function generateSshKeyPair(comment: string): SshKeyPair {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return sshKeyPairOf(privateKey, comment);
}

/** The public parts of a PEM ECDSA P-256 private key. */
export function sshKeyPairOf(privateKey: string, comment: string): SshKeyPair {
  const jwk = createPrivateKey(privateKey).export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) throw new Error(`expected an ECDSA P-256 private key, got ${jwk.kty ?? 'an unknown key'} ${jwk.crv ?? ''}`.trim());
  // RFC 5656: string "ecdsa-sha2-nistp256", string "nistp256", string Q (0x04 || x || y).
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  const blob = Buffer.concat([sshString(Buffer.from(KEY_TYPE)), sshString(Buffer.from(CURVE)), sshString(point)]);
  return {
    privateKey,
    publicKeyLine: `${KEY_TYPE} ${blob.toString('base64')} ${comment}`,
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
  };
}

/**
 * The key pair kept in `file` (PEM, mode 0600), generated and written there when the file does
 * not exist yet: a key that survives restarts keeps its fingerprint, so pinned clients go on
 * trusting it.
 */
export async function ensureSshKeyPair(file: string, comment: string): Promise<SshKeyPair> {
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined) return sshKeyPairOf(existing, comment);
  const pair = generateSshKeyPair(comment);
  await mkdir(dirname(file), { recursive: true });
  // 'wx': two starts racing for the same file must not both write a key and pin different ones.
  await writeFile(file, pair.privateKey, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return sshKeyPairOf(await readFile(file, 'utf8'), comment);
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

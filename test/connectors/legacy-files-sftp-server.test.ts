/**
 * The throw-away OpenSSH server the legacy-files tests run against (test/support/sftp-server.ts):
 * it serves SFTP on loopback, lets its user in by key (and by password when the tests run as
 * root), and presents the host key whose fingerprint it reports.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSftpTestServer, type SftpTestServer } from '../support/sftp-server';

describe('SFTP test server', () => {
  let server: SftpTestServer;

  beforeAll(async () => {
    server = await startSftpTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lets the user in by key, presents the reported host key, and serves the folders it made', async () => {
    const inbox = await server.folder('inbox');
    await writeFile(join(inbox, 'hello.txt'), 'Łódź');
    const client = new SftpClient();
    let presented = '';
    await client.connect({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
      hostVerifier: (key: Buffer) => {
        presented = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        return true;
      },
    });
    try {
      expect(presented).toBe(server.hostKeyFingerprint);
      expect((await client.list(inbox)).map((entry) => entry.name)).toEqual(['hello.txt']);
      expect(((await client.get(join(inbox, 'hello.txt'))) as Buffer).toString('utf8')).toBe('Łódź');
      await client.rename(join(inbox, 'hello.txt'), join(inbox, 'moved.txt'));
      expect(await readFile(join(inbox, 'moved.txt'), 'utf8')).toBe('Łódź');
    } finally {
      await client.end();
    }
  });

  it('lets the user in by password when the tests run as root', async () => {
    if (server.password === undefined) {
      expect(process.getuid?.()).not.toBe(0);
      return;
    }
    const client = new SftpClient();
    await client.connect({ host: server.host, port: server.port, username: server.username, password: server.password });
    try {
      expect(await client.exists(server.root)).toBe('d');
    } finally {
      await client.end();
    }
  });

  it('refuses a wrong password', async () => {
    const client = new SftpClient();
    await expect(client.connect({ host: server.host, port: server.port, username: server.username, password: 'not-the-password', retries: 0 })).rejects.toThrow(/authentication/i);
    await client.end().catch(() => undefined);
  });
});

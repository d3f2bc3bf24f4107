/**
 * `connectors check` for legacy-files: connects (the host key must match the pinned one, the
 * credentials must be accepted), finds the three folders, and proves that the archive and error
 * folders (and the inbox, from which files are moved) are writable, by writing and removing a
 * probe file in each.
 */
import { randomBytes } from 'node:crypto';
import { configError } from '../../core/errors';
import type { CheckResult } from '../contract';
import type { FolderName, LegacyFilesSftp } from './client';
import type { LegacyFilesConfig } from './config';
import { readyFiles } from './file-names';

const FOLDERS: readonly FolderName[] = ['inbox', 'archive', 'error'];

export async function checkLegacyFiles(client: LegacyFilesSftp, config: LegacyFilesConfig): Promise<CheckResult> {
  return client.withSession(async (session) => {
    for (const folder of FOLDERS) {
      if (!(await session.folderExists(folder))) throw configError(`legacy-files: folders.${folder} "${config.folders[folder]}" does not exist on the SFTP server ${client.label}`);
    }
    for (const folder of FOLDERS) {
      // A dot-name: readers of the folder (and this connector) skip it.
      const probe = `.omnisync-check-${randomBytes(4).toString('hex')}`;
      await session.writeAtomically(folder, probe, Buffer.from('omnisync connectors check\n'));
      await session.remove(folder, probe);
    }
    const listing = await session.list('inbox');
    const stock = readyFiles(listing, config, 'stock').length;
    const prices = readyFiles(listing, config, 'price').length;
    return {
      ok: true,
      detail:
        `connected to ${client.label} as ${config.sftp.username} (host key ${config.sftp.hostKey} matches); ` +
        `inbox "${config.folders.inbox}": ${listing.length} files, ${stock} stock and ${prices} price files ready; inbox, archive and error folders writable`,
    };
  });
}

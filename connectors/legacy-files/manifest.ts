/**
 * Connector kind `legacy-files`: stock and prices from files a legacy ERP or a warehouse drops
 * on an SFTP server (CSV in any of the usual encodings, EDIFACT INVRPT and PRICAT).
 *
 * A read takes the complete files out of the inbox, applies them to the connector's memory in
 * the hub's state store and archives them (ingest.ts, memory.ts), then pages through that
 * memory: full reads every SKU the files ever reported, delta reads the SKUs that files changed
 * since the sync's stored cursor (source.ts). Half-written files wait for their marker or final
 * name; a file delivered again is archived without being applied; an older file never
 * overwrites newer data of a SKU and location (or price list); a bad line is quarantined with
 * its file and line while the rest applies; an unreadable file goes to the error folder with a
 * reason file. docs/files-over-sftp.md is the operator's guide.
 */
import type { PriceListEntry } from '../../core/price-rules';
import { defineConnector } from '../contract';
import { checkLegacyFiles } from './check';
import { LegacyFilesSftp } from './client';
import { LegacyFilesConfig } from './config';
import { FileMemory } from './memory';
import { FilePriceSource, PRICE_FILES } from './price-source';
import type { StockValue } from './report';
import { FileSource } from './source';
import { FileStockSource, STOCK_FILES } from './stock-source';

export const legacyFilesManifest = defineConnector({
  kind: 'legacy-files',
  title: 'Legacy ERP or warehouse files over SFTP (CSV, EDIFACT INVRPT and PRICAT)',
  configSchema: LegacyFilesConfig,
  secretFields: ['sftp.password', 'sftp.privateKey', 'sftp.passphrase'],
  maxPageSize: (config) => config.pageSize,
  // One SFTP session per read; the server's limits are on sessions, not requests.
  rateBudget: () => ({ kind: 'unlimited' }),
  missingFor: (capability, config) => {
    const entity = capability === 'stock.read' ? 'stock' : capability === 'price.read' ? 'price' : undefined;
    if (entity === undefined || config.files.some((pattern) => pattern.entity === entity)) return undefined;
    return `reading ${entity === 'stock' ? 'stock' : 'prices'} needs a file pattern with entity: ${entity} in files`;
  },
  connect: (id, config, deps) => new LegacyFilesSftp(id, config, deps.logger),
  check: (client, config) => checkLegacyFiles(client, config),
  close: async () => undefined,
  operations: {
    'stock.read': ({ id, config, client, deps }) =>
      new FileStockSource(new FileSource<StockValue, StockValue>(id, client, config, new FileMemory<StockValue>(deps.crosswalk, 'stock'), STOCK_FILES, deps.logger)),
    'price.read': ({ id, config, client, deps }) =>
      new FilePriceSource(new FileSource<PriceListEntry, PriceListEntry[]>(id, client, config, new FileMemory<PriceListEntry[]>(deps.crosswalk, 'price'), PRICE_FILES, deps.logger)),
  },
});

/**
 * The demo's partner drop (`npm start`): the sandbox SFTP server (sandbox/sftp/server.ts) with
 * the partner warehouse delivering its windows-1250 stock files, read through the legacy-files
 * connector configured exactly as omnisync.yaml configures `partner-files` (only its port is
 * a free one, so a running demo does not get in the way); and the demo Shopify store's extra
 * location for it.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import iconv from 'iconv-lite';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load';
import type { ConnectorInstance, StockPage } from '../../connectors/contract';
import { legacyFilesManifest, LegacyFilesConfig } from '../../connectors/legacy-files';
import { builtInConnectors } from '../../connectors/registry';
import type { CrosswalkStore } from '../../core/model';
import { sandboxSftpConnector } from '../../sandbox';
import { DEMO_PARTNER_SHOPIFY_LOCATION, DEMO_SHOPIFY_LOCATIONS } from '../../sandbox/demo-catalog';
import { PARTNER_STOCK_COLUMNS, startPartnerStockFeed, type PartnerStockFeed } from '../../sandbox/sftp/partner-stock-feed';
import { findFreePort } from '../../sandbox/local-machine';
import { findOrInstallSshd, prepareSandboxSftpIdentity, startSandboxSftpServer, type RunningSandboxSftp } from '../../sandbox/sftp/server';
import { SimulatorStore } from '../../sandbox/shopify/server';

const REPO = resolve(__dirname, '../..');

/** The state store's crosswalk, in memory: what the connector remembers between reads. */
function memoryCrosswalk(): CrosswalkStore {
  const table = new Map<string, string>();
  return {
    async get(kind, keys) {
      return new Map(keys.flatMap((key) => (table.has(`${kind}\u0000${key}`) ? [[key, table.get(`${kind}\u0000${key}`)!] as const] : [])));
    },
    async put(kind, entries) {
      for (const [key, value] of entries) table.set(`${kind}\u0000${key}`, value);
    },
  };
}

interface SavedPartnerStock {
  stock: Record<string, { onHand: number; reserved: number }>;
}

describe('the demo partner drop over SFTP', () => {
  let hubDir: string;
  let server: RunningSandboxSftp;
  let feed: PartnerStockFeed;
  let connector: ConnectorInstance;
  let inbox: string;
  let archive: string;
  const stateFile = () => join(hubDir, 'data', 'sandbox', 'partner-stock.json');
  let clock = Date.parse('2026-03-02T09:15:00Z');

  beforeAll(async () => {
    await findOrInstallSshd();
    // The shipped config, in a folder of its own: its ${file:./data/sftp/…} references then
    // read the keys this test's sandbox server makes under <hubDir>/data.
    hubDir = await mkdtemp(join(tmpdir(), 'omnisync-sftp-demo-'));
    await writeFile(join(hubDir, 'omnisync.yaml'), await readFile(join(REPO, 'omnisync.yaml')));
    await cp(join(REPO, 'mappings'), join(hubDir, 'mappings'), { recursive: true });
    // What `omnisync dev` does before it loads the config.
    await prepareSandboxSftpIdentity(join(hubDir, 'data'));
    const config = parseConfig(await readFile(join(hubDir, 'omnisync.yaml'), 'utf8'), join(hubDir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_x' } });
    const served = sandboxSftpConnector(config);
    expect(served).toEqual({ id: 'partner-files', port: 8622, folders: { inbox: 'inbox', archive: 'archive', error: 'error' } });

    const port = await findFreePort();
    const started = await startSandboxSftpServer({ dataDir: join(hubDir, 'data'), port, folders: Object.values(served!.folders) });
    if (!started.ok) throw new Error(started.skipped);
    server = started.server;
    inbox = join(server.dropRoot, 'inbox');
    archive = join(server.dropRoot, 'archive');

    const partner = config.connectors.get('partner-files')!;
    const configured = LegacyFilesConfig.parse(partner.config);
    connector = legacyFilesManifest.create('partner-files', { ...configured, sftp: { ...configured.sftp, port } }, { logger: pino({ level: 'silent' }), crosswalk: memoryCrosswalk(), baseDir: hubDir });

    feed = await startPartnerStockFeed({ inbox, stateFile: stateFile(), skuCount: 300, intervalMs: 3_600_000, logger: pino({ level: 'silent' }), now: () => new Date(clock) });
  });

  afterAll(async () => {
    await feed?.stop();
    await connector?.close();
    await server?.stop();
    if (hubDir) await rm(hubDir, { recursive: true, force: true });
  });

  const readStock = (mode: 'full' | 'delta', cursor: StockPage['nextCursor'] = null): Promise<StockPage> =>
    connector.operations['stock.read']!.readStockPage({ mode, cursor, limit: 500 });
  const partnerStock = async () => (JSON.parse(await readFile(stateFile(), 'utf8')) as SavedPartnerStock).stock;

  it('delivers a windows-1250 CSV with a done-marker, which the connector reads as omnisync.yaml configures it', async () => {
    const [file, marker] = (await readdir(inbox)).sort();
    expect(file).toBe('stany_MAG-POZ_20260302_091500.csv');
    expect(marker).toBe('stany_MAG-POZ_20260302_091500.csv.done');
    const bytes = await readFile(join(inbox, file!));
    // "Ilość" in windows-1250: ł is 0xB3, ś is 0x9C (UTF-8 would write two bytes each).
    expect(bytes.subarray(0, bytes.indexOf(0x0d)).toString('latin1')).toBe(iconv.encode(Object.values(PARTNER_STOCK_COLUMNS).join(';'), 'windows-1250').toString('latin1'));
    expect(bytes.includes(Buffer.from([0x49, 0x6c, 0x6f, 0x9c, 0xe6]))).toBe(true);
    expect(iconv.decode(bytes, 'windows-1250').split('\r\n')[1]).toMatch(/^PL-000001;Koszulka bawełniana zielony XS;MAG-POZ;\d+,000;\d+,000$/);

    const page = await readStock('full');
    expect(page.rejected).toEqual([]);
    expect(page.skus).toHaveLength(300);
    expect(page.skus[0]).toBe('PL-000001');
    const stock = await partnerStock();
    expect(page.levels).toHaveLength(300);
    for (const level of page.levels) {
      expect(level.location).toBe('MAG-POZ');
      expect({ onHand: level.onHand, reserved: level.reserved }).toEqual(stock[level.sku]);
    }
    expect(await readdir(inbox)).toEqual([]);
    expect(await readdir(archive)).toEqual(['stany_MAG-POZ_20260302_091500.csv']);
  });

  it('delivers changed quantities a few minutes later: a delta read returns just those SKUs with their new quantities', async () => {
    const before = await partnerStock();
    const firstDelta = await readStock('delta');
    clock += 3 * 60_000;
    const name = await feed.deliver();
    expect(name).toBe('stany_MAG-POZ_20260302_091800.csv');
    const after = await partnerStock();
    const lines = iconv.decode(await readFile(join(inbox, name)), 'windows-1250').trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(25);
    const listed = lines.map((line) => line.split(';')[0]!);

    // From where the engine would resume after the first delta run: after the opening report.
    const page = await readStock('delta', firstDelta.resumeCursor);
    expect(page.rejected).toEqual([]);
    expect([...page.skus].sort()).toEqual([...listed].sort());
    for (const level of page.levels) expect({ onHand: level.onHand, reserved: level.reserved }).toEqual(after[level.sku]);
    // SKUs the file does not list keep what the partner reported before.
    const unlisted = Object.keys(before).find((sku) => !listed.includes(sku))!;
    expect(after[unlisted]).toEqual(before[unlisted]);
  });

  it('presents the host key whose fingerprint the demo config pins, kept across restarts', async () => {
    const pinned = (await readFile(join(hubDir, 'data', 'sftp', 'host_key.fingerprint'), 'utf8')).trim();
    expect(pinned).toBe(server.hostKeyFingerprint);
    await server.stop();
    const again = await startSandboxSftpServer({ dataDir: join(hubDir, 'data'), port: server.port, folders: ['inbox', 'archive', 'error'] });
    if (!again.ok) throw new Error(again.skipped);
    server = again.server;
    expect(server.hostKeyFingerprint).toBe(pinned);
    const page = await readStock('full');
    expect(page.skus).toHaveLength(300);
  });
});

describe("the demo Shopify store's partner location", () => {
  it('is added only when asked for, and a state file saved without it loads with its levels empty', () => {
    const plain = new SimulatorStore({ productCount: 5 });
    expect(plain.locations().map((location) => location.id)).toEqual(DEMO_SHOPIFY_LOCATIONS.map((location) => location.id));
    const demo = new SimulatorStore({ productCount: 5, extraLocations: [DEMO_PARTNER_SHOPIFY_LOCATION] });
    expect(demo.locations().map((location) => location.id)).toEqual([...DEMO_SHOPIFY_LOCATIONS.map((location) => location.id), DEMO_PARTNER_SHOPIFY_LOCATION.id]);

    demo.importState(plain.exportState());
    const item = demo.variants()[0]!.inventoryItemId;
    expect(demo.inventoryLevels(item).map((level) => [level.locationId, level.quantities.available])).toEqual([
      ['gid://shopify/Location/71001', 0],
      ['gid://shopify/Location/71002', 0],
      [DEMO_PARTNER_SHOPIFY_LOCATION.id, 0],
    ]);
  });
});

/**
 * Stock files from a partner warehouse, dropped on a real OpenSSH server, through stockSync on a
 * real Temporal dev server into the Shopify simulator: a file with a broken line, a duplicate
 * delivery and a file arriving out of order end with the right stock in the shop and the right
 * quarantine entries in the state store.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment } from '../support/temporal';
import { startTestHub, writeTestHubConfig, type TestHub } from '../support/test-hub';
import { startSftpTestServer, type SftpTestServer } from '../support/sftp-server';
import type { LoadedConfig } from '../../config/load';
import { startShopifySimulator, type ShopifySimulator } from '../../sandbox/shopify/server';
import { DEMO_SHOPIFY_LOCATIONS } from '../../sandbox/demo-catalog';
import { openStateStore } from '../../state/kysely-store';

const SYNC = 'partner-stock';
const TOKEN = 'shpat_files_test';
const LOCATION = DEMO_SHOPIFY_LOCATIONS[0]!.id;
const sku = (n: number) => `PL-${String(n).padStart(6, '0')}`;

/** A partner's stock file as it arrives: windows-1250, semicolons, decimal commas, Polish headers. */
function stockFile(rows: ReadonlyArray<[sku: string, quantity: string]>): Buffer {
  const lines = ['indeks;magazyn;ilość', ...rows.map(([code, quantity]) => `${code};Poznań;${quantity}`)];
  return iconv.encode(`${lines.join('\r\n')}\r\n`, 'windows-1250');
}

describe('stock files over SFTP through stockSync', () => {
  let env: TestWorkflowEnvironment;
  let sftp: SftpTestServer;
  let shopify: ShopifySimulator;
  let config: LoadedConfig;
  let hub: TestHub;
  let removeConfig: (() => void) | undefined;
  let inbox: string;

  const run = (mode: 'full' | 'delta') => hub.runStockSync(SYNC, mode);
  const shop = () => new Map(shopify.store.inventorySnapshot().filter((item) => item.locationId === LOCATION).map((item) => [item.sku, item.available]));
  /** Drops a file as the partner does: content first, then its done-marker. */
  const drop = async (name: string, content: Buffer) => {
    await writeFile(join(inbox, name), content);
    await writeFile(join(inbox, `${name}.done`), '');
  };
  const openEntries = async () => {
    const store = openStateStore(config.stateStore);
    try {
      return await store.listQuarantine({ scope: SYNC });
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    sftp = await startSftpTestServer();
    inbox = await sftp.folder('partner/in');
    const archive = await sftp.folder('partner/archive');
    const error = await sftp.folder('partner/error');
    shopify = await startShopifySimulator({ accessToken: TOKEN, productCount: 100, restoreRate: 1000, seed: 42 });
    ({ config, remove: removeConfig } = writeTestHubConfig({
      env,
      taskQueue: 'partner-files',
      files: { 'stock-partner.yaml': `entity: stock\nlocations:\n  - target: ${LOCATION}\n    sources: [Poznań]\n` },
      connectors: {
        partner: {
          kind: 'legacy-files',
          config: {
            sftp: { host: sftp.host, port: sftp.port, username: sftp.username, privateKey: '${env:SFTP_KEY}', hostKey: sftp.hostKeyFingerprint },
            folders: { inbox, archive, error },
            files: [
              {
                match: 'stany_*.csv',
                entity: 'stock',
                order: { from: 'name', pattern: '^stany_(?<timestamp>\\d{8}_\\d{6})', timestampFormat: 'yyyyMMdd_HHmmss' },
                format: { type: 'csv', encoding: 'windows-1250', delimiter: ';', decimalSeparator: ',', columns: { sku: 'indeks', location: 'magazyn', quantity: 'ilość' } },
              },
            ],
          },
        },
        shopify: { kind: 'shopify', config: { shopUrl: shopify.url, accessToken: '${env:SHOPIFY_ACCESS_TOKEN}' } },
      },
      syncs: { [SYNC]: { entity: 'stock', source: 'partner', targets: ['shopify'], mapping: 'stock-partner.yaml', pageSize: 25 } },
      secrets: { SHOPIFY_ACCESS_TOKEN: TOKEN, SFTP_KEY: sftp.privateKey },
    }));
    hub = await startTestHub(env, config);
  });

  afterAll(async () => {
    await hub?.stop();
    await shopify?.close();
    await sftp?.stop();
    await env?.teardown();
    removeConfig?.();
  });

  it('a file with a broken line: every good line reaches the shop, the broken one is quarantined with file and line', async () => {
    const before = shop();
    await drop('stany_20250601_100000.csv', firstFile());
    const result = await run('delta');
    expect(result.itemsRead).toBe(59);
    const now = shop();
    for (let i = 1; i <= 60; i++) {
      if (i === 7) expect(now.get(sku(i))).toBe(before.get(sku(i)));
      else expect(now.get(sku(i))).toBe(((i - 1) * 3) % 40);
    }
    const entries = await openEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]!.reason).toMatch(/stany_20250601_100000\.csv line 8: .*"abc"/);
    expect(entries[0]!.subject).toBe(sku(7));
  });

  it('the same file delivered again is applied once: nothing is pushed', async () => {
    await drop('stany_20250601_100000_resent.csv', firstFile());
    const result = await run('delta');
    expect(result.itemsPushed).toBe(0);
    expect((await openEntries())[0]!.occurrences).toBe(1);
  });

  it('a newer file fixes the broken line (its entry resolves) and a file arriving late never overwrites newer data', async () => {
    await drop('stany_20250601_120000.csv', stockFile([[sku(1), '99'], [sku(7), '5,5']]));
    await run('delta');
    expect(shop().get(sku(1))).toBe(99);
    expect(shop().get(sku(7))).toBe(5);
    expect(await openEntries()).toEqual([]);

    // Written at 11:00, delivered after the 12:00 file: only what it is the newest report of applies.
    await drop('stany_20250601_110000.csv', stockFile([[sku(1), '1'], [sku(2), '77']]));
    await run('delta');
    expect(shop().get(sku(1))).toBe(99);
    expect(shop().get(sku(2))).toBe(77);
    expect(await openEntries()).toEqual([]);
  });

  it('a full run afterwards pushes nothing: the shop holds what the files say', async () => {
    const result = await run('full');
    expect(result.itemsRead).toBe(60);
    expect(result.itemsPushed).toBe(0);
  });
});

/** The first file: 60 SKUs with decimal quantities (floored), the quantity of line 8 (PL-000007) broken. */
function firstFile(): Buffer {
  const rows: Array<[string, string]> = Array.from({ length: 60 }, (_, i) => [sku(i + 1), `${(i * 3) % 40},${i % 2 === 0 ? '0' : '75'}`]);
  rows[6] = [sku(7), 'abc'];
  return stockFile(rows);
}

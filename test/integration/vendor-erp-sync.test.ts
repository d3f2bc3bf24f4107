/**
 * A vendor-shaped ERP database (test/support/vendor-erp.ts: mixed-case quoted names, a stock
 * table keyed by product and warehouse with no id and no modification time, decimal
 * quantities, a blocked flag, a read-only login) synced to the Shopify simulator by
 * configuration alone, on a real Temporal dev server and a real database server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment } from '../support/temporal';
import { startTestHub, writeTestHubConfig, type TestHub } from '../support/test-hub';
import { stockMismatches } from '../support/hub-fixture';
import { startPostgresTestServer, type PostgresTestServer } from '../support/postgres';
import { startMariaDbTestServer, type MariaDbTestServer } from '../support/mariadb';
import { createVendorErpOnMysql, createVendorErpOnPostgres, VENDOR_STOCK_MAPPING_YAML, vendorErpTables, type VendorErp } from '../support/vendor-erp';
import { createLogger } from '../../observability/logger';
import type { LoadedConfig } from '../../config/load';
import { startShopifySimulator, type ShopifySimulator } from '../../sandbox/shopify/server';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';
import { ConnectorPool } from '../../connectors/pool';
import { openStateStore } from '../../state/kysely-store';

const PRODUCTS = 1_200;
const SYNC = 'vendor-stock';
const TOKEN = 'shpat_vendor_test';

/** A database server of the driver's kind, with the vendor ERP in it. */
async function startVendorErp(driver: 'postgres' | 'mysql'): Promise<{ erp: VendorErp; stop(): Promise<void> }> {
  const server: PostgresTestServer | MariaDbTestServer = driver === 'postgres' ? await startPostgresTestServer() : await startMariaDbTestServer();
  try {
    const erp = driver === 'postgres' ? await createVendorErpOnPostgres(server.connectionString, PRODUCTS) : await createVendorErpOnMysql(server.connectionString, PRODUCTS);
    return { erp, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

describe.each(['postgres', 'mysql'] as const)('a vendor-shaped ERP on %s, by configuration alone', (driver) => {
  let env: TestWorkflowEnvironment;
  let server: { stop(): Promise<void> };
  let erp: VendorErp;
  let shopify: ShopifySimulator;
  let config: LoadedConfig;
  let hub: TestHub;
  let removeConfig: (() => void) | undefined;

  const run = (mode: 'full' | 'delta') => hub.runStockSync(SYNC, mode);
  const actual = () => new Map(shopify.store.inventorySnapshot().map((item) => [`${item.sku}|${item.locationId}`, item.available]));

  beforeAll(async () => {
    env = await createTestEnvironment();
    ({ erp, ...server } = await startVendorErp(driver));
    shopify = await startShopifySimulator({ accessToken: TOKEN, productCount: PRODUCTS, restoreRate: 1000, seed: 42 });
    ({ config, remove: removeConfig } = writeTestHubConfig({
      env,
      taskQueue: 'vendor-erp',
      files: { 'stock-vendor-to-shopify.yaml': VENDOR_STOCK_MAPPING_YAML },
      connectors: {
        erp: { kind: 'erp-sql', config: { database: { driver, connectionString: '${env:ERP_URL}' }, tables: vendorErpTables(driver === 'postgres' ? true : 1) } },
        shopify: { kind: 'shopify', config: { shopUrl: shopify.url, accessToken: '${env:SHOPIFY_ACCESS_TOKEN}' } },
      },
      syncs: { [SYNC]: { entity: 'stock', source: 'erp', targets: ['shopify'], mapping: 'stock-vendor-to-shopify.yaml', pageSize: 250 } },
      secrets: { SHOPIFY_ACCESS_TOKEN: TOKEN, ERP_URL: erp.readerConnectionString },
    }));
    hub = await startTestHub(env, config);
  });

  afterAll(async () => {
    await hub?.stop();
    await shopify?.close();
    await erp?.close();
    await server?.stop();
    await env?.teardown();
    removeConfig?.();
  });

  it('passes connectors check with the read-only login', async () => {
    const store = openStateStore(config.stateStore);
    await store.migrate();
    const pool = new ConnectorPool(config, store, createLogger({ level: 'warn' }));
    try {
      const result = await pool.get('erp').check();
      expect(result.ok).toBe(true);
      expect(result.detail).toContain(`${PRODUCTS.toLocaleString('en-US')} products in "Towary"`);
    } finally {
      await pool.closeAll();
      await store.close();
    }
  });

  it('a full sync converges for every listed SKU, and blocked products show 0', async () => {
    const result = await run('full');
    expect(result.itemsRead).toBe(PRODUCTS);
    // Only the SKUs the shop does not list are quarantined (at both locations): no source row is.
    expect(result.itemsQuarantined).toBe(Math.floor(PRODUCTS / DEMO_UNLISTED_EVERY) * 2);
    expect(result.recordsNotForSale).toBe(erp.blockedSkus().length);
    const shop = actual();
    expect(stockMismatches(erp.expectedShopifyStock(), shop)).toEqual([]);
    const blockedListed = erp.blockedSkus().filter((sku) => erp.listedSkus().includes(sku));
    expect(blockedListed.length).toBeGreaterThan(5);
    for (const sku of blockedListed) expect([...shop].filter(([key]) => key.startsWith(`${sku}|`)).map(([, quantity]) => quantity)).toEqual([0, 0]);
  });

  it('two runs in a row push nothing the second time, full or delta', async () => {
    expect((await run('full')).itemsPushed).toBe(0);
    const delta = await run('delta');
    expect(delta.itemsRead).toBe(PRODUCTS);
    expect(delta.itemsPushed).toBe(0);
  });

  it('a change of 50 stock rows pushes exactly those 50 in a delta run, then nothing', async () => {
    const changed = await erp.changeStockRows(50);
    shopify.store.resetStats();
    const delta = await run('delta');
    expect(delta.itemsPushed).toBe(50);
    expect(stockMismatches(erp.expectedShopifyStock(), actual())).toEqual([]);
    expect(Object.values(shopify.store.stats().writesBySku).reduce((a, b) => a + b, 0)).toBe(changed.length);
    expect((await run('delta')).itemsPushed).toBe(0);
  });

  it('a product blocked in the ERP drops to 0 in the shop at the next delta run', async () => {
    const sku = erp.listedSkus().find((candidate) => !erp.blockedSkus().includes(candidate) && [...erp.expectedShopifyStock()].some(([key, q]) => key.startsWith(`${candidate}|`) && q > 0))!;
    await erp.setBlocked(sku, true);
    const delta = await run('delta');
    expect(delta.itemsPushed).toBeGreaterThanOrEqual(1);
    expect([...actual()].filter(([key]) => key.startsWith(`${sku}|`)).map(([, quantity]) => quantity)).toEqual([0, 0]);
    await erp.setBlocked(sku, false);
    await run('delta');
    expect(stockMismatches(erp.expectedShopifyStock(), actual())).toEqual([]);
  });
});

/**
 * stockSync on a real Temporal dev server, with an in-process worker, the sandbox ERP and the
 * Shopify simulator: full and delta runs, continue-as-new, search attributes, the progress
 * query, the quarantine, and cursor handling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createTestEnvironment } from '../support/temporal';
import { changedKeys, createHubFixture, stockMismatches, type HubFixture } from '../support/hub-fixture';
import { WORKFLOWS_PATH, createHubWorkers, type HubWorkers } from '../../worker';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions } from '../../temporal/sync-starts';
import { stockSync, progressQuery } from '../../workflows/stock-sync';
import { simulateErpSales } from '../../sandbox/erp/seed';
import { openStateStore } from '../../state/kysely-store';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';

const PRODUCTS = 600;
const SYNC = 'erp-stock-to-shopify';

describe('stockSync workflow', () => {
  let env: TestWorkflowEnvironment;
  let hub: HubFixture;
  let workers: HubWorkers;
  let running: Promise<void>;
  let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
  let runCount = 0;

  const run = async (mode: 'full' | 'delta') => {
    const sync = hub.config.syncs.get(SYNC)!;
    const handle = await env.client.workflow.start(stockSync, {
      ...syncStartOptions(hub.config, sync, mode),
      workflowId: `stock-sync:${SYNC}:${mode}:test-${++runCount}`,
    });
    return { handle, result: await handle.result() };
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    // 100 SKUs a page and 2 pages per execution: a full run continues as new twice.
    hub = await createHubFixture({ temporalAddress: env.address, products: PRODUCTS, pageSize: 100, pagesPerExecution: 2 });
    workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(createLogger({ level: 'warn' })) });
    workers = await createHubWorkers({ config: hub.config, logger: createLogger({ level: 'warn' }), connection: env.nativeConnection, workflowBundle });
    running = workers.run();
  });

  afterAll(async () => {
    workers?.shutdown();
    await running;
    await hub?.close();
    await env?.teardown();
  });

  it('copies every listed SKU from the ERP to Shopify in a full run, across continue-as-new', async () => {
    const { result } = await run('full');
    const unlisted = Math.floor(PRODUCTS / DEMO_UNLISTED_EVERY);
    expect(result.itemsRead).toBe(PRODUCTS);
    // 6 full pages, then one empty read that proves the end; 2 pages per execution.
    expect(result.pagesRead).toBe(7);
    expect(result.executions).toBe(4);
    expect(result.itemsPushed).toBe((PRODUCTS - unlisted) * 2);
    // Unlisted SKUs fail at both locations and are quarantined; the other items go through.
    expect(result.itemsFailed).toBe(unlisted * 2);
    expect(stockMismatches(hub.expectedShopifyStock(), hub.actualShopifyStock())).toEqual([]);
  });

  it('quarantines the SKUs the store does not list, with the reason', async () => {
    const store = openStateStore(hub.config.stateStore);
    try {
      const entries = await store.listQuarantine({ scope: SYNC });
      const keys = entries.map((e) => e.recordKey).sort();
      expect(keys).toContain('PL-000250|shopify|gid://shopify/Location/71001');
      const entry = entries.find((e) => e.recordKey === 'PL-000250|shopify|gid://shopify/Location/71001')!;
      expect(entry.reason).toBe('SKU PL-000250 has no variant in Shopify (shopify)');
      expect(entry.kind).toBe('unmappable');
    } finally {
      await store.close();
    }
  });

  it('pushes nothing when nothing changed (steady state)', async () => {
    hub.shopify.store.resetStats();
    const { result } = await run('full');
    // The SKUs the shop does not list are parked in the quarantine, not sent again every run.
    expect(result.itemsChanged).toBe(0);
    expect(result.itemsPushed).toBe(0);
    expect(hub.shopify.store.stats().requests).toBe(0);
    expect(hub.shopify.store.stats().mutationsApplied).toBe(0);
  });

  it('delta runs push exactly the sold SKUs and resume from the committed cursor', async () => {
    await run('delta'); // first delta reads from the epoch and commits the cursor
    const before = hub.expectedShopifyStock();
    const sold = await simulateErpSales({ driver: 'sqlite', file: hub.erpFile }, { count: 12, now: new Date(Date.now() + 60_000) });
    const changed = changedKeys(before, hub.expectedShopifyStock(), (sku) => Number(sku.slice(3)) % DEMO_UNLISTED_EVERY !== 0);
    hub.shopify.store.resetStats();
    const { handle, result } = await run('delta');
    expect(result.itemsRead).toBe(sold.length);
    expect(hub.shopify.store.stats().writesBySku).toEqual(Object.fromEntries(changed));
    expect(stockMismatches(hub.expectedShopifyStock(), hub.actualShopifyStock())).toEqual([]);
    expect((await handle.query(progressQuery)).itemsPushed).toBe(result.itemsPushed);

    const again = await run('delta');
    expect(again.result.itemsRead).toBe(0);
  });

  it('is findable by its search attributes', async () => {
    const found: string[] = [];
    for (let attempt = 0; attempt < 20 && found.length === 0; attempt++) {
      for await (const wf of env.client.workflow.list({ query: `OmnisyncSyncName = "${SYNC}" AND OmnisyncSyncMode = "delta" AND OmnisyncConnector = "shopify"` })) {
        found.push(wf.workflowId);
      }
      if (found.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.every((id) => id.startsWith(`stock-sync:${SYNC}:delta:`))).toBe(true);
  });

  it('completes with its task queues split over two workers (--serve): hub and ERP in one, Shopify in the other', async () => {
    const split = await createHubFixture({ temporalAddress: env.address, products: 200, pageSize: 50, taskQueue: 'omnisync-test-split' });
    const logger = createLogger({ level: 'warn' });
    const hubAndSource = await createHubWorkers({ config: split.config, logger, connection: env.nativeConnection, workflowBundle, serve: ['hub', 'erp'] });
    const target = await createHubWorkers({ config: split.config, logger, connection: env.nativeConnection, serve: ['shopify'] });
    expect([...hubAndSource.workers.keys()]).toEqual(['omnisync-test-split', 'omnisync-test-split.connector.erp']);
    expect([...target.workers.keys()]).toEqual(['omnisync-test-split.connector.shopify']);
    const running = [hubAndSource.run(), target.run()];
    try {
      const sync = split.config.syncs.get(SYNC)!;
      const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(split.config, sync, 'full'), workflowId: `stock-sync:${SYNC}:full:split` });
      const result = await handle.result();
      expect(result.itemsPushed).toBe((200 - Math.floor(200 / DEMO_UNLISTED_EVERY)) * 2);
      expect(stockMismatches(split.expectedShopifyStock(), split.actualShopifyStock())).toEqual([]);
    } finally {
      hubAndSource.shutdown();
      target.shutdown();
      await Promise.all(running);
      await split.close();
    }
  });

  it('writes every quantity exactly once in a first delta run, although a SKU comes back in later pages', async () => {
    // A delta page is a page of stock rows; a SKU whose rows are far apart in time shows up in
    // several pages. A fresh hub (no snapshot) with small pages makes that happen a lot.
    const fresh = await createHubFixture({ temporalAddress: env.address, products: 300, pageSize: 40, taskQueue: 'omnisync-test-fresh' });
    const freshWorkers = await createHubWorkers({ config: fresh.config, logger: createLogger({ level: 'warn' }), connection: env.nativeConnection, workflowBundle });
    const freshRunning = freshWorkers.run();
    try {
      const sync = fresh.config.syncs.get(SYNC)!;
      const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(fresh.config, sync, 'delta'), workflowId: `stock-sync:${SYNC}:delta:fresh` });
      const result = await handle.result();
      const listedItems = (300 - Math.floor(300 / DEMO_UNLISTED_EVERY)) * 2;
      expect(result.itemsRead).toBeGreaterThan(300); // SKUs came back in later pages
      expect(result.itemsPushed).toBe(listedItems);
      const writes = Object.values(fresh.shopify.store.stats().writesBySku);
      expect(writes.reduce((a, b) => a + b, 0)).toBe(listedItems);
      expect(writes.every((count) => count === 2)).toBe(true);
      expect(stockMismatches(fresh.expectedShopifyStock(), fresh.actualShopifyStock())).toEqual([]);
    } finally {
      freshWorkers.shutdown();
      await freshRunning;
      await fresh.close();
    }
  });
});

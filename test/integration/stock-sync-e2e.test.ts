/**
 * End to end, under faults: ERP database → Shopify simulator with 30 % of requests failing
 * (5xx, 429 with Retry-After, dropped connections, timeouts, writes applied but answered 503),
 * and the worker process killed with SIGKILL in the middle of the sync.
 *
 * Done when Shopify holds the ERP's stock for 100 % of the SKUs it lists, the others are
 * quarantined, and a second run in steady state writes nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { createTestEnvironment } from '../support/temporal';
import { changedKeys, createHubFixture, stockMismatches, type HubFixture } from '../support/hub-fixture';
import { startWorkerProcess, waitFor } from '../support/worker-process';
import { syncStartOptions } from '../../temporal/sync-starts';
import { progressQuery, stockSync } from '../../workflows/stock-sync';
import { simulateErpSales } from '../../sandbox/erp/seed';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';

const isListed = (sku: string) => Number(sku.slice(3)) % DEMO_UNLISTED_EVERY !== 0;

const PRODUCTS = 1000;
const SYNC = 'erp-stock-to-shopify';
/** 30 % of GraphQL requests fail one way or another. */
const FAULTS = { serverErrorRate: 0.1, tooManyRequestsRate: 0.1, retryAfterSeconds: 1, dropConnectionRate: 0.04, applyThenFailRate: 0.04, timeoutRate: 0.02 };



describe('stock sync end to end under faults and a worker crash', () => {
  let env: TestWorkflowEnvironment;
  let hub: HubFixture;
  const workers: ChildProcess[] = [];
  let runs = 0;

  const start = async (mode: 'full' | 'delta'): Promise<WorkflowHandle<typeof stockSync>> =>
    env.client.workflow.start(stockSync, {
      ...syncStartOptions(hub.config, hub.config.syncs.get(SYNC)!, mode),
      workflowId: `stock-sync:${SYNC}:${mode}:e2e-${++runs}`,
    });

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await createHubFixture({
      temporalAddress: env.address,
      products: PRODUCTS,
      pageSize: 50,
      restoreRate: 1000,
      faults: FAULTS,
      shopifyTimeoutMs: 1500,
      taskQueue: 'omnisync-e2e',
    });
  });

  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await hub?.close();
    await env?.teardown();
  });

  it('converges to the ERP stock for every listed SKU despite 30 % faults and a kill -9 mid-sync', async () => {
    workers.push(startWorkerProcess(hub.configFile));
    const handle = await start('full');

    // Kill the worker once some pages are pushed and more remain.
    const atKill = await waitFor('the first pushes', async () => {
      const progress = await handle.query(progressQuery);
      return progress.itemsPushed >= 200 ? progress : undefined;
    }, 90_000);
    workers[0]!.kill('SIGKILL');
    expect(atKill.itemsPushed).toBeLessThan((PRODUCTS - PRODUCTS / DEMO_UNLISTED_EVERY) * 2);

    workers.push(startWorkerProcess(hub.configFile));
    const result = await handle.result();

    const unlisted = PRODUCTS / DEMO_UNLISTED_EVERY;
    expect(result.itemsRead).toBe(PRODUCTS);
    expect(result.itemsPushed).toBe((PRODUCTS - unlisted) * 2);
    expect(result.itemsFailed).toBe(unlisted * 2);
    const expected = hub.expectedShopifyStock();
    const actual = hub.actualShopifyStock();
    expect(actual.size).toBe((PRODUCTS - unlisted) * 2);
    expect(stockMismatches(expected, actual)).toEqual([]);
    const faults = hub.shopify.store.stats().faultsInjected;
    expect(faults.serverError + faults.tooManyRequests + faults.dropConnection + faults.applyThenFail + faults.timeout).toBeGreaterThan(0);
  }, 240_000);

  it('writes nothing in the steady-state second run', async () => {
    hub.shopify.store.resetStats();
    const result = await (await start('full')).result();
    expect(result.itemsPushed).toBe(0);
    expect(hub.shopify.store.stats().mutationsApplied).toBe(0);
    expect(hub.shopify.store.stats().writesBySku).toEqual({});
  }, 120_000);

  it('pushes each sold SKU exactly once in a delta run, idempotently under faults', async () => {
    await (await start('delta')).result(); // commits the cursor
    const before = hub.expectedShopifyStock();
    const sold = await simulateErpSales({ driver: 'sqlite', file: hub.erpFile }, { count: 40, now: new Date(Date.now() + 60_000) });
    // A sale in the returns warehouse or inside the store's safety buffer changes nothing online.
    const changed = changedKeys(before, hub.expectedShopifyStock(), isListed);
    expect(changed.size).toBeGreaterThan(10);
    hub.shopify.store.resetStats();
    const result = await (await start('delta')).result();
    expect(result.itemsRead).toBe(sold.length);
    // Every changed quantity written exactly once: retries after faults were idempotent replays.
    expect(hub.shopify.store.stats().writesBySku).toEqual(Object.fromEntries(changed));
    expect(result.itemsPushed).toBe([...changed.values()].reduce((a, b) => a + b, 0));
    expect(stockMismatches(hub.expectedShopifyStock(), hub.actualShopifyStock())).toEqual([]);
  }, 120_000);
});

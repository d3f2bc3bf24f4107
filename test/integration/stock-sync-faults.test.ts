/**
 * Honest counts under every fault at once: a full run from the ERP database to the Shopify
 * simulator with 20 % 5xx, 10 % 429, 10 % dropped connections and 5 % writes applied but
 * answered 503, during which the Temporal server is restarted (same port, same SQLite data) and
 * the worker is killed with SIGKILL after recording pushes it could not report to the stopped
 * server, so Temporal retries pushes that are already done.
 *
 * Done when the run's result counts exactly the items the simulator applied, item for item (each
 * once, however many attempts it took), its failures are the items the target refused, Shopify
 * holds the ERP's stock, and a second run in steady state pushes and applies nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startWorkerProcess, waitFor } from '../support/worker-process';
import { createHubFixture, stockMismatches, type HubFixture } from '../support/hub-fixture';
import { startRestartableTemporal, type RestartableTemporal } from '../support/restartable-temporal';
import { syncStartOptions } from '../../temporal/sync-starts';
import { progressQuery, stockSync, type StockSyncProgress } from '../../workflows/stock-sync';
import { openStateStore } from '../../state/kysely-store';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';
import type { SimulatorStore } from '../../sandbox/shopify/store';

const PRODUCTS = 1000;
const SYNC = 'erp-stock-to-shopify';
/** 45 % of GraphQL requests fail; the simulator's seeded draws give every kind in the first 16. */
const FAULTS = { serverErrorRate: 0.2, tooManyRequestsRate: 0.1, retryAfterSeconds: 1, dropConnectionRate: 0.1, applyThenFailRate: 0.05 };
const UNLISTED = PRODUCTS / DEMO_UNLISTED_EVERY;
/** (SKU, location) items of the SKUs the shop lists: two mapped locations each. */
const LISTED_ITEMS = (PRODUCTS - UNLISTED) * 2;


/** Rejects when the worker exits: a run would otherwise wait for a worker that is gone. */
function exitOf(worker: ChildProcess): Promise<never> {
  return new Promise((_, reject) => {
    worker.once('exit', (code, signal) => reject(new Error(`the worker exited (code ${code}, signal ${signal})`)));
  });
}


/**
 * Records every (SKU, location) the simulator writes, and how often: wraps the store's
 * `inventorySetQuantities` and keeps the calls that wrote (the simulator's `mutationsApplied`
 * moved), not idempotent replays nor calls refused with userErrors. `afterApply` runs after
 * each call that wrote, before the simulator answers it.
 */
function recordAppliedItems(store: SimulatorStore, afterApply: (keys: string[]) => void): Map<string, number> {
  const skuOf = new Map(store.inventorySnapshot().map((item) => [item.inventoryItemId, item.sku]));
  const applied = new Map<string, number>();
  const original = store.setInventoryQuantities.bind(store);
  store.setInventoryQuantities = (input, options) => {
    const before = store.stats().mutationsApplied;
    const payload = original(input, options);
    if (store.stats().mutationsApplied > before) {
      const keys = input.quantities.map(({ inventoryItemId, locationId }) => `${skuOf.get(inventoryItemId) ?? inventoryItemId}|${locationId}`);
      for (const key of keys) applied.set(key, (applied.get(key) ?? 0) + 1);
      afterApply(keys);
    }
    return payload;
  };
  return applied;
}

describe('stock sync counts under faults, a worker kill -9 and a Temporal server restart', () => {
  let temporal: RestartableTemporal | undefined;
  let client: Client | undefined;
  let hub: HubFixture | undefined;
  let applied: Map<string, number>;
  /** Set to stop a worker right after the simulator applies a write, before it answers. */
  let onNextApply: ((keys: string[]) => void) | undefined;
  const workers: ChildProcess[] = [];
  let runs = 0;

  const start = (mode: 'full' | 'delta'): Promise<WorkflowHandle<typeof stockSync>> =>
    client!.workflow.start(stockSync, {
      ...syncStartOptions(hub!.config, hub!.config.syncs.get(SYNC)!, mode),
      workflowId: `stock-sync:${SYNC}:${mode}:faults-${++runs}`,
    });
  const newWorker = (): ChildProcess => {
    const worker = startWorkerProcess(hub!.configFile);
    workers.push(worker);
    return worker;
  };
  /** The run's result, or the worker's exit, whichever comes first. */
  const resultOf = async (handle: WorkflowHandle<typeof stockSync>, worker: ChildProcess): Promise<StockSyncProgress> => {
    const exited = exitOf(worker);
    exited.catch(() => undefined);
    return Promise.race([handle.result(), exited]);
  };

  beforeAll(async () => {
    temporal = await startRestartableTemporal();
    client = await temporal.connect();
    hub = await createHubFixture({
      temporalAddress: temporal.address,
      products: PRODUCTS,
      pageSize: 50,
      restoreRate: 1000,
      faults: FAULTS,
      shopifyTimeoutMs: 1500,
      taskQueue: 'omnisync-faults',
    });
    applied = recordAppliedItems(hub.shopify.store, (keys) => {
      onNextApply?.(keys);
      onNextApply = undefined;
    });
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await client?.connection.close().catch(() => undefined);
    await temporal?.close();
    await hub?.close();
  });

  it('counts each item the simulator applied exactly once, across retries, a kill -9 and a server restart', async () => {
    const first = newWorker();
    const handle = await start('full');
    const { workflowId } = handle;

    // Once some pages are pushed and more remain, freeze the worker right after the simulator
    // applies one of its writes, before the answer reaches it.
    const atCrash = await waitFor('the first pushes', async () => {
      const progress = await handle.query(progressQuery);
      return progress.itemsPushed >= 200 ? progress : undefined;
    }, 90_000);
    expect(atCrash.itemsPushed).toBeLessThan(LISTED_ITEMS);
    const frozenAfter = new Promise<string[]>((resolveFrozen) => {
      onNextApply = (keys) => {
        first.kill('SIGSTOP');
        resolveFrozen(keys);
      };
    });
    const crashed = exitOf(first);
    crashed.catch(() => undefined);
    const write = await Promise.race([frozenAfter, crashed]);
    const appliedAtCrash = applied.size;
    // The push of that write has not completed: it is pending on the server.
    const inFlight = (await handle.describe()).raw.pendingActivities ?? [];
    expect(inFlight.length).toBeGreaterThan(0);

    // The server goes down. The worker wakes up, records the write in the state store, cannot
    // report its pushes to a server that is gone, and is killed with SIGKILL: Temporal retries
    // a push whose items are all recorded already (previously counted as 0 pushed).
    await client!.connection.close();
    client = undefined;
    await temporal!.stop();
    first.kill('SIGCONT');
    const store = openStateStore(hub!.config.stateStore);
    let recorded: boolean;
    try {
      const skus = [...new Set(write.map((key) => key.slice(0, key.indexOf('|'))))];
      recorded = await waitFor('the write recorded', async () => ((await store.loadSnapshot({ syncName: SYNC, target: 'shopify', entity: 'stock' }, skus)).size >= write.length ? true : undefined), 15_000).catch(() => false);
    } finally {
      await store.close();
    }
    first.kill('SIGKILL');

    // It comes back on the same port with its SQLite state; the client reconnects with a new
    // connection, and a new worker takes over.
    await temporal!.start();
    client = await temporal!.connect();
    const second = newWorker();
    const result = await resultOf(client.workflow.getHandle<typeof stockSync>(workflowId), second);

    // Item for item: what the simulator applied, each (SKU, location) once.
    const stats = hub!.shopify.store.stats();
    expect([...applied].filter(([, times]) => times > 1).map(([key]) => key)).toEqual([]);
    expect(result.itemsPushed).toBe(applied.size);
    // The recording agrees with the simulator's own counters (one write per item and mutation).
    expect(Object.values(stats.writesBySku).reduce((a, b) => a + b, 0)).toBe(applied.size);
    const appliedBySku: Record<string, number> = {};
    for (const key of applied.keys()) {
      const sku = key.slice(0, key.indexOf('|'));
      appliedBySku[sku] = (appliedBySku[sku] ?? 0) + 1;
    }
    expect(stats.writesBySku).toEqual(appliedBySku);
    // A first full run pushes every listed item: the hub's snapshot starts empty.
    const actual = hub!.actualShopifyStock();
    expect(actual.size).toBe(LISTED_ITEMS);
    expect([...applied.keys()].sort()).toEqual([...actual.keys()].sort());
    expect(result.itemsPushed).toBe(LISTED_ITEMS);
    expect(result.itemsRead).toBe(PRODUCTS);

    // Failures: the items the target refused, each in its quarantine (the SKUs it does not list).
    const unlistedItems = [...hub!.expectedShopifyStock().keys()].filter((key) => !actual.has(key));
    expect(unlistedItems).toHaveLength(UNLISTED * 2);
    const stateStore = openStateStore(hub!.config.stateStore);
    try {
      const refused = (await stateStore.listQuarantine({ scope: SYNC, limit: 10_000 })).filter((entry) => entry.target === 'shopify');
      expect(refused.map((entry) => entry.category)).toEqual(refused.map(() => QUARANTINE_CATEGORY.unknownToTarget));
      expect(refused.map((entry) => entry.recordKey).sort()).toEqual(unlistedItems.map((key) => key.replace('|', '|shopify|')).sort());
      expect(result.itemsFailed).toBe(refused.length);
    } finally {
      await stateStore.close();
    }

    expect(stockMismatches(hub!.expectedShopifyStock(), actual)).toEqual([]);
    // Every kind of fault was injected, applied-then-failed writes included.
    expect(stats.faultsInjected.serverError).toBeGreaterThan(0);
    expect(stats.faultsInjected.tooManyRequests).toBeGreaterThan(0);
    expect(stats.faultsInjected.dropConnection).toBeGreaterThan(0);
    expect(stats.faultsInjected.applyThenFail).toBeGreaterThan(0);
    console.info(`faults run: crash at ${appliedAtCrash} items applied (${atCrash.itemsPushed} counted before; ${inFlight.length} activities pending; the last write ${recorded ? 'recorded' : 'NOT recorded'} before the kill); ${stats.requests} requests, faults ${JSON.stringify(stats.faultsInjected)}, ${stats.replays} idempotent replays, ${result.executions} execution(s)`);
  }, 240_000);

  it('pushes nothing and applies nothing in the steady-state second run', async () => {
    hub!.shopify.store.resetStats();
    applied.clear();
    const result = await resultOf(await start('full'), workers.at(-1)!);
    expect(result.itemsRead).toBe(PRODUCTS);
    // Nothing changed, and the refused items wait in the quarantine: nothing is sent.
    expect({ itemsChanged: result.itemsChanged, itemsPushed: result.itemsPushed, itemsFailed: result.itemsFailed }).toEqual({ itemsChanged: 0, itemsPushed: 0, itemsFailed: 0 });
    expect(hub!.shopify.store.stats().mutationsApplied).toBe(0);
    expect(hub!.shopify.store.stats().writesBySku).toEqual({});
    expect(applied.size).toBe(0);
  }, 120_000);
});

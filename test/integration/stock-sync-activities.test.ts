/**
 * Housekeeping done by the stock sync activities themselves, against a real SQLite state store.
 */
import { DatabaseSync } from '@photostructure/sqlite';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStockSyncActivities } from '../../activities/sync';
import { ConnectorPool } from '../../connectors/pool';
import { openStateStore, type KyselyStateStore } from '../../state/kysely-store';
import { createHubFixture, type HubFixture } from '../support/hub-fixture';

let hub: HubFixture;
let store: KyselyStateStore;

beforeAll(async () => {
  hub = await createHubFixture({ temporalAddress: '127.0.0.1:1', products: 20, pageSize: 10 });
  store = openStateStore(hub.config.stateStore);
  await store.migrate();
});

afterAll(async () => {
  await store?.close();
  await hub?.close();
});

function stagedBatches(): string[] {
  const file = (hub.config.stateStore as { file: string }).file;
  const db = new DatabaseSync(file, { readOnly: true, timeout: 5000 });
  try {
    return (db.prepare('select batch_id from omnisync_push_batch order by batch_id').all() as Array<{ batch_id: string }>).map((row) => row.batch_id);
  } finally {
    db.close();
  }
}

describe('staged batch pruning', () => {
  it('planning a run prunes batches past retention, finished or left pending by a failed run, and prunes at most hourly', async () => {
    const logger = pino({ level: 'silent' });
    const connectors = new ConnectorPool(hub.config, store, logger);
    const activities = createStockSyncActivities({ config: hub.config, store, connectors, logger, stagedBatchRetentionMs: 0 });
    const item = (sku: string) => ({ key: sku, part: 'L1', value: '1', previous: null });
    const scope = { syncName: 'pruned', target: 'shopify', entity: 'stock' };
    await store.stageItems('finished', 'shopify', [item('A'), item('B')]);
    await store.markItemsPushed(scope, 'finished', [item('A')]);
    await store.markItemsFailed('finished', 'shopify', [{ item: item('B'), reason: 'rejected' }]);
    await store.stageItems('failed-run', 'shopify', [item('C')]);
    await new Promise((resolve) => setTimeout(resolve, 5)); // staged strictly before the cutoff

    const syncName = [...hub.config.syncs.keys()][0]!;
    await activities.planStockSync({ syncName, mode: 'full' });
    expect(stagedBatches()).toEqual([]);

    // Within the hour the next plan does not prune again.
    await store.stageItems('later', 'shopify', [item('D')]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await activities.planStockSync({ syncName, mode: 'full' });
    expect(stagedBatches()).toEqual(['later']);
    await connectors.closeAll();
  });
});

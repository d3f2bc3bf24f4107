/**
 * The state store contract, run unchanged against SQLite and PostgreSQL (with and without a
 * dedicated schema): one code path must behave the same on both.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { openStateDatabase } from '../../state/database';
import { openStateStore, type KyselyStateStore, type StateStoreConfig } from '../../state/kysely-store';
import { createStateMigrator } from '../../state/migrations';
import { snapshotKey, type QuarantineRecord, type StagedStockItem } from '../../state/store';
import { startPostgresTestServer, type PostgresTestServer } from '../support/postgres';

type Backend = 'sqlite' | 'postgres' | 'postgres with schema';

let postgres: Promise<PostgresTestServer> | undefined;
/** One server for the whole file, started only when a PostgreSQL suite runs. */
function sharedPostgres(): Promise<PostgresTestServer> {
  postgres ??= startPostgresTestServer();
  return postgres;
}
const tempDirs: string[] = [];

afterAll(async () => {
  if (postgres) await (await postgres).stop();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

let configCounter = 0;
/**
 * A fresh, empty store location per call: a new file, or a new schema on the shared server.
 * Plain 'postgres' is the connection's default schema (public), used by one suite only.
 */
async function freshConfig(backend: Backend): Promise<StateStoreConfig> {
  configCounter += 1;
  if (backend === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'omnisync-state-test-'));
    tempDirs.push(dir);
    return { driver: 'sqlite', file: join(dir, 'nested', 'state.sqlite') };
  }
  const server = await sharedPostgres();
  return backend === 'postgres'
    ? { driver: 'postgres', connectionString: server.connectionString }
    : { driver: 'postgres', connectionString: server.connectionString, schema: `omnisync_state_${configCounter}` };
}

/** Runs `migrate()` in a separate Node process, as a second worker starting at the same time would. */
function migrateInChildProcess(config: StateStoreConfig): Promise<void> {
  const storeModule = new URL('../../state/kysely-store.ts', import.meta.url).href;
  const script = `
    const loaded = await import(${JSON.stringify(storeModule)});
    const { openStateStore } = loaded.openStateStore ? loaded : loaded.default; // CommonJS package: exports may sit on default
    const store = openStateStore(${JSON.stringify(config)});
    try { await store.migrate(); } finally { await store.close(); }`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], (err, _stdout, stderr) =>
      err ? reject(new Error(`migrate in a child process failed: ${stderr || err.message}`)) : resolve(),
    );
  });
}

function items(count: number, options: { skuPrefix?: string; location?: string; quantity?: (i: number) => number } = {}): StagedStockItem[] {
  return Array.from({ length: count }, (_, i) => ({
    sku: `${options.skuPrefix ?? 'SKU'}-${String(i).padStart(6, '0')}`,
    location: options.location ?? 'LOC-1',
    quantity: options.quantity ? options.quantity(i) : i,
    previousQuantity: i % 2 === 0 ? null : i - 1,
  }));
}

function record(overrides: Partial<QuarantineRecord> = {}): QuarantineRecord {
  return {
    scope: 'sync-a',
    entity: 'stock',
    recordKey: 'SKU-1|MAG-01',
    reason: 'onHand is not a number',
    kind: 'validation',
    category: 'invalid source row',
    subject: 'SKU-1',
    target: '',
    payload: { ilosc: 'abc' },
    ...overrides,
  };
}

describe.each<Backend>(['sqlite', 'postgres', 'postgres with schema'])('state store on %s', (backend) => {
  let config: StateStoreConfig;
  let store: KyselyStateStore;

  beforeAll(async () => {
    config = await freshConfig(backend);
    store = openStateStore(config);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
  });

  describe('migrate', () => {
    it('is idempotent, also when several processes migrate a fresh database at once', async () => {
      await store.migrate();
      await store.migrate();

      const fresh = await freshConfig(backend === 'sqlite' ? 'sqlite' : 'postgres with schema');
      if (fresh.driver === 'sqlite') {
        // better-sqlite3 is synchronous: writers contend across processes, not within one.
        await Promise.all([1, 2, 3].map(() => migrateInChildProcess(fresh)));
      } else {
        const stores = [openStateStore(fresh), openStateStore(fresh), openStateStore(fresh)];
        await Promise.all(stores.map((s) => s.migrate())).finally(() => Promise.all(stores.map((s) => s.close())));
      }
      const migrated = openStateStore(fresh);
      try {
        await migrated.migrate();
        await migrated.saveCursor('sync', 'delta', { strategy: 'key', afterKey: '1' });
        expect(await migrated.getCursor('sync', 'delta')).toEqual({ strategy: 'key', afterKey: '1' });
      } finally {
        await migrated.close();
      }
    });
  });

  describe('cursors', () => {
    it('returns null before a cursor is saved', async () => {
      expect(await store.getCursor('never-ran', 'delta')).toBeNull();
    });

    it('round-trips both strategies and keeps modes apart', async () => {
      await store.saveCursor('sync-cursors', 'full', { strategy: 'key', afterKey: '1000' });
      await store.saveCursor('sync-cursors', 'delta', { strategy: 'modified', afterModifiedAt: '2025-03-01T10:00:00.123Z', afterKey: '42' });
      expect(await store.getCursor('sync-cursors', 'full')).toEqual({ strategy: 'key', afterKey: '1000' });
      expect(await store.getCursor('sync-cursors', 'delta')).toEqual({ strategy: 'modified', afterModifiedAt: '2025-03-01T10:00:00.123Z', afterKey: '42' });
    });

    it('overwrites the cursor of the same sync and mode', async () => {
      await store.saveCursor('sync-overwrite', 'delta', { strategy: 'modified', afterModifiedAt: '2025-03-01T10:00:00.000Z', afterKey: '1' });
      await store.saveCursor('sync-overwrite', 'delta', { strategy: 'modified', afterModifiedAt: '2025-03-02T10:00:00.000Z', afterKey: '7' });
      expect(await store.getCursor('sync-overwrite', 'delta')).toEqual({ strategy: 'modified', afterModifiedAt: '2025-03-02T10:00:00.000Z', afterKey: '7' });
    });
  });

  describe('staged batches and snapshots', () => {
    it('returns pending items in (sku, location) order with their previous quantities', async () => {
      const staged: StagedStockItem[] = [
        { sku: 'B', location: 'L2', quantity: 3, previousQuantity: null },
        { sku: 'A', location: 'L2', quantity: 1, previousQuantity: 5 },
        { sku: 'B', location: 'L1', quantity: 0, previousQuantity: 2 },
        { sku: 'A', location: 'L1', quantity: 7, previousQuantity: null },
      ];
      await store.stageStockItems('batch-order', 'shop', staged);
      expect(await store.loadPendingStockItems('batch-order', 'shop')).toEqual([
        { sku: 'A', location: 'L1', quantity: 7, previousQuantity: null },
        { sku: 'A', location: 'L2', quantity: 1, previousQuantity: 5 },
        { sku: 'B', location: 'L1', quantity: 0, previousQuantity: 2 },
        { sku: 'B', location: 'L2', quantity: 3, previousQuantity: null },
      ]);
      expect(await store.loadPendingStockItems('batch-order', 'other-target')).toEqual([]);
    });

    it('keeps the last of duplicate items in one call', async () => {
      await store.stageStockItems('batch-dupes', 'shop', [
        { sku: 'A', location: 'L1', quantity: 1, previousQuantity: null },
        { sku: 'A', location: 'L1', quantity: 2, previousQuantity: null },
      ]);
      expect(await store.loadPendingStockItems('batch-dupes', 'shop')).toEqual([{ sku: 'A', location: 'L1', quantity: 2, previousQuantity: null }]);
    });

    it('marks items pushed and records them in the snapshot of that target only', async () => {
      const batch = items(5, { skuPrefix: 'PUSH' });
      await store.stageStockItems('batch-push', 'shop', batch);
      await store.markStockItemsPushed('batch-push', 'shop', batch);

      expect(await store.loadPendingStockItems('batch-push', 'shop')).toEqual([]);
      const snapshot = await store.loadSnapshot('shop', batch.map((item) => item.sku));
      expect(snapshot).toEqual(new Map(batch.map((item) => [snapshotKey(item.sku, item.location), item.quantity])));
      expect(await store.loadSnapshot('other-shop', batch.map((item) => item.sku))).toEqual(new Map());
    });

    it('overwrites snapshot quantities on a later push', async () => {
      const first = items(3, { skuPrefix: 'REPUSH', quantity: () => 10 });
      const second = items(3, { skuPrefix: 'REPUSH', quantity: () => 4 });
      await store.stageStockItems('batch-repush-1', 'shop', first);
      await store.markStockItemsPushed('batch-repush-1', 'shop', first);
      await store.stageStockItems('batch-repush-2', 'shop', second);
      await store.markStockItemsPushed('batch-repush-2', 'shop', second);
      const snapshot = await store.loadSnapshot('shop', second.map((item) => item.sku));
      expect([...snapshot.values()]).toEqual([4, 4, 4]);
    });

    it('after a crash between two confirmations, only unconfirmed items are pending and only confirmed ones are in the snapshot', async () => {
      const batch = items(10, { skuPrefix: 'CRASH' });
      await store.stageStockItems('batch-crash', 'shop', batch);
      await store.markStockItemsPushed('batch-crash', 'shop', batch.slice(0, 4));

      // The worker dies here; a new process opens the store and the retried activity resumes.
      await store.close();
      store = openStateStore(config);

      expect(await store.loadPendingStockItems('batch-crash', 'shop')).toEqual(batch.slice(4));
      const snapshot = await store.loadSnapshot('shop', batch.map((item) => item.sku));
      expect([...snapshot.keys()].sort()).toEqual(batch.slice(0, 4).map((item) => snapshotKey(item.sku, item.location)));
    });

    it('re-staging a batch (activity retry) refreshes pending items but never re-opens pushed ones', async () => {
      const batch = items(4, { skuPrefix: 'RESTAGE', quantity: () => 1 });
      await store.stageStockItems('batch-restage', 'shop', batch);
      await store.markStockItemsPushed('batch-restage', 'shop', batch.slice(0, 2));
      await store.stageStockItems('batch-restage', 'shop', items(4, { skuPrefix: 'RESTAGE', quantity: () => 9 }));

      const pending = await store.loadPendingStockItems('batch-restage', 'shop');
      expect(pending.map((item) => [item.sku, item.quantity])).toEqual([
        ['RESTAGE-000002', 9],
        ['RESTAGE-000003', 9],
      ]);
    });

    it('marks items failed: they are no longer pending and not in the snapshot', async () => {
      const batch = items(3, { skuPrefix: 'FAIL' });
      await store.stageStockItems('batch-fail', 'shop', batch);
      await store.markStockItemsFailed('batch-fail', 'shop', batch.slice(1, 2).map((item) => ({ item, reason: 'unknown SKU in the shop' })));
      expect((await store.loadPendingStockItems('batch-fail', 'shop')).map((item) => item.sku)).toEqual(['FAIL-000000', 'FAIL-000002']);
      expect(await store.loadSnapshot('shop', ['FAIL-000001'])).toEqual(new Map());
    });

    it('prunes batches staged before the cutoff, finished or left pending by a failed run, and keeps those still being pushed', async () => {
      const done = items(3, { skuPrefix: 'PRUNE-DONE' });
      const abandoned = items(3, { skuPrefix: 'PRUNE-OPEN' });
      const active = items(2, { skuPrefix: 'PRUNE-ACTIVE' });
      await store.stageStockItems('batch-prune-done', 'prune-target', done);
      await store.markStockItemsPushed('batch-prune-done', 'prune-target', done.slice(0, 2));
      await store.markStockItemsFailed('batch-prune-done', 'prune-target', done.slice(2).map((item) => ({ item, reason: 'rejected' })));
      await store.stageStockItems('batch-prune-open', 'prune-target', abandoned);
      await store.markStockItemsPushed('batch-prune-open', 'prune-target', abandoned.slice(0, 1));
      await store.stageStockItems('batch-prune-active', 'prune-target', active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const cutoff = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      // An outcome recorded after the cutoff: that push is still going on.
      await store.markStockItemsPushed('batch-prune-active', 'prune-target', active.slice(0, 1));

      expect(await store.pruneStagedBatches('2000-01-01T00:00:00.000Z')).toBe(0);
      const removed = await store.pruneStagedBatches(cutoff);
      expect(removed).toBeGreaterThanOrEqual(6); // other tests' batches may go too
      expect(await store.loadPendingStockItems('batch-prune-open', 'prune-target')).toEqual([]);
      expect(await store.stockBatchOutcomeCounts('batch-prune-done', 'prune-target')).toEqual({ pushed: 0, failed: 0 });
      expect(await store.loadPendingStockItems('batch-prune-active', 'prune-target')).toHaveLength(1);
      // Pruning batches never touches the snapshot.
      expect((await store.loadSnapshot('prune-target', done.map((item) => item.sku))).size).toBe(2);
    });

    it('counts the outcomes of a batch once per item, whatever the attempts that recorded them', async () => {
      const batch = items(5, { skuPrefix: 'COUNT' });
      await store.stageStockItems('batch-count', 'count-target', batch);
      await store.markStockItemsPushed('batch-count', 'count-target', batch.slice(0, 2));
      // A second attempt that lost the first one's answer records the same items again.
      await store.markStockItemsPushed('batch-count', 'count-target', batch.slice(0, 3));
      await store.markStockItemsFailed('batch-count', 'count-target', [{ item: batch[4]!, reason: 'refused' }]);
      expect(await store.stockBatchOutcomeCounts('batch-count', 'count-target')).toEqual({ pushed: 3, failed: 1 });
      expect(await store.stockBatchOutcomeCounts('batch-none', 'count-target')).toEqual({ pushed: 0, failed: 0 });
    });

    // Needs a database of its own at migration 0002: plain 'postgres' is the one shared public schema.
    it.skipIf(backend === 'postgres')('migration 0003 carries over batches with pending items, with their outcomes, and drops finished ones', async () => {
      const oldConfig = await freshConfig(backend);
      const db = openStateDatabase(oldConfig);
      const schema = oldConfig.driver === 'postgres' ? oldConfig.schema : undefined;
      try {
        if (schema !== undefined) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
        const upTo0002 = await createStateMigrator(db, oldConfig.driver, schema).migrateTo('0002_quarantine_record_key');
        expect(upTo0002.error).toBeUndefined();
        const row = (batch: string, sku: string, status: string, reason: string | null = null) => ({
          batch_id: batch,
          target: 'shop',
          sku,
          location: 'L1',
          quantity: 5,
          previous_quantity: null,
          status,
          reason,
          updated_at: '2026-01-01T00:00:00.000Z',
        });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the table of migrations 0001-0002
        await (db as Kysely<any>)
          .insertInto('omnisync_stock_push_item')
          .values([
            row('open', 'A', 'pushed'),
            row('open', 'B', 'failed', 'no such SKU'),
            row('open', 'C', 'pending'),
            row('open', 'D', 'pending'),
            row('finished', 'E', 'pushed'),
          ])
          .execute();
      } finally {
        await db.destroy();
      }
      const upgraded = openStateStore(oldConfig);
      try {
        await upgraded.migrate();
        expect((await upgraded.loadPendingStockItems('open', 'shop')).map((item) => item.sku)).toEqual(['C', 'D']);
        expect(await upgraded.loadPendingStockItems('finished', 'shop')).toEqual([]);
        // Carried-over outcomes count as done for pruning: after C and D, the batch is finished.
        await upgraded.markStockItemsPushed('open', 'shop', await upgraded.loadPendingStockItems('open', 'shop'));
        expect(await upgraded.pruneStagedBatches(new Date(Date.now() + 60_000).toISOString())).toBe(4);
      } finally {
        await upgraded.close();
      }
    });

    it('handles key sets larger than one IN list or one INSERT (2,500 SKUs × 2 locations)', async () => {
      const batch = [...items(2_500, { skuPrefix: 'BULK', location: 'L1' }), ...items(2_500, { skuPrefix: 'BULK', location: 'L2', quantity: (i) => i + 1 })];
      await store.stageStockItems('batch-bulk', 'bulk-target', batch);
      expect(await store.loadPendingStockItems('batch-bulk', 'bulk-target')).toHaveLength(5_000);

      await store.markStockItemsPushed('batch-bulk', 'bulk-target', batch.slice(0, 3_000));
      expect(await store.loadPendingStockItems('batch-bulk', 'bulk-target')).toHaveLength(2_000);

      const skus = [...new Set(batch.map((item) => item.sku))];
      const snapshot = await store.loadSnapshot('bulk-target', [...skus, ...skus]);
      expect(snapshot.size).toBe(3_000);
      expect(snapshot.get(snapshotKey('BULK-002499', 'L1'))).toBe(2_499);
      expect(snapshot.get(snapshotKey('BULK-000499', 'L2'))).toBe(500);
    });
  });

  describe('crosswalk', () => {
    it('returns remote ids of known keys only, per connector and kind', async () => {
      const shopA = store.crosswalk('shop-a');
      await shopA.put('sku→inventoryItem', new Map([['SKU-1', 'gid://1'], ['SKU-2', 'gid://2']]));
      await store.crosswalk('shop-b').put('sku→inventoryItem', new Map([['SKU-1', 'gid://other']]));
      await shopA.put('sku→variant', new Map([['SKU-1', 'variant-1']]));

      expect(await shopA.get('sku→inventoryItem', ['SKU-1', 'SKU-2', 'SKU-3'])).toEqual(new Map([['SKU-1', 'gid://1'], ['SKU-2', 'gid://2']]));
      expect(await shopA.get('sku→variant', ['SKU-1', 'SKU-2'])).toEqual(new Map([['SKU-1', 'variant-1']]));
      expect(await store.crosswalk('shop-b').get('sku→inventoryItem', ['SKU-1', 'SKU-2'])).toEqual(new Map([['SKU-1', 'gid://other']]));
      expect(await shopA.get('sku→inventoryItem', [])).toEqual(new Map());
    });

    it('overwrites a remote id and handles more than 2,000 keys', async () => {
      const crosswalk = store.crosswalk('shop-bulk');
      const entries = new Map(Array.from({ length: 2_500 }, (_, i) => [`SKU-${i}`, `remote-${i}`] as const));
      await crosswalk.put('sku→id', entries);
      await crosswalk.put('sku→id', new Map([['SKU-7', 'remote-7-new']]));
      const found = await crosswalk.get('sku→id', [...entries.keys(), 'SKU-unknown']);
      expect(found.size).toBe(2_500);
      expect(found.get('SKU-7')).toBe('remote-7-new');
      expect(found.get('SKU-2499')).toBe('remote-2499');
    });
  });

  describe('quarantine', () => {
    it('counts a record met again while open, keeping the first sighting and the latest payload', async () => {
      await store.quarantine([record({ scope: 'dedupe', payload: { ilosc: 'abc' } })]);
      await store.quarantine([record({ scope: 'dedupe', payload: { ilosc: 'abd' } })]);
      const [entry, ...rest] = await store.listQuarantine({ scope: 'dedupe' });
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({ scope: 'dedupe', entity: 'stock', recordKey: 'SKU-1|MAG-01', reason: 'onHand is not a number', kind: 'validation', payload: { ilosc: 'abd' }, occurrences: 2, resolved: false });
      expect(entry!.lastSeenAt >= entry!.firstSeenAt).toBe(true);
    });

    it('counts repeats within one call and keeps different reasons, keys and entities apart', async () => {
      await store.quarantine([
        record({ scope: 'apart' }),
        record({ scope: 'apart' }),
        record({ scope: 'apart', reason: 'reserved is negative (-2)' }),
        record({ scope: 'apart', recordKey: 'SKU-2|MAG-01' }),
        record({ scope: 'apart', entity: 'price' }),
      ]);
      const entries = await store.listQuarantine({ scope: 'apart' });
      expect(entries).toHaveLength(4);
      expect(entries.map((e) => e.occurrences).sort()).toEqual([1, 1, 1, 2]);
    });

    it('opens a new record when the same problem returns after it was resolved', async () => {
      await store.quarantine([record({ scope: 'resolved' })]);
      const [open] = await store.listQuarantine({ scope: 'resolved' });
      expect(await store.resolveQuarantine([open!.id])).toBe(1);
      expect(await store.listQuarantine({ scope: 'resolved' })).toEqual([]);

      await store.quarantine([record({ scope: 'resolved' })]);
      const all = await store.listQuarantine({ scope: 'resolved', includeResolved: true });
      expect(all.map((e) => [e.resolved, e.occurrences]).sort()).toEqual([[false, 1], [true, 1]]);
    });

    it('resolves the open entries of subjects that synced cleanly, per target, with the time', async () => {
      await store.quarantine([
        record({ scope: 'auto', recordKey: 'A|MAG', subject: 'A', target: '' }),
        record({ scope: 'auto', recordKey: 'A|shop|L1', subject: 'A', target: 'shop', reason: 'SKU A has no variant', category: 'unknown to target' }),
        record({ scope: 'auto', recordKey: 'B|MAG', subject: 'B', target: '' }),
      ]);
      const before = new Date().toISOString();
      expect(await store.resolveQuarantined('auto', 'stock', '', ['A', 'C'])).toBe(1);
      expect(await store.resolveQuarantined('other-scope', 'stock', 'shop', ['A'])).toBe(0);
      const open = await store.listQuarantine({ scope: 'auto' });
      expect(open.map((e) => e.recordKey).sort()).toEqual(['A|shop|L1', 'B|MAG']);
      const resolved = (await store.listQuarantine({ scope: 'auto', includeResolved: true })).find((e) => e.recordKey === 'A|MAG')!;
      expect(resolved.resolved).toBe(true);
      expect(resolved.resolvedAt! >= before).toBe(true);
      expect(await store.resolveQuarantined('auto', 'stock', 'shop', ['A'])).toBe(1);
      expect((await store.listQuarantine({ scope: 'auto' })).map((e) => e.recordKey)).toEqual(['B|MAG']);
    });

    it('resolves open entries by record key: a confirmed item resolves only its own entries', async () => {
      await store.quarantine([
        record({ scope: 'by-key', recordKey: 'A|shop|L1', subject: 'A', target: 'shop' }),
        record({ scope: 'by-key', recordKey: 'A|shop|L2', subject: 'A', target: 'shop' }),
      ]);
      expect(await store.resolveQuarantinedRecords('by-key', 'stock', ['A|shop|L1', 'Z|shop|L1'])).toBe(1);
      expect((await store.listQuarantine({ scope: 'by-key' })).map((e) => e.recordKey)).toEqual(['A|shop|L2']);
    });

    it('summarises the entries seen since a time by category, most records first', async () => {
      const since = new Date().toISOString();
      await store.quarantine([
        record({ scope: 'summary', recordKey: 'X', category: 'outside target limits', reason: 'quantity 1 is above' }),
        record({ scope: 'summary', recordKey: 'Y', category: 'duplicate key in source', reason: 'dup Y' }),
        record({ scope: 'summary', recordKey: 'Z', category: 'duplicate key in source', reason: 'dup Z' }),
        record({ scope: 'summary', recordKey: 'Z', category: 'duplicate key in source', reason: 'dup Z' }),
      ]);
      expect(await store.quarantineSummary('summary', since)).toEqual([
        { category: 'duplicate key in source', records: 2, example: 'dup Z' },
        { category: 'outside target limits', records: 1, example: 'quantity 1 is above' },
      ]);
      expect(await store.quarantineSummary('summary', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
    });

    it('lists newest sightings first, up to the limit, any JSON payload', async () => {
      await store.quarantine([record({ scope: 'listing', recordKey: 'first', payload: null })]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.quarantine([record({ scope: 'listing', recordKey: 'second', payload: [1, 'two', { three: 3n }] })]);
      const entries = await store.listQuarantine({ scope: 'listing' });
      expect(entries.map((e) => e.recordKey)).toEqual(['second', 'first']);
      expect(entries[0]!.payload).toEqual([1, 'two', { three: '3' }]);
      expect(entries[1]!.payload).toBeNull();
      expect(await store.listQuarantine({ scope: 'listing', limit: 1 })).toHaveLength(1);
      expect((await store.listQuarantine()).length).toBeGreaterThanOrEqual(2);
    });

    it('stores a long reason (index row size is not a limit)', async () => {
      const reason = `bad row: ${'x'.repeat(10_000)}`;
      await store.quarantine([record({ scope: 'long', reason }), record({ scope: 'long', reason })]);
      const [entry] = await store.listQuarantine({ scope: 'long' });
      expect(entry!.reason).toBe(reason);
      expect(entry!.occurrences).toBe(2);
    });

    describe('recentlyQuarantined', () => {
      const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
      /** An ISO time strictly between what was recorded before and what is recorded after. */
      async function instant(): Promise<string> {
        await pause();
        const at = new Date().toISOString();
        await pause();
        return at;
      }

      it('returns the asked keys with an open entry of that scope, entity and kind seen at or after `since`', async () => {
        const before = await instant();
        await store.quarantine([
          record({ scope: 'recent', recordKey: 'A', kind: 'unmappable' }),
          record({ scope: 'recent', recordKey: 'B', kind: 'unmappable' }),
          record({ scope: 'recent', recordKey: 'OLD', kind: 'unmappable' }),
          // Same keys, other scope / entity / kind: never returned for ('recent', 'stock', 'unmappable').
          record({ scope: 'recent-other', recordKey: 'C', kind: 'unmappable' }),
          record({ scope: 'recent', entity: 'price', recordKey: 'D', kind: 'unmappable' }),
          record({ scope: 'recent', recordKey: 'E', kind: 'validation' }),
        ]);
        const between = await instant();
        await store.quarantine([
          record({ scope: 'recent', recordKey: 'A', kind: 'unmappable' }), // seen again: last_seen_at moves
          record({ scope: 'recent', recordKey: 'NEW', kind: 'unmappable' }),
        ]);

        const asked = ['A', 'B', 'C', 'D', 'E', 'OLD', 'NEW', 'never-quarantined'];
        expect(await store.recentlyQuarantined('recent', 'stock', 'unmappable', asked, before)).toEqual(new Set(['A', 'B', 'OLD', 'NEW']));
        expect(await store.recentlyQuarantined('recent', 'stock', 'unmappable', asked, between)).toEqual(new Set(['A', 'NEW']));
        expect(await store.recentlyQuarantined('recent', 'stock', 'unmappable', asked, await instant())).toEqual(new Set());
        // Only keys that were asked for.
        expect(await store.recentlyQuarantined('recent', 'stock', 'unmappable', ['B', 'C'], before)).toEqual(new Set(['B']));
        expect(await store.recentlyQuarantined('recent', 'stock', 'unmappable', [], before)).toEqual(new Set());
        // The other scope, entity and kind are found under their own names.
        expect(await store.recentlyQuarantined('recent-other', 'stock', 'unmappable', asked, before)).toEqual(new Set(['C']));
        expect(await store.recentlyQuarantined('recent', 'price', 'unmappable', asked, before)).toEqual(new Set(['D']));
        expect(await store.recentlyQuarantined('recent', 'stock', 'validation', asked, before)).toEqual(new Set(['E']));
      });

      it('leaves out resolved entries until the record is quarantined again', async () => {
        const before = await instant();
        await store.quarantine([
          record({ scope: 'recent-resolved', recordKey: 'FIXED', kind: 'unmappable' }),
          record({ scope: 'recent-resolved', recordKey: 'OPEN', kind: 'unmappable' }),
        ]);
        const fixed = (await store.listQuarantine({ scope: 'recent-resolved' })).find((entry) => entry.recordKey === 'FIXED');
        expect(await store.resolveQuarantine([fixed!.id])).toBe(1);

        expect(await store.recentlyQuarantined('recent-resolved', 'stock', 'unmappable', ['FIXED', 'OPEN'], before)).toEqual(new Set(['OPEN']));

        await store.quarantine([record({ scope: 'recent-resolved', recordKey: 'FIXED', kind: 'unmappable' })]);
        expect(await store.recentlyQuarantined('recent-resolved', 'stock', 'unmappable', ['FIXED', 'OPEN'], before)).toEqual(new Set(['FIXED', 'OPEN']));
      });

      it('answers for more than 2,000 keys (several IN lists)', async () => {
        const before = await instant();
        const keys = Array.from({ length: 2_500 }, (_, i) => `BULKQ-${String(i).padStart(5, '0')}`);
        // Every other key is quarantined; the rest are asked for but absent.
        await store.quarantine(keys.filter((_, i) => i % 2 === 0).map((recordKey) => record({ scope: 'recent-bulk', recordKey, kind: 'unmappable' })));
        const found = await store.recentlyQuarantined('recent-bulk', 'stock', 'unmappable', [...keys, ...keys.slice(0, 10)], before);
        expect(found.size).toBe(1_250);
        expect(found.has('BULKQ-00000')).toBe(true);
        expect(found.has('BULKQ-02498')).toBe(true);
        expect(found.has('BULKQ-02499')).toBe(false);
        expect([...found].every((key) => Number(key.slice('BULKQ-'.length)) % 2 === 0)).toBe(true);
      });
    });
  });
});

describe('state store performance (printed, not asserted)', () => {
  it('stages and confirms 100,000 items on SQLite', async () => {
    const store = openStateStore(await freshConfig('sqlite'));
    try {
      await store.migrate();
      const batch = items(100_000, { skuPrefix: 'PERF' });
      let started = performance.now();
      await store.stageStockItems('perf', 'shop', batch);
      const stageMs = performance.now() - started;
      started = performance.now();
      await store.markStockItemsPushed('perf', 'shop', batch);
      const pushMs = performance.now() - started;
      started = performance.now();
      const snapshot = await store.loadSnapshot('shop', batch.slice(0, 10_000).map((item) => item.sku));
      const loadMs = performance.now() - started;
      console.log(
        `SQLite: staged 100,000 items in ${stageMs.toFixed(0)} ms; marked pushed + 100,000 snapshot upserts in ${pushMs.toFixed(0)} ms; ` +
          `loaded a 10,000-SKU snapshot in ${loadMs.toFixed(0)} ms`,
      );
      expect(snapshot.size).toBe(10_000);
    } finally {
      await store.close();
    }
  });
});

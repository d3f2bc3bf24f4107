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
import { currentLevel } from '../../core/location-stock';
import { snapshotKey, type PriceHistoryEntry, type QuarantineRecord, type SnapshotScope, type StagedItem } from '../../state/store';
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

/** Stock items as the state store stages them: key = SKU, part = location, value = the quantity as text. */
function items(count: number, options: { skuPrefix?: string; location?: string; quantity?: (i: number) => number } = {}): StagedItem[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${options.skuPrefix ?? 'SKU'}-${String(i).padStart(6, '0')}`,
    part: options.location ?? 'LOC-1',
    value: String(options.quantity ? options.quantity(i) : i),
    previous: i % 2 === 0 ? null : String(i - 1),
  }));
}

/** The stock snapshot of one target, for the sync most tests use. */
function stock(target: string, syncName = 'sync-a'): SnapshotScope {
  return { syncName, target, entity: 'stock' };
}

function keysOf(staged: readonly StagedItem[]): string[] {
  return staged.map((item) => item.key);
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
        // SQLite calls are synchronous: writers contend across processes, not within one.
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

    it('keeps a cursor as opaque JSON: whatever the source connector saved comes back', async () => {
      const cursors: unknown[] = [
        { strategy: 'prices', lists: { DETAL: { afterKey: 'SKU-9', validFrom: '2026-01-01' }, PROMO: null }, page: 3, done: false, ratio: -0.125 },
        [1, 'two', null, true, { nested: [[], {}] }],
        'a plain string with "quotes", \\ backslashes, \u0000 and zażółć gęślą jaźń 🦊',
        42,
        false,
        { long: 'x'.repeat(50_000) },
      ];
      for (const [i, cursor] of cursors.entries()) {
        await store.saveCursor('sync-opaque', `mode-${i}`, cursor);
      }
      for (const [i, cursor] of cursors.entries()) {
        expect(await store.getCursor('sync-opaque', `mode-${i}`)).toStrictEqual(cursor);
      }
      // A cursor of another shape replaces the earlier one whole.
      await store.saveCursor('sync-opaque', 'mode-0', ['replaced']);
      expect(await store.getCursor('sync-opaque', 'mode-0')).toStrictEqual(['replaced']);
      expect(await store.getCursor('sync-opaque', 'mode-1')).toStrictEqual(cursors[1]);
    });
  });

  describe('staged batches and snapshots', () => {
    it('returns pending items in (key, part) order with their previous values', async () => {
      const staged: StagedItem[] = [
        { key: 'B', part: 'L2', value: '3', previous: null },
        { key: 'A', part: 'L2', value: '1', previous: '5' },
        { key: 'B', part: 'L1', value: '0', previous: '2' },
        { key: 'A', part: 'L1', value: '7', previous: null },
      ];
      await store.stageItems('batch-order', 'shop', staged);
      expect(await store.loadPendingItems('batch-order', 'shop')).toStrictEqual([
        { key: 'A', part: 'L1', value: '7', previous: null },
        { key: 'A', part: 'L2', value: '1', previous: '5' },
        { key: 'B', part: 'L1', value: '0', previous: '2' },
        { key: 'B', part: 'L2', value: '3', previous: null },
      ]);
      expect(await store.loadPendingItems('batch-order', 'other-target')).toEqual([]);
    });

    it('keeps the last of duplicate items in one call', async () => {
      await store.stageItems('batch-dupes', 'shop', [
        { key: 'A', part: 'L1', value: '1', previous: null },
        { key: 'A', part: 'L1', value: '2', previous: null },
      ]);
      expect(await store.loadPendingItems('batch-dupes', 'shop')).toStrictEqual([{ key: 'A', part: 'L1', value: '2', previous: null }]);
    });

    it('marks items pushed and records them in the snapshot of that target only', async () => {
      const batch = items(5, { skuPrefix: 'PUSH' });
      await store.stageItems('batch-push', 'shop', batch);
      await store.markItemsPushed(stock('shop'), 'batch-push', batch);

      expect(await store.loadPendingItems('batch-push', 'shop')).toEqual([]);
      expect(await store.loadPendingBatch('batch-push', 'shop')).toEqual({ pending: [], recorded: 5 });
      const snapshot = await store.loadSnapshot(stock('shop'), keysOf(batch));
      expect(snapshot).toEqual(new Map(batch.map((item) => [snapshotKey(item.key, item.part), item.value])));
      expect(await store.loadSnapshot(stock('other-shop'), keysOf(batch))).toEqual(new Map());
    });

    it('overwrites snapshot values on a later push', async () => {
      const first = items(3, { skuPrefix: 'REPUSH', quantity: () => 10 });
      const second = items(3, { skuPrefix: 'REPUSH', quantity: () => 4 });
      await store.stageItems('batch-repush-1', 'shop', first);
      await store.markItemsPushed(stock('shop'), 'batch-repush-1', first);
      await store.stageItems('batch-repush-2', 'shop', second);
      await store.markItemsPushed(stock('shop'), 'batch-repush-2', second);
      const snapshot = await store.loadSnapshot(stock('shop'), keysOf(second));
      expect([...snapshot.values()]).toEqual(['4', '4', '4']);
      expect(await store.countSnapshot(stock('shop'))).toBeGreaterThanOrEqual(3);
    });

    it('after a crash between two confirmations, only unconfirmed items are pending and only confirmed ones are in the snapshot', async () => {
      const batch = items(10, { skuPrefix: 'CRASH' });
      await store.stageItems('batch-crash', 'shop', batch);
      await store.markItemsPushed(stock('shop'), 'batch-crash', batch.slice(0, 4));

      // The worker dies here; a new process opens the store and the retried activity resumes.
      await store.close();
      store = openStateStore(config);

      expect(await store.loadPendingItems('batch-crash', 'shop')).toStrictEqual(batch.slice(4));
      expect(await store.loadPendingBatch('batch-crash', 'shop')).toStrictEqual({ pending: batch.slice(4), recorded: 4 });
      const snapshot = await store.loadSnapshot(stock('shop'), keysOf(batch));
      expect([...snapshot.keys()].sort()).toEqual(batch.slice(0, 4).map((item) => snapshotKey(item.key, item.part)));
    });

    it('re-staging a batch (activity retry) refreshes pending items but never re-opens pushed ones', async () => {
      const batch = items(4, { skuPrefix: 'RESTAGE', quantity: () => 1 });
      await store.stageItems('batch-restage', 'shop', batch);
      await store.markItemsPushed(stock('shop'), 'batch-restage', batch.slice(0, 2));
      await store.stageItems('batch-restage', 'shop', items(4, { skuPrefix: 'RESTAGE', quantity: () => 9 }));

      const pending = await store.loadPendingItems('batch-restage', 'shop');
      expect(pending.map((item) => [item.key, item.value])).toEqual([
        ['RESTAGE-000002', '9'],
        ['RESTAGE-000003', '9'],
      ]);
    });

    it('marks items failed: they are no longer pending and not in the snapshot', async () => {
      const batch = items(3, { skuPrefix: 'FAIL' });
      await store.stageItems('batch-fail', 'shop', batch);
      await store.markItemsFailed('batch-fail', 'shop', batch.slice(1, 2).map((item) => ({ item, reason: 'unknown SKU in the shop' })));
      expect(keysOf(await store.loadPendingItems('batch-fail', 'shop'))).toEqual(['FAIL-000000', 'FAIL-000002']);
      expect(await store.loadSnapshot(stock('shop'), ['FAIL-000001'])).toEqual(new Map());
    });

    it('keeps held and extra from staging to loading; failing held items takes them out of the pending ones', async () => {
      const staged: StagedItem[] = [
        { key: 'HX-1', part: '', value: '{"amount":"99.00","currency":"PLN"}', previous: '{"amount":"120.00","currency":"PLN"}', held: 'price drop of 17.5 % exceeds 15 %', extra: { lowest: { amount: '89.99', currency: 'PLN' } } },
        { key: 'HX-2', part: '', value: '10', previous: null, held: 'below cost' },
        { key: 'HX-3', part: '', value: '11', previous: '12', extra: { nested: [1, 'two', null, { deep: true }], text: 'zażółć "gęślą"' } },
        { key: 'HX-4', part: '', value: '12', previous: null, extra: null },
        { key: 'HX-5', part: '', value: '13', previous: null, extra: 0 },
        { key: 'HX-6', part: '', value: '14', previous: null },
      ];
      await store.stageItems('batch-held', 'held-shop', [...staged].reverse());
      expect(await store.loadPendingItems('batch-held', 'held-shop')).toStrictEqual(staged);

      const held = staged.filter((item) => item.held !== undefined);
      await store.markItemsFailed('batch-held', 'held-shop', held.map((item) => ({ item, reason: `held: ${item.held}` })));
      const pending = await store.loadPendingItems('batch-held', 'held-shop');
      expect(pending).toStrictEqual(staged.filter((item) => item.held === undefined));
      expect(await store.batchOutcomeCounts('batch-held', 'held-shop')).toEqual({ pushed: 0, failed: 2 });

      const price = { syncName: 'sync-a', target: 'held-shop', entity: 'price' };
      await store.markItemsPushed(price, 'batch-held', pending);
      expect(await store.loadPendingItems('batch-held', 'held-shop')).toEqual([]);
      expect(await store.batchOutcomeCounts('batch-held', 'held-shop')).toEqual({ pushed: 4, failed: 2 });
      // The snapshot keeps the value only, and nothing of the held ones.
      expect(await store.loadSnapshot(price, keysOf(staged))).toEqual(new Map(pending.map((item) => [snapshotKey(item.key, ''), item.value])));
    });

    it('prunes batches staged before the cutoff, finished or left pending by a failed run, and keeps those still being pushed', async () => {
      const done = items(3, { skuPrefix: 'PRUNE-DONE' });
      const abandoned = items(3, { skuPrefix: 'PRUNE-OPEN' });
      const active = items(2, { skuPrefix: 'PRUNE-ACTIVE' });
      await store.stageItems('batch-prune-done', 'prune-target', done);
      await store.markItemsPushed(stock('prune-target'), 'batch-prune-done', done.slice(0, 2));
      await store.markItemsFailed('batch-prune-done', 'prune-target', done.slice(2).map((item) => ({ item, reason: 'rejected' })));
      await store.stageItems('batch-prune-open', 'prune-target', abandoned);
      await store.markItemsPushed(stock('prune-target'), 'batch-prune-open', abandoned.slice(0, 1));
      await store.stageItems('batch-prune-active', 'prune-target', active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const cutoff = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      // An outcome recorded after the cutoff: that push is still going on.
      await store.markItemsPushed(stock('prune-target'), 'batch-prune-active', active.slice(0, 1));

      expect(await store.pruneStagedBatches('2000-01-01T00:00:00.000Z')).toBe(0);
      const removed = await store.pruneStagedBatches(cutoff);
      expect(removed).toBeGreaterThanOrEqual(6); // other tests' batches may go too
      expect(await store.loadPendingItems('batch-prune-open', 'prune-target')).toEqual([]);
      expect(await store.batchOutcomeCounts('batch-prune-done', 'prune-target')).toEqual({ pushed: 0, failed: 0 });
      expect(await store.loadPendingItems('batch-prune-active', 'prune-target')).toHaveLength(1);
      // Pruning batches never touches the snapshot.
      expect((await store.loadSnapshot(stock('prune-target'), keysOf(done))).size).toBe(2);
    });

    it('counts the outcomes of a batch once per item, whatever the attempts that recorded them', async () => {
      const batch = items(5, { skuPrefix: 'COUNT' });
      await store.stageItems('batch-count', 'count-target', batch);
      await store.markItemsPushed(stock('count-target'), 'batch-count', batch.slice(0, 2));
      // A second attempt that lost the first one's answer records the same items again.
      await store.markItemsPushed(stock('count-target'), 'batch-count', batch.slice(0, 3));
      await store.markItemsFailed('batch-count', 'count-target', [{ item: batch[4]!, reason: 'refused' }]);
      expect(await store.batchOutcomeCounts('batch-count', 'count-target')).toEqual({ pushed: 3, failed: 1 });
      expect(await store.batchOutcomeCounts('batch-none', 'count-target')).toEqual({ pushed: 0, failed: 0 });
    });

    it('keeps the snapshots of two syncs and two entities on one target apart, and counts each', async () => {
      const target = 'shared-shop';
      const syncAStock = { syncName: 'iso-a', target, entity: 'stock' };
      const syncBStock = { syncName: 'iso-b', target, entity: 'stock' };
      const syncAPrice = { syncName: 'iso-a', target, entity: 'price' };
      // The same keys and parts in each scope, with different values.
      const aStock = items(3, { skuPrefix: 'ISO', quantity: (i) => 100 + i });
      const bStock = items(2, { skuPrefix: 'ISO', quantity: (i) => 200 + i });
      const aPrice: StagedItem[] = [{ key: 'ISO-000000', part: '', value: '{"amount":"19.99","currency":"PLN"}', previous: null }];
      await store.stageItems('iso-a-stock', target, aStock);
      await store.markItemsPushed(syncAStock, 'iso-a-stock', aStock);
      await store.stageItems('iso-b-stock', target, bStock);
      await store.markItemsPushed(syncBStock, 'iso-b-stock', bStock);
      await store.stageItems('iso-a-price', target, aPrice);
      await store.markItemsPushed(syncAPrice, 'iso-a-price', aPrice);
      // Pushing again what a scope holds adds no record.
      await store.markItemsPushed(syncBStock, 'iso-b-stock', bStock);

      const keys = ['ISO-000000', 'ISO-000001', 'ISO-000002', 'ISO-unknown'];
      expect(await store.loadSnapshot(syncAStock, keys)).toEqual(new Map(aStock.map((item) => [snapshotKey(item.key, item.part), item.value])));
      expect(await store.loadSnapshot(syncBStock, keys)).toEqual(new Map(bStock.map((item) => [snapshotKey(item.key, item.part), item.value])));
      expect(await store.loadSnapshot(syncAPrice, keys)).toEqual(new Map([[snapshotKey('ISO-000000', ''), '{"amount":"19.99","currency":"PLN"}']]));
      expect(await store.loadSnapshot({ syncName: 'iso-b', target, entity: 'price' }, keys)).toEqual(new Map());
      expect(await store.loadSnapshot({ syncName: 'iso-a', target: 'another-shop', entity: 'stock' }, keys)).toEqual(new Map());
      expect(await store.loadSnapshot(syncAStock, [])).toEqual(new Map());

      expect(await store.countSnapshot(syncAStock)).toBe(3);
      expect(await store.countSnapshot(syncBStock)).toBe(2);
      expect(await store.countSnapshot(syncAPrice)).toBe(1);
      expect(await store.countSnapshot({ syncName: 'iso-b', target, entity: 'price' })).toBe(0);
      expect(await store.countSnapshot({ syncName: 'iso-c', target, entity: 'stock' })).toBe(0);
    });

    it('adopts the unnamed rows of the given entity and targets only, once, keeping what the sync already holds', async () => {
      const legacy = (target: string, entity = 'stock') => ({ syncName: '', target, entity });
      const rows = items(3, { skuPrefix: 'ADOPT', quantity: (i) => 10 + i });
      await store.markItemsPushed(legacy('adopt-shop'), 'adopt-legacy', rows);
      await store.markItemsPushed(legacy('adopt-other'), 'adopt-legacy', rows.slice(0, 1));
      await store.markItemsPushed(legacy('adopt-shop', 'price'), 'adopt-legacy', rows.slice(0, 2));
      // The sync already pushed ADOPT-000001 itself: its own, newer value stays.
      const newer = { ...rows[1]!, value: '77' };
      await store.markItemsPushed(stock('adopt-shop', 'adopter'), 'adopt-own', [newer]);
      const keys = keysOf(rows);

      expect(await store.adoptLegacySnapshot('adopter', 'stock', [])).toBe(0);
      expect(await store.adoptLegacySnapshot('', 'stock', ['adopt-shop'])).toBe(0);
      expect(await store.adoptLegacySnapshot('adopter', 'stock', ['adopt-shop', 'adopt-nothing'])).toBe(2);
      expect(await store.loadSnapshot(stock('adopt-shop', 'adopter'), keys)).toEqual(
        new Map([
          [snapshotKey(rows[0]!.key, rows[0]!.part), '10'],
          [snapshotKey(rows[1]!.key, rows[1]!.part), '77'],
          [snapshotKey(rows[2]!.key, rows[2]!.part), '12'],
        ]),
      );
      expect(await store.countSnapshot(legacy('adopt-shop'))).toBe(0);
      // Another target's and another entity's rows stay unnamed.
      expect(await store.countSnapshot(legacy('adopt-other'))).toBe(1);
      expect(await store.countSnapshot(legacy('adopt-shop', 'price'))).toBe(2);
      expect(await store.countSnapshot({ syncName: 'adopter', target: 'adopt-shop', entity: 'price' })).toBe(0);
      // Taken once: a second adoption, or another sync, finds nothing left.
      expect(await store.adoptLegacySnapshot('adopter', 'stock', ['adopt-shop'])).toBe(0);
      expect(await store.adoptLegacySnapshot('second-sync', 'stock', ['adopt-shop'])).toBe(0);
      expect(await store.countSnapshot(stock('adopt-shop', 'second-sync'))).toBe(0);
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
        const pending = await upgraded.loadPendingItems('open', 'shop');
        expect(pending).toStrictEqual([
          { key: 'C', part: 'L1', value: '5', previous: null },
          { key: 'D', part: 'L1', value: '5', previous: null },
        ]);
        expect(await upgraded.loadPendingItems('finished', 'shop')).toEqual([]);
        expect(await upgraded.batchOutcomeCounts('open', 'shop')).toEqual({ pushed: 1, failed: 1 });
        // Carried-over outcomes count as done for pruning: after C and D, the batch is finished.
        await upgraded.markItemsPushed(stock('shop'), 'open', pending);
        expect(await upgraded.pruneStagedBatches(new Date(Date.now() + 60_000).toISOString())).toBe(4);
      } finally {
        await upgraded.close();
      }
    });

    // Needs a database of its own at migration 0004: plain 'postgres' is the one shared public schema.
    it.skipIf(backend === 'postgres')('migration 0005 keeps the stock snapshot (unnamed until a sync adopts it) and the staged stock batches of a store upgraded in place', async () => {
      const oldConfig = await freshConfig(backend);
      const db = openStateDatabase(oldConfig);
      const schema = oldConfig.driver === 'postgres' ? oldConfig.schema : undefined;
      const pushedAt = '2026-01-02T03:04:05.678Z';
      const stagedAt = '2026-01-03T00:00:00.000Z';
      try {
        if (schema !== undefined) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
        const upTo0004 = await createStateMigrator(db, oldConfig.driver, schema).migrateTo('0004_quarantine_subject');
        expect(upTo0004.error).toBeUndefined();
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tables of migrations 0001-0004
        const old = db as Kysely<any>;
        const snapshotRow = (target: string, sku: string, location: string, quantity: number) => ({ target, sku, location, quantity, pushed_at: pushedAt });
        await old
          .insertInto('omnisync_stock_snapshot')
          .values([
            snapshotRow('shopify', 'SKU-1', 'gid://shopify/Location/1', 5),
            snapshotRow('shopify', 'SKU-1', 'gid://shopify/Location/2', 0),
            snapshotRow('shopify', 'SKU-2', 'gid://shopify/Location/1', 1_000_000),
            snapshotRow('allegro', 'SKU-1', 'main', 7),
          ])
          .execute();
        // A page staged by the old code: items [sku, location, quantity, previousQuantity] with numbers.
        await old
          .insertInto('omnisync_stock_push_batch')
          .values({
            batch_id: 'legacy-batch',
            target: 'shopify',
            items_json: JSON.stringify([
              ['SKU-1', 'gid://shopify/Location/1', 6, 5],
              ['SKU-3', 'gid://shopify/Location/1', 2, null],
              ['SKU-4', 'gid://shopify/Location/1', 0, 3],
              ['SKU-5', 'gid://shopify/Location/2', 12, 11],
            ]),
            staged_at: stagedAt,
          })
          .execute();
        await old
          .insertInto('omnisync_stock_push_outcome')
          .values([
            { batch_id: 'legacy-batch', target: 'shopify', status: 'pushed', items_json: JSON.stringify([['SKU-1', 'gid://shopify/Location/1']]), recorded_at: stagedAt },
            { batch_id: 'legacy-batch', target: 'shopify', status: 'failed', items_json: JSON.stringify([['SKU-4', 'gid://shopify/Location/1', 'unknown SKU']]), recorded_at: stagedAt },
          ])
          .execute();
      } finally {
        await db.destroy();
      }

      const upgraded = openStateStore(oldConfig);
      try {
        await upgraded.migrate();
        await upgraded.migrate(); // idempotent after the upgrade too

        const skus = ['SKU-1', 'SKU-2', 'SKU-9'];
        const shopifyRows = new Map([
          [snapshotKey('SKU-1', 'gid://shopify/Location/1'), '5'],
          [snapshotKey('SKU-1', 'gid://shopify/Location/2'), '0'],
          [snapshotKey('SKU-2', 'gid://shopify/Location/1'), '1000000'],
        ]);
        const unnamed = (target: string) => ({ syncName: '', target, entity: 'stock' });
        const mine = (target: string) => ({ syncName: 'my-sync', target, entity: 'stock' });
        expect(await upgraded.loadSnapshot(unnamed('shopify'), skus)).toEqual(shopifyRows);
        expect(await upgraded.loadSnapshot(unnamed('allegro'), skus)).toEqual(new Map([[snapshotKey('SKU-1', 'main'), '7']]));
        expect(await upgraded.countSnapshot(unnamed('shopify'))).toBe(3);
        expect(await upgraded.loadSnapshot(mine('shopify'), skus)).toEqual(new Map());

        // The staged page: pending items as StagedItems with text values, outcomes carried over.
        expect(await upgraded.loadPendingItems('legacy-batch', 'shopify')).toStrictEqual([
          { key: 'SKU-3', part: 'gid://shopify/Location/1', value: '2', previous: null },
          { key: 'SKU-5', part: 'gid://shopify/Location/2', value: '12', previous: '11' },
        ]);
        expect(await upgraded.batchOutcomeCounts('legacy-batch', 'shopify')).toEqual({ pushed: 1, failed: 1 });

        // The first plan of the sync adopts the rows of its targets, and only those.
        expect(await upgraded.adoptLegacySnapshot('my-sync', 'stock', ['shopify'])).toBe(3);
        expect(await upgraded.loadSnapshot(mine('shopify'), skus)).toEqual(shopifyRows);
        expect(await upgraded.countSnapshot(mine('shopify'))).toBe(3);
        expect(await upgraded.loadSnapshot(unnamed('shopify'), skus)).toEqual(new Map());
        expect(await upgraded.countSnapshot(unnamed('shopify'))).toBe(0);
        expect(await upgraded.adoptLegacySnapshot('my-sync', 'stock', ['shopify'])).toBe(0);
        expect(await upgraded.countSnapshot(unnamed('allegro'))).toBe(1);
        expect(await upgraded.countSnapshot(mine('allegro'))).toBe(0);

        // The resumed push finishes the old page in the new tables.
        const pending = await upgraded.loadPendingItems('legacy-batch', 'shopify');
        await upgraded.markItemsPushed(mine('shopify'), 'legacy-batch', pending);
        expect(await upgraded.loadPendingItems('legacy-batch', 'shopify')).toEqual([]);
        expect(await upgraded.batchOutcomeCounts('legacy-batch', 'shopify')).toEqual({ pushed: 3, failed: 1 });
        expect((await upgraded.loadSnapshot(mine('shopify'), ['SKU-3', 'SKU-5'])).size).toBe(2);
        expect(await upgraded.pruneStagedBatches(new Date(Date.now() + 60_000).toISOString())).toBe(4);
        // The price history starts empty and works.
        expect(await upgraded.priceHistoryOf('SKU-1')).toEqual([]);
      } finally {
        await upgraded.close();
      }
    });

    it('handles key sets larger than one IN list or one INSERT (2,500 SKUs × 2 locations)', async () => {
      const batch = [...items(2_500, { skuPrefix: 'BULK', location: 'L1' }), ...items(2_500, { skuPrefix: 'BULK', location: 'L2', quantity: (i) => i + 1 })];
      await store.stageItems('batch-bulk', 'bulk-target', batch);
      expect(await store.loadPendingItems('batch-bulk', 'bulk-target')).toHaveLength(5_000);

      await store.markItemsPushed(stock('bulk-target'), 'batch-bulk', batch.slice(0, 3_000));
      expect(await store.loadPendingItems('batch-bulk', 'bulk-target')).toHaveLength(2_000);

      const skus = [...new Set(keysOf(batch))];
      const snapshot = await store.loadSnapshot(stock('bulk-target'), [...skus, ...skus]);
      expect(snapshot.size).toBe(3_000);
      expect(snapshot.get(snapshotKey('BULK-002499', 'L1'))).toBe('2499');
      expect(snapshot.get(snapshotKey('BULK-000499', 'L2'))).toBe('500');
      expect(await store.countSnapshot(stock('bulk-target'))).toBe(3_000);
    });
  });

  describe('price history', () => {
    const entry = (sku: string, day: number, amount: string, currency = 'PLN', compareAt: string | null = null): PriceHistoryEntry => ({
      sku,
      since: `2026-01-${String(day).padStart(2, '0')}T00:00:00.000Z`,
      amount,
      currency,
      compareAt,
    });

    it('records the history of pushed prices in the transaction that records the push, at its time', async () => {
      const scope = { syncName: 'ph-push', target: 'ph-push-target', entity: 'price' };
      const item = { key: 'PP-1', part: '', value: '["PLN","9.99",null]', previous: null };
      await store.stageItems('ph-push-batch', scope.target, [item]);
      let recordedAt = '';
      await store.markItemsPushed(scope, 'ph-push-batch', [item], (pushedAt) => {
        recordedAt = pushedAt;
        return [{ sku: 'PP-1', since: pushedAt, amount: '9.99', currency: 'PLN', compareAt: null }];
      });
      expect(await store.loadPendingItems('ph-push-batch', scope.target)).toEqual([]);
      expect(await store.priceHistoryOf('PP-1')).toEqual([{ target: scope.target, sku: 'PP-1', since: recordedAt, amount: '9.99', currency: 'PLN', compareAt: null }]);
      // A history that cannot be written takes the push's record with it: the item stays pending.
      const again = { ...item, key: 'PP-2' };
      await store.stageItems('ph-push-batch-2', scope.target, [again]);
      await expect(
        store.markItemsPushed(scope, 'ph-push-batch-2', [again], () => {
          throw new Error('history refused');
        }),
      ).rejects.toThrow('history refused');
      expect(await store.loadPendingItems('ph-push-batch-2', scope.target)).toEqual([again]);
    });

    it('records a price only when it differs from the latest one of the SKU at that target', async () => {
      const target = 'ph-record';
      await store.recordPriceHistory(target, [entry('PH-1', 1, '10.00')]);
      await store.recordPriceHistory(target, [entry('PH-1', 2, '10')]); // the same amount as a decimal
      await store.recordPriceHistory(target, [entry('PH-1', 3, '10.0000')]);
      await store.recordPriceHistory(target, [entry('PH-1', 4, '8.00', 'PLN', '10.00')]); // another amount
      await store.recordPriceHistory(target, [entry('PH-1', 5, '8.00', 'PLN', '10.00')]);
      await store.recordPriceHistory(target, [entry('PH-1', 6, '8.00')]); // the compare-at price went
      await store.recordPriceHistory(target, [entry('PH-1', 7, '8.00', 'EUR')]); // another currency
      // Within one call, an entry equal to the one before it adds nothing either.
      await store.recordPriceHistory(target, [entry('PH-1', 8, '9.00'), entry('PH-1', 9, '9.00'), entry('PH-2', 8, '1.00')]);
      await store.recordPriceHistory(target, []);
      // Another target has its own latest price.
      await store.recordPriceHistory('ph-record-other', [entry('PH-1', 9, '9.00')]);

      expect((await store.priceHistorySince(target, ['PH-1'], '2000-01-01T00:00:00.000Z')).get('PH-1')).toEqual([
        entry('PH-1', 1, '10.00'),
        entry('PH-1', 4, '8.00', 'PLN', '10.00'),
        entry('PH-1', 6, '8.00'),
        entry('PH-1', 7, '8.00', 'EUR'),
        entry('PH-1', 8, '9.00'),
      ]);
      expect((await store.priceHistorySince('ph-record-other', ['PH-1'], '2000-01-01T00:00:00.000Z')).get('PH-1')).toEqual([entry('PH-1', 9, '9.00')]);
    });

    it('returns the entry in effect at `from` and every later one, oldest first per SKU', async () => {
      const target = 'ph-since';
      await store.recordPriceHistory(target, [entry('S-1', 1, '10.00'), entry('S-2', 12, '5.00'), entry('S-3', 2, '7.00'), entry('S-OTHER', 1, '1.00')]);
      await store.recordPriceHistory(target, [entry('S-1', 5, '9.00'), entry('S-3', 3, '6.50')]);
      await store.recordPriceHistory(target, [entry('S-1', 15, '11.00', 'PLN', '12.00')]);
      await store.recordPriceHistory(target, [entry('S-1', 20, '12.00'), entry('S-2', 20, '4.00')]);
      await store.recordPriceHistory('ph-since-other', [entry('S-1', 11, '1.00')]);

      const from = '2026-01-10T00:00:00.000Z';
      const history = await store.priceHistorySince(target, ['S-1', 'S-2', 'S-3', 'S-none', 'S-1'], from);
      expect(history).toEqual(
        new Map([
          // Shown from the 5th, still in effect on the 10th, then every change.
          ['S-1', [entry('S-1', 5, '9.00'), entry('S-1', 15, '11.00', 'PLN', '12.00'), entry('S-1', 20, '12.00')]],
          // Nothing before `from`: its entries since then.
          ['S-2', [entry('S-2', 12, '5.00'), entry('S-2', 20, '4.00')]],
          // Nothing since `from`: the one in effect.
          ['S-3', [entry('S-3', 3, '6.50')]],
        ]),
      );
      expect(await store.priceHistorySince(target, [], from)).toEqual(new Map());
      expect(await store.priceHistorySince('ph-since-none', ['S-1'], from)).toEqual(new Map());
    });

    it('lists every target’s history of a SKU newest first, at most `limit` per target', async () => {
      await store.recordPriceHistory('ph-of-a', [entry('OF-1', 1, '10.00'), entry('OF-2', 1, '99.00')]);
      await store.recordPriceHistory('ph-of-a', [entry('OF-1', 2, '11.00')]);
      await store.recordPriceHistory('ph-of-a', [entry('OF-1', 3, '12.00', 'PLN', '15.00')]);
      await store.recordPriceHistory('ph-of-b', [entry('OF-1', 1, '20.00', 'EUR')]);
      await store.recordPriceHistory('ph-of-b', [entry('OF-1', 4, '21.00', 'EUR')]);

      const all = await store.priceHistoryOf('OF-1');
      expect(all).toEqual([
        { target: 'ph-of-a', ...entry('OF-1', 3, '12.00', 'PLN', '15.00') },
        { target: 'ph-of-a', ...entry('OF-1', 2, '11.00') },
        { target: 'ph-of-a', ...entry('OF-1', 1, '10.00') },
        { target: 'ph-of-b', ...entry('OF-1', 4, '21.00', 'EUR') },
        { target: 'ph-of-b', ...entry('OF-1', 1, '20.00', 'EUR') },
      ]);
      expect(await store.priceHistoryOf('OF-1', 1)).toEqual([
        { target: 'ph-of-a', ...entry('OF-1', 3, '12.00', 'PLN', '15.00') },
        { target: 'ph-of-b', ...entry('OF-1', 4, '21.00', 'EUR') },
      ]);
      expect(await store.priceHistoryOf('OF-unknown')).toEqual([]);
    });
  });

  describe('location stock', () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 2, 10, minute)).toISOString();
    const sale = (id: string, sku: string, location: string, minute: number, delta = -1) => ({ id, sku, location, delta, at: at(minute) });
    const level = async (source: string, sku: string, location: string) => {
      const held = (await store.loadLocationStock(source, [sku])).get(sku)?.get(location);
      return held === undefined ? undefined : currentLevel(held);
    };

    it('keeps the latest count per source, location and SKU, and each movement once', async () => {
      expect(await store.recordStockCounts('pos', [
        { sku: 'LS-1', location: 'KRK', onHand: 10, reserved: 1, at: at(5) },
        { sku: 'LS-1', location: 'GDA', onHand: 4, reserved: 0, at: at(5) },
        { sku: 'LS-1', location: 'KRK', onHand: 99, reserved: 0, at: at(1) }, // older, same call
      ])).toBe(2);
      expect(await store.recordStockCounts('pos', [{ sku: 'LS-1', location: 'KRK', onHand: 50, reserved: 0, at: at(4) }])).toBe(0);
      expect(await store.recordStockMovements('pos', [sale('r1', 'LS-1', 'KRK', 6), sale('r2', 'LS-1', 'KRK', 7, -2), sale('r1', 'LS-1', 'KRK', 6)])).toEqual(['r1', 'r2']);
      expect(await store.recordStockMovements('pos', [sale('r2', 'LS-1', 'KRK', 7, -2), sale('r3', 'LS-1', 'GDA', 8, 1)])).toEqual(['r3']);
      // Another source's news of the same codes is its own.
      await store.recordStockCounts('wms', [{ sku: 'LS-1', location: 'KRK', onHand: 1000, reserved: 0, at: at(9) }]);

      expect(await level('pos', 'LS-1', 'KRK')).toEqual({ onHand: 7, reserved: 1 });
      expect(await level('pos', 'LS-1', 'GDA')).toEqual({ onHand: 5, reserved: 0 });
      expect(await level('wms', 'LS-1', 'KRK')).toEqual({ onHand: 1000, reserved: 0 });
      expect(await level('pos', 'LS-unknown', 'KRK')).toBeUndefined();
    });

    it('a later count includes the movements before it: they are dropped, never applied twice; a late movement before it is stale', async () => {
      await store.recordStockCounts('pos', [{ sku: 'LS-2', location: 'KRK', onHand: 20, reserved: 0, at: at(1) }]);
      await store.recordStockMovements('pos', [sale('s1', 'LS-2', 'KRK', 2), sale('s2', 'LS-2', 'KRK', 4)]);
      expect(await level('pos', 'LS-2', 'KRK')).toEqual({ onHand: 18, reserved: 0 });
      await store.recordStockCounts('pos', [{ sku: 'LS-2', location: 'KRK', onHand: 17, reserved: 0, at: at(3) }]); // includes s1 and one more sale
      expect(await level('pos', 'LS-2', 'KRK')).toEqual({ onHand: 16, reserved: 0 }); // 17 − s2
      await store.recordStockMovements('pos', [sale('offline-1', 'LS-2', 'KRK', 2)]); // an offline till, before the count
      expect(await level('pos', 'LS-2', 'KRK')).toEqual({ onHand: 16, reserved: 0 });
      const held = (await store.loadLocationStock('pos', ['LS-2'])).get('LS-2')!.get('KRK')!;
      expect(held.movements.map((m) => m.id)).toEqual(['s2']);
    });

    it('keeps decimal quantities exact and handles more SKUs than one IN list', async () => {
      await store.recordStockCounts('erp', [{ sku: 'LS-D', location: 'MAG', onHand: 12.5, reserved: 0.25, at: at(1) }]);
      await store.recordStockMovements('erp', [sale('d1', 'LS-D', 'MAG', 2, -0.1), sale('d2', 'LS-D', 'MAG', 3, -0.2)]);
      expect(await level('erp', 'LS-D', 'MAG')).toEqual({ onHand: 12.2, reserved: 0.25 });

      const skus = Array.from({ length: 2_000 }, (_, i) => `LS-B-${i}`);
      await store.recordStockCounts('bulk', skus.map((sku, i) => ({ sku, location: 'L', onHand: i, reserved: 0, at: at(1) })));
      await store.recordStockMovements('bulk', skus.map((sku, i) => sale(`b-${i}`, sku, 'L', 2)));
      const loaded = await store.loadLocationStock('bulk', skus);
      expect(loaded.size).toBe(2_000);
      expect(currentLevel(loaded.get('LS-B-1999')!.get('L')!)).toEqual({ onHand: 1998, reserved: 0 });
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

    it('resolves the same entries whether the open entries or the values asked are the more numerous', async () => {
      const keys = Array.from({ length: 1_200 }, (_, i) => `MANY-${String(i).padStart(5, '0')}`);
      await store.quarantine(keys.map((recordKey) => record({ scope: 'many-open', recordKey, subject: recordKey, target: 'shop' })));
      // More entries open than values: looked up by value.
      expect(await store.resolveQuarantinedRecords('many-open', 'stock', ['MANY-00000', 'MANY-00001', 'NOT-OPEN'])).toBe(2);
      expect(await store.resolveQuarantined('many-open', 'stock', 'shop', ['MANY-00002'])).toBe(1);
      expect(await store.resolveQuarantined('many-open', 'stock', 'other-target', ['MANY-00003'])).toBe(0);
      // More values than entries open (beyond one IN list): the open entries are read and matched.
      const asked = [...keys.slice(3, 1_000), ...Array.from({ length: 1_500 }, (_, i) => `ABSENT-${i}`)];
      expect(await store.resolveQuarantinedRecords('many-open', 'stock', asked)).toBe(997);
      expect(await store.resolveQuarantined('many-open', 'stock', 'shop', [...keys, ...asked])).toBe(200);
      expect(await store.listQuarantine({ scope: 'many-open' })).toEqual([]);
      expect(await store.resolveQuarantinedRecords('many-open', 'stock', keys)).toBe(0);
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
        // Fewer keys asked than entries open: the keys are looked up instead, with the same answer.
        expect(await store.recentlyQuarantined('recent-bulk', 'stock', 'unmappable', ['BULKQ-00002', 'BULKQ-00003'], before)).toEqual(new Set(['BULKQ-00002']));
        expect(await store.recentlyQuarantined('recent-bulk', 'stock', 'validation', ['BULKQ-00002'], before)).toEqual(new Set());
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
      await store.stageItems('perf', 'shop', batch);
      const stageMs = performance.now() - started;
      started = performance.now();
      await store.markItemsPushed(stock('shop'), 'perf', batch);
      const pushMs = performance.now() - started;
      started = performance.now();
      const snapshot = await store.loadSnapshot(stock('shop'), keysOf(batch.slice(0, 10_000)));
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

/**
 * The state store on Kysely: one code path for SQLite (embedded default) and PostgreSQL
 * (production), DESIGN.md §4 "Hub state store".
 *
 * Performance notes: stock pushes stage and confirm hundreds of thousands of items, so writes
 * are multi-row statements inside one transaction per call, sized to the bind-parameter limit,
 * and key lookups use IN lists in chunks (SQLite caps bind parameters per statement).
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { z } from 'zod';
import type { StockCursor } from '../connectors/contract';
import { openStateDatabase, type StateDatabase, type StateStoreConfig } from './database';
import { createStateMigrator } from './migrations';
import {
  snapshotKey,
  type CrosswalkStore,
  type QuarantineEntry,
  type QuarantineRecord,
  type StagedStockItem,
  type StateStore,
} from './store';

export type { StateStoreConfig } from './database';

/**
 * Bind parameters one statement may carry on both dialects: SQLite's default
 * SQLITE_MAX_VARIABLE_NUMBER (32,766) is the lower of the two (PostgreSQL: 65,535).
 */
const MAX_BIND_PARAMETERS = 32_766;
/** Rows per multi-row INSERT. Beyond ~1,000 rows statements only get slower to build and parse. */
const MAX_ROWS_PER_INSERT = 1_000;
/** Keys per IN list: far below the parameter limit, and small enough for the planners to use the index. */
const IN_LIST_CHUNK = 900;
/** Default page size of listQuarantine. */
const DEFAULT_QUARANTINE_LIMIT = 100;

const StoredStockCursor = z.discriminatedUnion('strategy', [
  z.object({ strategy: z.literal('key'), afterKey: z.string() }),
  z.object({ strategy: z.literal('modified'), afterModifiedAt: z.string(), afterKey: z.string() }),
]);

export function openStateStore(config: StateStoreConfig): KyselyStateStore {
  return new KyselyStateStore(config);
}

export class KyselyStateStore implements StateStore {
  private readonly db: Kysely<StateDatabase>;

  constructor(private readonly config: StateStoreConfig) {
    this.db = openStateDatabase(config);
  }

  async migrate(): Promise<void> {
    const schema = this.config.driver === 'postgres' ? this.config.schema : undefined;
    if (schema !== undefined) await this.createSchemaIfMissing(schema);
    const migrator = createStateMigrator(this.db, this.config.driver, schema);
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((result) => result.status === 'Error');
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`state store migration ${failed ? `"${failed.migrationName}" ` : ''}failed: ${message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- cursors ----------------------------------------------------------------------------

  async getCursor(syncName: string, mode: string): Promise<StockCursor | null> {
    const row = await this.db
      .selectFrom('omnisync_sync_cursor')
      .select('cursor_json')
      .where('sync_name', '=', syncName)
      .where('mode', '=', mode)
      .executeTakeFirst();
    if (row === undefined) return null;
    const parsed = StoredStockCursor.safeParse(JSON.parse(row.cursor_json));
    if (!parsed.success) {
      throw new Error(`state store: stored cursor of sync "${syncName}" (${mode}) is not a stock cursor: ${row.cursor_json}`);
    }
    return parsed.data;
  }

  async saveCursor(syncName: string, mode: string, cursor: StockCursor): Promise<void> {
    const updatedAt = nowIso();
    await this.db
      .insertInto('omnisync_sync_cursor')
      .values({ sync_name: syncName, mode, cursor_json: JSON.stringify(cursor), updated_at: updatedAt })
      .onConflict((oc) =>
        oc.columns(['sync_name', 'mode']).doUpdateSet((eb) => ({
          cursor_json: eb.ref('excluded.cursor_json'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  // ---- snapshots and staged batches -------------------------------------------------------

  async loadSnapshot(target: string, skus: readonly string[]): Promise<Map<string, number>> {
    const snapshot = new Map<string, number>();
    for (const skuChunk of chunks([...new Set(skus)], IN_LIST_CHUNK)) {
      const rows = await this.db
        .selectFrom('omnisync_stock_snapshot')
        .select(['sku', 'location', 'quantity'])
        .where('target', '=', target)
        .where('sku', 'in', skuChunk)
        .execute();
      for (const row of rows) snapshot.set(snapshotKey(row.sku, row.location), Number(row.quantity));
    }
    return snapshot;
  }

  /**
   * Stages items as pending. Re-staging the same batch (an activity retry) refreshes items that
   * are still pending and leaves pushed or failed ones alone, so a retry never un-confirms a write.
   * When the same (sku, location) appears twice, the last one wins.
   */
  async stageStockItems(batchId: string, target: string, items: readonly StagedStockItem[]): Promise<void> {
    const updatedAt = nowIso();
    const rows = lastPerKey(items).map((item) => pushItemRow(batchId, target, item, { status: 'pending', reason: null, updated_at: updatedAt }));
    await this.db.transaction().execute(async (trx) => {
      for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
        await trx
          .insertInto('omnisync_stock_push_item')
          .values(rowChunk)
          .onConflict((oc) =>
            oc
              .columns(['batch_id', 'target', 'sku', 'location'])
              .doUpdateSet((eb) => ({
                quantity: eb.ref('excluded.quantity'),
                previous_quantity: eb.ref('excluded.previous_quantity'),
                updated_at: eb.ref('excluded.updated_at'),
              }))
              .where('omnisync_stock_push_item.status', '=', 'pending'),
          )
          .execute();
      }
    });
  }

  async loadPendingStockItems(batchId: string, target: string): Promise<StagedStockItem[]> {
    const rows = await this.db
      .selectFrom('omnisync_stock_push_item')
      .select(['sku', 'location', 'quantity', 'previous_quantity'])
      .where('batch_id', '=', batchId)
      .where('target', '=', target)
      .where('status', '=', 'pending')
      .orderBy('sku')
      .orderBy('location')
      .execute();
    return rows.map((row) => ({
      sku: row.sku,
      location: row.location,
      quantity: Number(row.quantity),
      previousQuantity: row.previous_quantity === null ? null : Number(row.previous_quantity),
    }));
  }

  async markStockItemsPushed(batchId: string, target: string, items: readonly StagedStockItem[]): Promise<void> {
    const pushedAt = nowIso();
    const confirmed = lastPerKey(items);
    await this.db.transaction().execute(async (trx) => {
      await setStatus(trx, batchId, target, confirmed.map((item) => ({ item, reason: null })), 'pushed', pushedAt);
      const snapshotRows = confirmed.map((item) => ({ target, sku: item.sku, location: item.location, quantity: item.quantity, pushed_at: pushedAt }));
      for (const rowChunk of chunks(snapshotRows, rowsPerInsert(snapshotRows[0]))) {
        await trx
          .insertInto('omnisync_stock_snapshot')
          .values(rowChunk)
          .onConflict((oc) =>
            oc.columns(['target', 'sku', 'location']).doUpdateSet((eb) => ({
              quantity: eb.ref('excluded.quantity'),
              pushed_at: eb.ref('excluded.pushed_at'),
            })),
          )
          .execute();
      }
    });
  }

  async markStockItemsFailed(batchId: string, target: string, failures: ReadonlyArray<{ item: StagedStockItem; reason: string }>): Promise<void> {
    const updatedAt = nowIso();
    const lastFailure = new Map<string, { item: StagedStockItem; reason: string }>();
    for (const failure of failures) lastFailure.set(snapshotKey(failure.item.sku, failure.item.location), failure);
    await this.db.transaction().execute(async (trx) => {
      await setStatus(trx, batchId, target, [...lastFailure.values()], 'failed', updatedAt);
    });
  }

  /**
   * A batch (batch id and target) is finished when none of its items is pending. Batches with
   * pending items are kept whatever their age: they are the evidence of an interrupted push.
   */
  async pruneStagedBatches(olderThan: string): Promise<number> {
    const result = await this.db
      .deleteFrom('omnisync_stock_push_item')
      .where((eb) =>
        eb(
          eb.refTuple('batch_id', 'target'),
          'in',
          eb
            .selectFrom('omnisync_stock_push_item as finished')
            .select(['finished.batch_id', 'finished.target'])
            .groupBy(['finished.batch_id', 'finished.target'])
            .having((having) => having(having.fn.max('finished.updated_at'), '<', olderThan))
            .having(sql<boolean>`sum(case when ${sql.ref('finished.status')} = 'pending' then 1 else 0 end) = 0`)
            .$asTuple('batch_id', 'target'),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- crosswalk --------------------------------------------------------------------------

  crosswalk(connectorId: string): CrosswalkStore {
    const db = this.db;
    return {
      async get(kind, keys) {
        const found = new Map<string, string>();
        for (const keyChunk of chunks([...new Set(keys)], IN_LIST_CHUNK)) {
          const rows = await db
            .selectFrom('omnisync_crosswalk')
            .select(['local_key', 'remote_id'])
            .where('connector_id', '=', connectorId)
            .where('kind', '=', kind)
            .where('local_key', 'in', keyChunk)
            .execute();
          for (const row of rows) found.set(row.local_key, row.remote_id);
        }
        return found;
      },
      async put(kind, entries) {
        const rows = [...entries].map(([localKey, remoteId]) => ({ connector_id: connectorId, kind, local_key: localKey, remote_id: remoteId }));
        await db.transaction().execute(async (trx) => {
          for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
            await trx
              .insertInto('omnisync_crosswalk')
              .values(rowChunk)
              .onConflict((oc) => oc.columns(['connector_id', 'kind', 'local_key']).doUpdateSet((eb) => ({ remote_id: eb.ref('excluded.remote_id') })))
              .execute();
          }
        });
      },
    };
  }

  // ---- quarantine -------------------------------------------------------------------------

  async quarantine(records: readonly QuarantineRecord[]): Promise<void> {
    const seenAt = nowIso();
    // One statement cannot update the same row twice (PostgreSQL rejects it), so repeats within
    // the call are merged first: they count as several occurrences, the last payload wins.
    const merged = new Map<string, QuarantineDatabaseRow>();
    for (const record of records) {
      const dedupeKey = quarantineDedupeKey(record);
      const earlier = merged.get(dedupeKey);
      merged.set(dedupeKey, {
        scope: record.scope,
        entity: record.entity,
        record_key: record.recordKey,
        reason: record.reason,
        kind: record.kind,
        payload_json: toJson(record.payload),
        dedupe_key: dedupeKey,
        first_seen_at: seenAt,
        last_seen_at: seenAt,
        occurrences: (earlier?.occurrences ?? 0) + 1,
        resolved: 0,
      });
    }
    const rows = [...merged.values()];
    await this.db.transaction().execute(async (trx) => {
      for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
        await trx
          .insertInto('omnisync_quarantine')
          .values(rowChunk)
          .onConflict((oc) =>
            oc
              .column('dedupe_key')
              // The partial index's predicate, as a literal: PostgreSQL matches the conflict
              // target to the index by comparing predicates, which a bound parameter defeats.
              .where('resolved', '=', sql.lit(0))
              .doUpdateSet((eb) => ({
                occurrences: eb(eb.ref('omnisync_quarantine.occurrences'), '+', eb.ref('excluded.occurrences')),
                last_seen_at: eb.ref('excluded.last_seen_at'),
                payload_json: eb.ref('excluded.payload_json'),
                kind: eb.ref('excluded.kind'),
              })),
          )
          .execute();
      }
    });
  }

  /** Keys with an open entry of this scope, entity and kind seen at or after `since` (chunked IN lists). */
  async recentlyQuarantined(scope: string, entity: string, kind: string, recordKeys: readonly string[], since: string): Promise<Set<string>> {
    const found = new Set<string>();
    for (const keyChunk of chunks(recordKeys, IN_LIST_CHUNK)) {
      const rows = await this.db
        .selectFrom('omnisync_quarantine')
        .select('record_key')
        .where('scope', '=', scope)
        .where('entity', '=', entity)
        .where('record_key', 'in', keyChunk)
        .where('kind', '=', kind)
        .where('resolved', '=', 0)
        .where('last_seen_at', '>=', since)
        .execute();
      for (const row of rows) found.add(row.record_key);
    }
    return found;
  }

  async listQuarantine(filter: { scope?: string; includeResolved?: boolean; limit?: number } = {}): Promise<QuarantineEntry[]> {
    let query = this.db
      .selectFrom('omnisync_quarantine')
      .selectAll()
      .orderBy('last_seen_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? DEFAULT_QUARANTINE_LIMIT);
    if (filter.scope !== undefined) query = query.where('scope', '=', filter.scope);
    if (filter.includeResolved !== true) query = query.where('resolved', '=', 0);
    const rows = await query.execute();
    return rows.map((row) => ({
      id: Number(row.id),
      scope: row.scope,
      entity: row.entity,
      recordKey: row.record_key,
      reason: row.reason,
      kind: row.kind,
      payload: JSON.parse(row.payload_json) as unknown,
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
      occurrences: Number(row.occurrences),
      resolved: Number(row.resolved) === 1,
    }));
  }

  /**
   * Marks quarantine entries resolved (an operator fixed the record). A later sighting of the
   * same record opens a new entry. Not part of the StateStore contract yet. Returns entries changed.
   */
  async resolveQuarantine(ids: readonly number[]): Promise<number> {
    let changed = 0;
    for (const idChunk of chunks([...new Set(ids)], IN_LIST_CHUNK)) {
      const result = await this.db
        .updateTable('omnisync_quarantine')
        .set({ resolved: 1 })
        .where('id', 'in', idChunk)
        .where('resolved', '=', 0)
        .executeTakeFirst();
      changed += Number(result.numUpdatedRows);
    }
    return changed;
  }

  private async createSchemaIfMissing(schema: string): Promise<void> {
    try {
      await this.db.schema.createSchema(schema).ifNotExists().execute();
    } catch (err) {
      // Two workers migrating at once can both pass "if not exists" and one then fails on the
      // catalog's unique index; the schema exists either way.
      const exists = await sql<{ found: number }>`select 1 as found from information_schema.schemata where schema_name = ${schema}`.execute(this.db);
      if (exists.rows.length === 0) throw err;
    }
  }
}

type QuarantineDatabaseRow = Omit<StateDatabase['omnisync_quarantine'], 'id'>;

/**
 * Sets the final status of items of one batch, as an upsert on the primary key. An UPDATE with
 * a (sku, location) IN list would do the same, but PostgreSQL plans it as a nested loop over
 * the whole batch when the table's statistics are stale (a freshly staged batch always is),
 * which turned 60,000 confirmations into minutes; a conflict check is one index probe per row
 * whatever the statistics. An item that was never staged is recorded with its final status.
 */
type PushItemState = { status: 'pending' | 'pushed' | 'failed'; reason: string | null; updated_at: string };

/** One omnisync_stock_push_item row. */
function pushItemRow(batchId: string, target: string, item: StagedStockItem, state: PushItemState) {
  return {
    batch_id: batchId,
    target,
    sku: item.sku,
    location: item.location,
    quantity: item.quantity,
    previous_quantity: item.previousQuantity,
    ...state,
  };
}

async function setStatus(
  trx: Transaction<StateDatabase>,
  batchId: string,
  target: string,
  entries: ReadonlyArray<{ item: StagedStockItem; reason: string | null }>,
  status: 'pushed' | 'failed',
  updatedAt: string,
): Promise<void> {
  const rows = entries.map(({ item, reason }) => pushItemRow(batchId, target, item, { status, reason, updated_at: updatedAt }));
  for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
    await trx
      .insertInto('omnisync_stock_push_item')
      .values(rowChunk)
      .onConflict((oc) =>
        oc.columns(['batch_id', 'target', 'sku', 'location']).doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          reason: eb.ref('excluded.reason'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}

function quarantineDedupeKey(record: QuarantineRecord): string {
  return createHash('sha256').update(JSON.stringify([record.scope, record.entity, record.recordKey, record.reason])).digest('hex');
}

/** The payload as JSON; values JSON cannot hold (bigint) become strings rather than failing the batch. */
function toJson(payload: unknown): string {
  return JSON.stringify(payload ?? null, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Items deduplicated by (sku, location), keeping the last, in first-seen order. */
function lastPerKey(items: readonly StagedStockItem[]): StagedStockItem[] {
  const byKey = new Map<string, StagedStockItem>();
  for (const item of items) byKey.set(snapshotKey(item.sku, item.location), item);
  return [...byKey.values()];
}

/** Rows per multi-row INSERT for rows shaped like `sample`, within the bind-parameter limit. */
function rowsPerInsert(sample: object | undefined): number {
  const columns = sample === undefined ? 1 : Object.keys(sample).length;
  return Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_BIND_PARAMETERS / columns));
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

function nowIso(): string {
  return new Date().toISOString();
}

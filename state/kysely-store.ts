/**
 * The state store on Kysely: one code path for SQLite (embedded default) and PostgreSQL
 * (production), docs/architecture.md.
 *
 * Performance notes: stock pushes stage and confirm hundreds of thousands of items (prices use
 * the same tables: one snapshot and one kind of staged batch for every entity).
 * - A staged page is one row (its items as JSON) and a write call's outcome one row; per pushed
 *   item only its snapshot row is written (see database.ts).
 * - The per-item statements (snapshot and crosswalk writes, IN-list lookups) are statement
 *   templates (statement-template.ts): ROWS_PER_STATEMENT rows per write, up to KEYS_PER_LOOKUP
 *   keys per lookup, each compiled once per row count.
 * Rarer statements are built per call, sized to the bind-parameter limit.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { applyCount, locationStockOf, NO_LOCATION_STOCK, type LocationStock } from '../core/location-stock';
import { Dec } from '../core/money';
import { openStateDatabase, type PushOutcomeStatus, type StateDatabase, type StateStoreConfig } from './database';
import { createStateMigrator } from './migrations';
import { paddedKeyLists, StatementTemplate, templateChunks } from './statement-template';
import {
  snapshotKey,
  type CrosswalkStore,
  type LocatedStockCount,
  type LocatedStockMovement,
  type QuarantineEntry,
  type QuarantineRecord,
  type PriceHistoryEntry,
  type QuarantineSummaryRow,
  type SnapshotScope,
  type StagedItem,
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
/**
 * Rows per templated multi-row write. Measured on SQLite (200,000 items staged and confirmed,
 * then still one row per item): 32 and 64 rows per statement ran fastest, 128 about 20 % slower.
 */
const ROWS_PER_STATEMENT = 64;
/** Keys per templated IN-list lookup (a power of two, below IN_LIST_CHUNK). */
const KEYS_PER_LOOKUP = 512;
/** Staged batches examined per query while pruning. */
const PRUNE_PAGE = 100;
/** Default page size of listQuarantine. */
const DEFAULT_QUARANTINE_LIMIT = 100;

export function openStateStore(config: StateStoreConfig): KyselyStateStore {
  return new KyselyStateStore(config);
}

export class KyselyStateStore implements StateStore {
  private readonly db: Kysely<StateDatabase>;
  private readonly statements: HotPathStatements;

  constructor(private readonly config: StateStoreConfig) {
    this.db = openStateDatabase(config);
    this.statements = hotPathStatements(this.db);
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

  async getCursor(syncName: string, mode: string): Promise<unknown> {
    const row = await this.db
      .selectFrom('omnisync_sync_cursor')
      .select('cursor_json')
      .where('sync_name', '=', syncName)
      .where('mode', '=', mode)
      .executeTakeFirst();
    return row === undefined ? null : (JSON.parse(row.cursor_json) as unknown);
  }

  async saveCursor(syncName: string, mode: string, cursor: unknown): Promise<void> {
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

  async loadSnapshot(scope: SnapshotScope, keys: readonly string[]): Promise<Map<string, string>> {
    const snapshot = new Map<string, string>();
    for (const keyList of paddedKeyLists(keys, KEYS_PER_LOOKUP)) {
      const { rows } = await this.db.executeQuery(this.statements.snapshotByKey.bind([scope.syncName, scope.target, scope.entity], keyList.map((key) => [key])));
      for (const row of rows) snapshot.set(snapshotKey(row.record_key, row.record_part), row.value);
    }
    return snapshot;
  }

  async countSnapshot(scope: SnapshotScope): Promise<number> {
    const row = await this.db
      .selectFrom('omnisync_snapshot')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('records'))
      .where('sync_name', '=', scope.syncName)
      .where('target', '=', scope.target)
      .where('entity', '=', scope.entity)
      .executeTakeFirst();
    return Number(row?.records ?? 0);
  }

  async adoptLegacySnapshot(syncName: string, entity: string, targets: readonly string[]): Promise<number> {
    if (targets.length === 0 || syncName === '') return 0;
    return this.db.transaction().execute(async (trx) => {
      const adopted = await trx
        .insertInto('omnisync_snapshot')
        .columns(['sync_name', 'target', 'entity', 'record_key', 'record_part', 'value', 'pushed_at'])
        .expression((eb) =>
          eb
            .selectFrom('omnisync_snapshot')
            .select([sql.lit(syncName).as('sync_name'), 'target', 'entity', 'record_key', 'record_part', 'value', 'pushed_at'])
            .where('sync_name', '=', '')
            .where('entity', '=', entity)
            .where('target', 'in', targets),
        )
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      await trx.deleteFrom('omnisync_snapshot').where('sync_name', '=', '').where('entity', '=', entity).where('target', 'in', targets).execute();
      return Number(adopted.numInsertedOrUpdatedRows ?? 0);
    });
  }

  /**
   * Stages items as pending, as one row. Re-staging the same batch (an activity retry) replaces
   * the staged items, but items with an outcome stay done, so a retry never un-confirms a write.
   * When the same (key, part) appears twice, the last one wins.
   */
  async stageItems(batchId: string, target: string, items: readonly StagedItem[]): Promise<void> {
    const staged = [...lastPerKey(items)].sort(compareItemKeys);
    if (staged.length === 0) return;
    const itemsJson = JSON.stringify(staged.map(toItemJson));
    await this.db
      .insertInto('omnisync_push_batch')
      .values({ batch_id: batchId, target, items_json: itemsJson, staged_at: nowIso() })
      .onConflict((oc) =>
        oc.columns(['batch_id', 'target']).doUpdateSet((eb) => ({ items_json: eb.ref('excluded.items_json'), staged_at: eb.ref('excluded.staged_at') })),
      )
      .execute();
  }

  async loadPendingItems(batchId: string, target: string): Promise<StagedItem[]> {
    return (await this.loadPendingBatch(batchId, target)).pending;
  }

  async loadPendingBatch(batchId: string, target: string): Promise<{ pending: StagedItem[]; recorded: number }> {
    const batch = await this.db
      .selectFrom('omnisync_push_batch')
      .select('items_json')
      .where('batch_id', '=', batchId)
      .where('target', '=', target)
      .executeTakeFirst();
    if (batch === undefined) return { pending: [], recorded: 0 };
    const { done } = await this.outcomesOf(this.db, batchId, target);
    const pending: StagedItem[] = [];
    let recorded = 0;
    for (const json of JSON.parse(batch.items_json) as StagedItemJson[]) {
      if (done.size === 0 || !done.has(snapshotKey(json[0], json[1]))) pending.push(fromItemJson(json));
      else recorded++;
    }
    return { pending, recorded };
  }

  /** Records the items' outcome and their values in the snapshot, in one transaction. */
  async markItemsPushed(scope: SnapshotScope, batchId: string, items: readonly StagedItem[], priceHistory?: (pushedAt: string) => PriceHistoryEntry[]): Promise<void> {
    const pushedAt = nowIso();
    const confirmed = lastPerKey(items);
    if (confirmed.length === 0) return;
    const snapshotRows = confirmed.map((item): SnapshotTuple => [scope.syncName, scope.target, scope.entity, item.key, item.part, item.value, pushedAt]);
    const keys = JSON.stringify(confirmed.map((item): OutcomeKeyJson => [item.key, item.part]));
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('omnisync_push_outcome').values({ batch_id: batchId, target: scope.target, status: 'pushed', items_json: keys, recorded_at: pushedAt }).execute();
      for (const rowChunk of templateChunks(snapshotRows, ROWS_PER_STATEMENT)) await trx.executeQuery(this.statements.upsertSnapshot.bind([], rowChunk));
      if (priceHistory !== undefined) await appendPriceHistory(trx, scope.target, priceHistory(pushedAt));
    });
  }

  async markItemsFailed(batchId: string, target: string, failures: ReadonlyArray<{ item: StagedItem; reason: string }>): Promise<void> {
    const lastFailure = new Map<string, OutcomeKeyJson>();
    for (const { item, reason } of failures) lastFailure.set(snapshotKey(item.key, item.part), [item.key, item.part, reason]);
    if (lastFailure.size === 0) return;
    await this.db
      .insertInto('omnisync_push_outcome')
      .values({ batch_id: batchId, target, status: 'failed', items_json: JSON.stringify([...lastFailure.values()]), recorded_at: nowIso() })
      .execute();
  }

  async batchOutcomeCounts(batchId: string, target: string): Promise<{ pushed: number; failed: number }> {
    const outcomes = await this.db
      .selectFrom('omnisync_push_outcome')
      .select(['status', 'items_json'])
      .where('batch_id', '=', batchId)
      .where('target', '=', target)
      .orderBy('id')
      .execute();
    // An item has one outcome in practice; should two attempts both record one, the first counts.
    const statusByKey = new Map<string, PushOutcomeStatus>();
    for (const outcome of outcomes) {
      for (const [key, part] of JSON.parse(outcome.items_json) as OutcomeKeyJson[]) {
        const itemKey = snapshotKey(key, part);
        if (!statusByKey.has(itemKey)) statusByKey.set(itemKey, outcome.status);
      }
    }
    let pushed = 0;
    for (const status of statusByKey.values()) if (status === 'pushed') pushed++;
    return { pushed, failed: statusByKey.size - pushed };
  }

  /**
   * Drops batches (batch id and target) staged before the cutoff with no outcome recorded since,
   * finished or not: a batch that still has pending items after the retention period belongs to
   * a run that failed or was cancelled, and the next run diffs those items again from the
   * snapshot. Returns the staged items dropped.
   */
  async pruneStagedBatches(olderThan: string): Promise<number> {
    let removed = 0;
    let after = { batchId: '', target: '' };
    for (;;) {
      const candidates = await this.db
        .selectFrom('omnisync_push_batch')
        .select(['batch_id', 'target'])
        .where('staged_at', '<', olderThan)
        .where((eb) => eb.or([eb('batch_id', '>', after.batchId), eb.and([eb('batch_id', '=', after.batchId), eb('target', '>', after.target)])]))
        .orderBy('batch_id')
        .orderBy('target')
        .limit(PRUNE_PAGE)
        .execute();
      for (const candidate of candidates) {
        removed += await this.db.transaction().execute(async (trx) => {
          const outcomes = await this.outcomesOf(trx, candidate.batch_id, candidate.target);
          if (outcomes.lastRecordedAt !== null && outcomes.lastRecordedAt >= olderThan) return 0;
          const batch = await trx
            .selectFrom('omnisync_push_batch')
            .select('items_json')
            .where('batch_id', '=', candidate.batch_id)
            .where('target', '=', candidate.target)
            .executeTakeFirst();
          if (batch === undefined) return 0;
          // One batch's items at a time: a page of 5,000 items is about 300 KB of JSON.
          const staged = JSON.parse(batch.items_json) as StagedItemJson[];
          await trx.deleteFrom('omnisync_push_outcome').where('batch_id', '=', candidate.batch_id).where('target', '=', candidate.target).execute();
          await trx.deleteFrom('omnisync_push_batch').where('batch_id', '=', candidate.batch_id).where('target', '=', candidate.target).execute();
          return staged.length;
        });
      }
      const last = candidates.at(-1);
      if (last === undefined || candidates.length < PRUNE_PAGE) return removed;
      after = { batchId: last.batch_id, target: last.target };
    }
  }

  /** A batch's outcomes: keys (snapshotKey) of its items that have one, and when the last was recorded. */
  private async outcomesOf(db: Kysely<StateDatabase>, batchId: string, target: string): Promise<{ done: Set<string>; lastRecordedAt: string | null }> {
    const outcomes = await db
      .selectFrom('omnisync_push_outcome')
      .select(['items_json', 'recorded_at'])
      .where('batch_id', '=', batchId)
      .where('target', '=', target)
      .execute();
    const done = new Set<string>();
    let lastRecordedAt: string | null = null;
    for (const outcome of outcomes) {
      for (const [key, part] of JSON.parse(outcome.items_json) as OutcomeKeyJson[]) done.add(snapshotKey(key, part));
      if (lastRecordedAt === null || outcome.recorded_at > lastRecordedAt) lastRecordedAt = outcome.recorded_at;
    }
    return { done, lastRecordedAt };
  }

  // ---- price history ----------------------------------------------------------------------

  async recordPriceHistory(target: string, entries: readonly PriceHistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction().execute((trx) => appendPriceHistory(trx, target, entries));
  }

  async priceHistorySince(target: string, skus: readonly string[], from: string): Promise<Map<string, PriceHistoryEntry[]>> {
    const history = new Map<string, PriceHistoryEntry[]>();
    for (const skuChunk of chunks([...new Set(skus)], IN_LIST_CHUNK)) {
      const rows = await this.db
        .selectFrom('omnisync_price_history as h')
        .select(['h.sku', 'h.since', 'h.amount', 'h.currency', 'h.compare_at'])
        .where('h.target', '=', target)
        .where('h.sku', 'in', skuChunk)
        .where((eb) =>
          eb.or([
            eb('h.since', '>=', from),
            // The entry in effect at `from`: the latest one before it.
            eb(
              'h.since',
              '=',
              eb.selectFrom('omnisync_price_history as l').select((e) => e.fn.max('l.since').as('since')).whereRef('l.target', '=', 'h.target').whereRef('l.sku', '=', 'h.sku').where('l.since', '<', from),
            ),
          ]),
        )
        .orderBy('h.sku')
        .orderBy('h.since')
        .execute();
      for (const row of rows) {
        const entries = history.get(row.sku) ?? [];
        entries.push({ sku: row.sku, since: row.since, amount: row.amount, currency: row.currency, compareAt: row.compare_at });
        history.set(row.sku, entries);
      }
    }
    return history;
  }

  async priceHistoryOf(sku: string, limit = 50): Promise<Array<PriceHistoryEntry & { target: string }>> {
    const rows = await this.db
      .selectFrom('omnisync_price_history')
      .select(['target', 'sku', 'since', 'amount', 'currency', 'compare_at'])
      .where('sku', '=', sku)
      .orderBy('target')
      .orderBy('since', 'desc')
      .execute();
    const perTarget = new Map<string, number>();
    const entries: Array<PriceHistoryEntry & { target: string }> = [];
    for (const row of rows) {
      const seen = perTarget.get(row.target) ?? 0;
      if (seen >= limit) continue;
      perTarget.set(row.target, seen + 1);
      entries.push({ target: row.target, sku: row.sku, since: row.since, amount: row.amount, currency: row.currency, compareAt: row.compare_at });
    }
    return entries;
  }

  // ---- crosswalk --------------------------------------------------------------------------

  crosswalk(connectorId: string): CrosswalkStore {
    const { db, statements } = this;
    return {
      async get(kind, keys) {
        const found = new Map<string, string>();
        for (const keyList of paddedKeyLists(keys, KEYS_PER_LOOKUP)) {
          const { rows } = await db.executeQuery(statements.crosswalkByKey.bind([connectorId, kind], keyList.map((key) => [key])));
          for (const row of rows) found.set(row.local_key, row.remote_id);
        }
        return found;
      },
      async put(kind, entries) {
        const rows = [...entries].map(([localKey, remoteId]): CrosswalkTuple => [connectorId, kind, localKey, remoteId]);
        await db.transaction().execute(async (trx) => {
          for (const rowChunk of templateChunks(rows, ROWS_PER_STATEMENT)) await trx.executeQuery(statements.upsertCrosswalk.bind([], rowChunk));
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
        resolved_at: null,
        category: record.category,
        subject: record.subject,
        target: record.target,
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
                category: eb.ref('excluded.category'),
                subject: eb.ref('excluded.subject'),
                target: eb.ref('excluded.target'),
              })),
          )
          .execute();
      }
    });
  }

  /**
   * Keys with an open entry of this scope, entity and kind seen at or after `since`. Usually
   * the open entries are few beside the keys asked: they are read in one query and matched
   * here; when there are more of them than keys, the keys are looked up in chunked IN lists.
   */
  async recentlyQuarantined(scope: string, entity: string, kind: string, recordKeys: readonly string[], since: string): Promise<Set<string>> {
    const found = new Set<string>();
    if (recordKeys.length === 0) return found;
    const open = await this.db
      .selectFrom('omnisync_quarantine')
      .select('record_key')
      .where('scope', '=', scope)
      .where('entity', '=', entity)
      .where('resolved', '=', 0)
      .where('kind', '=', kind)
      .where('last_seen_at', '>=', since)
      .limit(recordKeys.length + 1)
      .execute();
    if (open.length <= recordKeys.length) {
      const openKeys = new Set(open.map((row) => row.record_key));
      if (openKeys.size > 0) for (const key of recordKeys) if (openKeys.has(key)) found.add(key);
      return found;
    }
    for (const keyList of paddedKeyLists(recordKeys, KEYS_PER_LOOKUP)) {
      const { rows } = await this.db.executeQuery(this.statements.recentQuarantineByKey.bind([scope, entity, kind, since], keyList.map((key) => [key])));
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
      category: row.category,
      subject: row.subject,
      target: row.target,
      payload: JSON.parse(row.payload_json) as unknown,
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
      occurrences: Number(row.occurrences),
      resolved: Number(row.resolved) === 1,
      resolvedAt: row.resolved_at,
    }));
  }

  async resolveQuarantined(scope: string, entity: string, target: string, subjects: readonly string[]): Promise<number> {
    return this.resolveOpenEntries({ scope, entity, target }, 'subject', subjects);
  }

  async resolveQuarantinedRecords(scope: string, entity: string, recordKeys: readonly string[]): Promise<number> {
    return this.resolveOpenEntries({ scope, entity }, 'record_key', recordKeys);
  }

  /**
   * Marks the open entries matching `where` whose `column` is one of `values` resolved, now.
   * Open entries are usually few beside the values (every record a page or push synced): they
   * are read in one query, matched here and updated by id; when there are more of them than
   * values, the update goes by chunked IN lists of the values.
   */
  private async resolveOpenEntries(
    where: { scope: string; entity: string; target?: string },
    column: 'subject' | 'record_key',
    values: readonly string[],
  ): Promise<number> {
    if (values.length === 0) return 0;
    let open = this.db
      .selectFrom('omnisync_quarantine')
      .select(['id', column])
      .where('scope', '=', where.scope)
      .where('entity', '=', where.entity)
      .where('resolved', '=', 0)
      .limit(values.length + 1);
    if (where.target !== undefined) open = open.where('target', '=', where.target);
    const openRows = (await open.execute()) as Array<{ id: number | string } & Record<typeof column, string>>;
    if (openRows.length <= values.length) {
      const idsByValue = new Map<string, number[]>();
      for (const row of openRows) {
        const ids = idsByValue.get(row[column]);
        if (ids === undefined) idsByValue.set(row[column], [Number(row.id)]);
        else ids.push(Number(row.id));
      }
      const ids: number[] = [];
      if (idsByValue.size > 0) for (const value of values) ids.push(...(idsByValue.get(value) ?? []));
      return this.resolveQuarantine(ids);
    }
    const resolvedAt = nowIso();
    let changed = 0;
    for (const valueChunk of chunks([...new Set(values)], IN_LIST_CHUNK)) {
      let update = this.db
        .updateTable('omnisync_quarantine')
        .set({ resolved: 1, resolved_at: resolvedAt })
        .where('scope', '=', where.scope)
        .where('entity', '=', where.entity)
        .where('resolved', '=', 0)
        .where(column, 'in', valueChunk);
      if (where.target !== undefined) update = update.where('target', '=', where.target);
      changed += Number((await update.executeTakeFirst()).numUpdatedRows);
    }
    return changed;
  }

  async quarantineSummary(scope: string, since: string): Promise<QuarantineSummaryRow[]> {
    const rows = await this.db
      .selectFrom('omnisync_quarantine')
      .select((eb) => ['category', eb.fn.countAll<number | string>().as('records'), eb.fn.max('reason').as('example')])
      .where('scope', '=', scope)
      .where('last_seen_at', '>=', since)
      .groupBy('category')
      .execute();
    return rows
      .map((row) => ({ category: row.category === '' ? 'uncategorised' : row.category, records: Number(row.records), example: row.example }))
      .sort((a, b) => b.records - a.records || (a.category < b.category ? -1 : 1));
  }

  async recordStockCounts(source: string, counts: readonly LocatedStockCount[]): Promise<number> {
    // Of several counts of one key in a call, the one core/location-stock.ts keeps.
    const latest = new Map<string, LocatedStockCount>();
    for (const count of counts) {
      const key = snapshotKey(count.sku, count.location);
      const held = latest.get(key);
      if (held === undefined || applyCount({ count: held, movements: [] }, count).applied === 'applied') latest.set(key, count);
    }
    if (latest.size === 0) return 0;
    const rows = [...latest.values()].map((count) => ({ source, location: count.location, sku: count.sku, on_hand: String(count.onHand), reserved: String(count.reserved), counted_at: count.at }));
    return this.db.transaction().execute(async (trx) => {
      let applied = 0;
      for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
        const result = await trx
          .insertInto('omnisync_location_count')
          .values(rowChunk)
          .onConflict((oc) =>
            oc
              .columns(['source', 'sku', 'location'])
              .doUpdateSet((eb) => ({ on_hand: eb.ref('excluded.on_hand'), reserved: eb.ref('excluded.reserved'), counted_at: eb.ref('excluded.counted_at') }))
              // The rule of core/location-stock.ts's applyCount: later wins; at one moment, the larger reading.
              .where(sql<boolean>`excluded.counted_at > omnisync_location_count.counted_at
                or (excluded.counted_at = omnisync_location_count.counted_at
                    and (cast(excluded.on_hand as numeric) > cast(omnisync_location_count.on_hand as numeric)
                         or (cast(excluded.on_hand as numeric) = cast(omnisync_location_count.on_hand as numeric)
                             and cast(excluded.reserved as numeric) > cast(omnisync_location_count.reserved as numeric))))`),
          )
          .executeTakeFirst();
        applied += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      // Movements a count includes are never applied again: drop them.
      for (const skuChunk of chunks([...new Set(rows.map((row) => row.sku))], IN_LIST_CHUNK)) {
        await trx
          .deleteFrom('omnisync_stock_movement')
          .where('source', '=', source)
          .where('sku', 'in', skuChunk)
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom('omnisync_location_count as c')
                .select('c.sku')
                .whereRef('c.source', '=', 'omnisync_stock_movement.source')
                .whereRef('c.sku', '=', 'omnisync_stock_movement.sku')
                .whereRef('c.location', '=', 'omnisync_stock_movement.location')
                .whereRef('c.counted_at', '>=', 'omnisync_stock_movement.occurred_at'),
            ),
          )
          .execute();
      }
      return applied;
    });
  }

  async recordStockMovements(source: string, movements: readonly LocatedStockMovement[]): Promise<string[]> {
    const receivedAt = nowIso();
    const firstOfId = new Map<string, LocatedStockMovement>();
    for (const movement of movements) if (!firstOfId.has(movement.id)) firstOfId.set(movement.id, movement);
    if (firstOfId.size === 0) return [];
    const rows = [...firstOfId.values()].map((movement) => ({
      source,
      movement_id: movement.id,
      location: movement.location,
      sku: movement.sku,
      delta: String(movement.delta),
      occurred_at: movement.at,
      received_at: receivedAt,
    }));
    const inserted = new Set<string>();
    await this.db.transaction().execute(async (trx) => {
      for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
        const fresh = await trx
          .insertInto('omnisync_stock_movement')
          .values(rowChunk)
          .onConflict((oc) => oc.columns(['source', 'movement_id']).doNothing())
          .returning('movement_id')
          .execute();
        for (const row of fresh) inserted.add(row.movement_id);
      }
    });
    return [...firstOfId.keys()].filter((id) => inserted.has(id));
  }

  async loadLocationStock(source: string, skus: readonly string[]): Promise<Map<string, Map<string, LocationStock>>> {
    const stock = new Map<string, Map<string, LocationStock>>();
    const at = (sku: string, location: string): LocationStock => stock.get(sku)?.get(location) ?? NO_LOCATION_STOCK;
    const put = (sku: string, location: string, value: LocationStock) => {
      const locations = stock.get(sku) ?? new Map<string, LocationStock>();
      locations.set(location, value);
      stock.set(sku, locations);
    };
    for (const skuChunk of chunks([...new Set(skus)], IN_LIST_CHUNK)) {
      const [counts, movements] = await Promise.all([
        this.db.selectFrom('omnisync_location_count').select(['sku', 'location', 'on_hand', 'reserved', 'counted_at']).where('source', '=', source).where('sku', 'in', skuChunk).execute(),
        this.db.selectFrom('omnisync_stock_movement').select(['sku', 'location', 'movement_id', 'delta', 'occurred_at']).where('source', '=', source).where('sku', 'in', skuChunk).execute(),
      ]);
      for (const row of counts) put(row.sku, row.location, { count: { onHand: Number(row.on_hand), reserved: Number(row.reserved), at: row.counted_at }, movements: [] });
      const movementsByKey = new Map<string, { sku: string; location: string; list: Array<{ id: string; delta: number; at: string }> }>();
      for (const row of movements) {
        const key = snapshotKey(row.sku, row.location);
        const entry = movementsByKey.get(key) ?? { sku: row.sku, location: row.location, list: [] };
        entry.list.push({ id: row.movement_id, delta: Number(row.delta), at: row.occurred_at });
        movementsByKey.set(key, entry);
      }
      for (const { sku, location, list } of movementsByKey.values()) put(sku, location, locationStockOf(at(sku, location).count, list));
    }
    return stock;
  }

  /**
   * Marks quarantine entries resolved (an operator fixed the record). A later sighting of the
   * same record opens a new entry. Not part of the StateStore contract yet. Returns entries changed.
   */
  async resolveQuarantine(ids: readonly number[]): Promise<number> {
    const resolvedAt = nowIso();
    let changed = 0;
    for (const idChunk of chunks([...new Set(ids)], IN_LIST_CHUNK)) {
      const result = await this.db
        .updateTable('omnisync_quarantine')
        .set({ resolved: 1, resolved_at: resolvedAt })
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

type SnapshotTuple = [syncName: string, target: string, entity: string, recordKey: string, recordPart: string, value: string, pushedAt: string];
type CrosswalkTuple = [connectorId: string, kind: string, localKey: string, remoteId: string];

/**
 * A staged item in omnisync_push_batch.items_json. Stock rows staged before migration 0005
 * hold their quantity as a number; it is read as text.
 */
type StagedItemJson = [key: string, part: string, value: string | number, previous: string | number | null, held?: string | null, extra?: unknown];
/** An item named in omnisync_push_outcome.items_json (failures carry their reason). */
type OutcomeKeyJson = [key: string, part: string, reason?: string];

function toItemJson(item: StagedItem): StagedItemJson {
  if (item.extra !== undefined) return [item.key, item.part, item.value, item.previous, item.held ?? null, item.extra];
  if (item.held !== undefined) return [item.key, item.part, item.value, item.previous, item.held];
  return [item.key, item.part, item.value, item.previous];
}

function fromItemJson([key, part, value, previous, held, extra]: StagedItemJson): StagedItem {
  const item: StagedItem = { key, part, value: String(value), previous: previous === null ? null : String(previous) };
  if (held !== undefined && held !== null) item.held = held;
  if (extra !== undefined) item.extra = extra;
  return item;
}

/** Orders items by (key, part), by UTF-16 code units: the same on every database. */
function compareItemKeys(a: StagedItem, b: StagedItem): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.part < b.part ? -1 : a.part > b.part ? 1 : 0;
}

/** The statements of the push path, as templates over this database (see the file comment). */
function hotPathStatements(db: Kysely<StateDatabase>) {
  return {
    upsertSnapshot: new StatementTemplate<[], SnapshotTuple>({ args: 0, columns: 7 }, (_args, rows) =>
      db
        .insertInto('omnisync_snapshot')
        .values(rows.map(([sync_name, target, entity, record_key, record_part, value, pushed_at]) => ({ sync_name, target, entity, record_key, record_part, value, pushed_at })))
        .onConflict((oc) =>
          oc.columns(['sync_name', 'target', 'entity', 'record_key', 'record_part']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            pushed_at: eb.ref('excluded.pushed_at'),
          })),
        ),
    ),
    snapshotByKey: new StatementTemplate({ args: 3, columns: 1 }, ([syncName, target, entity]: [string, string, string], rows: ReadonlyArray<[key: string]>) =>
      db
        .selectFrom('omnisync_snapshot')
        .select(['record_key', 'record_part', 'value'])
        .where('sync_name', '=', syncName)
        .where('target', '=', target)
        .where('entity', '=', entity)
        .where(
          'record_key',
          'in',
          rows.map(([key]) => key),
        ),
    ),
    crosswalkByKey: new StatementTemplate({ args: 2, columns: 1 }, ([connectorId, kind]: [string, string], rows: ReadonlyArray<[localKey: string]>) =>
      db
        .selectFrom('omnisync_crosswalk')
        .select(['local_key', 'remote_id'])
        .where('connector_id', '=', connectorId)
        .where('kind', '=', kind)
        .where(
          'local_key',
          'in',
          rows.map(([key]) => key),
        ),
    ),
    upsertCrosswalk: new StatementTemplate<[], CrosswalkTuple>({ args: 0, columns: 4 }, (_args, rows) =>
      db
        .insertInto('omnisync_crosswalk')
        .values(rows.map(([connector_id, kind, local_key, remote_id]) => ({ connector_id, kind, local_key, remote_id })))
        .onConflict((oc) => oc.columns(['connector_id', 'kind', 'local_key']).doUpdateSet((eb) => ({ remote_id: eb.ref('excluded.remote_id') }))),
    ),
    recentQuarantineByKey: new StatementTemplate(
      { args: 4, columns: 1 },
      ([scope, entity, kind, since]: [string, string, string, string], rows: ReadonlyArray<[recordKey: string]>) =>
        db
          .selectFrom('omnisync_quarantine')
          .select('record_key')
          .where('scope', '=', scope)
          .where('entity', '=', entity)
          .where(
            'record_key',
            'in',
            rows.map(([key]) => key),
          )
          .where('kind', '=', kind)
          .where('resolved', '=', 0)
          .where('last_seen_at', '>=', since),
    ),
  };
}

type HotPathStatements = ReturnType<typeof hotPathStatements>;

function quarantineDedupeKey(record: QuarantineRecord): string {
  return createHash('sha256').update(JSON.stringify([record.scope, record.entity, record.recordKey, record.reason])).digest('hex');
}

/** The payload as JSON; values JSON cannot hold (bigint) become strings rather than failing the batch. */
function toJson(payload: unknown): string {
  return JSON.stringify(payload ?? null, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Items deduplicated by (key, part), keeping the last, in first-seen order. */
function lastPerKey(items: readonly StagedItem[]): readonly StagedItem[] {
  // Pushed calls are slices of a staged batch, which is sorted and unique: nothing to do.
  let ascending = true;
  for (let i = 1; i < items.length && ascending; i++) ascending = compareItemKeys(items[i - 1]!, items[i]!) < 0;
  if (ascending) return items;
  const byKey = new Map<string, StagedItem>();
  for (const item of items) byKey.set(snapshotKey(item.key, item.part), item);
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

/** Appends confirmed prices to the history in `db` (a transaction); a price equal to the SKU's latest one at the target adds nothing. */
async function appendPriceHistory(db: Kysely<StateDatabase>, target: string, entries: readonly PriceHistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const skus = [...new Set(entries.map((entry) => entry.sku))];
  const latest = new Map<string, { amount: string; currency: string; compareAt: string | null }>();
  for (const skuChunk of chunks(skus, IN_LIST_CHUNK)) {
    const rows = await db
      .selectFrom('omnisync_price_history as h')
      .select(['h.sku', 'h.amount', 'h.currency', 'h.compare_at'])
      .where('h.target', '=', target)
      .where('h.sku', 'in', skuChunk)
      .where('h.since', '=', (eb) => eb.selectFrom('omnisync_price_history as l').select((e) => e.fn.max('l.since').as('since')).whereRef('l.target', '=', 'h.target').whereRef('l.sku', '=', 'h.sku'))
      .execute();
    for (const row of rows) latest.set(row.sku, { amount: row.amount, currency: row.currency, compareAt: row.compare_at });
  }
  const rows: Array<StateDatabase['omnisync_price_history']> = [];
  for (const entry of entries) {
    const last = latest.get(entry.sku);
    if (last !== undefined && last.currency === entry.currency && new Dec(last.amount).equals(entry.amount) && last.compareAt === entry.compareAt) continue;
    latest.set(entry.sku, entry);
    rows.push({ target, sku: entry.sku, since: entry.since, amount: entry.amount, currency: entry.currency, compare_at: entry.compareAt });
  }
  for (const rowChunk of chunks(rows, rowsPerInsert(rows[0]))) {
    await db.insertInto('omnisync_price_history').values(rowChunk).onConflict((oc) => oc.doNothing()).execute();
  }
}

function nowIso(): string {
  return new Date().toISOString();
}

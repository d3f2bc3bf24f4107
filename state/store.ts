/**
 * The hub state store: what must outlive a workflow and is too big for its history
 * (docs/architecture.md). Cursors, last-pushed snapshots per target, staged push batches, crosswalks,
 * the quarantine, and the hub's own stock per source location. One code path (Kysely) over SQLite (embedded default) and PostgreSQL.
 *
 * Implementation: state/kysely-store.ts. This file holds only the interfaces, so connectors and
 * activities depend on the contract, not on the database.
 */
import type { LocationStock, StockCount, StockMovement } from '../core/location-stock';
import type { CrosswalkStore, SnapshotScope, StagedItem } from '../core/model';

export type { CrosswalkStore, SnapshotScope, StagedItem } from '../core/model';
export { snapshotKey } from '../core/stock-diff';

export interface QuarantineRecord {
  /** The sync (or connector) that met the record. */
  scope: string;
  /** What kind of record: 'stock', 'price', 'order', ... */
  entity: string;
  /** The record's business key, e.g. "SKU-1|MAG-01". Never PII. */
  recordKey: string;
  /** Why it was quarantined, precise enough to fix the record. */
  reason: string;
  /** Error kind from core/errors (unmappable, validation, ...). */
  kind: string;
  /** Short label of the cause, for grouping (core/quarantine-categories.ts). */
  category: string;
  /**
   * The business key the record concerns (a SKU), or '' when unknown. Open entries of a subject
   * are resolved when it next syncs cleanly (see resolveQuarantined).
   */
  subject: string;
  /** The target that refused the record; '' for problems of the source or the mapping. */
  target: string;
  /** The record as met, as JSON, so nothing is lost. */
  payload: unknown;
}

export interface QuarantineEntry extends QuarantineRecord {
  id: number;
  firstSeenAt: string;
  lastSeenAt: string;
  occurrences: number;
  resolved: boolean;
  /** When it was resolved (ISO time), null while open. */
  resolvedAt: string | null;
}

/** Quarantine entries of one scope seen since a time, grouped by category. */
export interface QuarantineSummaryRow {
  category: string;
  /** Entries (records), not sightings. */
  records: number;
  /** The reason of one of them, as an example. */
  example: string;
}

/** One price a channel showed from `since` (an ISO time) on. */
export interface PriceHistoryEntry {
  sku: string;
  since: string;
  amount: string;
  currency: string;
  compareAt: string | null;
}

export interface StateStore {
  /** Creates or upgrades tables. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Cursors: advanced only after the data they cover is safely written. Opaque JSON, owned and
  // checked by the source connector that wrote it.
  getCursor(syncName: string, mode: string): Promise<unknown>;
  saveCursor(syncName: string, mode: string, cursor: unknown): Promise<void>;

  // Last-pushed snapshot, per (sync, target, entity): values by snapshotKey(record key, part).
  /** The snapshot values of these record keys (every part of each). */
  loadSnapshot(scope: SnapshotScope, keys: readonly string[]): Promise<Map<string, string>>;
  /** Records in the snapshot: what the target holds of this sync and entity. */
  countSnapshot(scope: SnapshotScope): Promise<number>;
  /**
   * Gives the sync the rows that a store upgraded from a single stock snapshot kept without a
   * sync name (migration 0005), for these targets: the first sync to plan takes them, so an
   * upgraded hub does not push again what its targets hold. Returns rows adopted.
   */
  adoptLegacySnapshot(syncName: string, entity: string, targets: readonly string[]): Promise<number>;

  // Staged batches: written by the staging activity, consumed by the push activity.
  /** Stages items as pending, one row per (batch, target). Re-staging replaces the pending ones. */
  stageItems(batchId: string, target: string, items: readonly StagedItem[]): Promise<void>;
  /** Items of the batch not yet pushed or failed, in (key, part) order. */
  loadPendingItems(batchId: string, target: string): Promise<StagedItem[]>;
  /**
   * The pending items with the number of the batch's items that already have an outcome: a
   * push that found none, and finished, knows the batch's counts without reading them back.
   */
  loadPendingBatch(batchId: string, target: string): Promise<{ pending: StagedItem[]; recorded: number }>;
  /**
   * Marks items pushed and records their values in the snapshot of `scope`, in one transaction,
   * so a retry never pushes them again and the next run sees them as unchanged. `priceHistory`
   * gives, for the time recorded, the prices to append to the history in the same transaction
   * (a worker that dies after the write loses neither).
   */
  markItemsPushed(scope: SnapshotScope, batchId: string, items: readonly StagedItem[], priceHistory?: (pushedAt: string) => PriceHistoryEntry[]): Promise<void>;
  /** Marks items failed permanently (quarantined, or rejected by an operator); they are not retried. */
  markItemsFailed(batchId: string, target: string, failures: ReadonlyArray<{ item: StagedItem; reason: string }>): Promise<void>;
  /**
   * Items of a staged batch with an outcome, counted once each whatever the attempts that
   * recorded them: what a push reports, so retries and crashes never skew a run's counts.
   */
  batchOutcomeCounts(batchId: string, target: string): Promise<{ pushed: number; failed: number }>;
  /** Drops staged rows of finished batches older than the cutoff (ISO time). Returns rows removed. */
  pruneStagedBatches(olderThan: string): Promise<number>;

  // Price history (EU Omnibus): what each channel was confirmed to show, and since when.
  /** Appends confirmed prices; a price equal to the SKU's latest one at the target adds nothing. */
  recordPriceHistory(target: string, entries: readonly PriceHistoryEntry[]): Promise<void>;
  /**
   * The history of these SKUs at a target that matters from `from` on: every entry since then
   * and the one in effect at `from`, oldest first per SKU.
   */
  priceHistorySince(target: string, skus: readonly string[], from: string): Promise<Map<string, PriceHistoryEntry[]>>;
  /** Every target's history of one SKU, newest first, at most `limit` entries per target. */
  priceHistoryOf(sku: string, limit?: number): Promise<Array<PriceHistoryEntry & { target: string }>>;

  crosswalk(connectorId: string): CrosswalkStore;

  /** Adds records; a record already open with the same scope, entity, key and reason counts again. */
  quarantine(records: readonly QuarantineRecord[]): Promise<void>;
  /**
   * Record keys (of `recordKeys`) with an open quarantine entry of this kind seen at or after
   * `since` (ISO time): records not worth sending again yet.
   */
  recentlyQuarantined(scope: string, entity: string, kind: string, recordKeys: readonly string[], since: string): Promise<Set<string>>;
  listQuarantine(filter?: { scope?: string; includeResolved?: boolean; limit?: number }): Promise<QuarantineEntry[]>;
  /**
   * Marks resolved, with the time, the open entries of `scope` and `entity` about these subjects
   * at `target` ('' for source and mapping problems): their records just synced cleanly.
   * Returns entries resolved.
   */
  resolveQuarantined(scope: string, entity: string, target: string, subjects: readonly string[]): Promise<number>;
  /** Marks resolved, with the time, the open entries of `scope` and `entity` with these record keys. Returns entries resolved. */
  resolveQuarantinedRecords(scope: string, entity: string, recordKeys: readonly string[]): Promise<number>;
  /** Entries of `scope` seen at or after `since` (ISO time), grouped by category, most records first. */
  quarantineSummary(scope: string, since: string): Promise<QuarantineSummaryRow[]>;

  /**
   * Stock counts from a source (core/location-stock.ts): a count replaces the one held only when
   * it is later, and the movements it includes are dropped. Returns the counts applied.
   */
  recordStockCounts(source: string, counts: readonly LocatedStockCount[]): Promise<number>;
  /** Stock movements from a source, each kept once by id. Returns the ids not seen before, in input order. */
  recordStockMovements(source: string, movements: readonly LocatedStockMovement[]): Promise<string[]>;
  /** The hub's stock of these SKUs at each location of the source it has news of: SKU → location → stock. */
  loadLocationStock(source: string, skus: readonly string[]): Promise<Map<string, Map<string, LocationStock>>>;
}

export interface LocatedStockCount extends StockCount {
  sku: string;
  location: string;
}

export interface LocatedStockMovement extends StockMovement {
  sku: string;
  location: string;
}

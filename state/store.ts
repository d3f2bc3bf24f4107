/**
 * The hub state store: what must outlive a workflow and is too big for its history
 * (docs/architecture.md). Cursors, last-pushed snapshots per target, staged push batches, crosswalks and
 * the quarantine. One code path (Kysely) over SQLite (embedded default) and PostgreSQL.
 *
 * Implementation: state/kysely-store.ts. This file holds only the interfaces, so connectors and
 * activities depend on the contract, not on the database.
 */
import type { CrosswalkStore, StagedStockItem, StockCursor } from '../core/model';

export type { CrosswalkStore, StagedStockItem } from '../core/model';
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

export interface StateStore {
  /** Creates or upgrades tables. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Cursors: advanced only after the data they cover is safely written.
  getCursor(syncName: string, mode: string): Promise<StockCursor | null>;
  saveCursor(syncName: string, mode: string, cursor: StockCursor): Promise<void>;

  // Last-pushed snapshot per target: key = `${sku}\u0000${location}`.
  loadSnapshot(target: string, skus: readonly string[]): Promise<Map<string, number>>;

  // Staged batches: written by the staging activity, consumed by the push activity.
  stageStockItems(batchId: string, target: string, items: readonly StagedStockItem[]): Promise<void>;
  /** Items of the batch not yet pushed or failed, in (sku, location) order. */
  loadPendingStockItems(batchId: string, target: string): Promise<StagedStockItem[]>;
  /**
   * Marks items pushed and records their quantities in the target's snapshot, in one
   * transaction, so a retry never pushes them again and the next run sees them as unchanged.
   */
  markStockItemsPushed(batchId: string, target: string, items: readonly StagedStockItem[]): Promise<void>;
  /** Marks items failed permanently (they are quarantined by the caller); they are not retried. */
  markStockItemsFailed(batchId: string, target: string, failures: ReadonlyArray<{ item: StagedStockItem; reason: string }>): Promise<void>;
  /**
   * Items of a staged batch with an outcome, counted once each whatever the attempts that
   * recorded them: what a push reports, so retries and crashes never skew a run's counts.
   */
  stockBatchOutcomeCounts(batchId: string, target: string): Promise<{ pushed: number; failed: number }>;
  /** Drops staged rows of finished batches older than the cutoff (ISO time). Returns rows removed. */
  pruneStagedBatches(olderThan: string): Promise<number>;

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
}

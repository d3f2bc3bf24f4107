/**
 * The engine's view of an entity: what the generic staging and push (engine/stage.ts,
 * engine/push.ts) need from it. Each entity has one (engine/stock.ts, engine/price.ts); it reads
 * through the source's `<entity>.read` operation, computes and diffs with the entity's pure
 * logic (core/entities), and writes through the targets' `<entity>.write` operation. Nothing
 * here knows Temporal: activities adapt it (activities/sync.ts), and the CLI's dry run calls it
 * directly.
 */
import type { Logger } from 'pino';
import type { ItemResult } from '../core/errors';
import type { StagedItem } from '../core/model';
import type { EntitySpec, SyncMode } from '../core/entities';
import type { ConnectorPool } from '../connectors/pool';
import type { LoadedConfig, LoadedSync } from '../config/load';
import type { PriceHistoryEntry, QuarantineRecord, StateStore } from '../state/store';

export interface EngineDeps {
  config: Pick<LoadedConfig, 'syncs' | 'temporal' | 'connectors'>;
  store: StateStore;
  connectors: ConnectorPool;
  logger: Logger;
}

export interface PlanPageInput {
  syncName: string;
  mode: SyncMode;
  /** The source's own cursor (opaque JSON); null starts from the beginning. */
  cursor: unknown;
  limit: number;
  /** The moment the values are computed for (ISO time); default now. Prices depend on it. */
  at?: string;
}

/** What one page means for each target, computed without writing anything. */
export interface PagePlan {
  /** Source records (SKUs) the page covered. */
  recordsRead: number;
  /** Changes per target id; a held change carries its reason (`held`). */
  changesByTarget: Map<string, StagedItem[]>;
  quarantine: QuarantineRecord[];
  /**
   * Subjects whose records synced cleanly, whose open quarantine entries are resolved when the
   * page is staged: per target id, and under '' the source records the source and mapping accepted.
   */
  cleanSubjects: Map<string, string[]>;
  /** Values the mapping counted as zero under its policy (stock), reported rather than quarantined. */
  adjusted: number;
  /** A few of them, for the log. */
  adjustedExamples: unknown[];
  /** Records the source marks not for sale, whose values became 0 (stock); absent when none. */
  notForSale?: number;
  /** A few of them, for the log. */
  notForSaleExamples?: string[];
  nextCursor: unknown;
  resumeCursor: unknown;
  /** When the values change next without any source row changing (a promotion's start or end). */
  nextChangeAt?: string;
}

/** Writes one call's items to a target. */
export interface ItemWriter {
  /** One result per item, in order; throws only when the whole call failed. */
  write(items: readonly StagedItem[], idempotencyKey: string): Promise<ItemResult<unknown>[]>;
}

/** A target as the push uses it for one entity. */
export interface TargetWriter {
  /** Items per call (the manifest's maxBatchSize). */
  readonly batchSize: number;
  /** Calls one push may keep in flight. */
  readonly maxConcurrentCalls: number;
  /** Called once per push with all its items before any write (e.g. SKUs resolved in bulk). */
  /** `signal`: the push was cancelled; a long preparation (e.g. SKU lookups) stops and throws its reason. */
  prepare(items: readonly StagedItem[], signal?: AbortSignal): Promise<ItemWriter>;
  /** What confirmed items add to the price history (prices), recorded with them in one transaction. */
  priceHistoryOf?(items: readonly StagedItem[], pushedAt: string): PriceHistoryEntry[];
}

export interface EntityEngine {
  readonly spec: EntitySpec<unknown>;
  /** Reads one page and diffs it against each target's snapshot. Reads only. */
  planPage(deps: EngineDeps, sync: LoadedSync, input: PlanPageInput): Promise<PagePlan>;
  /** The writer of `target` for this entity. */
  writer(deps: EngineDeps, sync: LoadedSync, target: string): TargetWriter;
  /** The quarantine key of an item at a target, e.g. "SKU-1|shopify|gid://…". */
  recordKey(item: StagedItem, target: string): string;
  /** The item as a quarantine payload (readable JSON). */
  payloadOf(item: StagedItem, target: string): unknown;
  /** One line for a dry run: what would change at the target. */
  describeChange(item: StagedItem, target: string): string;
}

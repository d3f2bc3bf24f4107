/**
 * Activities of the stock sync: thin adapters around the pure logic in core/ and the
 * connectors. Big data (pages of stock) stays here and in the state store; the workflow only
 * sees cursors, batch ids and counts.
 */
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { computeTargetStock, type AdjustedLevel } from '../core/stock-mapping';
import { diffAgainstSnapshot } from '../core/stock-diff';
import { idempotencyKey } from '../core/idempotency';
import { connectorTaskQueue } from '../core/task-queues';
import { configError, OmnisyncError, toApplicationFailure, type ItemResult } from '../core/errors';
import { skuKey } from '../core/model';
import { QUARANTINE_CATEGORY } from '../core/quarantine-categories';
import { DEFAULT_STOCK_WRITE_LIMITS, stockLimitViolation, type StockWriteLimits } from '../core/stock-limits';
import { writeBatchSize, type StockCursor, type StockPage, type StockReadMode, type StockUpdate, type StockUpdateKey, type StockWriter } from '../connectors/contract';
import type { ConnectorPool } from '../connectors/pool';
import type { LoadedConfig, LoadedSync } from '../config/load';
import type { QuarantineRecord, StagedStockItem, StateStore } from '../state/store';

export interface StockSyncDeps {
  config: Pick<LoadedConfig, 'syncs' | 'temporal' | 'connectors'>;
  store: StateStore;
  connectors: ConnectorPool;
  logger: Logger;
  /**
   * How long finished staged batches are kept (evidence of what was pushed) before they are
   * pruned. Default STAGED_BATCH_RETENTION_MS.
   */
  stagedBatchRetentionMs?: number;
}

/** Finished staged batches are kept a week: long enough to investigate a week-old push. */
export const STAGED_BATCH_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** A worker prunes staged batches at most once an hour, from the first plan after that. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export interface StockSyncPlan {
  syncName: string;
  mode: StockReadMode;
  source: { id: string; taskQueue: string };
  targets: Array<{ id: string; taskQueue: string }>;
  pageSize: number;
  maxPages: number;
  pagesPerExecution: number;
  /** Delta runs start where the last successful run ended; full runs from the beginning. */
  startCursor: StockCursor | null;
}

export interface StagePageInput {
  syncName: string;
  mode: StockReadMode;
  batchId: string;
  cursor: StockCursor | null;
  limit: number;
}

export interface StagePageResult {
  /** SKUs the page covered. */
  skusRead: number;
  /** Changed (SKU, location) quantities staged, per target id. */
  changedByTarget: Record<string, number>;
  quarantined: number;
  /** Levels counted as zero under the mapping's quantity policy (reported, not quarantined). */
  adjusted: number;
  nextCursor: StockCursor | null;
  resumeCursor: StockCursor | null;
}

export interface PushBatchInput {
  syncName: string;
  batchId: string;
  target: string;
}

export interface PushBatchResult {
  pushed: number;
  failed: number;
}

/** What one page means for each target, computed without writing anything (used by dry runs). */
export interface PagePlan {
  page: StockPage;
  changesByTarget: Map<string, StagedStockItem[]>;
  quarantine: QuarantineRecord[];
  adjusted: AdjustedLevel[];
  /**
   * Subjects whose records synced cleanly, whose open quarantine entries are resolved when the
   * page is staged: per target id, and under '' the source SKUs the source and mapping accepted.
   */
  cleanSubjects: Map<string, string[]>;
}

/**
 * Activities heartbeat on a timer while they work, so a worker that dies is noticed after the
 * profile's heartbeatTimeout (seconds), not after startToCloseTimeout (minutes).
 */
const HEARTBEAT_EVERY_MS = 3_000;

/** Runs `body` while heartbeating `details()` every few seconds. */
async function heartbeating<T>(details: () => unknown, body: () => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat(details());
  const timer = setInterval(() => context.heartbeat(details()), HEARTBEAT_EVERY_MS);
  try {
    return await body();
  } finally {
    clearInterval(timer);
  }
}

/** The quarantine key of one stock item at one target location. */
export function stockRecordKey(sku: string, target: string, location: string): string {
  return `${sku}|${target}|${location}`;
}

export function findSync(config: Pick<LoadedConfig, 'syncs'>, syncName: string): LoadedSync {
  const sync = config.syncs.get(syncName);
  if (!sync) throw configError(`sync "${syncName}" is not defined in the config this worker runs with (defined: ${[...config.syncs.keys()].join(', ') || 'none'})`);
  return sync;
}

/** A target's declared stock limits (its manifest's writeLimits.stock), or the defaults. */
export function stockWriteLimitsOf(config: Pick<LoadedConfig, 'connectors'>, targetId: string): StockWriteLimits {
  return config.connectors.get(targetId)?.manifest.writeLimits?.stock ?? DEFAULT_STOCK_WRITE_LIMITS;
}

/** Reads one page and diffs it against each target's snapshot. Reads only. */
export async function planStockPage(deps: Pick<StockSyncDeps, 'config' | 'store' | 'connectors'>, input: Omit<StagePageInput, 'batchId'>): Promise<PagePlan> {
  const sync = findSync(deps.config, input.syncName);
  const limits = new Map(sync.targets.map((target) => [target, stockWriteLimitsOf(deps.config, target)]));
  const caseInsensitiveSkus = [...limits.values()].some((l) => l.caseInsensitiveSkus);
  const page = await deps.connectors.operation(sync.source, 'stock.read').readStockPage({ mode: input.mode, cursor: input.cursor, limit: input.limit, caseInsensitiveSkus });
  const { updates, rejected, adjusted } = computeTargetStock(page.skus, page.levels, sync.stockMapping);
  const quarantine: QuarantineRecord[] = [...page.rejected, ...rejected].map((r) => ({
    scope: sync.name,
    entity: 'stock',
    recordKey: r.recordKey,
    reason: r.reason,
    kind: r.category === QUARANTINE_CATEGORY.unmappedLocation ? 'unmappable' : 'validation',
    category: r.category,
    subject: r.subject,
    target: '',
    payload: r.payload,
  }));
  const refused = new Set(rejected.map((r) => r.subject));
  const excluded = new Set(sync.stockMapping.skus.exclude);
  const accepted = page.skus.filter((sku) => !refused.has(sku) && !excluded.has(sku));
  // Entries of duplicates name the SKU's key (skuKey), which may differ from the SKU in case.
  const cleanSubjects = new Map<string, string[]>([['', caseInsensitiveSkus ? [...accepted, ...accepted.map((sku) => skuKey(sku, true))] : accepted]]);

  const skus = [...new Set(updates.map((u) => u.sku))];
  const changesByTarget = new Map<string, StagedStockItem[]>();
  const recheckSince = new Date(Date.now() - sync.unmappableRecheckMinutes * 60_000).toISOString();
  for (const target of sync.targets) {
    const snapshot = await deps.store.loadSnapshot(target, skus);
    const sendable: StagedStockItem[] = [];
    const notInSync = new Set<string>();
    for (const item of diffAgainstSnapshot(updates, snapshot)) {
      notInSync.add(item.sku);
      const violation = stockLimitViolation(item, limits.get(target)!, target);
      if (violation === undefined) {
        sendable.push(item);
        continue;
      }
      quarantine.push({
        scope: sync.name,
        entity: 'stock',
        recordKey: stockRecordKey(item.sku, target, item.location),
        reason: violation,
        kind: 'validation',
        category: QUARANTINE_CATEGORY.outsideTargetLimits,
        subject: item.sku,
        target,
        payload: { ...item, target },
      });
    }
    // A target that recently refused an item as unmappable (e.g. a SKU the shop does not list)
    // is not sent it again on every run: it waits in the quarantine until the recheck time.
    const keys = sendable.map((item) => stockRecordKey(item.sku, target, item.location));
    const parked = keys.length === 0 ? new Set<string>() : await deps.store.recentlyQuarantined(sync.name, 'stock', 'unmappable', keys, recheckSince);
    changesByTarget.set(target, parked.size === 0 ? sendable : sendable.filter((_, i) => !parked.has(keys[i]!)));
    cleanSubjects.set(target, skus.filter((sku) => !notInSync.has(sku)));
  }
  return { page, changesByTarget, quarantine, adjusted, cleanSubjects };
}

export function createStockSyncActivities(deps: StockSyncDeps) {
  const { store, connectors, config } = deps;
  let nextPruneAt = 0;

  /** Runs an activity body, converting errors to typed ApplicationFailures. */
  async function typed<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      throw toApplicationFailure(err);
    }
  }

  return {
    async planStockSync(input: { syncName: string; mode: StockReadMode }): Promise<StockSyncPlan> {
      return typed(async () => {
        const sync = findSync(config, input.syncName);
        await pruneStagedBatchesNowAndThen();
        const hub = config.temporal.taskQueue;
        return {
          syncName: sync.name,
          mode: input.mode,
          source: { id: sync.source, taskQueue: connectorTaskQueue(hub, sync.source) },
          targets: sync.targets.map((id) => ({ id, taskQueue: connectorTaskQueue(hub, id) })),
          pageSize: sync.pageSize,
          maxPages: sync.maxPages,
          pagesPerExecution: sync.pagesPerExecution,
          startCursor: input.mode === 'delta' ? await store.getCursor(sync.name, 'delta') : null,
        };
      });
    },

    /** Reads a page, maps and diffs it, and stages the changes per target under `batchId`. */
    async stageStockPage(input: StagePageInput): Promise<StagePageResult> {
      return typed(() => heartbeating(() => ({ batchId: input.batchId }), () => stagePage(input)));
    },

    /**
     * Pushes the pending items of a staged batch to one target in calls of the target's batch
     * size. Each call's confirmed items are recorded at once, so a retry (or a new worker after
     * a crash) pushes only what is still pending; per-item failures are quarantined.
     */
    async pushStockBatch(input: PushBatchInput): Promise<PushBatchResult> {
      const progress = { pushed: 0, failed: 0 };
      return typed(() => heartbeating(() => progress, () => pushBatch(input, progress)));
    },

    /** Stores where the next delta run starts; called only after every page up to it is pushed. */
    async commitStockCursor(input: { syncName: string; mode: StockReadMode; cursor: StockCursor }): Promise<void> {
      return typed(() => store.saveCursor(input.syncName, input.mode, input.cursor));
    },
  };

  /**
   * Staged batches would otherwise pile up run after run. Pruning is housekeeping: it runs at
   * most every PRUNE_INTERVAL_MS per worker, and a failure is logged, never failing the run.
   */
  async function pruneStagedBatchesNowAndThen(): Promise<void> {
    const now = Date.now();
    if (now < nextPruneAt) return;
    nextPruneAt = now + PRUNE_INTERVAL_MS;
    const cutoff = new Date(now - (deps.stagedBatchRetentionMs ?? STAGED_BATCH_RETENTION_MS)).toISOString();
    try {
      const removed = await store.pruneStagedBatches(cutoff);
      if (removed > 0) deps.logger.info({ removed, stagedBefore: cutoff }, 'pruned finished staged batches');
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'pruning staged batches failed; retried in an hour');
    }
  }

  async function stagePage(input: StagePageInput): Promise<StagePageResult> {
    const plan = await planStockPage(deps, input);
    if (plan.quarantine.length > 0) await store.quarantine(plan.quarantine);
    for (const [target, subjects] of plan.cleanSubjects) await store.resolveQuarantined(input.syncName, 'stock', target, subjects);
    if (plan.adjusted.length > 0) {
      deps.logger.warn(
        { syncName: input.syncName, batchId: input.batchId, adjusted: plan.adjusted.length, examples: plan.adjusted.slice(0, 5) },
        "stock levels counted as zero under the mapping's quantity policy",
      );
    }
    const changedByTarget: Record<string, number> = {};
    for (const [target, items] of plan.changesByTarget) {
      // Staging is an upsert of pending rows: a retried page stages the same rows again.
      if (items.length > 0) await store.stageStockItems(input.batchId, target, items);
      changedByTarget[target] = items.length;
    }
    return {
      skusRead: plan.page.skus.length,
      changedByTarget,
      quarantined: plan.quarantine.length,
      adjusted: plan.adjusted.length,
      nextCursor: plan.page.nextCursor,
      resumeCursor: plan.page.resumeCursor,
    };
  }

  async function pushBatch(input: PushBatchInput, progress: PushBatchResult): Promise<PushBatchResult> {
    const target = connectors.operation(input.target, 'stock.write');
    const pending = await store.loadPendingStockItems(input.batchId, input.target);
    const writer = target.preparePush && pending.length > 0 ? await target.preparePush(pending.map((item) => item.sku)) : target;
    const batchSize = writeBatchSize(config.connectors.get(input.target)?.manifest, 'stock.write');
    const chunks: StagedStockItem[][] = [];
    for (let i = 0; i < pending.length; i += batchSize) chunks.push(pending.slice(i, i + batchSize));
    // Record keys of the items this push confirmed: their own earlier refusals are resolved.
    const synced: string[] = [];

    let next = 0;
    const pushChunk = async (chunk: StagedStockItem[]) => {
      const results = await writeFindingRefusedItems(writer, chunk, input);
      const ok: StagedStockItem[] = [];
      const bad: Array<{ item: StagedStockItem; kind: string; message: string }> = [];
      results.forEach((result, index) => {
        const item = chunk[index]!;
        if (result.ok) ok.push(item);
        else bad.push({ item, kind: result.kind, message: result.message });
      });
      if (ok.length > 0) await store.markStockItemsPushed(input.batchId, input.target, ok);
      if (bad.length > 0) {
        // Quarantined before they are marked failed: a worker that dies in between leaves them
        // pending, and the retry refuses and quarantines them again (the quarantine counts the
        // repeat as another sighting). The other order could mark them failed, never quarantined.
        await store.quarantine(
          bad.map(({ item, kind, message }) => ({
            scope: input.syncName,
            entity: 'stock',
            recordKey: stockRecordKey(item.sku, input.target, item.location),
            reason: message,
            kind,
            category: kind === 'unmappable' ? QUARANTINE_CATEGORY.unknownToTarget : QUARANTINE_CATEGORY.refusedByTarget,
            subject: item.sku,
            target: input.target,
            payload: { ...item, target: input.target },
          })),
        );
        await store.markStockItemsFailed(input.batchId, input.target, bad.map(({ item, message }) => ({ item, reason: message })));
      }
      for (const item of ok) synced.push(stockRecordKey(item.sku, input.target, item.location));
      progress.pushed += ok.length;
      progress.failed += bad.length;
    };
    // A small pool of lanes; the first failure stops lanes from taking new chunks, and the
    // chunks already confirmed stay recorded for the retry.
    let firstError: unknown;
    const lane = async () => {
      while (firstError === undefined && next < chunks.length) {
        const chunk = chunks[next++]!;
        try {
          await pushChunk(chunk);
        } catch (err) {
          firstError ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(target.maxConcurrentCalls, chunks.length) }, lane));
    if (synced.length > 0) await store.resolveQuarantinedRecords(input.syncName, 'stock', synced);
    if (firstError !== undefined) throw firstError;
    // What the state store holds for the whole batch, not what this attempt did: an attempt
    // after a crash or a lost completion finds little or nothing left to push.
    return store.stockBatchOutcomeCounts(input.batchId, input.target);
  }

  /**
   * Writes one call's items. A target that refuses the whole call as invalid (an item its
   * limits did not foresee, e.g. a value its API types cannot hold) gets the call split in
   * halves until the refused item is alone; that item fails with the target's message and every
   * other item is written. Transient and auth failures are thrown, for the retry policy.
   */
  async function writeFindingRefusedItems(writer: StockWriter, chunk: readonly StagedStockItem[], input: PushBatchInput): Promise<ItemResult<StockUpdateKey>[]> {
    const updates: StockUpdate[] = chunk.map(({ sku, location, quantity }) => ({ sku, location, quantity }));
    const key = idempotencyKey(`${input.batchId}|${input.target}`, updates.map((u) => [u.sku, u.location, u.quantity]));
    try {
      return await writer.setStock(updates, key);
    } catch (err) {
      if (!(err instanceof OmnisyncError) || err.kind !== 'validation') throw err;
      if (chunk.length === 1) return [{ key: { sku: chunk[0]!.sku, location: chunk[0]!.location }, ok: false, kind: 'validation', message: err.message }];
      deps.logger.warn({ syncName: input.syncName, target: input.target, batchId: input.batchId, items: chunk.length, err: err.message }, 'target refused a whole write call; splitting it to find the refused item');
      const half = Math.ceil(chunk.length / 2);
      const first = await writeFindingRefusedItems(writer, chunk.slice(0, half), input);
      const second = await writeFindingRefusedItems(writer, chunk.slice(half), input);
      return [...first, ...second];
    }
  }
}

export type StockSyncActivities = ReturnType<typeof createStockSyncActivities>;

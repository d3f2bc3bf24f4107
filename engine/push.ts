/**
 * Pushing one staged batch to one target, for any entity: the pending items in calls of the
 * target's batch size, a few calls in flight, each call's confirmed items recorded at once (so
 * a retry, or a new worker after a crash, pushes only what is still pending), per-item failures
 * quarantined with the target's reason.
 */
import { idempotencyKey } from '../core/idempotency';
import { OmnisyncError, type ItemResult } from '../core/errors';
import type { StagedItem } from '../core/model';
import { QUARANTINE_CATEGORY } from '../core/quarantine-categories';
import type { LoadedSync } from '../config/load';
import type { EngineDeps, EntityEngine, ItemWriter } from './entity-engine';

export interface PushBatchInput {
  syncName: string;
  batchId: string;
  target: string;
  /**
   * Whether items held by the guard are pushed too (after an operator approved them). Default
   * false: held items stay pending.
   */
  includeHeld?: boolean;
}

export interface PushBatchResult {
  pushed: number;
  failed: number;
}

/** What a push attempt did so far (heartbeat details, metrics): also its failures by quarantine category. */
export interface PushProgress extends PushBatchResult {
  failedByCategory?: Record<string, number>;
}

/** Reason recorded for held items an operator rejected (or that lapsed). */
export const REJECTED_BY_OPERATOR = 'held by the guard and rejected by an operator; nothing pushed';

/**
 * `signal`: when it aborts, no new call is started; calls in flight finish and are recorded, and
 * the push then throws the abort's reason, so the attempt ends and a retry pushes what is left.
 */
export async function pushBatch(
  deps: EngineDeps,
  engine: EntityEngine,
  sync: LoadedSync,
  input: PushBatchInput,
  progress: PushProgress,
  signal?: AbortSignal,
): Promise<PushBatchResult> {
  const { store } = deps;
  const entity = engine.spec.entity;
  const scope = { syncName: sync.name, target: input.target, entity };
  const target = engine.writer(deps, sync, input.target);
  const batch = await store.loadPendingBatch(input.batchId, input.target);
  const pending = batch.pending.filter((item) => input.includeHeld === true || item.held === undefined);
  const writer = await target.prepare(pending, signal);
  const chunks: StagedItem[][] = [];
  for (let i = 0; i < pending.length; i += target.batchSize) chunks.push(pending.slice(i, i + target.batchSize));
  // Record keys of the items this push confirmed: their own earlier refusals are resolved.
  const synced: string[] = [];

  let next = 0;
  const pushChunk = async (chunk: StagedItem[]) => {
    const results = await writeFindingRefusedItems(deps, writer, chunk, input);
    const ok: StagedItem[] = [];
    const bad: Array<{ item: StagedItem; kind: string; message: string }> = [];
    results.forEach((result, index) => {
      const item = chunk[index]!;
      if (result.ok) ok.push(item);
      else bad.push({ item, kind: result.kind, message: result.message });
    });
    if (ok.length > 0) {
      const history = target.priceHistoryOf;
      await store.markItemsPushed(scope, input.batchId, ok, history === undefined ? undefined : (pushedAt) => history(ok, pushedAt));
    }
    if (bad.length > 0) {
      // Quarantined before they are marked failed: a worker that dies in between leaves them
      // pending, and the retry refuses and quarantines them again (the quarantine counts the
      // repeat as another sighting). The other order could mark them failed, never quarantined.
      await store.quarantine(
        bad.map(({ item, kind, message }) => ({
          scope: sync.name,
          entity,
          recordKey: engine.recordKey(item, input.target),
          reason: message,
          kind,
          category: quarantineCategoryOf(kind),
          subject: item.key,
          target: input.target,
          payload: engine.payloadOf(item, input.target),
        })),
      );
      await store.markItemsFailed(input.batchId, input.target, bad.map(({ item, message }) => ({ item, reason: message })));
    }
    for (const item of ok) synced.push(engine.recordKey(item, input.target));
    progress.pushed += ok.length;
    progress.failed += bad.length;
    if (bad.length > 0) {
      const byCategory = (progress.failedByCategory ??= {});
      for (const { kind } of bad) {
        const category = quarantineCategoryOf(kind);
        byCategory[category] = (byCategory[category] ?? 0) + 1;
      }
    }
  };
  // A small pool of lanes; the first failure stops lanes from taking new chunks, and the
  // chunks already confirmed stay recorded for the retry.
  let firstError: unknown;
  const lane = async () => {
    while (firstError === undefined && signal?.aborted !== true && next < chunks.length) {
      const chunk = chunks[next++]!;
      try {
        await pushChunk(chunk);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(target.maxConcurrentCalls, chunks.length) }, lane));
  if (synced.length > 0) await store.resolveQuarantinedRecords(sync.name, entity, synced);
  if (firstError !== undefined) throw firstError;
  signal?.throwIfAborted();
  // An attempt that found no outcome recorded pushed the whole batch itself: its counts are
  // the batch's. Otherwise what the state store holds for the whole batch, not what this
  // attempt did: an attempt after a crash or a lost completion finds little or nothing left.
  if (batch.recorded === 0) return { pushed: progress.pushed, failed: progress.failed };
  return store.batchOutcomeCounts(input.batchId, input.target);
}

/** The quarantine category of an item the target refused, by the kind of its failure. */
function quarantineCategoryOf(kind: string): string {
  return kind === 'unmappable' ? QUARANTINE_CATEGORY.unknownToTarget : QUARANTINE_CATEGORY.refusedByTarget;
}

/** Reason recorded for the pending items of a run the guard held as a whole and an operator rejected. */
export const RUN_REJECTED_BY_OPERATOR = 'the run was held by the guard and rejected by an operator; nothing pushed';

/**
 * Marks the held items of a batch failed, so nothing of them is ever pushed; with `all` (a run
 * held as a whole), every pending item of the batch. Returns items rejected.
 */
export async function rejectHeldItems(deps: EngineDeps, input: { batchId: string; target: string; all?: boolean }): Promise<number> {
  const pending = await deps.store.loadPendingItems(input.batchId, input.target);
  const rejected = input.all === true ? pending : pending.filter((item) => item.held !== undefined);
  const reason = input.all === true ? RUN_REJECTED_BY_OPERATOR : REJECTED_BY_OPERATOR;
  if (rejected.length > 0) await deps.store.markItemsFailed(input.batchId, input.target, rejected.map((item) => ({ item, reason })));
  return rejected.length;
}

/**
 * Writes one call's items. A target that refuses the whole call as invalid (an item its
 * limits did not foresee, e.g. a value its API types cannot hold) gets the call split in
 * halves until the refused item is alone; that item fails with the target's message and every
 * other item is written. Transient and auth failures are thrown, for the retry policy.
 */
async function writeFindingRefusedItems(deps: EngineDeps, writer: ItemWriter, chunk: readonly StagedItem[], input: PushBatchInput): Promise<ItemResult<unknown>[]> {
  const key = idempotencyKey(`${input.batchId}|${input.target}`, chunk.map((item) => [item.key, item.part, item.value]));
  try {
    return await writer.write(chunk, key);
  } catch (err) {
    if (!(err instanceof OmnisyncError) || err.kind !== 'validation') throw err;
    if (chunk.length === 1) return [{ key: { key: chunk[0]!.key, part: chunk[0]!.part }, ok: false, kind: 'validation', message: err.message }];
    deps.logger.warn({ syncName: input.syncName, target: input.target, batchId: input.batchId, items: chunk.length, err: err.message }, 'target refused a whole write call; splitting it to find the refused item');
    const half = Math.ceil(chunk.length / 2);
    const first = await writeFindingRefusedItems(deps, writer, chunk.slice(0, half), input);
    const second = await writeFindingRefusedItems(deps, writer, chunk.slice(half), input);
    return [...first, ...second];
  }
}

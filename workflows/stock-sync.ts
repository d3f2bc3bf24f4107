/**
 * stockSync: copies stock from a source connector to its targets, page by page.
 *
 * The history carries only cursors, batch ids and counts: each page is read, mapped and diffed
 * by an activity on the source connector's task queue, which stages the changes in the state
 * store; the push activity on each target's task queue (rate-limited by the server) sends them.
 * In full runs, pushes of a page overlap the staging of the next ones (PAGES_IN_FLIGHT). A delta
 * run commits its cursor only after every page up to it is pushed.
 */
import { continueAsNew, defineQuery, log, patched, proxyActivities, setHandler, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { StockSyncActivities, StockSyncPlan } from '../activities/stock-sync';
import type { StockCursor, StockReadMode } from '../connectors/contract';

// Timeout and retry profiles (docs/architecture.md): named, one per kind of work.
/** Hub bookkeeping (plan, cursor commit): quick, local database only. */
const HUB_PROFILE: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
};
/** Reading and staging one page from a source system (a database query or an API page). */
const STAGE_PROFILE: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  // The activity heartbeats every 3 s: a dead worker's page is retried elsewhere within 20 s.
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
};
/**
 * Pushing one staged batch to a target: many paced calls, so it heartbeats; retried long enough
 * to ride out an outage of a few minutes, after which the run fails and the next one resumes.
 */
const PUSH_PROFILE: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 40 },
};

/**
 * Pages staged ahead of the oldest push still running. Only full runs overlap pages: their
 * pages cover disjoint SKUs. A delta page is ordered by stock row, so a SKU can come back in a
 * later page; its pushes must not race, and an earlier push must be confirmed (in the snapshot)
 * before the later page is diffed, or the same quantity would be pushed twice.
 */
const PAGES_IN_FLIGHT: Record<StockReadMode, number> = { full: 4, delta: 1 };

export const STOCK_SYNC_WORKFLOW_TYPE = 'stockSync';

/** patched() id: a run at maxPages ends instead of continuing as new first (2026-12). */
export const STOP_AT_MAX_PAGES_PATCH = 'stock-sync-stop-at-max-pages';

export interface StockSyncProgress {
  syncName: string;
  mode: StockReadMode;
  pagesRead: number;
  itemsRead: number;
  itemsChanged: number;
  itemsPushed: number;
  itemsFailed: number;
  itemsQuarantined: number;
  /**
   * Stock levels counted as zero under the mapping's quantity policy (negative on hand,
   * reserved above on hand), reported rather than quarantined. Absent in runs of older versions.
   */
  itemsAdjusted?: number;
  /** Executions this run took (continue-as-new count + 1). */
  executions: number;
}

export interface StockSyncInput {
  syncName: string;
  mode: StockReadMode;
  /** Set by the workflow itself when it continues as new. */
  continuation?: { plan: StockSyncPlan; cursor: StockCursor | null; resumeCursor: StockCursor | null; pageIndex: number; progress: StockSyncProgress };
}

/** Query: the run's counts so far (Temporal UI → Queries → progress). */
export const progressQuery = defineQuery<StockSyncProgress>('progress');

export async function stockSync(input: StockSyncInput): Promise<StockSyncProgress> {
  const hub = proxyActivities<StockSyncActivities>(HUB_PROFILE);
  const plan = input.continuation?.plan ?? (await hub.planStockSync({ syncName: input.syncName, mode: input.mode }));
  const source = proxyActivities<StockSyncActivities>({ ...STAGE_PROFILE, taskQueue: plan.source.taskQueue });
  const targets = plan.targets.map((target) => ({
    id: target.id,
    activities: proxyActivities<StockSyncActivities>({ ...PUSH_PROFILE, taskQueue: target.taskQueue }),
  }));

  const progress: StockSyncProgress = input.continuation
    ? { ...input.continuation.progress, executions: input.continuation.progress.executions + 1 }
    : { syncName: plan.syncName, mode: plan.mode, pagesRead: 0, itemsRead: 0, itemsChanged: 0, itemsPushed: 0, itemsFailed: 0, itemsQuarantined: 0, itemsAdjusted: 0, executions: 1 };
  setHandler(progressQuery, () => progress);

  let cursor = input.continuation ? input.continuation.cursor : plan.startCursor;
  let resumeCursor = input.continuation?.resumeCursor ?? null;
  let pageIndex = input.continuation?.pageIndex ?? 0;
  const firstPageOfExecution = pageIndex;
  // Batch ids must be unique per run and stable across retries and continue-as-new.
  const runKey = workflowInfo().firstExecutionRunId;
  const inFlight: Array<Promise<void>> = [];

  for (;;) {
    if (pageIndex >= plan.maxPages) {
      log.warn('stock sync stopped at maxPages; the source may loop', { syncName: plan.syncName, maxPages: plan.maxPages });
      break;
    }
    const batchId = `${runKey}:${pageIndex}`;
    const staged = await source.stageStockPage({ syncName: plan.syncName, mode: plan.mode, batchId, cursor, limit: plan.pageSize });
    progress.pagesRead += 1;
    progress.itemsRead += staged.skusRead;
    progress.itemsQuarantined += staged.quarantined;
    // `adjusted` is absent from results recorded by older workers (replayed histories).
    progress.itemsAdjusted = (progress.itemsAdjusted ?? 0) + (staged.adjusted ?? 0);
    progress.itemsChanged += Object.values(staged.changedByTarget).reduce((a, b) => a + b, 0);

    const pushes = targets
      .filter((target) => (staged.changedByTarget[target.id] ?? 0) > 0)
      .map(async (target) => {
        const result = await target.activities.pushStockBatch({ syncName: plan.syncName, batchId, target: target.id });
        progress.itemsPushed += result.pushed;
        progress.itemsFailed += result.failed;
        progress.itemsQuarantined += result.failed;
      });
    const pagePush = Promise.all(pushes).then(() => undefined);
    // Marked handled now; the failure is rethrown where the window awaits it.
    pagePush.catch(() => undefined);
    inFlight.push(pagePush);
    while (inFlight.length >= PAGES_IN_FLIGHT[plan.mode]) await inFlight.shift();

    if (staged.resumeCursor) resumeCursor = staged.resumeCursor;
    pageIndex += 1;
    if (staged.nextCursor === null) break;
    cursor = staged.nextCursor;

    // A run that has reached maxPages ends here; continuing as new would only start an
    // execution that stops at once. Running executions that did so before keep doing it.
    const atMaxPages = pageIndex >= plan.maxPages && patched(STOP_AT_MAX_PAGES_PATCH);
    if (!atMaxPages && (workflowInfo().continueAsNewSuggested || pageIndex - firstPageOfExecution >= plan.pagesPerExecution)) {
      await Promise.all(inFlight);
      return continueAsNew<typeof stockSync>({
        syncName: input.syncName,
        mode: input.mode,
        continuation: { plan, cursor, resumeCursor, pageIndex, progress },
      });
    }
  }

  await Promise.all(inFlight);
  if (plan.mode === 'delta' && resumeCursor !== null) {
    await hub.commitStockCursor({ syncName: plan.syncName, mode: plan.mode, cursor: resumeCursor });
  }
  return progress;
}

/**
 * The pull-sync engine every entity's workflow runs (stockSync, priceSync): copies an entity from
 * a source connector to its targets, page by page.
 *
 * The history carries only cursors, batch ids and counts: each page is read, computed and diffed
 * by an activity on the source connector's task queue, which stages the changes in the state
 * store; the push activity on each target's task queue (rate-limited by the server) sends them.
 * The activity types are the entity's (syncActivityNames).
 *
 * Two ways through a run, chosen by the plan:
 * - **Streaming** (stock): pushes of a page overlap the staging of the next ones in full runs
 *   (PAGES_IN_FLIGHT). A delta run commits its cursor only after every page up to it is pushed.
 * - **Guarded** (`plan.holdsChanges`, prices): every page is staged first; the run's size is
 *   checked (guardRun); what passed is pushed; held changes wait for an operator's decision (the
 *   `decideHeldChanges` update, from `omnisync prices approve|reject`), shown by the `heldChanges`
 *   query and the OmnisyncWaitingFor search attribute. Approved, they are pushed; rejected or
 *   lapsed, nothing of them is. With `plan.followsValidity` and `input.followValidity` (runs a
 *   schedule starts), a run that learnt when values change next (a promotion's start or end)
 *   before the sync's next scheduled run sleeps until then on a durable timer and runs again: a
 *   worker that was down at that moment does it on restart, with the values of that later moment.
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { EntitySyncActivities, SyncPlan } from '../activities/sync';
import { syncActivityNames, type SyncMode } from '../core/entities/spec';
import { SA_WAITING_FOR } from './search-attributes';

// Timeout and retry profiles (docs/architecture.md): named, one per kind of work.
/** Hub bookkeeping (plan, cursor commit, guard): quick, local database only. */
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
const PAGES_IN_FLIGHT: Record<SyncMode, number> = { full: 4, delta: 1 };

/** patched() id: a run at maxPages ends instead of continuing as new first (2026-12). */
export const STOP_AT_MAX_PAGES_PATCH = 'stock-sync-stop-at-max-pages';

/** patched() id: a change moment missed during an outage runs at once, not after MIN_WAIT_FOR_CHANGE_MS (2026-12). */
export const MISSED_CHANGE_AT_ONCE_PATCH = 'missed-change-at-once';

/** Shortest wait for a change of values before the run runs again (see runSync). */
const MIN_WAIT_FOR_CHANGE_MS = 1_000;

/** The search attribute value of a run whose held changes wait for an operator. */
export const WAITING_FOR_PRICE_GUARD = 'price-guard';

export interface SyncProgress {
  syncName: string;
  mode: SyncMode;
  pagesRead: number;
  itemsRead: number;
  itemsChanged: number;
  itemsPushed: number;
  itemsFailed: number;
  itemsQuarantined: number;
  /**
   * Values counted as zero under the mapping's policy (stock: negative on hand, reserved above
   * on hand), reported rather than quarantined. Absent in runs of older versions.
   */
  itemsAdjusted?: number;
  /** Records the source marks not for sale, set to 0 in every channel (stock). Absent when none. */
  recordsNotForSale?: number;
  /** Records quarantined while staging, by category (source and mapping problems). Absent when none. */
  quarantinedByCategory?: Record<string, number>;
  /** Changes the guard held for an operator (prices). */
  itemsHeld?: number;
  /** Held changes an operator rejected, or that lapsed (prices). */
  itemsRejected?: number;
  /** Executions this run took (continue-as-new count + 1). */
  executions: number;
  /** When values change next without a source change (prices: a promotion), if the run knows. */
  nextChangeAt?: string;
}

export interface SyncInput {
  syncName: string;
  mode: SyncMode;
  /**
   * Whether the run waits for the next change of values it learns of (a promotion's start or
   * end) when it comes before the sync's next scheduled full run, and then runs again (see the
   * file comment). Set by schedules; a run started by hand ends when its work is done.
   */
  followValidity?: boolean;
  /** Set by the workflow itself when it continues as new. */
  continuation?: {
    plan: SyncPlan;
    cursor: unknown;
    resumeCursor: unknown;
    pageIndex: number;
    progress: SyncProgress;
    /** The run's batch id prefix (absent in continuations recorded before it: firstExecutionRunId). */
    runKey?: string;
  };
}

/** Query: the run's counts so far (Temporal UI → Queries → progress). */
export const progressQuery = defineQuery<SyncProgress>('progress');

/** What a guarded run holds for an operator's decision. */
export interface HeldChanges {
  /** Whether the run waits for a decision now. */
  waiting: boolean;
  /** Held changes per target. */
  heldByTarget: Record<string, number>;
  /** Why whole targets' runs are held (too many changes at once), per target. */
  runHeld: Record<string, string>;
  /** When the held changes lapse without a decision (ISO). */
  lapsesAt?: string;
  decision?: HeldChangesDecision;
}

export interface HeldChangesDecision {
  approve: boolean;
  /** Who decided, as the CLI reports it (an OS user name; never customer data). */
  by?: string;
}

/** Query: what the run holds and why (Temporal UI → Queries → heldChanges; `omnisync prices held`). */
export const heldChangesQuery = defineQuery<HeldChanges>('heldChanges');
/** Update: an operator's decision on the held changes; refused when nothing waits. */
export const decideHeldChangesUpdate = defineUpdate<HeldChanges, [HeldChangesDecision]>('decideHeldChanges');

export async function runSync(entity: string, input: SyncInput): Promise<SyncProgress> {
  const names = syncActivityNames(entity);
  const roles = <T extends Record<string, unknown>>(activities: T) => ({
    plan: activities[names.plan] as EntitySyncActivities['plan'],
    stage: activities[names.stage] as EntitySyncActivities['stage'],
    push: activities[names.push] as EntitySyncActivities['push'],
    commit: activities[names.commit] as EntitySyncActivities['commit'],
    guardRun: activities[names.guardRun] as EntitySyncActivities['guardRun'],
    rejectHeld: activities[names.rejectHeld] as EntitySyncActivities['rejectHeld'],
  });
  type Proxy = Record<string, unknown>;
  const hub = roles(proxyActivities<Proxy>(HUB_PROFILE));
  const plan = input.continuation?.plan ?? (await hub.plan({ syncName: input.syncName, mode: input.mode }));
  const source = roles(proxyActivities<Proxy>({ ...STAGE_PROFILE, taskQueue: plan.source.taskQueue }));
  const targets = plan.targets.map((target) => ({ id: target.id, activities: roles(proxyActivities<Proxy>({ ...PUSH_PROFILE, taskQueue: target.taskQueue })) }));

  const progress: SyncProgress = input.continuation
    ? { ...input.continuation.progress, executions: input.continuation.progress.executions + 1 }
    : { syncName: plan.syncName, mode: plan.mode, pagesRead: 0, itemsRead: 0, itemsChanged: 0, itemsPushed: 0, itemsFailed: 0, itemsQuarantined: 0, itemsAdjusted: 0, executions: 1 };
  setHandler(progressQuery, () => progress);

  let cursor = input.continuation ? input.continuation.cursor : plan.startCursor;
  let resumeCursor = input.continuation?.resumeCursor ?? null;
  let pageIndex = input.continuation?.pageIndex ?? 0;
  const firstPageOfExecution = pageIndex;
  // Batch ids must be unique per run and stable across retries and continue-as-new. A run that
  // continues as new to run again at a change of values (followValidity) is a new run with
  // batches of its own: its first execution's run id, carried by its continuations. (The first
  // execution of a chain has firstExecutionRunId as its run id, so recorded runs keep theirs.)
  const runKey = input.continuation ? (input.continuation.runKey ?? workflowInfo().firstExecutionRunId) : workflowInfo().runId;
  const inFlight: Array<Promise<void>> = [];
  const guarded = plan.holdsChanges === true;
  /** Guarded runs: batches with changes per target, and held changes per target. */
  const stagedBatches: Record<string, string[]> = {};
  const heldByTarget: Record<string, number> = {};
  /** Guarded runs: changes staged per target (held and not): what a run-level hold holds. */
  const changedByTarget: Record<string, number> = {};
  let nextChangeAt: string | undefined;

  const push = async (target: (typeof targets)[number], batchId: string, includeHeld: boolean) => {
    const result = await target.activities.push(includeHeld ? { syncName: plan.syncName, batchId, target: target.id, includeHeld } : { syncName: plan.syncName, batchId, target: target.id });
    progress.itemsPushed += result.pushed;
    progress.itemsFailed += result.failed;
    progress.itemsQuarantined += result.failed;
  };

  for (;;) {
    if (pageIndex >= plan.maxPages) {
      log.warn('sync stopped at maxPages; the source may loop', { syncName: plan.syncName, maxPages: plan.maxPages });
      break;
    }
    const batchId = `${runKey}:${pageIndex}`;
    const staged = await source.stage({ syncName: plan.syncName, mode: plan.mode, batchId, cursor, limit: plan.pageSize });
    progress.pagesRead += 1;
    // Results recorded before the engine named it recordsRead say skusRead.
    progress.itemsRead += staged.recordsRead ?? (staged as { skusRead?: number }).skusRead ?? 0;
    progress.itemsQuarantined += staged.quarantined;
    for (const [category, count] of Object.entries(staged.quarantinedByCategory ?? {})) {
      progress.quarantinedByCategory = { ...progress.quarantinedByCategory, [category]: (progress.quarantinedByCategory?.[category] ?? 0) + count };
    }
    // `adjusted` is absent from results recorded by older workers (replayed histories).
    progress.itemsAdjusted = (progress.itemsAdjusted ?? 0) + (staged.adjusted ?? 0);
    if (staged.notForSale !== undefined) progress.recordsNotForSale = (progress.recordsNotForSale ?? 0) + staged.notForSale;
    progress.itemsChanged += Object.values(staged.changedByTarget).reduce((a, b) => a + b, 0);
    if (staged.nextChangeAt !== undefined && (nextChangeAt === undefined || staged.nextChangeAt < nextChangeAt)) nextChangeAt = staged.nextChangeAt;

    const changedTargets = targets.filter((target) => (staged.changedByTarget[target.id] ?? 0) > 0);
    if (guarded) {
      for (const target of changedTargets) {
        (stagedBatches[target.id] ??= []).push(batchId);
        changedByTarget[target.id] = (changedByTarget[target.id] ?? 0) + staged.changedByTarget[target.id]!;
      }
      for (const [target, held] of Object.entries(staged.heldByTarget ?? {})) heldByTarget[target] = (heldByTarget[target] ?? 0) + held;
    } else {
      const pagePush = Promise.all(changedTargets.map((target) => push(target, batchId, false))).then(() => undefined);
      // Marked handled now; the failure is rethrown where the window awaits it.
      pagePush.catch(() => undefined);
      inFlight.push(pagePush);
      while (inFlight.length >= PAGES_IN_FLIGHT[plan.mode]) await inFlight.shift();
    }

    if (staged.resumeCursor) resumeCursor = staged.resumeCursor;
    pageIndex += 1;
    if (staged.nextCursor === null) break;
    cursor = staged.nextCursor;

    // A guarded run keeps its staged batches in this execution: it pushes only when all are staged.
    if (guarded) continue;
    // A run that has reached maxPages ends here; continuing as new would only start an
    // execution that stops at once. Running executions that did so before keep doing it.
    const atMaxPages = pageIndex >= plan.maxPages && patched(STOP_AT_MAX_PAGES_PATCH);
    if (!atMaxPages && (workflowInfo().continueAsNewSuggested || pageIndex - firstPageOfExecution >= plan.pagesPerExecution)) {
      await Promise.all(inFlight);
      return continueAsNew<(input: SyncInput) => Promise<SyncProgress>>({
        syncName: input.syncName,
        mode: input.mode,
        ...(input.followValidity === undefined ? {} : { followValidity: input.followValidity }),
        continuation: { plan, cursor, resumeCursor, pageIndex, progress, runKey },
      });
    }
  }

  await Promise.all(inFlight);
  if (guarded) await pushGuarded();
  if (plan.mode === 'delta' && resumeCursor !== null) {
    await hub.commit({ syncName: plan.syncName, mode: plan.mode, cursor: resumeCursor });
  }
  if (nextChangeAt !== undefined) progress.nextChangeAt = nextChangeAt;
  if (input.followValidity === true && plan.followsValidity === true && nextChangeAt !== undefined) {
    const before = plan.nextScheduledRunAt;
    if (before === null || before === undefined || nextChangeAt < before) {
      // Durable: the timer survives worker and server restarts; a late wake-up computes the
      // values of the moment it runs, so a promotion that ended meanwhile is never applied.
      // At least a moment: the change time comes from the worker's clock, and a worker clock
      // behind the server's must not turn a passed moment into back-to-back runs. A moment
      // long past, though, was missed while no worker ran (this code runs again after an
      // outage): the change is due now, without that wait.
      const untilChange = Date.parse(nextChangeAt) - Date.now();
      const missed = untilChange < -MIN_WAIT_FOR_CHANGE_MS && patched(MISSED_CHANGE_AT_ONCE_PATCH);
      if (!missed) {
        log.info('values change before the next scheduled run; waiting for it', { syncName: plan.syncName, nextChangeAt });
        await sleep(Math.max(MIN_WAIT_FOR_CHANGE_MS, untilChange));
      }
      return continueAsNew<(input: SyncInput) => Promise<SyncProgress>>({ syncName: input.syncName, mode: 'full', followValidity: true });
    }
  }
  // One line per run for whoever watches the worker's log (not recorded in history: replays keep it out).
  log.info(runSummary(progress), { syncName: plan.syncName, mode: plan.mode, itemsRead: progress.itemsRead, itemsPushed: progress.itemsPushed, itemsFailed: progress.itemsFailed, itemsQuarantined: progress.itemsQuarantined });
  return progress;

  /** Pushes what passed, then waits for a decision on what was held (guarded runs). */
  async function pushGuarded(): Promise<void> {
    const runHeld = Object.keys(stagedBatches).length > 0 ? await hub.guardRun({ syncName: plan.syncName, batchesByTarget: stagedBatches }) : {};
    // What passed is pushed at once: a run held for one SKU does not delay every other price.
    await Promise.all(
      targets
        .filter((target) => runHeld[target.id] === undefined)
        .flatMap((target) => (stagedBatches[target.id] ?? []).map((batchId) => push(target, batchId, false))),
    );
    const heldTargets = targets.filter((target) => runHeld[target.id] !== undefined || (heldByTarget[target.id] ?? 0) > 0);
    if (heldTargets.length === 0) return;

    const held: HeldChanges = { waiting: true, heldByTarget: { ...heldByTarget }, runHeld };
    for (const target of targets) {
      if (runHeld[target.id] !== undefined) held.heldByTarget[target.id] = changedByTarget[target.id] ?? 0;
    }
    progress.itemsHeld = Object.values(held.heldByTarget).reduce((a, b) => a + b, 0);
    const timeoutMs = plan.holdTimeoutMs ?? 24 * 60 * 60 * 1000;
    held.lapsesAt = new Date(Date.now() + timeoutMs).toISOString();
    setHandler(heldChangesQuery, () => held);
    setHandler(
      decideHeldChangesUpdate,
      (decision) => {
        held.decision = decision;
        return held;
      },
      {
        validator: (decision) => {
          if (!held.waiting || held.decision !== undefined) throw new Error('this run holds no changes that wait for a decision');
          if (typeof decision?.approve !== 'boolean') throw new Error('a decision must say approve: true or false');
        },
      },
    );
    upsertSearchAttributes([{ key: SA_WAITING_FOR, value: WAITING_FOR_PRICE_GUARD }]);
    log.warn('changes held by the guard wait for an operator', { syncName: plan.syncName, held: progress.itemsHeld, runHeld });
    const decided = await condition(() => held.decision !== undefined, timeoutMs);
    held.waiting = false;
    upsertSearchAttributes([{ key: SA_WAITING_FOR, value: null }]);
    const approved = decided && held.decision?.approve === true;
    log.info(approved ? 'held changes approved' : decided ? 'held changes rejected' : 'held changes lapsed without a decision', { syncName: plan.syncName, by: held.decision?.by });
    await Promise.all(
      heldTargets.flatMap((target) =>
        (stagedBatches[target.id] ?? []).map(async (batchId) => {
          if (approved) return push(target, batchId, true);
          const rejected = await target.activities.rejectHeld({ syncName: plan.syncName, batchId, target: target.id, all: runHeld[target.id] !== undefined });
          progress.itemsRejected = (progress.itemsRejected ?? 0) + rejected;
        }),
      ),
    );
  }
}

/**
 * A run in one line: `sync erp-stock-to-shopify (delta) done: 120 read, 40 changed, 38 pushed,
 * 2 failed at targets (quarantined), 3 quarantined while staging (2 × invalid source row, 1 ×
 * duplicate key in source)`.
 */
export function runSummary(progress: SyncProgress): string {
  const parts = [`${progress.itemsRead} read`, `${progress.itemsChanged} changed`, `${progress.itemsPushed} pushed`];
  if (progress.itemsFailed > 0) parts.push(`${progress.itemsFailed} failed at targets (quarantined)`);
  if (progress.itemsHeld !== undefined && progress.itemsHeld > 0) parts.push(`${progress.itemsHeld} held by the guard`);
  if (progress.recordsNotForSale !== undefined) parts.push(`${progress.recordsNotForSale} not for sale (0 everywhere)`);
  if (progress.itemsQuarantined > 0) {
    const byCategory = Object.entries(progress.quarantinedByCategory ?? {})
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([category, count]) => `${count} × ${category}`);
    parts.push(`${progress.itemsQuarantined} quarantined while staging${byCategory.length > 0 ? ` (${byCategory.join(', ')})` : ''}`);
  }
  return `sync ${progress.syncName} (${progress.mode}) done: ${parts.join(', ')}`;
}

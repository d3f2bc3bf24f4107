/**
 * The activities of every entity's sync runs: thin Temporal adapters around the engine
 * (engine/): each converts errors to typed ApplicationFailures and heartbeats while it works.
 * Big data (pages, staged items) stays in the engine and the state store; the workflow only sees
 * cursors, batch ids and counts.
 *
 * The activity types are named per entity (syncActivityNames: planStockSync, stagePricePage, …),
 * so the Temporal UI says what each one does and recorded stock histories keep their names.
 */
import { Context } from '@temporalio/activity';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Logger } from 'pino';
import { toApplicationFailure } from '../core/errors';
import { connectorTaskQueue } from '../core/task-queues';
import { ENTITY_NAMES, syncActivityNames, type EntityName, type SyncMode } from '../core/entities';
import type { ConnectorPool } from '../connectors/pool';
import type { LoadedConfig, LoadedSync } from '../config/load';
import type { StateStore } from '../state/store';
import { engineOf, findSyncOf, type EngineDeps } from '../engine';
import { stagePage, type StagePageResult } from '../engine/stage';
import { pushBatch, rejectHeldItems, type PushBatchInput, type PushBatchResult, type PushProgress } from '../engine/push';
import { guardPriceRun, type RunGuardInput, type RunGuardResult } from '../engine/guard';
import { nextCronTime } from '../config/cron';
import { NO_METRICS, type OmnisyncMetrics } from '../observability/metrics';

export type { StagePageResult } from '../engine/stage';
export type { PushBatchInput, PushBatchResult } from '../engine/push';
export type { RunGuardInput, RunGuardResult } from '../engine/guard';

export interface SyncActivityDeps {
  config: Pick<LoadedConfig, 'syncs' | 'temporal' | 'connectors'>;
  store: StateStore;
  connectors: ConnectorPool;
  logger: Logger;
  /**
   * How long finished staged batches are kept (evidence of what was pushed) before they are
   * pruned. Default STAGED_BATCH_RETENTION_MS.
   */
  stagedBatchRetentionMs?: number;
  /** Where the activities record what they did (observability/metrics.ts). Default: nowhere. */
  metrics?: OmnisyncMetrics;
}

/** Finished staged batches are kept a week: long enough to investigate a week-old push. */
export const STAGED_BATCH_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** A worker prunes staged batches at most once an hour, from the first plan after that. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export interface SyncPlan {
  syncName: string;
  mode: SyncMode;
  source: { id: string; taskQueue: string };
  targets: Array<{ id: string; taskQueue: string }>;
  pageSize: number;
  maxPages: number;
  pagesPerExecution: number;
  /** Delta runs start where the last successful run ended; full runs from the beginning. Opaque. */
  startCursor: unknown;
  /**
   * The entity's changes may be held by its guard (prices): every page is staged before
   * anything is pushed, the run's size is checked, and held changes wait for an operator.
   * Absent for stock (and in plans recorded before prices).
   */
  holdsChanges?: boolean;
  /** How long held changes wait for a decision before they lapse (ms). */
  holdTimeoutMs?: number;
  /**
   * The entity's values change with time (prices: promotions): when the run learns that values
   * change before the sync's next scheduled full run, it waits for that moment and runs again.
   */
  followsValidity?: boolean;
  /** The next time the sync's full schedule starts a run (ISO), null when it has none. */
  nextScheduledRunAt?: string | null;
}

export interface StagePageInput {
  syncName: string;
  mode: SyncMode;
  batchId: string;
  cursor: unknown;
  limit: number;
}

/** The activities of one entity's runs, by role (their types are syncActivityNames(entity)). */
export interface EntitySyncActivities {
  plan(input: { syncName: string; mode: SyncMode }): Promise<SyncPlan>;
  /** Reads a page, maps and diffs it, and stages the changes per target under `batchId`. */
  stage(input: StagePageInput): Promise<StagePageResult>;
  /**
   * Pushes the pending items of a staged batch to one target in calls of the target's batch
   * size. Each call's confirmed items are recorded at once, so a retry (or a new worker after
   * a crash) pushes only what is still pending; per-item failures are quarantined.
   */
  push(input: PushBatchInput): Promise<PushBatchResult>;
  /** Stores where the next delta run starts; called only after every page up to it is pushed. */
  commit(input: { syncName: string; mode: SyncMode; cursor: unknown }): Promise<void>;
  /** The run-level guard over every staged batch of the run (prices). */
  guardRun(input: RunGuardInput): Promise<RunGuardResult>;
  /** Marks the held items of a batch rejected (all its pending items when `all`). */
  rejectHeld(input: { syncName: string; batchId: string; target: string; all?: boolean }): Promise<number>;
}

/** The stock activities under their recorded names (tests and the workflow's mocks use them). */
export interface StockSyncActivities {
  planStockSync: EntitySyncActivities['plan'];
  stageStockPage: EntitySyncActivities['stage'];
  pushStockBatch: EntitySyncActivities['push'];
  commitStockCursor: EntitySyncActivities['commit'];
}
export type StockSyncPlan = SyncPlan;

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

/** Runs an activity body, converting errors to typed ApplicationFailures; `failed` sees the error first. */
async function typed<T>(body: () => Promise<T>, failed?: (err: unknown) => void): Promise<T> {
  try {
    return await body();
  } catch (err) {
    failed?.(err);
    throw toApplicationFailure(err);
  }
}

/** Every entity's activities, under their activity types (see syncActivityNames). */
export function createSyncActivities(deps: SyncActivityDeps): Record<string, (input: never) => Promise<unknown>> {
  const activities: Record<string, (input: never) => Promise<unknown>> = {};
  const pruner = stagedBatchPruner(deps);
  for (const entity of ENTITY_NAMES) {
    const byRole = entityActivities(deps, entity, pruner);
    const names = syncActivityNames(entity);
    for (const role of Object.keys(names) as Array<keyof typeof names>) activities[names[role]] = byRole[role] as (input: never) => Promise<unknown>;
  }
  return activities;
}

/** The stock activities alone, under their names (for tests that call them directly). */
export function createStockSyncActivities(deps: SyncActivityDeps): StockSyncActivities {
  const stock = entityActivities(deps, 'stock', stagedBatchPruner(deps));
  return { planStockSync: stock.plan, stageStockPage: stock.stage, pushStockBatch: stock.push, commitStockCursor: stock.commit };
}

function entityActivities(deps: SyncActivityDeps, entity: EntityName, pruneNowAndThen: () => Promise<void>): EntitySyncActivities {
  const { store, config } = deps;
  const engine = engineOf(entity);
  const engineDeps: EngineDeps = deps;
  const syncOf = (name: string): LoadedSync => findSyncOf(config, name, entity);
  const metrics = deps.metrics ?? NO_METRICS;
  /** Counts a failed attempt of `activity` (a role) working on `connector` ('' for the hub's own). */
  const failed = (activity: string, syncName: string, connector: string) => (err: unknown) => metrics.activityFailed({ sync: syncName, entity, activity, connector }, err);
  return {
    plan: (input) =>
      typed(async () => {
        const sync = syncOf(input.syncName);
        if (metrics.recordsScheduleLag) await recordScheduleLag(metrics, sync, input.mode, deps.logger);
        await pruneNowAndThen();
        // Rows of a store upgraded from the stock-only snapshot (migration 0005) become this sync's.
        const adopted = await store.adoptLegacySnapshot(sync.name, entity, sync.targets);
        if (adopted > 0) deps.logger.info({ syncName: sync.name, entity, adopted }, 'adopted last-pushed values kept from before the upgrade');
        const hub = config.temporal.taskQueue;
        const plan: SyncPlan = {
          syncName: sync.name,
          mode: input.mode,
          source: { id: sync.source, taskQueue: connectorTaskQueue(hub, sync.source) },
          targets: sync.targets.map((id) => ({ id, taskQueue: connectorTaskQueue(hub, id) })),
          pageSize: sync.pageSize,
          maxPages: sync.maxPages,
          pagesPerExecution: sync.pagesPerExecution,
          startCursor: input.mode === 'delta' ? await store.getCursor(sync.name, 'delta') : null,
        };
        if (sync.entity === 'price') {
          plan.holdsChanges = true;
          plan.holdTimeoutMs = sync.priceMapping.holdTimeoutHours * 60 * 60 * 1000;
          plan.followsValidity = true;
          const cron = sync.schedule.full?.paused === false ? sync.schedule.full.cron : undefined;
          plan.nextScheduledRunAt = cron === undefined ? null : (nextCronTime(cron, new Date())?.toISOString() ?? null);
        }
        return plan;
      }, failed('plan', input.syncName, '')),
    stage: (input) => {
      const source = config.syncs.get(input.syncName)?.source ?? '';
      return typed(
        () =>
          heartbeating(
            () => ({ batchId: input.batchId }),
            async () => {
              const sync = syncOf(input.syncName);
              const result = await stagePage(engineDeps, engine, sync, input);
              metrics.pageStaged({ sync: sync.name, entity, source: sync.source }, result);
              return result;
            },
          ),
        failed('stage', input.syncName, source),
      );
    },
    push: (input) => {
      const progress: PushProgress = { pushed: 0, failed: 0 };
      // Cancelled (the run was cancelled, or this worker is shutting down past its grace time):
      // the push stops taking new calls, and what was confirmed stays recorded for the retry.
      const { cancellationSignal } = Context.current();
      // What this attempt did is counted however it ends: a failed attempt's confirmed items
      // were written, and its retry pushes (and counts) only what is left.
      const counted = () => metrics.pushAttempted({ sync: input.syncName, entity, target: input.target }, progress);
      return typed(
        () => heartbeating(() => progress, () => pushBatch(engineDeps, engine, syncOf(input.syncName), input, progress, cancellationSignal)).finally(counted),
        failed('push', input.syncName, input.target),
      );
    },
    commit: (input) => typed(() => store.saveCursor(input.syncName, input.mode, input.cursor), failed('commit', input.syncName, '')),
    guardRun: (input) =>
      typed(async () => {
        const sync = syncOf(input.syncName);
        return sync.entity === 'price' ? guardPriceRun(engineDeps, sync, input) : {};
      }, failed('guardRun', input.syncName, '')),
    rejectHeld: (input) => typed(() => rejectHeldItems(engineDeps, input), failed('rejectHeld', input.syncName, input.target)),
  };
}

/** Set by Temporal on the runs a schedule starts: the time the schedule meant the run to start. */
const TEMPORAL_SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * Records how late a run a schedule started took its first step: from the time the schedule
 * meant it to start (Temporal's TemporalScheduledStartTime) to when the run scheduled this plan
 * activity, so a run that waited for a worker counts as late too. Runs started by hand have no
 * scheduled time; a run that continued as new (a price run waking for a promotion) carries its
 * chain's and is not the schedule's start. Looked up once per run (the plan's first attempt); a
 * failed lookup costs the run nothing but the sample.
 */
async function recordScheduleLag(metrics: OmnisyncMetrics, sync: LoadedSync, mode: SyncMode, logger: Logger): Promise<void> {
  try {
    const { info, client } = Context.current();
    if (info.attempt !== 1 || info.workflowExecution === undefined) return;
    const { workflowId, runId } = info.workflowExecution;
    const description = await client.workflow.getHandle(workflowId, runId).describe();
    const scheduledAt = description.typedSearchAttributes.get(TEMPORAL_SCHEDULED_START_TIME);
    if (scheduledAt === undefined) return;
    const firstRunId = description.raw.workflowExecutionInfo?.firstRunId;
    if (firstRunId && firstRunId !== runId) return;
    metrics.scheduleLag({ sync: sync.name, entity: sync.entity, mode }, (info.scheduledTimestampMs - scheduledAt.getTime()) / 1000);
  } catch (err) {
    logger.debug({ syncName: sync.name, err: (err as Error).message }, 'schedule lag not recorded');
  }
}

/**
 * Staged batches would otherwise pile up run after run. Pruning is housekeeping: it runs at
 * most every PRUNE_INTERVAL_MS per worker, and a failure is logged, never failing the run.
 */
function stagedBatchPruner(deps: SyncActivityDeps): () => Promise<void> {
  let nextPruneAt = 0;
  return async () => {
    const now = Date.now();
    if (now < nextPruneAt) return;
    nextPruneAt = now + PRUNE_INTERVAL_MS;
    const cutoff = new Date(now - (deps.stagedBatchRetentionMs ?? STAGED_BATCH_RETENTION_MS)).toISOString();
    try {
      const removed = await deps.store.pruneStagedBatches(cutoff);
      if (removed > 0) deps.logger.info({ removed, stagedBefore: cutoff }, 'pruned finished staged batches');
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'pruning staged batches failed; retried in an hour');
    }
  };
}

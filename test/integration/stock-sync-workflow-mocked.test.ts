/**
 * The real stockSync workflow on a Temporal dev server, with in-memory fake activities on the
 * hub task queue and on the connector task queues the fake plan names: the page window of full
 * runs, one page at a time in delta runs, continue-as-new, the maxPages guard, the delta cursor
 * commit, and targets without changes. No databases and no simulators, so the whole file runs
 * in seconds; the end-to-end behaviour is covered by stock-sync-workflow.test.ts.
 *
 * The fakes record every call (its start and end on one timeline, its task queue and run) and
 * can hold pushes open until the test releases them, so a test can look at the workflow while
 * it waits. "Settled" states are checked against the workflow's history: once the server has
 * every result the fakes returned and no workflow task is pending after the last completed one, whatever
 * the workflow was going to schedule next is in the history.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type LogEntry, type LogLevel } from '@temporalio/worker';
import { createTestEnvironment } from '../support/temporal';
import { WORKFLOWS_PATH } from '../../worker';
import { connectorTaskQueue } from '../../core/task-queues';
import { stockSync, type StockSyncProgress } from '../../workflows/stock-sync';
import type { PushBatchInput, PushBatchResult, StagePageInput, StagePageResult, StockSyncActivities, StockSyncPlan } from '../../activities/sync';
import type { StockCursor, StockReadMode } from '../../connectors/contract';

const SYNC = 'erp-stock-to-shops';
const SOURCE = 'erp';
const PAGE_SIZE = 10;
/** The cursor a previous delta run committed: where this one starts. */
const COMMITTED_CURSOR: StockCursor = { strategy: 'modified', afterModifiedAt: '2025-01-01T00:00:00.000Z', afterKey: 'committed' };
/** In the message of every failure a fake throws on purpose (kept out of the test output). */
const EXPECTED = '(expected by the test)';
/** How long a test waits for the workflow to get somewhere before it fails with the trace. */
const PATIENCE_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Logs: the SDK logger keeps WARN and above, so the maxPages warning can be asserted.

const logged: LogEntry[] = [];

function isExpectedNoise(entry: LogEntry): boolean {
  return (
    entry.message.startsWith('stock sync stopped at maxPages') ||
    // The connector queues' workers run activities only.
    entry.message.startsWith('No workflows registered') || inspect(entry.meta, { depth: 6 }).includes(EXPECTED)
  );
}

/** Like installQuietRuntime (test/support/temporal.ts), but keeps the entries; call first. */
function installRecordingRuntime(): void {
  const level = (process.env.TEMPORAL_TEST_LOG_LEVEL ?? 'WARN') as LogLevel;
  const printer = new DefaultLogger(level);
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      logged.push(entry);
      if (!isExpectedNoise(entry)) printer.log(entry.level, entry.message, entry.meta);
    }),
    telemetryOptions: { logging: { filter: { core: level } } },
  });
}

// ---------------------------------------------------------------------------------------------
// The fake activities.

type ActivityName = 'planStockSync' | 'stageStockPage' | 'pushStockBatch' | 'commitStockCursor';
type FakeActivities = Pick<StockSyncActivities, ActivityName>;
type CommitInput = Parameters<FakeActivities['commitStockCursor']>[0];

interface Call<I = unknown, R = unknown> {
  activity: ActivityName;
  /** Position of the call's start on the fake's timeline (shared by all calls). */
  seq: number;
  /** Position of its end (answer or failure); absent while it runs. */
  endSeq?: number;
  /** Milliseconds since the fake was made. */
  at: number;
  endAt?: number;
  taskQueue: string;
  runId: string;
  /** Stage: the page its cursor points at (-1: a cursor the source never gave). Push: the page of its batch id. */
  page?: number;
  target?: string;
  input: I;
  result?: R;
  error?: string;
}

interface Scenario {
  mode: StockReadMode;
  /** Pages the source has; `endless` never returns a null nextCursor. */
  pages: number | 'endless';
  /** Target connector ids. Default two. */
  targets?: string[];
  pagesPerExecution?: number;
  maxPages?: number;
  /** Changed items of a page for a target; undefined leaves the target out of changedByTarget. */
  changes?: (page: number, target: string) => number | undefined;
  /** Items of a page the target refuses (counted as failed). */
  refused?: (page: number, target: string) => number;
  /**
   * When values change next, as the plan's n-th execution (from 0) finds it on its pages; with
   * it, the run follows validity (as a price run started by its schedule does).
   */
  nextChangeAt?: (execution: number) => string | undefined;
  /** Pushes wait until the test releases them (release, releaseAll). */
  holdPushes?: boolean;
  /** Runs inside each push before it answers: delay it or throw. */
  duringPush?: (page: number, target: string) => Promise<void> | void;
}

class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => {
      this.open = resolve;
    });
  }
}

const cursorKey = (cursor: unknown): string => JSON.stringify(cursor);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

let scenarios = 0;

class FakeStockSync {
  readonly hubQueue: string;
  readonly sourceQueue: string;
  readonly targets: Array<{ id: string; taskQueue: string }>;
  readonly calls: Call[] = [];
  private seq = 0;
  private readonly t0 = performance.now();
  /** Cursor (as returned by this fake) → the page it leads to. */
  private readonly pageAt = new Map<string, number>();
  private readonly pageOfBatch = new Map<string, number>();
  private readonly gates = new Map<string, Gate>();
  private holding: boolean;

  constructor(readonly scenario: Scenario) {
    this.hubQueue = `mocked-stock-sync-${++scenarios}`;
    this.sourceQueue = connectorTaskQueue(this.hubQueue, SOURCE);
    this.targets = (scenario.targets ?? ['shop-a', 'shop-b']).map((id) => ({ id, taskQueue: connectorTaskQueue(this.hubQueue, id) }));
    this.holding = scenario.holdPushes ?? false;
    this.pageAt.set(cursorKey(this.startCursor), 0);
  }

  get mode(): StockReadMode {
    return this.scenario.mode;
  }

  get startCursor(): StockCursor | null {
    return this.mode === 'delta' ? COMMITTED_CURSOR : null;
  }

  /** Where the page after `page` starts. */
  nextCursorOf(page: number): StockCursor {
    const afterKey = `SKU-${String((page + 1) * PAGE_SIZE).padStart(5, '0')}`;
    return this.mode === 'full' ? { strategy: 'key', afterKey } : { strategy: 'modified', afterModifiedAt: minute(page), afterKey };
  }

  /** Where a later run would resume after `page` (deliberately unlike nextCursor). */
  resumeCursorOf(page: number): StockCursor {
    const afterKey = `resume-after-page-${page}`;
    return this.mode === 'full' ? { strategy: 'key', afterKey } : { strategy: 'modified', afterModifiedAt: minute(page), afterKey };
  }

  changesOf(page: number, target: string): number | undefined {
    return this.scenario.changes ? this.scenario.changes(page, target) : 3 + ((page + target.length) % 4);
  }

  pageResult(page: number): StagePageResult {
    if (page < 0) {
      // A cursor this source never returned: end the run; the test's assertions report it.
      return { recordsRead: 0, changedByTarget: {}, quarantined: 0, adjusted: 0, nextCursor: null, resumeCursor: null };
    }
    const last = this.scenario.pages !== 'endless' && page === this.scenario.pages - 1;
    const changedByTarget: Record<string, number> = {};
    for (const { id } of this.targets) {
      const changed = this.changesOf(page, id);
      if (changed !== undefined) changedByTarget[id] = changed;
    }
    const nextChangeAt = this.scenario.nextChangeAt?.(this.plans().length - 1);
    return {
      ...(nextChangeAt === undefined ? {} : { nextChangeAt }),
      recordsRead: last ? PAGE_SIZE - 3 : PAGE_SIZE,
      changedByTarget,
      quarantined: page % 2,
      adjusted: page % 3 === 1 ? 2 : 0,
      nextCursor: last ? null : this.nextCursorOf(page),
      resumeCursor: this.resumeCursorOf(page),
    };
  }

  plan(): StockSyncPlan {
    return {
      syncName: SYNC,
      mode: this.mode,
      source: { id: SOURCE, taskQueue: this.sourceQueue },
      targets: this.targets,
      pageSize: PAGE_SIZE,
      maxPages: this.scenario.maxPages ?? 1_000,
      pagesPerExecution: this.scenario.pagesPerExecution ?? 1_000,
      startCursor: this.startCursor,
      ...(this.scenario.nextChangeAt === undefined ? {} : { followsValidity: true, nextScheduledRunAt: null }),
    };
  }

  /** Registered on every task queue of the scenario (the hub and each connector). */
  readonly activities: FakeActivities = {
    planStockSync: (input) => this.record('planStockSync', input, {}, () => this.plan()),
    stageStockPage: (input: StagePageInput) => {
      const page = this.pageAt.get(cursorKey(input.cursor)) ?? -1;
      return this.record('stageStockPage', input, { page }, () => {
        const result = this.pageResult(page);
        if (result.nextCursor) this.pageAt.set(cursorKey(result.nextCursor), page + 1);
        this.pageOfBatch.set(input.batchId, page);
        return result;
      });
    },
    pushStockBatch: (input: PushBatchInput) => {
      const page = this.pageOfBatch.get(input.batchId) ?? -1;
      return this.record('pushStockBatch', input, { page, target: input.target }, async (): Promise<PushBatchResult> => {
        if (this.holding) await this.gate(page, input.target).promise;
        await this.scenario.duringPush?.(page, input.target);
        const changed = this.changesOf(page, input.target) ?? 0;
        const failed = Math.min(changed, this.scenario.refused?.(page, input.target) ?? (page % 3 === 0 ? 1 : 0));
        return { pushed: changed - failed, failed };
      });
    },
    commitStockCursor: (input: CommitInput) => this.record('commitStockCursor', input, {}, () => undefined),
  };

  private gate(page: number, target: string): Gate {
    const key = `${page}|${target}`;
    let gate = this.gates.get(key);
    if (!gate) this.gates.set(key, (gate = new Gate()));
    return gate;
  }

  /** Lets the held pushes of a page answer (all its targets, or one); also before they arrive. */
  release(page: number, target?: string): void {
    for (const { id } of this.targets) if (target === undefined || target === id) this.gate(page, id).open();
  }

  releaseAll(): void {
    this.holding = false;
    for (const gate of this.gates.values()) gate.open();
  }

  private async record<I, R>(activity: ActivityName, input: I, where: { page?: number; target?: string }, body: () => Promise<R> | R): Promise<R> {
    const info = Context.current().info;
    const call: Call<I, R> = { activity, input, ...where, seq: ++this.seq, at: this.now(), taskQueue: info.taskQueue, runId: info.workflowExecution?.runId ?? '(no workflow)' };
    this.calls.push(call as Call);
    try {
      const result = await body();
      call.result = result;
      return result;
    } catch (err) {
      call.error = (err as Error).message;
      throw err;
    } finally {
      call.endSeq = ++this.seq;
      call.endAt = this.now();
    }
  }

  private now(): number {
    return Math.round(performance.now() - this.t0);
  }

  // -- what happened ----------------------------------------------------------------------------

  of<I, R>(activity: ActivityName): Array<Call<I, R>> {
    return this.calls.filter((call) => call.activity === activity) as Array<Call<I, R>>;
  }
  plans(): Array<Call<unknown, StockSyncPlan>> {
    return this.of('planStockSync');
  }
  stages(): Array<Call<StagePageInput, StagePageResult>> {
    return this.of('stageStockPage');
  }
  pushes(): Array<Call<PushBatchInput, PushBatchResult>> {
    return this.of('pushStockBatch');
  }
  commits(): Array<Call<CommitInput, void>> {
    return this.of('commitStockCursor');
  }
  stagedPages(): number[] {
    return this.stages().map((call) => call.page!);
  }
  ended(): number {
    return this.calls.filter((call) => call.endSeq !== undefined).length;
  }

  /** One line per start and end, in order: shown when a test fails. */
  trace(): string {
    const runs = [...new Set(this.calls.map((call) => call.runId))];
    const label = (call: Call) =>
      `${call.activity}${call.page === undefined ? '' : ` page ${call.page}`}${call.target ? ` → ${call.target}` : ''} [run ${runs.indexOf(call.runId) + 1}, ${call.taskQueue}]`;
    const lines: Array<[number, string]> = [];
    for (const call of this.calls) {
      lines.push([call.seq, `${call.at} ms  start ${label(call)}`]);
      if (call.endSeq !== undefined) lines.push([call.endSeq, `${call.endAt} ms  end   ${label(call)}${call.error ? ` FAILED: ${call.error}` : ''}`]);
    }
    return ['fake activity trace:', ...lines.sort((a, b) => a[0] - b[0]).map(([, line]) => `  ${line}`)].join('\n');
  }

  /**
   * The calls in the order they started, as steps: the pushes of one page that start one after
   * the other form one step (they run concurrently, in any order).
   */
  steps(): Array<{ label: string; calls: Call[] }> {
    const steps: Array<{ label: string; calls: Call[] }> = [];
    for (const call of [...this.calls].sort((a, b) => a.seq - b.seq)) {
      const previous = steps.at(-1);
      if (call.activity === 'pushStockBatch' && previous?.calls[0]?.activity === 'pushStockBatch' && previous.calls[0].page === call.page) {
        previous.calls.push(call);
      } else {
        steps.push({ label: '', calls: [call] });
      }
    }
    for (const step of steps) {
      const first = step.calls[0]!;
      step.label = {
        planStockSync: () => 'plan',
        stageStockPage: () => `stage ${first.page}`,
        pushStockBatch: () => `push ${first.page} → ${step.calls.map((call) => call.target).sort().join(', ')}`,
        commitStockCursor: () => 'commit',
      }[first.activity]();
    }
    return steps;
  }

  /** Steps that started before every call of the step before them ended. */
  overlappingSteps(): string[] {
    const steps = this.steps();
    return steps.slice(1).flatMap((step, i) => {
      const before = steps[i]!;
      const start = Math.min(...step.calls.map((call) => call.seq));
      const unfinished = before.calls.filter((call) => call.endSeq === undefined || call.endSeq > start);
      return unfinished.length === 0 ? [] : [`"${step.label}" started while "${before.label}" was still running`];
    });
  }

  /** Stage calls that started before the stage before them ended (pages are read one by one). */
  overlappingStages(): string[] {
    const stages = this.stages();
    return stages.slice(1).flatMap((stage, i) => {
      const before = stages[i]!;
      return before.endSeq !== undefined && before.endSeq < stage.seq ? [] : [`page ${stage.page} was staged before staging page ${before.page} ended`];
    });
  }

  /**
   * Stage calls made while a page `window` or more pages back was still being pushed: with a
   * window of 4, staging page k waits until every push of pages up to k - 4 ended.
   */
  windowViolations(window: number): string[] {
    return this.stages().flatMap((stage) =>
      this.pushes()
        .filter((push) => push.page! <= stage.page! - window && (push.endSeq === undefined || push.endSeq > stage.seq))
        .map((push) => `page ${stage.page} was staged while page ${push.page} was still being pushed to ${push.target}`),
    );
  }

  /** Calls on the wrong task queue: plan and commit on the hub's, stages on the source's, pushes on their target's. */
  misrouted(): string[] {
    const queueOf = (call: Call): string => {
      if (call.activity === 'stageStockPage') return this.sourceQueue;
      if (call.activity === 'pushStockBatch') return this.targets.find((t) => t.id === call.target)?.taskQueue ?? `(no target ${call.target})`;
      return this.hubQueue;
    };
    return this.calls.filter((call) => call.taskQueue !== queueOf(call)).map((call) => `${call.activity} ran on ${call.taskQueue}, not ${queueOf(call)}`);
  }

  /** Stages whose cursor is not where the page before them said the next page starts. */
  brokenCursorChain(): string[] {
    return this.stages().flatMap((stage, i) => {
      const expected = i === 0 ? this.startCursor : this.stages()[i - 1]!.result?.nextCursor;
      return cursorKey(stage.input.cursor) === cursorKey(expected ?? null) ? [] : [`stage ${i} read from ${cursorKey(stage.input.cursor)}, expected ${cursorKey(expected ?? null)}`];
    });
  }

  /** The run's result as the sums of what the fakes answered. */
  expectedProgress(executions: number): StockSyncProgress {
    const staged = this.stages().flatMap((call) => (call.result ? [call.result] : []));
    const pushed = this.pushes().flatMap((call) => (call.result ? [call.result] : []));
    return {
      syncName: SYNC,
      mode: this.mode,
      pagesRead: staged.length,
      itemsRead: sum(staged.map((r) => r.recordsRead)),
      itemsChanged: sum(staged.map((r) => sum(Object.values(r.changedByTarget)))),
      itemsPushed: sum(pushed.map((r) => r.pushed)),
      itemsFailed: sum(pushed.map((r) => r.failed)),
      itemsQuarantined: sum(staged.map((r) => r.quarantined)) + sum(pushed.map((r) => r.failed)),
      itemsAdjusted: sum(staged.map((r) => r.adjusted)),
      executions,
    };
  }
}

function minute(page: number): string {
  return new Date(Date.UTC(2025, 0, 2) + page * 60_000).toISOString();
}

// ---------------------------------------------------------------------------------------------
// The environment.

describe('stockSync workflow with mocked activities', () => {
  let env: TestWorkflowEnvironment;
  let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;

  beforeAll(async () => {
    installRecordingRuntime();
    env = await createTestEnvironment();
    workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  /** Polls `condition` until it holds; on timeout fails with `what` and the fake's trace. */
  async function waitUntil(fake: FakeStockSync, what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + PATIENCE_MS;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${PATIENCE_MS} ms waiting for ${what}\n${fake.trace()}`);
      await sleep(20);
    }
  }

  /**
   * Waits until the server has every result the fakes returned and the workflow reacted to all
   * of them (its last workflow task is completed, none is pending); returns the activities the workflow
   * scheduled so far, by type.
   */
  async function settled(fake: FakeStockSync, handle: WorkflowHandle<typeof stockSync>): Promise<Record<string, number>> {
    let scheduled: Record<string, number> = {};
    await waitUntil(fake, `the workflow to react to all ${fake.ended()} activity results`, async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const closed = events.filter((e) => e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes).length;
      scheduled = {};
      for (const event of events) {
        const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
        if (type) scheduled[type] = (scheduled[type] ?? 0) + 1;
      }
      const lastWorkflowTask = events.filter((e) => e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes).at(-1);
      return closed === fake.ended() && lastWorkflowTask?.workflowTaskCompletedEventAttributes != null;
    });
    return scheduled;
  }

  /** Runs the scenario's workers (one per task queue, all with the fake activities) around `body`. */
  async function withWorkers<T>(fake: FakeStockSync, body: () => Promise<T>): Promise<T> {
    const queues = [fake.hubQueue, fake.sourceQueue, ...fake.targets.map((t) => t.taskQueue)];
    const workers = await Promise.all(
      queues.map((taskQueue) =>
        Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          activities: fake.activities,
          ...(taskQueue === fake.hubQueue ? { workflowBundle } : {}),
        }),
      ),
    );
    const running = workers.map((worker) => worker.run());
    try {
      return await body();
    } finally {
      fake.releaseAll();
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all(running);
    }
  }

  function start(fake: FakeStockSync): Promise<WorkflowHandleWithFirstExecutionRunId<typeof stockSync>> {
    return env.client.workflow.start(stockSync, {
      taskQueue: fake.hubQueue,
      workflowId: `stock-sync:${SYNC}:${fake.mode}:${fake.hubQueue}`,
      args: [{ syncName: SYNC, mode: fake.mode, ...(fake.scenario.nextChangeAt === undefined ? {} : { followValidity: true }) }],
      // A stuck run fails the test soon, with the trace, instead of at the test timeout.
      workflowExecutionTimeout: `${PATIENCE_MS / 1000} seconds`,
    });
  }

  /** The run's result; its failure carries the fake's trace. */
  async function resultOf(fake: FakeStockSync, handle: WorkflowHandle<typeof stockSync>): Promise<StockSyncProgress> {
    try {
      return await handle.result();
    } catch (err) {
      throw new Error(`the run failed: ${inspect(err, { depth: 4 })}\n${fake.trace()}`, { cause: err });
    }
  }

  const batchIds = (runId: string, pages: number[]) => pages.map((page) => `${runId}:${page}`);

  // -------------------------------------------------------------------------------------------

  it('full run: stages at most 4 pages ahead of the oldest unfinished push, in order, and sums the counts', async () => {
    const fake = new FakeStockSync({ mode: 'full', pages: 10, holdPushes: true });
    await withWorkers(fake, async () => {
      const handle = await start(fake);

      // Every push held: pages 0-3 are staged and pushed, then the workflow waits for page 0.
      await waitUntil(fake, 'the pushes of pages 0-3 to start', () => fake.pushes().length === 8);
      let scheduled = await settled(fake, handle);
      expect(fake.stagedPages(), fake.trace()).toEqual([0, 1, 2, 3]);
      expect(scheduled.stageStockPage, 'stage activities in the history while page 0 is pushed').toBe(4);

      // Pages 1-3 done, page 0 not: the window is counted from the oldest unfinished push.
      for (const page of [1, 2, 3]) fake.release(page);
      await waitUntil(fake, 'the pushes of pages 1-3 to end', () => fake.pushes().filter((p) => p.endSeq !== undefined).length === 6);
      scheduled = await settled(fake, handle);
      expect(fake.stagedPages(), fake.trace()).toEqual([0, 1, 2, 3]);
      expect(scheduled.stageStockPage).toBe(4);

      // Page 0 pushed to one target of two: the page is not done yet.
      fake.release(0, 'shop-a');
      await waitUntil(fake, 'the push of page 0 to shop-a to end', () => fake.pushes().some((p) => p.page === 0 && p.target === 'shop-a' && p.endSeq !== undefined));
      scheduled = await settled(fake, handle);
      expect(fake.stagedPages(), fake.trace()).toEqual([0, 1, 2, 3]);
      expect(scheduled.stageStockPage).toBe(4);

      // Page 0 done: pages 4-7 are staged (1-3 are done already), then it waits for page 4.
      fake.release(0, 'shop-b');
      await waitUntil(fake, 'the pushes of pages 4-7 to start', () => fake.pushes().length === 16);
      scheduled = await settled(fake, handle);
      expect(fake.stagedPages(), fake.trace()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(scheduled.stageStockPage).toBe(8);

      fake.releaseAll();
      const result = await resultOf(fake, handle);

      const runId = handle.firstExecutionRunId;
      expect(fake.stages().map((call) => call.input.batchId), fake.trace()).toEqual(batchIds(runId, range(0, 10)));
      expect(fake.stages().every((call) => call.input.limit === PAGE_SIZE && call.input.mode === 'full' && call.input.syncName === SYNC)).toBe(true);
      expect(fake.brokenCursorChain()).toEqual([]);
      expect(fake.overlappingStages(), fake.trace()).toEqual([]);
      expect(fake.windowViolations(4), fake.trace()).toEqual([]);
      expect(fake.pushes().map((call) => `${call.input.batchId} → ${call.input.target}`).sort()).toEqual(
        batchIds(runId, range(0, 10)).flatMap((id) => [`${id} → shop-a`, `${id} → shop-b`]).sort(),
      );
      expect(fake.misrouted()).toEqual([]);
      expect(fake.plans()).toHaveLength(1);
      expect(fake.commits(), 'full runs commit no cursor').toEqual([]);
      expect(result.pagesRead).toBe(10);
      expect(result).toEqual(fake.expectedProgress(1));
    });
  });

  it('delta run: one page at a time, then commits the last page’s resumeCursor once, last', async () => {
    // Slow pushes: a next page staged before they end would show as an overlap.
    const fake = new FakeStockSync({ mode: 'delta', pages: 5, duringPush: () => sleep(40) });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      const result = await resultOf(fake, handle);

      expect(fake.steps().map((step) => step.label), fake.trace()).toEqual([
        'plan',
        ...range(0, 5).flatMap((page) => [`stage ${page}`, `push ${page} → shop-a, shop-b`]),
        'commit',
      ]);
      expect(fake.overlappingSteps(), fake.trace()).toEqual([]);
      expect(fake.stages().map((call) => call.input.batchId)).toEqual(batchIds(handle.firstExecutionRunId, range(0, 5)));
      expect(fake.stages()[0]!.input.cursor, 'the first page starts at the committed cursor').toEqual(COMMITTED_CURSOR);
      expect(fake.brokenCursorChain()).toEqual([]);
      expect(fake.commits().map((call) => call.input)).toEqual([{ syncName: SYNC, mode: 'delta', cursor: fake.resumeCursorOf(4) }]);
      expect(fake.misrouted()).toEqual([]);
      expect(result).toEqual(fake.expectedProgress(1));
    });
  });

  it('delta run: a push that fails permanently fails the run, and no cursor is committed', async () => {
    const fake = new FakeStockSync({
      mode: 'delta',
      pages: 4,
      duringPush: (page, target) => {
        if (page === 1 && target === 'shop-b') throw ApplicationFailure.nonRetryable(`shop-b refused the batch ${EXPECTED}`, 'FakePushRefused');
      },
    });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      const failure = await handle.result().then(
        (result) => expect.fail(`the run succeeded: ${JSON.stringify(result)}\n${fake.trace()}`),
        (err: unknown) => err,
      );

      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const activityFailure = (failure as WorkflowFailedError).cause;
      expect(activityFailure).toBeInstanceOf(ActivityFailure);
      expect((activityFailure as ActivityFailure).activityType).toBe('pushStockBatch');
      expect((activityFailure as ActivityFailure).cause).toMatchObject({ type: 'FakePushRefused', nonRetryable: true });
      expect((await handle.describe()).status.name).toBe('FAILED');

      expect(fake.steps().map((step) => step.label), fake.trace()).toEqual(['plan', 'stage 0', 'push 0 → shop-a, shop-b', 'stage 1', 'push 1 → shop-a, shop-b']);
      expect(fake.pushes().filter((call) => call.error).map((call) => `${call.page} → ${call.target}`)).toEqual(['1 → shop-b']);
      expect(fake.commits(), 'the cursor of a failed run').toEqual([]);
    });
  });

  it.each(['delta', 'full'] as const)('%s run with pagesPerExecution 3 and 8 pages: 3 executions, every page once, counts carried over', async (mode) => {
    const fake = new FakeStockSync({ mode, pages: 8, pagesPerExecution: 3, duringPush: () => sleep(30) });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      const result = await resultOf(fake, handle);

      expect(result.executions, fake.trace()).toBe(3);
      expect(fake.stagedPages(), fake.trace()).toEqual(range(0, 8));
      // Batch ids keep the first execution's run id, so they stay unique within the run.
      expect(fake.stages().map((call) => call.input.batchId)).toEqual(batchIds(handle.firstExecutionRunId, range(0, 8)));
      expect(fake.brokenCursorChain()).toEqual([]);
      const runs = [...new Set(fake.calls.map((call) => call.runId))];
      expect(runs).toHaveLength(3);
      expect(runs[0]).toBe(handle.firstExecutionRunId);
      expect(runs.map((runId) => fake.stages().filter((call) => call.runId === runId).map((call) => call.page))).toEqual([
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
      ]);
      // Each execution finishes its pushes before it continues as new.
      for (const [i, runId] of runs.slice(1).entries()) {
        const firstOfRun = Math.min(...fake.calls.filter((call) => call.runId === runId).map((call) => call.seq));
        const unfinished = fake.calls.filter((call) => call.runId === runs[i] && (call.endSeq === undefined || call.endSeq > firstOfRun));
        expect(unfinished.map((call) => `${call.activity} page ${call.page} → ${call.target}`), `calls of execution ${i + 1} still running when execution ${i + 2} started`).toEqual([]);
      }
      expect(fake.plans(), 'the plan travels with the continuation').toHaveLength(1);
      expect(fake.misrouted()).toEqual([]);
      expect(result).toEqual(fake.expectedProgress(3));

      if (mode === 'delta') {
        expect(fake.steps().map((step) => step.label), fake.trace()).toEqual([
          'plan',
          ...range(0, 8).flatMap((page) => [`stage ${page}`, `push ${page} → shop-a, shop-b`]),
          'commit',
        ]);
        expect(fake.overlappingSteps(), fake.trace()).toEqual([]);
        expect(fake.commits().map((call) => ({ runId: call.runId, input: call.input }))).toEqual([
          { runId: runs[2], input: { syncName: SYNC, mode: 'delta', cursor: fake.resumeCursorOf(7) } },
        ]);
      } else {
        expect(fake.windowViolations(4), fake.trace()).toEqual([]);
        expect(fake.commits()).toEqual([]);
      }
    });
  });

  it.each(['full', 'delta'] as const)('%s run from a source that never ends stops at maxPages with a warning, without failing', async (mode) => {
    const fake = new FakeStockSync({ mode, pages: 'endless', maxPages: 5 });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      const result = await resultOf(fake, handle);

      expect(fake.stagedPages(), fake.trace()).toEqual(range(0, 5));
      expect(result).toEqual(fake.expectedProgress(1));
      expect(result.pagesRead).toBe(5);
      expect(fake.stages().at(-1)!.result?.nextCursor, 'the source had more').not.toBeNull();
      // A delta run that stops early still commits what it pushed: the next run goes on from there.
      expect(fake.commits().map((call) => call.input.cursor)).toEqual(mode === 'delta' ? [fake.resumeCursorOf(4)] : []);
      await waitUntil(fake, 'the maxPages warning in the log', () =>
        logged.some((entry) => entry.level === 'WARN' && entry.message.includes('maxPages') && entry.meta?.workflowId === handle.workflowId),
      );
      const warning = logged.find((entry) => entry.meta?.workflowId === handle.workflowId && entry.message.includes('maxPages'))!;
      expect(warning.meta).toMatchObject({ syncName: SYNC, maxPages: 5 });
      expect(logged.filter((entry) => entry.level === 'ERROR' && entry.meta?.workflowId === handle.workflowId)).toEqual([]);
    });
  });

  it('a run that reaches maxPages at the end of an execution ends there, without an empty execution after it', async () => {
    const fake = new FakeStockSync({ mode: 'delta', pages: 'endless', maxPages: 6, pagesPerExecution: 3 });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      const result = await resultOf(fake, handle);
      expect(fake.stagedPages(), fake.trace()).toEqual(range(0, 6));
      expect(result.executions).toBe(2);
      expect(fake.commits().map((call) => call.input.cursor)).toEqual([fake.resumeCursorOf(5)]);
    });
  });

  it('a change of values long past (missed while no worker ran) runs at once; one just past or to come waits at least a second', async () => {
    const started = Date.now();
    // Execution 0 finds a change an hour ago; 1 finds one half a second ago (a worker clock a
    // little behind the server's); 2 finds none and ends the run.
    const fake = new FakeStockSync({ mode: 'full', pages: 1, nextChangeAt: (execution) => (execution === 0 ? new Date(started - 3_600_000).toISOString() : execution === 1 ? new Date(Date.now() - 500).toISOString() : undefined) });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      await resultOf(fake, handle);
      const plans = fake.plans();
      expect(plans, fake.trace()).toHaveLength(3);
      const timers = async (runId: string) => {
        const events = (await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
        return events.filter((event) => event.timerStartedEventAttributes).map((event) => Number(event.timerStartedEventAttributes!.startToFireTimeout!.seconds ?? 0) * 1000 + Math.round((event.timerStartedEventAttributes!.startToFireTimeout!.nanos ?? 0) / 1e6));
      };
      const [first, second, third] = plans.map((call) => call.runId);
      expect(await timers(first!)).toEqual([]);
      const [wait] = await timers(second!);
      expect(wait).toBeGreaterThanOrEqual(1_000);
      expect(await timers(third!)).toEqual([]);
    });
  });

  it.each(['delta', 'full'] as const)('%s run: targets without changes on a page get no push', async (mode) => {
    const changes: Record<number, Record<string, number>> = {
      0: { 'shop-a': 2, 'shop-b': 0, 'shop-c': 1 },
      1: {}, // nothing changed anywhere
      2: { 'shop-a': 0, 'shop-b': 5 }, // shop-c left out
      3: { 'shop-a': 1, 'shop-b': 1, 'shop-c': 1 },
    };
    const fake = new FakeStockSync({ mode, pages: 4, targets: ['shop-a', 'shop-b', 'shop-c'], changes: (page, target) => changes[page]?.[target] });
    await withWorkers(fake, async () => {
      const handle = await start(fake);
      const result = await resultOf(fake, handle);

      expect(fake.pushes().map((call) => `${call.page} → ${call.target}`).sort(), fake.trace()).toEqual(['0 → shop-a', '0 → shop-c', '2 → shop-b', '3 → shop-a', '3 → shop-b', '3 → shop-c']);
      if (mode === 'delta') {
        expect(fake.steps().map((step) => step.label), fake.trace()).toEqual([
          'plan',
          'stage 0',
          'push 0 → shop-a, shop-c',
          'stage 1',
          'stage 2',
          'push 2 → shop-b',
          'stage 3',
          'push 3 → shop-a, shop-b, shop-c',
          'commit',
        ]);
        expect(fake.overlappingSteps(), fake.trace()).toEqual([]);
      }
      expect(fake.misrouted()).toEqual([]);
      expect(result).toEqual(fake.expectedProgress(1));
      expect(result.itemsChanged).toBe(11);
    });
  });
});

/**
 * `omnisync sync run <name> [--mode full|delta] [--dry-run]`.
 *
 * A real run starts the sync's workflow (stockSync, priceSync) on Temporal (a worker must be
 * running) and follows its progress. A dry run calls the engine directly (engine/): it reads,
 * computes and diffs locally, prints what would change (and what the price guard would hold)
 * and writes nothing (no staging, no push, no cursor).
 *
 * Exit codes: 0 the run finished (quarantined items are reported, not failures of the run);
 * 2 unknown sync; RUN_FAILED_EXIT_CODE (3) the run itself failed (the cause is printed);
 * OUTCOME_UNKNOWN_EXIT_CODE (4) Temporal stayed out of reach for 10 minutes (the run goes on).
 */
import { isGrpcServiceError, ServiceError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { LoadedConfig } from '../../config/load';
import { ConnectorPool } from '../../connectors/pool';
import { engineOf, findSync } from '../../engine';
import { openStateStore } from '../../state/kysely-store';
import type { QuarantineRecord, QuarantineSummaryRow } from '../../state/store';
import { connectClient } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { syncStartOptions, syncWorkflowId, syncWorkflowType } from '../../temporal/sync-starts';
import { progressQuery, type SyncInput, type SyncProgress } from '../../workflows/sync-engine';
import { describeFailure } from '../../observability/failures';
import { cliLogger } from '../context';

/** Changed items printed in full by a dry run before it only counts. */
const DRY_RUN_LINES = 50;
/** Exit code of `sync run` when the run failed (as opposed to finishing with quarantined items). */
export const RUN_FAILED_EXIT_CODE = 3;
/** Exit code of `sync run` when Temporal stayed out of reach: the run goes on, its outcome is unknown here. */
export const OUTCOME_UNKNOWN_EXIT_CODE = 4;
/**
 * How long `sync run` waits for a Temporal server it lost. The client's own retries give up after
 * about 20 s; a server restart or an upgrade takes longer, and the run goes on meanwhile.
 */
const RECONNECT_PATIENCE_MS = 10 * 60_000;
const RECONNECT_POLL_MS = 2_000;
/** gRPC codes of a server that cannot be reached (UNAVAILABLE, DEADLINE_EXCEEDED). */
const CONNECTION_LOST_CODES = new Set([14, 4]);

export async function runSync(config: LoadedConfig, name: string, options: { mode: 'full' | 'delta'; dryRun: boolean }): Promise<number> {
  if (!config.syncs.has(name)) {
    process.stderr.write(`unknown sync "${name}" (defined: ${[...config.syncs.keys()].join(', ') || 'none'})\n`);
    return 2;
  }
  return options.dryRun ? dryRun(config, name, options.mode) : realRun(config, name, options.mode);
}

async function dryRun(config: LoadedConfig, name: string, mode: 'full' | 'delta'): Promise<number> {
  const sync = findSync(config, name);
  const engine = engineOf(sync.entity);
  const store = openStateStore(config.stateStore);
  await store.migrate();
  const logger = cliLogger().child({ command: 'sync run --dry-run' });
  const pool = new ConnectorPool(config, store, logger);
  const totals = { skus: 0, changed: 0, held: 0, quarantined: 0, adjusted: 0, pages: 0 };
  const changes: string[] = [];
  const quarantined: QuarantineRecord[] = [];
  try {
    let cursor: unknown = mode === 'delta' ? await store.getCursor(name, 'delta') : null;
    for (let page = 0; page < sync.maxPages; page++) {
      const plan = await engine.planPage({ config, store, connectors: pool, logger }, sync, { syncName: name, mode, cursor, limit: sync.pageSize });
      totals.pages++;
      totals.skus += plan.recordsRead;
      totals.quarantined += plan.quarantine.length;
      totals.adjusted += plan.adjusted;
      for (const [target, items] of plan.changesByTarget) {
        totals.changed += items.length;
        for (const item of items) {
          if (item.held !== undefined) totals.held++;
          if (changes.length < DRY_RUN_LINES) changes.push(engine.describeChange(item, target));
        }
      }
      // Kept whole: the summary by category needs all of them, and each is a few hundred bytes.
      quarantined.push(...plan.quarantine);
      if (plan.nextCursor === null) break;
      cursor = plan.nextCursor;
    }
  } finally {
    await pool.closeAll();
    await store.close();
  }
  // What would be quarantined first, by category: a long change list must not hide it.
  for (const line of quarantineSummaryLines(summarise(quarantined))) console.log(line);
  for (const record of quarantined.slice(0, DRY_RUN_LINES)) console.log(`would quarantine ${record.recordKey}: ${record.reason}`);
  if (quarantined.length > DRY_RUN_LINES) console.log(`… and ${quarantined.length - DRY_RUN_LINES} more to quarantine`);
  for (const line of changes) console.log(line);
  if (totals.changed > changes.length) console.log(`… and ${totals.changed - changes.length} more changes`);
  console.log(
    `dry run ${name} (${mode}): ${totals.skus} SKUs read in ${totals.pages} pages, ${totals.changed} ${sync.entity === 'price' ? 'prices' : 'quantities'} would change` +
      `${sync.entity === 'price' ? ` (${totals.held} held by the guard per change; the run's size is checked when it runs)` : ''}, ` +
      `${totals.quarantined} records would be quarantined, ${totals.adjusted} levels counted as zero; nothing was written`,
  );
  return 0;
}

async function realRun(config: LoadedConfig, name: string, mode: 'full' | 'delta'): Promise<number> {
  const sync = findSync(config, name);
  const startedAt = new Date().toISOString();
  const { connection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
  let exitCode = 0;
  try {
    const workflowId = `${syncWorkflowId(sync, mode)}:manual-${startedAt}`;
    const handle = await client.workflow.start<SyncWorkflow>(syncWorkflowType(sync), { ...syncStartOptions(config, sync, mode), workflowId });
    console.log(`started ${workflowId} on task queue ${config.temporal.taskQueue}`);
    // One progress query at a time, and none left in flight when the connection closes.
    let polling: Promise<void> | undefined;
    const ticker = setInterval(() => {
      polling ??= handle
        .query(progressQuery)
        .then(
          (p) => console.log(`… ${showProgress(p)}`),
          () => console.log('… waiting for a worker to pick the run up (is `omnisync worker` or `omnisync dev` running?)'),
        )
        .finally(() => (polling = undefined));
    }, 5000);
    try {
      const outcome = await waitForOutcome(handle);
      if ('result' in outcome) {
        console.log(`done: ${showProgress(outcome.result)}`);
      } else if ('failed' in outcome) {
        console.error(`run failed: ${describeFailure(outcome.failed)}`);
        exitCode = RUN_FAILED_EXIT_CODE;
      } else {
        console.error(
          `gave up waiting for ${workflowId} after ${RECONNECT_PATIENCE_MS / 60_000} minutes without Temporal (${describeFailure(outcome.lost)}); ` +
            'the run goes on there: find it in the Temporal UI',
        );
        exitCode = OUTCOME_UNKNOWN_EXIT_CODE;
      }
    } finally {
      clearInterval(ticker);
      await polling;
    }
  } finally {
    // A server that went away must not turn a printed result into a crash.
    await connection.close().catch(() => undefined);
  }
  await printQuarantineSummary(config, name, startedAt);
  return exitCode;
}

/**
 * The run's result, its failure, or, when Temporal stays out of reach for RECONNECT_PATIENCE_MS,
 * the connection error: a lost connection is not a failed run (the server keeps the run).
 */
async function waitForOutcome(handle: WorkflowHandle<SyncWorkflow>): Promise<{ result: SyncProgress } | { failed: unknown } | { lost: unknown }> {
  const deadline = Date.now() + RECONNECT_PATIENCE_MS;
  let told = false;
  for (;;) {
    try {
      return { result: await handle.result() };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { failed: err };
      if (!isConnectionLost(err)) throw err;
      if (Date.now() > deadline) return { lost: err };
      if (!told) console.error('lost the connection to Temporal; the run goes on there. Waiting for the server to come back…');
      told = true;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_POLL_MS));
    }
  }
}

function isConnectionLost(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && CONNECTION_LOST_CODES.has(grpc.code);
}

function showProgress(p: SyncProgress): string {
  return (
    `${p.pagesRead} pages, ${p.itemsRead} SKUs read, ${p.itemsChanged} changed, ${p.itemsPushed} pushed, ${p.itemsFailed} failed, ` +
    `${p.itemsQuarantined} quarantined, ${p.itemsAdjusted ?? 0} levels counted as zero` +
    (p.recordsNotForSale === undefined ? '' : `, ${p.recordsNotForSale} SKUs not for sale (0 in every channel)`) +
    (p.itemsHeld === undefined ? '' : `, ${p.itemsHeld} held by the guard, ${p.itemsRejected ?? 0} rejected`) +
    (p.nextChangeAt === undefined ? '' : `; values change next at ${p.nextChangeAt}`)
  );
}

type SyncWorkflow = (input: SyncInput) => Promise<SyncProgress>;

/** The run's quarantined records by category, from the state store (the worker wrote them). */
async function printQuarantineSummary(config: LoadedConfig, name: string, since: string): Promise<void> {
  const store = openStateStore(config.stateStore);
  try {
    for (const line of quarantineSummaryLines(await store.quarantineSummary(name, since))) console.log(line);
  } catch (err) {
    console.error(`(the quarantine summary could not be read from the state store: ${(err as Error).message})`);
  } finally {
    await store.close().catch(() => undefined);
  }
}

function summarise(records: readonly QuarantineRecord[]): QuarantineSummaryRow[] {
  const byCategory = new Map<string, QuarantineSummaryRow>();
  for (const record of records) {
    const row = byCategory.get(record.category);
    if (row) row.records++;
    else byCategory.set(record.category, { category: record.category, records: 1, example: record.reason });
  }
  return [...byCategory.values()].sort((a, b) => b.records - a.records || (a.category < b.category ? -1 : 1));
}

/** `quarantined: N records` and one line per category with an example reason; nothing when none. */
export function quarantineSummaryLines(rows: readonly QuarantineSummaryRow[]): string[] {
  const total = rows.reduce((sum, row) => sum + row.records, 0);
  if (total === 0) return [];
  return [
    `quarantined: ${total} record${total === 1 ? '' : 's'} (omnisync quarantine list shows them)`,
    ...rows.map((row) => `  ${row.records} × ${row.category}, e.g. ${row.example}`),
  ];
}

/**
 * `omnisync prices held | approve <run> | reject <run> | history <sku>`: what an operator does
 * about prices.
 *
 * - `held` lists the price runs whose changes the anomaly guard holds (the runs with
 *   `OmnisyncWaitingFor = "price-guard"`), with what each holds (its `heldChanges` query).
 * - `approve` and `reject` send a run the `decideHeldChanges` update, signed with the OS user
 *   name, and wait for the run to take it. Approved, the held changes are pushed; rejected,
 *   nothing of them is.
 * - `history` reads the price history of a SKU from the state store, per channel, with the EU
 *   Omnibus lowest price of the 30 days before now.
 *
 * Exit codes: 0 done (also when nothing waits or a SKU has no history); 2 a run that does not
 * exist or holds nothing that waits for a decision (the reason is printed), or bad usage; 1 the
 * command could not run (e.g. no Temporal server).
 */
import { userInfo } from 'node:os';
import { WorkflowNotFoundError } from '@temporalio/common';
import { isGrpcServiceError, ServiceError, WorkflowUpdateFailedError, type Client, type Connection } from '@temporalio/client';
import type { LoadedConfig } from '../../config/load';
import { lowestPriorPrice, OMNIBUS_DAYS } from '../../core/entities/price';
import { openStateStore } from '../../state/kysely-store';
import type { PriceHistoryEntry } from '../../state/store';
import { connectClient } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { describeFailure } from '../../observability/failures';
import { SA_SYNC_NAME, SA_WAITING_FOR } from '../../workflows/search-attributes';
import { decideHeldChangesUpdate, heldChangesQuery, WAITING_FOR_PRICE_GUARD, type HeldChanges, type HeldChangesDecision } from '../../workflows/sync-engine';

/** The visibility query of the runs that wait for a decision on held prices. */
export const HELD_PRICES_QUERY = `${SA_WAITING_FOR.name} = "${WAITING_FOR_PRICE_GUARD}" AND ExecutionStatus = "Running"`;
/** How long `prices held` waits for a run's worker to answer the heldChanges query. */
const HELD_QUERY_TIMEOUT_MS = 10_000;
/** After this long without the run taking a decision, `approve|reject` says why it still waits. */
const DECISION_HINT_AFTER_MS = 10_000;
/** gRPC codes of a query that ran out of time: the run's worker did not answer. */
const DEADLINE_EXCEEDED = 4;
const CANCELLED = 1;
/** Default of `prices history --limit`: entries per channel. */
export const PRICE_HISTORY_DEFAULT_LIMIT = 20;

/** `prices held`: one block per run that waits for a decision. Returns the exit code (0). */
export async function listHeldPrices(config: LoadedConfig, options: { queryTimeoutMs?: number } = {}): Promise<number> {
  const { connection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
  try {
    let runs = 0;
    for await (const run of client.workflow.list({ query: HELD_PRICES_QUERY })) {
      runs++;
      const syncName = run.typedSearchAttributes.get(SA_SYNC_NAME) ?? '(sync unknown)';
      console.log(`${run.workflowId}  sync ${syncName}, started ${run.startTime.toISOString()}`);
      const held = await queryHeld(connection, client, run.workflowId, run.runId, options.queryTimeoutMs ?? HELD_QUERY_TIMEOUT_MS);
      if ('error' in held) {
        console.log(`  what it holds is unknown: the heldChanges query got ${held.error}; is a worker running?`);
        continue;
      }
      for (const line of heldLines(held.changes)) console.log(`  ${line}`);
      const { decision, lapsesAt } = held.changes;
      if (decision !== undefined) console.log(`  decided meanwhile: ${decision.approve ? 'approved' : 'rejected'}${decision.by === undefined ? '' : ` by ${decision.by}`}`);
      else if (lapsesAt !== undefined) console.log(`  lapses at ${lapsesAt} (without a decision by then, nothing held is pushed)`);
    }
    if (runs === 0) console.log('no price runs wait for a decision');
    else console.log(`${runs} price run${runs === 1 ? '' : 's'} wait${runs === 1 ? 's' : ''} for a decision: omnisync prices approve|reject <workflow id>`);
    return 0;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function queryHeld(connection: Connection, client: Client, workflowId: string, runId: string, timeoutMs: number): Promise<{ changes: HeldChanges } | { error: string }> {
  const deadline = Date.now() + timeoutMs;
  try {
    const changes = await connection.withDeadline(deadline, () => client.workflow.getHandle(workflowId, runId).query(heldChangesQuery));
    return { changes };
  } catch (err) {
    const grpc = err instanceof ServiceError ? err.cause : err;
    // The deadline ends the call as DEADLINE_EXCEEDED, or as CANCELLED when the client's own timer is first.
    if (isGrpcServiceError(grpc) && (grpc.code === DEADLINE_EXCEEDED || (grpc.code === CANCELLED && Date.now() >= deadline))) {
      return { error: `no answer within ${timeoutMs / 1000} s` };
    }
    return { error: `an error: ${describeFailure(err)}` };
  }
}

/** Held counts per target and why whole targets' runs are held. */
function heldLines(held: Pick<HeldChanges, 'heldByTarget' | 'runHeld'>): string[] {
  const targets = Object.entries(held.heldByTarget);
  const total = targets.reduce((sum, [, count]) => sum + count, 0);
  const lines = [`held: ${total} price change${total === 1 ? '' : 's'}${targets.length === 0 ? '' : ` (${targets.map(([target, count]) => `${target} ${count}`).join(', ')})`}`];
  for (const [target, reason] of Object.entries(held.runHeld)) lines.push(`whole run held for ${target}: ${reason}`);
  return lines;
}

/**
 * `prices approve <run>` (approve: true) and `prices reject <run>`: the decision on what the run
 * holds, signed with the OS user name. `runId` is the workflow id `prices held` prints; the
 * latest run of that id takes the decision. Returns the exit code: 0 decided, 2 no such run or
 * nothing of it waits for a decision (the reason is printed on stderr).
 */
export async function decideHeldPrices(config: LoadedConfig, runId: string, approve: boolean, options: { hintAfterMs?: number } = {}): Promise<number> {
  const { connection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
  try {
    let handle = client.workflow.getHandle(runId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      process.stderr.write(`no run with workflow id "${runId}" (omnisync prices held lists the runs that wait for a decision)\n`);
      return 2;
    }
    const status = description.status.name;
    if (status !== 'RUNNING') {
      process.stderr.write(`${runId}: the run has ended (${status.toLowerCase().replace(/_/g, ' ')}); nothing of it waits for a decision\n`);
      return 2;
    }
    if (description.typedSearchAttributes.get(SA_WAITING_FOR) !== WAITING_FOR_PRICE_GUARD) {
      process.stderr.write(`${runId}: this run holds no changes that wait for a decision (a ${description.type} run, not waiting for the price guard)\n`);
      return 2;
    }
    // The run found, not a later one that might reuse its workflow id.
    handle = client.workflow.getHandle(runId, description.runId);
    const decision: HeldChangesDecision = { approve, ...operatorName() };
    const hint = setTimeout(() => {
      process.stderr.write(`${runId}: waiting for the run to take the decision (it needs a worker: is \`omnisync worker\` or \`omnisync dev\` running?)\n`);
    }, options.hintAfterMs ?? DECISION_HINT_AFTER_MS);
    let held: HeldChanges;
    try {
      held = await handle.executeUpdate(decideHeldChangesUpdate, { args: [decision] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        // Refused by the run's validator: decided already, or nothing waits any more.
        process.stderr.write(`${runId}: ${err.cause?.message ?? err.message}\n`);
        return 2;
      }
      if (err instanceof WorkflowNotFoundError) {
        process.stderr.write(`${runId}: the run ended before it took the decision; nothing of it waits for a decision\n`);
        return 2;
      }
      throw err;
    } finally {
      clearTimeout(hint);
    }
    const verb = approve ? 'approved' : 'rejected';
    console.log(`${verb} the held price changes of ${runId}${decision.by === undefined ? '' : ` (by ${decision.by})`}`);
    for (const line of heldLines(held)) console.log(`  ${line}`);
    console.log(approve ? '  the run pushes them now' : '  none of them is pushed; the run records them as rejected');
    return 0;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** `by` of a decision: the OS user name, and nothing else; left out when the OS has none. */
function operatorName(): { by?: string } {
  try {
    const name = userInfo().username;
    return name === '' ? {} : { by: name };
  } catch {
    return {};
  }
}

/**
 * `prices history <sku> [--limit N]`: per channel (target), the prices the channel was
 * confirmed to show, newest first, and the EU Omnibus lowest price of the 30 days before now.
 * Returns the exit code: 0, also when the SKU has no history; 2 for a bad --limit.
 */
export async function showPriceHistory(config: LoadedConfig, sku: string, options: { limit?: string | number } = {}, now: Date = new Date()): Promise<number> {
  const limit = options.limit === undefined ? PRICE_HISTORY_DEFAULT_LIMIT : Number(options.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    process.stderr.write(`--limit must be a whole number of at least 1, got "${String(options.limit)}"\n`);
    return 2;
  }
  const store = openStateStore(config.stateStore);
  try {
    await store.migrate();
    const entries = await store.priceHistoryOf(sku, limit);
    if (entries.length === 0) {
      console.log(`no price history for SKU ${sku}`);
      return 0;
    }
    const byTarget = new Map<string, PriceHistoryEntry[]>();
    for (const entry of entries) byTarget.set(entry.target, [...(byTarget.get(entry.target) ?? []), entry]);
    const at = now.toISOString();
    // The whole window, whatever --limit cut: the entry in effect when it opened and all since.
    const from = new Date(now.getTime() - OMNIBUS_DAYS * 24 * 60 * 60 * 1000).toISOString();
    for (const [target, history] of byTarget) {
      console.log(`${sku} at ${target}, newest first:`);
      for (const entry of history) {
        const compareAt = entry.compareAt === null ? '' : `  compare-at ${entry.compareAt} ${entry.currency}`;
        console.log(`  since ${entry.since}  ${entry.amount} ${entry.currency}${compareAt}`);
      }
      const window = (await store.priceHistorySince(target, [sku], from)).get(sku) ?? [];
      const lowest = lowestPriorPrice(window, at, OMNIBUS_DAYS);
      console.log(
        lowest === undefined
          ? `  lowest price of the ${OMNIBUS_DAYS} days before now (EU Omnibus): none, the channel showed no price in that time`
          : `  lowest price of the ${OMNIBUS_DAYS} days before now (EU Omnibus): ${lowest.amount} ${lowest.currency}`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

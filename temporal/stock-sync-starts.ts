/**
 * How stock syncs are started: by Temporal Schedules created from config, or once from the CLI.
 * Both use the same workflow options, so every run carries the same search attributes and can be
 * found the same way in the Temporal UI.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction, type WorkflowStartOptions } from '@temporalio/client';
import type { Logger } from 'pino';
import type { LoadedConfig, LoadedSync } from '../config/load';
import type { StockReadMode } from '../connectors/contract';
import { SA_CONNECTOR, SA_ENTITY, SA_SYNC_MODE, SA_SYNC_NAME } from '../workflows/search-attributes';
import { STOCK_SYNC_WORKFLOW_TYPE, type stockSync } from '../workflows/stock-sync';

/** Schedule ids this hub owns start with this prefix; `schedules apply` removes stale ones. */
export const SCHEDULE_ID_PREFIX = 'omnisync:';
export const STOCK_MODES: readonly StockReadMode[] = ['delta', 'full'];

export function scheduleId(syncName: string, mode: StockReadMode): string {
  return `${SCHEDULE_ID_PREFIX}stock-sync:${syncName}:${mode}`;
}

/** Business workflow id: readable in the UI, no PII. Schedules append the start time. */
export function stockSyncWorkflowId(syncName: string, mode: StockReadMode): string {
  return `stock-sync:${syncName}:${mode}`;
}

export function stockSyncStartOptions(config: Pick<LoadedConfig, 'temporal'>, sync: LoadedSync, mode: StockReadMode) {
  return {
    taskQueue: config.temporal.taskQueue,
    args: [{ syncName: sync.name, mode }] as Parameters<typeof stockSync>,
    typedSearchAttributes: [
      { key: SA_CONNECTOR, value: [sync.source, ...sync.targets] },
      { key: SA_ENTITY, value: 'stock' },
      { key: SA_SYNC_NAME, value: sync.name },
      { key: SA_SYNC_MODE, value: mode },
    ],
    staticSummary: `${mode} stock sync ${sync.name}: ${sync.source} → ${sync.targets.join(', ')}`,
  } satisfies Partial<WorkflowStartOptions<typeof stockSync>>;
}

function scheduleAction(config: Pick<LoadedConfig, 'temporal'>, sync: LoadedSync, mode: StockReadMode): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: STOCK_SYNC_WORKFLOW_TYPE,
    workflowId: stockSyncWorkflowId(sync.name, mode),
    ...stockSyncStartOptions(config, sync, mode),
  };
}

export interface AppliedSchedules {
  created: string[];
  updated: string[];
  deleted: string[];
}

/**
 * Makes the server's schedules match the config: creates missing ones, updates changed ones
 * (spec, action, paused state), deletes omnisync schedules no longer configured.
 */
export async function applySchedules(client: Client, config: Pick<LoadedConfig, 'temporal' | 'syncs'>, logger: Logger): Promise<AppliedSchedules> {
  const applied: AppliedSchedules = { created: [], updated: [], deleted: [] };
  const wanted = new Set<string>();
  for (const sync of config.syncs.values()) {
    for (const mode of STOCK_MODES) {
      const entry = sync.schedule[mode];
      if (!entry) continue;
      const id = scheduleId(sync.name, mode);
      wanted.add(id);
      const spec = { cronExpressions: [entry.cron] };
      const action = scheduleAction(config, sync, mode);
      const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' };
      const handle = client.schedule.getHandle(id);
      try {
        await handle.describe();
        await handle.update((previous) => ({ ...previous, spec, action, policies, state: { ...previous.state, paused: entry.paused } }));
        applied.updated.push(id);
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
        await client.schedule.create({
          scheduleId: id,
          spec,
          action,
          policies,
          state: { paused: entry.paused, note: 'managed by omnisync (schedules apply)' },
        });
        applied.created.push(id);
      }
    }
  }
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX) && !wanted.has(summary.scheduleId)) {
      await client.schedule.getHandle(summary.scheduleId).delete();
      applied.deleted.push(summary.scheduleId);
    }
  }
  logger.info(applied, 'schedules applied');
  return applied;
}

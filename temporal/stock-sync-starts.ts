/**
 * How stock syncs are started: by Temporal Schedules created from config, or once from the CLI.
 * Both use the same workflow options, so every run carries the same search attributes and can be
 * found the same way in the Temporal UI.
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsAction,
  type ScheduleSpec,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Logger } from 'pino';
import { cronProblem } from '../config/cron';
import type { LoadedConfig, LoadedSync } from '../config/load';
import type { StockReadMode } from '../connectors/contract';
import { SA_CONNECTOR, SA_ENTITY, SA_SYNC_MODE, SA_SYNC_NAME } from '../workflows/search-attributes';
import { STOCK_SYNC_WORKFLOW_TYPE, type stockSync } from '../workflows/stock-sync';

/**
 * Schedule ids this hub creates start with this prefix. Each kind of start owns a prefix below it
 * (stock syncs: `omnisync:stock-sync:`), and `schedules apply` deletes stale schedules only under
 * the prefixes it manages: schedules another part of the hub (a later entity) creates under
 * `omnisync:` are left alone, as are schedules without the prefix.
 */
export const SCHEDULE_ID_PREFIX = 'omnisync:';
/** The schedules `applySchedules` owns: it creates, updates and deletes only these. */
export const STOCK_SYNC_SCHEDULE_PREFIX = `${SCHEDULE_ID_PREFIX}stock-sync:`;
export const STOCK_MODES: readonly StockReadMode[] = ['delta', 'full'];

export function scheduleId(syncName: string, mode: StockReadMode): string {
  return `${STOCK_SYNC_SCHEDULE_PREFIX}${syncName}:${mode}`;
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

/** One schedule as the config wants it. */
export interface PlannedSchedule {
  id: string;
  /** The config path of its cron expression (for messages). */
  path: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsAction;
  policies: ScheduleOptions['policies'];
  paused: boolean;
}

/** Every wanted schedule, or every problem that keeps them from being applied. */
export type SchedulePlan = { ok: true; schedules: PlannedSchedule[] } | { ok: false; problems: string[] };

/** The schedules of a config have problems; nothing was changed on the server. */
export class SchedulePlanError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`schedules not applied, nothing changed: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.join('\n')}`);
    this.name = 'SchedulePlanError';
  }
}

/**
 * Builds and validates the spec of every schedule the config wants, without touching a server.
 * The config loader has checked the cron expressions already; a config built another way is
 * checked here again, so that `applySchedules` never stops half-way on one. Problems read
 * `syncs.<name>.schedule.<mode>.cron: …`.
 */
export function planSchedules(config: Pick<LoadedConfig, 'temporal' | 'syncs'>): SchedulePlan {
  const schedules: PlannedSchedule[] = [];
  const problems: string[] = [];
  for (const sync of config.syncs.values()) {
    for (const mode of STOCK_MODES) {
      const entry = sync.schedule[mode];
      if (!entry) continue;
      const path = `syncs.${sync.name}.schedule.${mode}.cron`;
      const problem = cronProblem(entry.cron);
      if (problem !== undefined) {
        problems.push(`${path}: ${problem}`);
        continue;
      }
      schedules.push({
        id: scheduleId(sync.name, mode),
        path,
        spec: { cronExpressions: [entry.cron] },
        action: scheduleAction(config, sync, mode),
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        paused: entry.paused,
      });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, schedules };
}

/**
 * Makes the server's schedules match the config: creates missing ones, updates changed ones
 * (spec, action, paused state), deletes stock-sync schedules no longer configured. Every wanted
 * schedule is validated before the first change (`planSchedules`); with a problem, nothing is
 * changed and a SchedulePlanError lists them all.
 */
export async function applySchedules(client: Client, config: Pick<LoadedConfig, 'temporal' | 'syncs'>, logger: Logger): Promise<AppliedSchedules> {
  const plan = planSchedules(config);
  if (!plan.ok) throw new SchedulePlanError(plan.problems);
  return applyPlannedSchedules(client, plan.schedules, logger);
}

/** Applies schedules planned (and so validated) by `planSchedules`. */
export async function applyPlannedSchedules(client: Client, schedules: readonly PlannedSchedule[], logger: Logger): Promise<AppliedSchedules> {
  const applied: AppliedSchedules = { created: [], updated: [], deleted: [] };
  const wanted = new Set(schedules.map((schedule) => schedule.id));
  for (const { id, spec, action, policies, paused } of schedules) {
    const handle = client.schedule.getHandle(id);
    try {
      await handle.describe();
      await handle.update((previous) => ({ ...previous, spec, action, policies, state: { ...previous.state, paused } }));
      applied.updated.push(id);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create({
        scheduleId: id,
        spec,
        action,
        policies,
        state: { paused, note: 'managed by omnisync (schedules apply)' },
      });
      applied.created.push(id);
    }
  }
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(STOCK_SYNC_SCHEDULE_PREFIX) && !wanted.has(summary.scheduleId)) {
      await client.schedule.getHandle(summary.scheduleId).delete();
      applied.deleted.push(summary.scheduleId);
    }
  }
  logger.info(applied, 'schedules applied');
  return applied;
}

/**
 * How syncs of every entity are started: by Temporal Schedules created from config, or once from
 * the CLI. Both use the same workflow options, so every run carries the same search attributes
 * and can be found the same way in the Temporal UI.
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
import { ENTITY_NAMES, entitySpec, type SyncMode } from '../core/entities';
import { SA_CONNECTOR, SA_ENTITY, SA_SYNC_MODE, SA_SYNC_NAME } from '../workflows/search-attributes';
import type { SyncInput, SyncProgress } from '../workflows/sync-engine';

/**
 * Schedule ids this hub creates start with this prefix, then `<entity>-sync:`; `schedules apply`
 * owns exactly the schedules under the prefixes of the entities it knows
 * (`omnisync:stock-sync:`, `omnisync:price-sync:`), and deletes one of them only when its sync
 * (or that mode of it) left the config. Other schedules under `omnisync:` and schedules without
 * the prefix are left alone.
 */
export const SCHEDULE_ID_PREFIX = 'omnisync:';
export const SYNC_MODES: readonly SyncMode[] = ['delta', 'full'];

/** The prefixes of the schedules `applySchedules` owns: one per entity. */
export const MANAGED_SCHEDULE_PREFIXES: readonly string[] = ENTITY_NAMES.map((entity) => `${SCHEDULE_ID_PREFIX}${entity}-sync:`);

export function scheduleId(sync: Pick<LoadedSync, 'entity' | 'name'>, mode: SyncMode): string {
  return `${SCHEDULE_ID_PREFIX}${syncWorkflowId(sync, mode)}`;
}

/** Business workflow id: readable in the UI, no PII. Schedules append the start time. */
export function syncWorkflowId(sync: Pick<LoadedSync, 'entity' | 'name'>, mode: SyncMode): string {
  return `${sync.entity}-sync:${sync.name}:${mode}`;
}

type SyncWorkflow = (input: SyncInput) => Promise<SyncProgress>;

/**
 * Options of a run's start. `scheduled`: runs a schedule starts follow the validity of values
 * (a price run waits for a promotion that starts or ends before the next scheduled run); a run
 * started by hand ends when its work is done.
 */
export function syncStartOptions(config: Pick<LoadedConfig, 'temporal'>, sync: LoadedSync, mode: SyncMode, scheduled = false) {
  return {
    taskQueue: config.temporal.taskQueue,
    args: [scheduled ? { syncName: sync.name, mode, followValidity: true } : { syncName: sync.name, mode }] as Parameters<SyncWorkflow>,
    typedSearchAttributes: [
      { key: SA_CONNECTOR, value: [sync.source, ...sync.targets] },
      { key: SA_ENTITY, value: sync.entity },
      { key: SA_SYNC_NAME, value: sync.name },
      { key: SA_SYNC_MODE, value: mode },
    ],
    staticSummary: `${mode} ${sync.entity} sync ${sync.name}: ${sync.source} → ${sync.targets.join(', ')}`,
  } satisfies Partial<WorkflowStartOptions<SyncWorkflow>>;
}

/** The workflow type of a sync's runs (its entity's). */
export function syncWorkflowType(sync: Pick<LoadedSync, 'entity'>): string {
  return entitySpec(sync.entity).workflowType;
}

function scheduleAction(config: Pick<LoadedConfig, 'temporal'>, sync: LoadedSync, mode: SyncMode): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: syncWorkflowType(sync),
    workflowId: syncWorkflowId(sync, mode),
    ...syncStartOptions(config, sync, mode, true),
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
    for (const mode of SYNC_MODES) {
      const entry = sync.schedule[mode];
      if (!entry) continue;
      const path = `syncs.${sync.name}.schedule.${mode}.cron`;
      const problem = cronProblem(entry.cron);
      if (problem !== undefined) {
        problems.push(`${path}: ${problem}`);
        continue;
      }
      schedules.push({
        id: scheduleId(sync, mode),
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
 * (spec, action, paused state), deletes the schedules it owns (MANAGED_SCHEDULE_PREFIXES) that
 * the config no longer wants, of every entity. Every wanted
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
    if (MANAGED_SCHEDULE_PREFIXES.some((prefix) => summary.scheduleId.startsWith(prefix)) && !wanted.has(summary.scheduleId)) {
      await client.schedule.getHandle(summary.scheduleId).delete();
      applied.deleted.push(summary.scheduleId);
    }
  }
  logger.info(applied, 'schedules applied');
  return applied;
}

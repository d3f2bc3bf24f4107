/**
 * `omnisync schedules apply`: makes the Temporal schedules match the config.
 *
 * Every wanted schedule is built and validated before the server is contacted; with a problem,
 * nothing changes and the problems are printed like config problems (exit code 2).
 */
import type { LoadedConfig } from '../../config/load';
import { connectClient } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { applyPlannedSchedules, planSchedules } from '../../temporal/sync-starts';
import { cliLogger } from '../context';

export async function applySchedulesCommand(config: LoadedConfig): Promise<void> {
  const plan = planSchedules(config);
  if (!plan.ok) {
    for (const problem of plan.problems) process.stderr.write(`${config.file}: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  const { connection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
  try {
    const applied = await applyPlannedSchedules(client, plan.schedules, cliLogger());
    for (const id of applied.created) console.log(`created ${id}`);
    for (const id of applied.updated) console.log(`updated ${id}`);
    for (const id of applied.deleted) console.log(`deleted ${id}`);
  } finally {
    await connection.close();
  }
}

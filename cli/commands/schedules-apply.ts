/** `omnisync schedules apply`: makes the Temporal schedules match the config. */
import type { LoadedConfig } from '../../config/load';
import { connectClient } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { applySchedules } from '../../temporal/stock-sync-starts';
import { cliLogger } from '../context';

export async function applySchedulesCommand(config: LoadedConfig): Promise<void> {
  const { connection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
  try {
    const applied = await applySchedules(client, config, cliLogger());
    for (const id of applied.created) console.log(`created ${id}`);
    for (const id of applied.updated) console.log(`updated ${id}`);
    for (const id of applied.deleted) console.log(`deleted ${id}`);
  } finally {
    await connection.close();
  }
}

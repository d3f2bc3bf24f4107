/** Finding a sync of the loaded config, with the error an operator can act on. */
import { configError } from '../core/errors';
import type { LoadedConfig, LoadedSync } from '../config/load';

export function findSync(config: Pick<LoadedConfig, 'syncs'>, syncName: string): LoadedSync {
  const sync = config.syncs.get(syncName);
  if (!sync) throw configError(`sync "${syncName}" is not defined in the config this worker runs with (defined: ${[...config.syncs.keys()].join(', ') || 'none'})`);
  return sync;
}

/** The sync, which must copy `entity` (a run started for another entity is a config mismatch). */
export function findSyncOf<E extends LoadedSync['entity']>(config: Pick<LoadedConfig, 'syncs'>, syncName: string, entity: E): Extract<LoadedSync, { entity: E }> {
  const sync = findSync(config, syncName);
  if (sync.entity !== entity) throw configError(`sync "${syncName}" copies ${sync.entity}, not ${entity}: the run was started for another entity than the config this worker runs with says`);
  return sync as Extract<LoadedSync, { entity: E }>;
}

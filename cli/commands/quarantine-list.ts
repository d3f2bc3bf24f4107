/** `omnisync quarantine list`: open quarantined records with their reasons, newest first. */
import type { LoadedConfig } from '../../config/load';
import { openStateStore } from '../../state/kysely-store';

export async function listQuarantine(config: LoadedConfig, options: { scope?: string; limit: string }): Promise<void> {
  const store = openStateStore(config.stateStore);
  await store.migrate();
  try {
    const entries = await store.listQuarantine({ scope: options.scope, limit: Number(options.limit) || 50 });
    for (const entry of entries) {
      console.log(`#${entry.id} ${entry.scope} ${entry.entity} ${entry.recordKey} [${entry.kind}] ×${entry.occurrences} last ${entry.lastSeenAt}: ${entry.reason}`);
    }
    console.log(`${entries.length} open record(s)`);
  } finally {
    await store.close();
  }
}

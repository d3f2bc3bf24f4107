/** `omnisync quarantine list`: quarantined records with their reasons, newest first. */
import type { LoadedConfig } from '../../config/load';
import { openStateStore } from '../../state/kysely-store';

export async function listQuarantine(config: LoadedConfig, options: { scope?: string; limit: string; all?: boolean }): Promise<void> {
  const store = openStateStore(config.stateStore);
  await store.migrate();
  try {
    const entries = await store.listQuarantine({ scope: options.scope, limit: Number(options.limit) || 50, includeResolved: options.all === true });
    for (const entry of entries) {
      const state = entry.resolved ? `resolved ${entry.resolvedAt ?? '(time unknown)'}` : 'open';
      const category = entry.category === '' ? '' : ` (${entry.category})`;
      console.log(`#${entry.id} ${entry.scope} ${entry.entity} ${entry.recordKey} [${entry.kind}]${category} ${state} ×${entry.occurrences} last ${entry.lastSeenAt}: ${entry.reason}`);
    }
    const open = entries.filter((entry) => !entry.resolved).length;
    console.log(options.all === true ? `${entries.length} record(s), ${open} open` : `${open} open record(s)`);
  } finally {
    await store.close();
  }
}

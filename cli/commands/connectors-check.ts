/** `omnisync connectors check [id]`: one line per connector, exit 1 when any fails. */
import pRetry from 'p-retry';
import type { LoadedConfig } from '../../config/load';
import { ConnectorPool } from '../../connectors/pool';
import { OmnisyncError } from '../../core/errors';
import { openStateStore } from '../../state/kysely-store';
import { cliLogger } from '../context';

export async function checkConnectors(config: LoadedConfig, only?: string): Promise<number> {
  const ids = only ? [only] : [...config.connectors.keys()];
  if (only && !config.connectors.has(only)) {
    process.stderr.write(`unknown connector "${only}" (defined: ${[...config.connectors.keys()].join(', ')})\n`);
    return 2;
  }
  const store = openStateStore(config.stateStore);
  await store.migrate();
  const pool = new ConnectorPool(config, store, cliLogger().child({ command: 'connectors check' }));
  let failures = 0;
  try {
    for (const id of ids) {
      const kind = config.connectors.get(id)!.kind;
      try {
        // A check retries briefly on transient errors: an operator wants the real answer, not a blip.
        const result = await pRetry(() => pool.get(id).check(), {
          retries: 2,
          minTimeout: 500,
          shouldRetry: ({ error }) => error instanceof OmnisyncError && error.retryable,
        });
        console.log(`${result.ok ? 'ok  ' : 'FAIL'} ${id} (${kind}): ${result.detail}`);
        if (!result.ok) failures++;
      } catch (err) {
        failures++;
        const kindLabel = err instanceof OmnisyncError ? ` [${err.kind}]` : '';
        console.log(`FAIL ${id} (${kind})${kindLabel}: ${(err as Error).message}`);
      }
    }
  } finally {
    await pool.closeAll();
    await store.close();
  }
  return failures === 0 ? 0 : 1;
}

/**
 * `omnisync sync run <name> [--mode full|delta] [--dry-run]`.
 *
 * A real run starts the stockSync workflow on Temporal (a worker must be running) and follows
 * its progress. A dry run reads and diffs locally, prints what would change and writes nothing
 * (no staging, no push, no cursor).
 */
import type { LoadedConfig } from '../../config/load';
import { ConnectorPool } from '../../connectors/pool';
import type { StockCursor } from '../../connectors/contract';
import { findSync, planStockPage } from '../../activities/stock-sync';
import { openStateStore } from '../../state/kysely-store';
import { connectClient } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { stockSyncStartOptions, stockSyncWorkflowId } from '../../temporal/stock-sync-starts';
import { progressQuery, stockSync, type StockSyncProgress } from '../../workflows/stock-sync';
import { cliLogger } from '../context';

/** Changed items printed in full by a dry run before it only counts. */
const DRY_RUN_LINES = 50;

export async function runSync(config: LoadedConfig, name: string, options: { mode: 'full' | 'delta'; dryRun: boolean }): Promise<number> {
  if (!config.syncs.has(name)) {
    process.stderr.write(`unknown sync "${name}" (defined: ${[...config.syncs.keys()].join(', ') || 'none'})\n`);
    return 2;
  }
  return options.dryRun ? dryRun(config, name, options.mode) : realRun(config, name, options.mode);
}

async function dryRun(config: LoadedConfig, name: string, mode: 'full' | 'delta'): Promise<number> {
  const sync = findSync(config, name);
  const store = openStateStore(config.stateStore);
  await store.migrate();
  const pool = new ConnectorPool(config, store, cliLogger().child({ command: 'sync run --dry-run' }));
  const totals = { skus: 0, changed: 0, quarantined: 0, pages: 0 };
  let printed = 0;
  try {
    let cursor: StockCursor | null = mode === 'delta' ? await store.getCursor(name, 'delta') : null;
    for (let page = 0; page < sync.maxPages; page++) {
      const plan = await planStockPage({ config, store, connectors: pool }, { syncName: name, mode, cursor, limit: sync.pageSize });
      totals.pages++;
      totals.skus += plan.page.skus.length;
      totals.quarantined += plan.quarantine.length;
      for (const [target, items] of plan.changesByTarget) {
        totals.changed += items.length;
        for (const item of items) {
          if (printed++ < DRY_RUN_LINES) {
            console.log(`would set ${target} ${item.sku} @ ${item.location}: ${item.previousQuantity ?? 'never pushed'} → ${item.quantity}`);
          }
        }
      }
      for (const record of plan.quarantine) {
        if (printed++ < DRY_RUN_LINES) console.log(`would quarantine ${record.recordKey}: ${record.reason}`);
      }
      if (plan.page.nextCursor === null) break;
      cursor = plan.page.nextCursor;
    }
  } finally {
    await pool.closeAll();
    await store.close();
  }
  if (printed > DRY_RUN_LINES) console.log(`… and ${printed - DRY_RUN_LINES} more`);
  console.log(`dry run ${name} (${mode}): ${totals.skus} SKUs read in ${totals.pages} pages, ${totals.changed} quantities would change, ${totals.quarantined} records would be quarantined; nothing was written`);
  return 0;
}

async function realRun(config: LoadedConfig, name: string, mode: 'full' | 'delta'): Promise<number> {
  const sync = findSync(config, name);
  const { connection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
  try {
    const workflowId = `${stockSyncWorkflowId(name, mode)}:manual-${new Date().toISOString()}`;
    const handle = await client.workflow.start(stockSync, { ...stockSyncStartOptions(config, sync, mode), workflowId });
    console.log(`started ${workflowId} on task queue ${config.temporal.taskQueue}`);
    const show = (p: StockSyncProgress) =>
      `${p.pagesRead} pages, ${p.itemsRead} SKUs read, ${p.itemsChanged} changed, ${p.itemsPushed} pushed, ${p.itemsFailed} failed, ${p.itemsQuarantined} quarantined`;
    const ticker = setInterval(() => {
      handle.query(progressQuery).then(
        (p) => console.log(`… ${show(p)}`),
        () => console.log('… waiting for a worker to pick the run up (is `omnisync worker` or `omnisync dev` running?)'),
      );
    }, 5000);
    try {
      const result = await handle.result();
      console.log(`done: ${show(result)}`);
      return result.itemsFailed > 0 ? 1 : 0;
    } finally {
      clearInterval(ticker);
    }
  } finally {
    await connection.close();
  }
}

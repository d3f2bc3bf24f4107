/**
 * Benchmark: delta runs on an ERP stock table without a usable modification column
 * (`changeDetection: compare`): every run reads all N SKUs and pushes only what differs from
 * what the shop last confirmed.
 *
 *   npm run bench:compare                      # 100,000 SKUs
 *   npm run bench:compare -- --products 20000
 *
 * Measured, after a priming full sync (the throttle set far above need, so it does not bind):
 * a compare run with nothing changed (pushes 0), and one after 50 stock rows changed (pushes
 * what those rows change). Baseline in the same invocation: one query that reads the same stock
 * rows with their SKUs and location codes in this process, as a hand-written comparison would
 * start; the compare run's time is printed as a multiple of it, so the figure survives a change
 * of machine.
 *
 * Processes as in bench:stock: the Temporal dev server, the Shopify simulator and the worker
 * (`omnisync worker`, prebuilt bundle, heap capped) each in their own process.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DatabaseSync } from '@photostructure/sqlite';
import YAML from 'yaml';
import { connectClient } from '../temporal/connection';
import { parseConfig } from '../config/load';
import { builtInConnectors } from '../connectors/registry';
import { createLogger } from '../observability/logger';
import { seedDemoErp, simulateErpSales } from '../sandbox/erp/seed';
import { demoHubConfigYaml } from '../sandbox/demo-hub-config';
import { startTemporalDevServer } from '../temporal/dev-server';
import { syncStartOptions } from '../temporal/sync-starts';
import { stockSync, type StockSyncProgress } from '../workflows/stock-sync';
import { cpuSeconds, REPO, runToCompletion, startBenchWorker, startSimulatorProcess, waitForPollers, preloadShopifyCrosswalk } from './support';

const TOKEN = 'shpat_bench_compare';
/** Far above what the runs need: the throttle never binds, the machine is measured. */
const RESTORE_RATE = 1_000_000;
const CHANGED_ROWS = 50;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '100000' },
      'page-size': { type: 'string', default: '2500' },
      'worker-heap-mb': { type: 'string', default: '128' },
    },
  });
  const products = Number(values.products);
  const pageSize = Number(values['page-size']);
  const logger = createLogger({ level: 'warn' });
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-bench-compare-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    say(`omnisync bench:compare — ${products} SKUs, delta runs by comparing (no modification column), page ${pageSize} SKUs, worker heap ${values['worker-heap-mb']} MB`);
    const erpFile = join(dir, 'erp.sqlite');
    await seedDemoErp({ driver: 'sqlite', file: erpFile }, { productCount: products, seed: 3 });

    const server = await startTemporalDevServer({ dataDir: null, port: 0, uiPort: 0, logger });
    cleanups.push(() => server.stop());
    const simulator = await startSimulatorProcess({ products, restoreRate: RESTORE_RATE, token: TOKEN, cpuProfileDir: undefined }, cleanups);

    mkdirSync(join(dir, 'mappings'));
    copyFileSync(join(REPO, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
    // The demo hub, its stock table told it has no modification column to trust.
    const hubConfig = YAML.parse(demoHubConfigYaml({ temporalAddress: server.address, taskQueue: 'bench', shopifyUrl: simulator.url, restoreRate: RESTORE_RATE, pageSize, syncName: 'bench' })) as {
      connectors: { erp: { config: { tables: { stock: Record<string, unknown> } } } };
    };
    const stock = hubConfig.connectors.erp.config.tables.stock;
    delete stock.modifiedAt;
    stock.changeDetection = 'compare';
    const configFile = join(dir, 'omnisync.yaml');
    writeFileSync(configFile, YAML.stringify(hubConfig));
    const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TOKEN } });
    await preloadShopifyCrosswalk(config.stateStore, simulator.url, TOKEN);

    const bundleFile = join(dir, 'workflow-bundle.js');
    await runToCompletion(['--import', 'tsx', 'temporal/workflow-bundle.ts', bundleFile]);
    const worker = startBenchWorker({ configFile, bundleFile, token: TOKEN, heapMb: Number(values['worker-heap-mb']), cpuProfileDir: undefined, profileName: 'worker' }, cleanups);
    const { connection, client } = await connectClient({ address: server.address, namespace: 'default' });
    cleanups.push(() => connection.close());
    for (const taskQueue of ['bench', 'bench.connector.erp', 'bench.connector.shopify']) await waitForPollers(client, taskQueue);
    const sync = config.syncs.get('bench')!;

    const runOnce = async (label: string, mode: 'full' | 'delta'): Promise<{ result: StockSyncProgress; seconds: number; workerCpu: number }> => {
      const cpuBefore = cpuSeconds(worker.pid);
      const started = Date.now();
      const handle = await client.workflow.start(stockSync, { ...syncStartOptions(config, sync, mode), workflowId: `bench:${label}` });
      const result = await handle.result();
      return { result, seconds: (Date.now() - started) / 1000, workerCpu: cpuSeconds(worker.pid) - cpuBefore };
    };

    const prime = await runOnce('prime-full', 'full');
    say('');
    say(`priming full sync: ${prime.result.itemsPushed} items pushed in ${prime.seconds.toFixed(2)} s (not measured)`);

    const baseline = readAllStockOnce(erpFile);
    say('');
    say('baseline (one query reading every stock row with its SKU and location, in this process):');
    say(`  rows read              ${baseline.rows}`);
    say(`  wall time              ${baseline.seconds.toFixed(2)} s, CPU ${baseline.cpuSeconds.toFixed(2)} s`);

    const unchanged = await runOnce('compare-unchanged', 'delta');
    const report = (title: string, run: typeof unchanged) => {
      say('');
      say(title);
      say(`  SKUs compared          ${run.result.itemsRead} in ${run.result.pagesRead} pages`);
      say(`  items pushed           ${run.result.itemsPushed} (changed ${run.result.itemsChanged}, failed ${run.result.itemsFailed})`);
      say(`  wall time              ${run.seconds.toFixed(2)} s (${Math.round(run.result.itemsRead / run.seconds)} SKUs/s), ${(run.seconds / baseline.seconds).toFixed(1)} × the baseline's`);
      say(`  CPU used               worker ${run.workerCpu.toFixed(2)} s (${((run.workerCpu / run.result.itemsRead) * 1e6).toFixed(1)} µs per SKU), over ${run.seconds.toFixed(2)} s on ${availableParallelism()} cores`);
    };
    report('delta run by comparing, nothing changed:', unchanged);

    const sold = await simulateErpSales({ driver: 'sqlite', file: erpFile }, { count: CHANGED_ROWS, now: new Date(Date.now() + 60_000) });
    const changed = await runOnce('compare-changed', 'delta');
    report(`delta run by comparing, after ${CHANGED_ROWS} sales (${new Set(sold).size} SKUs):`, changed);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/** The baseline read: every stock row with its SKU and location code, in one query. */
function readAllStockOnce(erpFile: string): { rows: number; seconds: number; cpuSeconds: number } {
  const erp = new DatabaseSync(erpFile, { readOnly: true, timeout: 5000 });
  try {
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const rows = erp
      .prepare('select t.indeks as sku, m.symbol as location, s.ilosc as on_hand, s.zarezerwowano as reserved from stany s join towary t on t.id = s.towar_id join magazyny m on m.id = s.magazyn_id')
      .all();
    const cpu = process.cpuUsage(cpuBefore);
    return { rows: rows.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    erp.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:compare failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

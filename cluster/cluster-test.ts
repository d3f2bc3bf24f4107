/**
 * The hub on a real Temporal cluster, through a crashed worker and a restarted Temporal service:
 *
 *   npm run test:cluster                               # 2,000 products, history restarted
 *   npm run test:cluster -- --restart matching         # or matching; `history,matching`: both
 *   npm run test:cluster -- --products 4000 --restore-rate 1000
 *
 * Not in `npm test` or CI: it needs the Temporal server built from source (minutes once, see
 * cluster/server-binary.ts) and runs for minutes. Its recorded result is in docs/benchmarks.md
 * ("Scale-out on a Temporal cluster").
 *
 * Setup: the cluster of cluster/start.ts (four service processes on PostgreSQL), a hub fixture
 * (sandbox ERP in SQLite, the Shopify simulator in this process, the demo stock and price syncs)
 * whose state store is a database on the cluster's PostgreSQL, shared by three `omnisync worker`
 * processes, as workers on three machines share it. A full stock sync and a full price sync run at
 * once, and while they run:
 * 1. once 30 % of the stock items are written, one worker gets SIGKILL (a crashed machine: its
 *    running activities are retried elsewhere after their heartbeat timeout);
 * 2. once half of the prices are written, the history service (or matching, `--restart`) gets
 *    SIGTERM and is started again, as in a rolling upgrade of the cluster.
 *
 * PASS when both runs complete and:
 * - every listed SKU's quantities and prices in the simulator equal the ones computed here
 *   straight from the ERP tables (not by the hub's code);
 * - no item was applied twice: per SKU, the simulator's write counter (`writesBySku`: one per SKU
 *   and location per applied `inventorySetQuantities`) equals its listed locations, and its
 *   price-change log (`priceChanges`) holds at most one change. A price write re-sent with the
 *   same value (prices are absolute; Shopify and the simulator take no idempotency key for them)
 *   changes nothing and is reported, not failed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import YAML from 'yaml';
import { connectClient } from '../temporal/connection';
import { syncStartOptions } from '../temporal/sync-starts';
import { writeWorkflowBundle } from '../temporal/workflow-bundle';
import { openStateStore } from '../state/kysely-store';
import { stockSync } from '../workflows/stock-sync';
import { priceSync } from '../workflows/price-sync';
import { cpuSeconds, startBenchWorker, waitForPollers } from '../bench/support';
import { createHubFixture, expectedDemoPrices, priceMismatches, shopPrices, stockMismatches, TEST_SHOPIFY_TOKEN, type HubFixture } from '../test/support/hub-fixture';
import { waitFor } from '../test/support/worker-process';
import { TEMPORAL_SERVICES, type TemporalServiceName } from './config';
import { CLUSTER_NAMESPACE, startTemporalCluster } from './start';
import { TEMPORAL_SERVER_VERSION } from './server-binary';

const REPO = resolve(__dirname, '..');
const STOCK_SYNC = 'erp-stock-to-shopify';
const PRICE_SYNC = 'erp-prices-to-shopify';
const TASK_QUEUE = 'omnisync-cluster-test';
const WORKERS = 3;
const RUN_TIMEOUT_MS = 10 * 60_000;


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '2000' },
      'restore-rate': { type: 'string', default: '500' },
      restart: { type: 'string', default: 'history' },
    },
  });
  const products = Number(values.products);
  const restoreRate = Number(values['restore-rate']);
  const restarts = values.restart.split(',').map((name) => name.trim()) as TemporalServiceName[];
  for (const name of restarts) if (!TEMPORAL_SERVICES.includes(name)) throw new Error(`--restart: ${name} is not one of ${TEMPORAL_SERVICES.join(', ')}`);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const cleanups: Array<() => Promise<void> | void> = [];
  let passed = false;
  try {
    say(`omnisync test:cluster — ${products} products, restore ${restoreRate} points/s, ${WORKERS} workers, restart: ${restarts.join(', ')}`);
    const cluster = await startTemporalCluster({ frontendPort: 0, logger: (line) => say(`  ${line}`) });
    cleanups.push(() => cluster.stop());

    const hub = await createHubFixture({
      temporalAddress: cluster.address,
      products,
      pageSize: 250,
      restoreRate,
      taskQueue: TASK_QUEUE,
      priceSync: { name: PRICE_SYNC, mapping: 'mappings/prices-cluster-test.yaml', pageSize: 250 },
      files: { 'mappings/prices-cluster-test.yaml': priceMappingForTheTest() },
    });
    cleanups.push(() => hub.close());
    await useStateStoreOnPostgres(hub, cluster.postgresPort);

    const bundleFile = await writeWorkflowBundle(join(hub.dir, 'workflow-bundle.js'));
    const workerCleanups: Array<() => Promise<void> | void> = [];
    cleanups.push(async () => {
      for (const cleanup of workerCleanups) await cleanup();
    });
    const workers = Array.from({ length: WORKERS }, (_, index) =>
      startBenchWorker({ configFile: hub.configFile, bundleFile, token: TEST_SHOPIFY_TOKEN, heapMb: 0, cpuProfileDir: undefined, profileName: `worker-${index}` }, workerCleanups),
    );
    const { connection, client } = await connectClient({ address: cluster.address, namespace: CLUSTER_NAMESPACE });
    cleanups.push(() => connection.close());
    for (const taskQueue of [TASK_QUEUE, `${TASK_QUEUE}.connector.erp`, `${TASK_QUEUE}.connector.shopify`]) await waitForPollers(client, taskQueue);
    say(`  ${WORKERS} workers polling (pids ${workers.map((w) => w.pid).join(', ')}), ${elapsed()}`);

    const listedStockItems = hub.actualShopifyStock().size;
    const expectedPricesBefore = expectedDemoPrices(hub.erpFile, new Date());
    const stockWrites = () => sum(Object.values(hub.shopify.store.stats().writesBySku));
    const priceWrites = () => sum(Object.values(hub.shopify.store.stats().priceWritesBySku));
    const progress = () => `stock ${stockWrites()}/${listedStockItems} items, prices ${priceWrites()}/${expectedPricesBefore.size} SKUs written`;

    const stockSyncConfig = hub.config.syncs.get(STOCK_SYNC)!;
    const priceSyncConfig = hub.config.syncs.get(PRICE_SYNC)!;
    const stockRun = await client.workflow.start(stockSync, { ...syncStartOptions(hub.config, stockSyncConfig, 'full'), workflowId: `stock-sync:${STOCK_SYNC}:full:cluster-test` });
    const priceRun = await client.workflow.start(priceSync, { ...syncStartOptions(hub.config, priceSyncConfig, 'full'), workflowId: `price-sync:${PRICE_SYNC}:full:cluster-test` });
    const results = Promise.all([stockRun.result(), priceRun.result()]);
    results.catch(() => undefined);
    const runsStarted = Date.now();
    say(`  stock and price syncs started, ${elapsed()}`);

    const events: string[] = [];
    // The price run is in flight too by then, resolving its SKUs (it writes prices only after that).
    await waitFor('30 % of the stock items written', async () => (stockWrites() >= listedStockItems * 0.3 ? true : undefined), RUN_TIMEOUT_MS);
    process.kill(workers[0]!.pid, 'SIGKILL');
    events.push(`SIGKILL worker 1 (pid ${workers[0]!.pid}) at ${elapsed()}: ${progress()}`);
    say(`  ${events.at(-1)}`);

    await waitFor('half of the prices written', async () => (priceWrites() >= expectedPricesBefore.size * 0.5 ? true : undefined), RUN_TIMEOUT_MS);
    for (const service of restarts) {
      if (service !== restarts[0]) await waitFor(`more prices written before restarting ${service}`, async () => (priceWrites() >= expectedPricesBefore.size * 0.7 ? true : undefined), RUN_TIMEOUT_MS);
      const oldPid = cluster.pid(service);
      const restartStarted = Date.now();
      const at = `${elapsed()}: ${progress()}`;
      await cluster.restartService(service);
      events.push(`restarted Temporal ${service} (pid ${oldPid} → ${cluster.pid(service)}) at ${at}; serving again after ${((Date.now() - restartStarted) / 1000).toFixed(1)} s`);
      say(`  ${events.at(-1)}`);
    }

    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the runs did not finish within ${RUN_TIMEOUT_MS / 60_000} min`)), RUN_TIMEOUT_MS).unref());
    const [stockResult, priceResult] = await Promise.race([results, timeout]);
    const runSeconds = (Date.now() - runsStarted) / 1000;
    say(`  both runs completed, ${elapsed()}`);

    // Convergence: what the shop holds against what the ERP says.
    const stockWrong = stockMismatches(hub.expectedShopifyStock(), hub.actualShopifyStock());
    const expected = expectedDemoPrices(hub.erpFile, new Date());
    const priceWrong = priceMismatches(expected, shopPrices(hub));

    // Applied twice: quantity writes beyond one per listed location, price changes beyond one.
    const stats = hub.shopify.store.stats();
    const levelsBySku = new Map<string, number>();
    for (const key of hub.actualShopifyStock().keys()) {
      const sku = key.slice(0, key.indexOf('|'));
      levelsBySku.set(sku, (levelsBySku.get(sku) ?? 0) + 1);
    }
    const stockTwice = [...levelsBySku].filter(([sku, levels]) => (stats.writesBySku[sku] ?? 0) > levels);
    const stockMissing = [...levelsBySku].filter(([sku, levels]) => (stats.writesBySku[sku] ?? 0) < levels);
    const changesBySku = new Map<string, number>();
    for (const change of hub.shopify.store.priceChanges()) changesBySku.set(change.sku ?? '?', (changesBySku.get(change.sku ?? '?') ?? 0) + 1);
    const priceTwice = [...changesBySku].filter(([, count]) => count > 1);
    const priceResent = Object.entries(stats.priceWritesBySku).filter(([, count]) => count > 1);

    say('');
    say(`cluster: Temporal server ${TEMPORAL_SERVER_VERSION}, services ${TEMPORAL_SERVICES.join(', ')} as separate processes, PostgreSQL persistence; ${WORKERS} omnisync workers, state store on PostgreSQL`);
    for (const event of events) say(`  ${event}`);
    say(`stock run:  ${stockResult.itemsRead} SKUs read, ${stockResult.itemsPushed} items pushed, ${stockResult.itemsFailed} failed (SKUs the shop does not list), ${stockResult.pagesRead} pages, ${stockResult.executions} execution(s)`);
    say(`price run:  ${priceResult.itemsRead} SKUs read, ${priceResult.itemsPushed} prices pushed, ${priceResult.itemsFailed} failed, ${priceResult.itemsHeld ?? 0} held`);
    say(`  both runs took ${runSeconds.toFixed(1)} s together; simulator: ${stats.requests} requests, ${stats.throttled} THROTTLED, ${stats.replays} idempotent replays`);
    say(`  worker CPU: ${workers.slice(1).map((w, i) => `worker ${i + 2} ${cpuSeconds(w.pid).toFixed(1)} s`).join(', ')} (worker 1 was killed)`);
    const checks: Array<[string, boolean, string]> = [
      ['stock converged', stockWrong.length === 0, `${levelsBySku.size} listed SKUs, ${listedStockItems} SKU×location items; ${stockWrong.length} differ${stockWrong.length ? `: ${stockWrong.slice(0, 5).join('; ')}` : ''}`],
      ['prices converged', priceWrong.length === 0, `${expected.size} listed SKUs; ${priceWrong.length} differ${priceWrong.length ? `: ${priceWrong.slice(0, 5).join('; ')}` : ''}`],
      ['no quantity applied twice', stockTwice.length === 0 && stockMissing.length === 0, `${sum(Object.values(stats.writesBySku))} quantity writes for ${listedStockItems} items; SKUs written more than once per location: ${stockTwice.length}${stockTwice.length ? ` (${stockTwice.slice(0, 5).map(([sku]) => `${sku}: ${stats.writesBySku[sku]}`).join(', ')})` : ''}; not written: ${stockMissing.length}`],
      ['no price changed twice', priceTwice.length === 0, `${changesBySku.size} SKUs' prices changed, ${priceTwice.length} more than once; price writes re-sent with the same value: ${priceResent.length} SKUs (no change)`],
    ];
    for (const [name, ok, detail] of checks) say(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
    passed = checks.every(([, ok]) => ok);
    say('');
    say(passed ? 'PASS: test:cluster' : 'FAIL: test:cluster');
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  process.exitCode = passed ? 0 : 1;
}

/**
 * The shipped price mapping with the guard letting a whole-list change through (a first run
 * changes every price, which `maxChangedShare: 10` holds for an operator) and without its margin
 * floor, so the expected prices are the price lists' (as in test/integration/price-sync-e2e.test.ts).
 */
function priceMappingForTheTest(): string {
  const mapping = YAML.parse(readFileSync(join(REPO, 'mappings/prices-erp-to-shopify.yaml'), 'utf8')) as { guard: Record<string, unknown>; channels: Record<string, Record<string, unknown>> };
  mapping.guard = { ...mapping.guard, maxChangedShare: 100 };
  for (const channel of Object.values(mapping.channels)) delete channel.minimumMarginPercent;
  return YAML.stringify(mapping);
}

/**
 * Workers on several machines share one state store: the fixture's SQLite file is replaced by a
 * database on the cluster's PostgreSQL, migrated here (the workers' own migrations, serialised
 * by the store's lock table, then find nothing to do).
 */
async function useStateStoreOnPostgres(hub: HubFixture, postgresPort: number): Promise<void> {
  const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${postgresPort}/postgres` });
  await admin.connect();
  try {
    await admin.query('create database omnisync_state');
  } finally {
    await admin.end();
  }
  const stateStore = { driver: 'postgres' as const, connectionString: `postgresql://postgres@127.0.0.1:${postgresPort}/omnisync_state` };
  const store = openStateStore(stateStore);
  await store.migrate();
  await store.close();
  const config = YAML.parse(readFileSync(hub.configFile, 'utf8')) as Record<string, unknown>;
  config.stateStore = stateStore;
  writeFileSync(hub.configFile, YAML.stringify(config));
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

// Ctrl-C: exit through process.exit, so the exit hooks stop the cluster's services and PostgreSQL
// (the worker and simulator processes get the terminal's SIGINT themselves).
process.once('SIGINT', () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`test:cluster failed: ${(err as Error).stack ?? String(err)}\nFAIL: test:cluster\n`);
  process.exit(1);
});

/**
 * Benchmark: scale-out on a Temporal cluster. A full stock push with one worker to one shop,
 * then with three workers to three shops, in the same invocation, on the same cluster:
 *
 *   npm run bench:scale                                  # 100,000 SKUs, 1,000 points/s per shop
 *   npm run bench:scale -- --products 20000
 *   npm run bench:scale -- --temporal 127.0.0.1:7233     # a cluster `npm run cluster` runs
 *
 * Why three shops: one shop's throttle is a ceiling no number of workers lifts (the rate budget of
 * a connector is enforced per task queue, docs/operations.md), so more workers pay off when a
 * sync has more targets. The three-shop sync reads the ERP once and pushes each page to three
 * target connectors (`shop-1`..`shop-3`), each a Shopify simulator process with its own bucket
 * and its own task queue, served by all three workers.
 *
 * Cluster: without `--temporal`, the cluster of cluster/start.ts (four Temporal service
 * processes on PostgreSQL; its first start builds the server, minutes) is started here and
 * stopped at the end. Either way it is the same for both runs. The hub's state store is a
 * PostgreSQL database of its own (a fresh one per run), shared by the workers as on several
 * machines. SKU → inventory item crosswalks are preloaded, as after each shop's first sync.
 *
 * Printed per run: items pushed, wall time, items/s, THROTTLED answers, the workers' CPU in µs
 * per item (user + system from /proc), the Temporal services' CPU when the cluster is this
 * process's, then the 3-worker/1-worker ratios. Every process shares this machine's cores.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import YAML from 'yaml';
import { connectClient } from '../temporal/connection';
import { parseConfig } from '../config/load';
import { builtInConnectors } from '../connectors/registry';
import { seedDemoErp } from '../sandbox/erp/seed';
import { demoHubConfigYaml } from '../sandbox/demo-hub-config';
import { startLocalPostgres } from '../sandbox/postgres-server';
import { syncStartOptions } from '../temporal/sync-starts';
import { writeWorkflowBundle } from '../temporal/workflow-bundle';
import { stockSync } from '../workflows/stock-sync';
import { CLUSTER_NAMESPACE, startTemporalCluster, type TemporalCluster } from '../cluster/start';
import { TEMPORAL_SERVICES } from '../cluster/config';
import { cpuSeconds, preloadShopifyCrosswalk, REPO, startBenchWorker, startSimulatorProcess, waitForPollers } from './support';

const TOKEN = 'shpat_bench_scale';
const WRITE_COST = 10;
const ITEMS_PER_CALL = 250;

interface RunResult {
  label: string;
  workers: number;
  shops: number;
  items: number;
  failed: number;
  seconds: number;
  throttled: number;
  requests: number;
  workerCpu: number;
  temporalCpu: number | undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '100000' },
      'page-size': { type: 'string', default: '2500' },
      /** Points per second each shop restores; its bucket is one second of it (as bench:stock). */
      'restore-rate': { type: 'string', default: '1000' },
      'worker-heap-mb': { type: 'string', default: '128' },
      /** A running cluster's frontend (`npm run cluster`); default: start one here. */
      temporal: { type: 'string' },
    },
  });
  const products = Number(values.products);
  const pageSize = Number(values['page-size']);
  const restoreRate = Number(values['restore-rate']);
  const heapMb = Number(values['worker-heap-mb']);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-bench-scale-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    say(`omnisync bench:scale — ${products} SKUs, restore ${restoreRate} points/s per shop (bucket ${restoreRate}), page ${pageSize} SKUs, worker heap ${heapMb === 0 ? 'Node default' : `${heapMb} MB`}, ${availableParallelism()} cores`);
    let cluster: TemporalCluster | undefined;
    let address = values.temporal;
    if (address === undefined) {
      cluster = await startTemporalCluster({ frontendPort: 0, logger: (line) => say(`  ${line}`) });
      cleanups.push(() => cluster!.stop());
      address = cluster.address;
    } else {
      say(`  using the Temporal cluster at ${address} (namespace ${CLUSTER_NAMESPACE})`);
    }
    const { connection, client } = await connectClient({ address, namespace: CLUSTER_NAMESPACE });
    cleanups.push(() => connection.close());

    const seedStart = Date.now();
    await seedDemoErp({ driver: 'sqlite', file: join(dir, 'erp.sqlite') }, { productCount: products, seed: 3 });
    mkdirSync(join(dir, 'mappings'));
    copyFileSync(join(REPO, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
    const bundleFile = await writeWorkflowBundle(join(dir, 'workflow-bundle.js'));
    const stateServer = await startLocalPostgres();
    cleanups.push(() => stateServer.stop());
    say(`  seeded the ERP, bundled the workflows and started the state store's PostgreSQL in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const temporalCpu = cluster ? () => TEMPORAL_SERVICES.reduce((sum, name) => sum + cpuSeconds(cluster!.pid(name)), 0) : undefined;

    const runScale = async (workerCount: number, shopCount: number): Promise<RunResult> => {
      const label = `${workerCount} worker${workerCount > 1 ? 's' : ''} × ${shopCount} shop${shopCount > 1 ? 's' : ''}`;
      const runCleanups: Array<() => Promise<void> | void> = [];
      try {
        const shops = [];
        for (let index = 1; index <= shopCount; index++) {
          const simulator = await startSimulatorProcess({ products, restoreRate, token: TOKEN }, runCleanups);
          shops.push({ id: `shop-${index}`, ...simulator });
        }
        const taskQueue = `bench-scale-${workerCount}x${shopCount}`;
        const database = `omnisync_state_${workerCount}x${shopCount}`;
        const admin = new pg.Client({ connectionString: stateServer.adminConnectionString });
        await admin.connect();
        await admin.query(`create database ${database}`);
        await admin.end();
        const stateStore = { driver: 'postgres' as const, connectionString: `postgresql://postgres@127.0.0.1:${stateServer.port}/${database}` };
        const configFile = join(dir, `omnisync-${workerCount}x${shopCount}.yaml`);
        writeFileSync(configFile, scaleConfigYaml({ address: address!, taskQueue, shops, restoreRate, pageSize, stateStore }));
        const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TOKEN } });
        for (const shop of shops) await preloadShopifyCrosswalk(stateStore, shop.url, TOKEN, shop.id);

        const workers = Array.from({ length: workerCount }, (_, index) =>
          startBenchWorker({ configFile, bundleFile, token: TOKEN, heapMb, cpuProfileDir: undefined, profileName: `worker-${index}` }, runCleanups),
        );
        for (const queue of [taskQueue, `${taskQueue}.connector.erp`, ...shops.map((shop) => `${taskQueue}.connector.${shop.id}`)]) await waitForPollers(client, queue);
        const workersCpu = () => workers.reduce((sum, worker) => sum + cpuSeconds(worker.pid), 0);

        const sync = config.syncs.get('scale')!;
        // The machine may be shared: its load before the run says how much of it the run had.
        const loadBefore = loadavg()[0]!;
        const cpuBefore = { workers: workersCpu(), temporal: temporalCpu?.() };
        const started = Date.now();
        const handle = await client.workflow.start(stockSync, { ...syncStartOptions(config, sync, 'full'), workflowId: `bench-scale:${label}:${Date.now()}` });
        const result = await handle.result();
        const seconds = (Date.now() - started) / 1000;
        const workerCpu = workersCpu() - cpuBefore.workers;
        const temporalUsed = temporalCpu && cpuBefore.temporal !== undefined ? temporalCpu() - cpuBefore.temporal : undefined;
        let throttled = 0;
        let requests = 0;
        for (const shop of shops) {
          const stats = (await (await fetch(`${shop.url}/_sandbox/stats`, { headers: { 'X-Shopify-Access-Token': TOKEN } })).json()) as { throttled: number; requests: number };
          throttled += stats.throttled;
          requests += stats.requests;
        }
        const run: RunResult = { label, workers: workerCount, shops: shopCount, items: result.itemsPushed, failed: result.itemsFailed, seconds, throttled, requests, workerCpu, temporalCpu: temporalUsed };
        const ceiling = shopCount * ((restoreRate + restoreRate * seconds) / WRITE_COST) * ITEMS_PER_CALL / seconds;
        say('');
        say(`${label}:`);
        say(`  items pushed           ${run.items} (SKU × location × shop), failed ${run.failed} (SKUs the shops do not list)`);
        say(`  wall time              ${seconds.toFixed(2)} s (load average before it: ${loadBefore.toFixed(1)}, after: ${loadavg()[0]!.toFixed(1)})`);
        say(`  throughput             ${Math.round(run.items / seconds)} items/s (throttle ceiling over this run: ${Math.round(ceiling)} items/s)`);
        say(`  THROTTLED answers      ${throttled} of ${requests} requests`);
        say(`  workers' CPU           ${workerCpu.toFixed(2)} s, ${((workerCpu / run.items) * 1e6).toFixed(1)} µs per item`);
        if (temporalUsed !== undefined) say(`  Temporal services' CPU ${temporalUsed.toFixed(2)} s, ${((temporalUsed / run.items) * 1e6).toFixed(1)} µs per item`);
        return run;
      } finally {
        for (const cleanup of runCleanups.reverse()) await cleanup();
      }
    };

    const single = await runScale(1, 1);
    const triple = await runScale(3, 3);
    const rate = (run: RunResult) => run.items / run.seconds;
    const cpuPerItem = (run: RunResult) => (run.workerCpu / run.items) * 1e6;
    say('');
    say(`3 workers × 3 shops vs 1 worker × 1 shop:`);
    say(`  throughput             ${(rate(triple) / rate(single)).toFixed(2)} × (${Math.round(rate(triple))} vs ${Math.round(rate(single))} items/s)`);
    say(`  workers' CPU per item  ${(cpuPerItem(triple) / cpuPerItem(single)).toFixed(2)} × (${cpuPerItem(triple).toFixed(1)} vs ${cpuPerItem(single).toFixed(1)} µs)`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/**
 * The demo hub's config (sandbox/demo-hub-config.ts) with its one Shopify connector replaced by
 * one per shop, the stock sync `scale` pushing to all of them, and the state store on PostgreSQL.
 */
function scaleConfigYaml(options: {
  address: string;
  taskQueue: string;
  shops: Array<{ id: string; url: string }>;
  restoreRate: number;
  pageSize: number;
  stateStore: { driver: 'postgres'; connectionString: string };
}): string {
  const config = YAML.parse(
    demoHubConfigYaml({ temporalAddress: options.address, taskQueue: options.taskQueue, shopifyUrl: options.shops[0]!.url, restoreRate: options.restoreRate, bucketSize: options.restoreRate, pageSize: options.pageSize, syncName: 'scale' }),
  ) as { connectors: Record<string, { config: Record<string, unknown> }>; syncs: Record<string, { targets: string[] }>; stateStore: unknown };
  const shopify = config.connectors.shopify!;
  delete config.connectors.shopify;
  for (const shop of options.shops) config.connectors[shop.id] = { ...shopify, config: { ...shopify.config, shopUrl: shop.url } };
  config.syncs.scale!.targets = options.shops.map((shop) => shop.id);
  config.stateStore = options.stateStore;
  return YAML.stringify(config);
}

// Ctrl-C: exit through process.exit, so the exit hooks stop the cluster's services and PostgreSQL
// (the worker and simulator processes get the terminal's SIGINT themselves).
process.once('SIGINT', () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

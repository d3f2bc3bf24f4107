/**
 * Benchmark: full stock push of N demo SKUs from the ERP (SQLite) to the Shopify simulator at
 * a restore rate of 1,000 points/s (Shopify Plus).
 *
 *   npm run bench:stock                    # 100,000 SKUs
 *   npm run bench:stock -- --products 20000
 *   npm run bench:stock -- --restore-rate 100000   # the throttle never binds: the machine's own limit
 *   npm run bench:stock -- --cpu-profile prof      # V8 CPU profiles of the worker and the simulator
 *   npm run bench:stock -- --split-workers         # hub + ERP queues in one worker, Shopify's in another
 *   npm run bench:stock -- --no-direct             # skip the direct-push baseline
 *
 * Baseline: before omnisync's run, the same invocation runs bench/direct-push.ts (a push an IT
 * team would write by hand: no Temporal, no state store) against a simulator of its own, and
 * omnisync's throughput and CPU per item are printed as ratios of it. Both share this machine's
 * cores and the same throttle, so the ratio survives a change of machine where the absolute
 * figure does not.
 *
 * Processes: the Temporal dev server, the Shopify simulator and the worker (`omnisync worker`
 * with a prebuilt workflow bundle) each run as their own process; this one seeds, starts and
 * measures. The RSS figure is the worker process's peak (VmHWM).
 *
 * The simulator's bucket is set to one second of restore (1,000 points) rather than Plus's
 * 10,000, so the run measures the sustained rate and not a burst. The theoretical ceiling over
 * a run of T seconds is (bucket + rate·T) / 10 points per call × 250 items per call / T.
 *
 * The SKU → inventory item crosswalk is loaded before the measured run, as it is after a
 * shop's first sync (resolving 100,000 SKUs through productVariants costs ~200,000 points,
 * ~200 s at this rate, once); that one-off is reported separately when --cold is given.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectClient } from '../temporal/connection';
import { parseConfig } from '../config/load';
import { builtInConnectors } from '../connectors/registry';
import { createLogger } from '../observability/logger';
import { seedDemoErp } from '../sandbox/erp/seed';
import { demoHubConfigYaml } from '../sandbox/demo-hub-config';
import { startTemporalDevServer } from '../temporal/dev-server';
import { syncStartOptions } from '../temporal/sync-starts';
import { stockSync, type StockSyncProgress } from '../workflows/stock-sync';
import { activityTimeline, commonBenchOptions, countHistory, startBenchWorker, cpuSeconds, REPO, residentMemory, runToCompletion, startSimulatorProcess, waitForPollers, preloadShopifyCrosswalk } from './support';

const TOKEN = 'shpat_bench';
/** Shopify Plus's restore rate; the bucket is one second of it (see the file comment). */
const DEFAULT_RESTORE_RATE = 1000;
const WRITE_COST = 10;
const ITEMS_PER_CALL = 250;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '100000' },
      'page-size': { type: 'string', default: '2500' },
      ...commonBenchOptions(DEFAULT_RESTORE_RATE),
      cold: { type: 'boolean', default: false },
      /** Two worker processes: one serving the hub and the ERP's queues, one Shopify's. */
      'split-workers': { type: 'boolean', default: false },
    },
  });
  const cpuProfileDir = values['cpu-profile'] === undefined ? undefined : resolve(values['cpu-profile']);
  const products = Number(values.products);
  const pageSize = Number(values['page-size']);
  const restoreRate = Number(values['restore-rate']);
  const bucket = restoreRate;
  const logger = createLogger({ level: 'warn' });
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-bench-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const say = (line: string) => process.stdout.write(`${line}\n`);
    say(`omnisync bench:stock — ${products} SKUs, restore ${restoreRate} points/s, bucket ${bucket}, page ${pageSize} SKUs, Temporal dev server db: ${values['temporal-db']}, worker heap ${values['worker-heap-mb'] === '0' ? 'Node default' : `${values['worker-heap-mb']} MB`}`);

    const seedStart = Date.now();
    await seedDemoErp({ driver: 'sqlite', file: join(dir, 'erp.sqlite') }, { productCount: products, seed: 3 });
    say(`  seeded ERP in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const server = await startTemporalDevServer({ dataDir: values['temporal-db'] === 'file' ? join(dir, 'temporal') : null, port: 0, uiPort: 0, logger });
    cleanups.push(() => server.stop());
    const simulator = await startSimulatorProcess({ products, restoreRate, token: TOKEN, cpuProfileDir }, cleanups);
    const simulatorUrl = simulator.url;

    mkdirSync(join(dir, 'mappings'));
    copyFileSync(join(REPO, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
    const configFile = join(dir, 'omnisync.yaml');
    writeFileSync(
      configFile,
      demoHubConfigYaml({ temporalAddress: server.address, taskQueue: 'bench', shopifyUrl: simulatorUrl, restoreRate, bucketSize: bucket, pageSize, syncName: 'bench' }),
    );
    const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TOKEN } });

    if (!values.cold) await preloadShopifyCrosswalk(config.stateStore, simulatorUrl, TOKEN);

    const direct = values['no-direct'] ? undefined : await runDirectPush(dir, products, restoreRate, say);

    // Workers run as their own processes, as in production, loading a bundle prebuilt by
    // another process; their peak RSS is read from the kernel (VmHWM) at the end. By default one
    // worker serves every task queue; --split-workers gives the target's queue a process of its
    // own (omnisync worker --serve).
    const heapMb = Number(values['worker-heap-mb']);
    const bundleFile = join(dir, 'workflow-bundle.js');
    await runToCompletion(['--import', 'tsx', 'temporal/workflow-bundle.ts', bundleFile]);
    const servings = values['split-workers'] ? [['hub', 'erp'], ['shopify']] : [undefined];
    const workers = servings.map((serve, index) => {
      const name = serve ? serve.join('+') : 'worker';
      const { pid } = startBenchWorker({ configFile, bundleFile, token: TOKEN, heapMb, cpuProfileDir, profileName: `worker-${index}`, ...(serve ? { serve } : {}) }, cleanups);
      return { name, pid };
    });
    const workersCpu = () => workers.reduce((sum, worker) => sum + cpuSeconds(worker.pid), 0);
    const { connection, client } = await connectClient({ address: server.address, namespace: 'default' });
    cleanups.push(() => connection.close());
    for (const taskQueue of ['bench', 'bench.connector.erp', 'bench.connector.shopify']) await waitForPollers(client, taskQueue);
    const rssAtStart = workers.map((worker) => residentMemory(worker.pid).current);
    const sync = config.syncs.get('bench')!;


    const runOnce = async (label: string): Promise<{ result: StockSyncProgress; seconds: number; events: number; activities: number; workerCpu: number; simulatorCpu: number }> => {
      const cpuBefore = { workers: workersCpu(), simulator: cpuSeconds(simulator.pid) };
      const workflowId = `bench:${label}`;
      const started = Date.now();
      const handle = await client.workflow.start(stockSync, { ...syncStartOptions(config, sync, 'full'), workflowId });
      const result = await handle.result();
      const seconds = (Date.now() - started) / 1000;
      const workerCpu = workersCpu() - cpuBefore.workers;
      const simulatorCpu = cpuSeconds(simulator.pid) - cpuBefore.simulator;
      const { events, activities } = await countHistory(client, workflowId);
      return { result, seconds, events, activities, workerCpu, simulatorCpu };
    };

    const first = await runOnce('first-full');
    const items = first.result.itemsPushed;
    const ceiling = ((bucket + restoreRate * first.seconds) / WRITE_COST) * ITEMS_PER_CALL / first.seconds;
    const sustainedCeiling = (restoreRate / WRITE_COST) * ITEMS_PER_CALL;
    const rate = items / first.seconds;
    const stats = (await (await fetch(`${simulatorUrl}/_sandbox/stats`, { headers: { 'X-Shopify-Access-Token': TOKEN } })).json()) as { throttled: number; requests: number };
    say('');
    say(`first full sync (every quantity differs from the shop):`);
    say(`  SKUs read              ${first.result.itemsRead}`);
    say(`  items pushed           ${items} (SKU × location), failed ${first.result.itemsFailed}, pages ${first.result.pagesRead}, executions ${first.result.executions}`);
    say(`  wall time              ${first.seconds.toFixed(2)} s`);
    say(`  throughput             ${Math.round(rate)} items/s`);
    say(`  theoretical ceiling    ${Math.round(ceiling)} items/s over this run (sustained: ${sustainedCeiling} items/s)`);
    say(`  ratio to ceiling       ${((rate / ceiling) * 100).toFixed(1)} %`);
    say(`  THROTTLED answers      ${stats.throttled} of ${stats.requests} requests`);
    say(`  history events         ${first.events} (${((first.events / items) * 1000).toFixed(2)} per 1,000 items)`);
    say(`  activity executions    ${first.activities} (${((first.activities / items) * 1000).toFixed(2)} per 1,000 items)`);
    say(`  CPU used               ${workers.length === 1 ? 'worker' : `${workers.length} workers`} ${first.workerCpu.toFixed(2)} s (${((first.workerCpu / items) * 1e6).toFixed(1)} µs per item), simulator ${first.simulatorCpu.toFixed(2)} s, over ${first.seconds.toFixed(2)} s on ${availableParallelism()} cores`);

    if (direct !== undefined) {
      const directRate = direct.items / direct.seconds;
      const omnisyncCpuPerItem = first.workerCpu / items;
      const directCpuPerItem = direct.cpuSeconds / direct.items;
      say(`  vs direct push         ${(rate / directRate).toFixed(2)} × its throughput, ${(omnisyncCpuPerItem / directCpuPerItem).toFixed(1)} × its CPU per item (worker ${(omnisyncCpuPerItem * 1e6).toFixed(1)} µs vs ${(directCpuPerItem * 1e6).toFixed(1)} µs)`);
    }
    if (values.timeline) for (const line of await activityTimeline(client, 'bench:first-full')) say(line);

    const second = await runOnce('steady-state');
    say('');
    say(`second full sync (nothing changed):`);
    say(`  items pushed           ${second.result.itemsPushed}, SKUs compared ${second.result.itemsRead} in ${second.seconds.toFixed(2)} s (${Math.round(second.result.itemsRead / second.seconds)} SKUs/s)`);
    say(`  history events         ${second.events}`);
    say('');
    workers.forEach((worker, index) => {
      const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
      const label = workers.length === 1 ? 'the worker process' : `worker ${worker.name}`;
      say(`peak RSS of ${label}  ${mb(residentMemory(worker.pid).peak)} MB (${mb(rssAtStart[index]!)} MB when it was ready, before any sync)`);
    });
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

interface DirectPushResult {
  items: number;
  seconds: number;
  requests: number;
  throttled: number;
  cpuSeconds: number;
}

/**
 * The baseline: bench/direct-push.ts against a fresh simulator of its own (the same products
 * and throttle), as its own process. Prints its figures and returns them.
 */
async function runDirectPush(dir: string, products: number, restoreRate: number, say: (line: string) => void): Promise<DirectPushResult> {
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const simulator = await startSimulatorProcess({ products, restoreRate, token: TOKEN }, cleanups);
    const simulatorCpuBefore = cpuSeconds(simulator.pid);
    const output = await runToCompletion(
      ['--import', 'tsx', 'bench/direct-push.ts', '--erp', join(dir, 'erp.sqlite'), '--url', simulator.url, '--token', TOKEN, '--restore-rate', String(restoreRate), '--bucket', String(restoreRate), '--mapping', join(REPO, 'mappings/stock-erp-to-shopify.yaml')],
      { captureStdout: true },
    );
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as DirectPushResult;
    const simulatorCpu = cpuSeconds(simulator.pid) - simulatorCpuBefore;
    const rate = result.items / result.seconds;
    const ceiling = ((restoreRate + restoreRate * result.seconds) / WRITE_COST) * ITEMS_PER_CALL / result.seconds;
    say('');
    say('direct push (baseline: no Temporal, no state store; same machine, same throttle):');
    say(`  items pushed           ${result.items} in ${result.requests} requests, ${result.throttled} THROTTLED`);
    say(`  wall time              ${result.seconds.toFixed(2)} s`);
    say(`  throughput             ${Math.round(rate)} items/s, ${((rate / ceiling) * 100).toFixed(1)} % of the ceiling`);
    say(`  CPU used               ${result.cpuSeconds.toFixed(2)} s (${((result.cpuSeconds / result.items) * 1e6).toFixed(1)} µs per item), simulator ${simulatorCpu.toFixed(2)} s`);
    return result;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:stock failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

/**
 * Benchmark: full stock push of N demo SKUs from the ERP (SQLite) to the Shopify simulator at
 * a restore rate of 1,000 points/s (Shopify Plus).
 *
 *   npm run bench:stock                    # 100,000 SKUs
 *   npm run bench:stock -- --products 20000
 *
 * Processes: the Temporal dev server and the Shopify simulator run as their own processes; the
 * worker runs in this one, so the RSS figure is the worker's (plus this small driver).
 *
 * The simulator's bucket is set to one second of restore (1,000 points) rather than Plus's
 * 10,000, so the run measures the sustained rate and not a burst. The theoretical ceiling over
 * a run of T seconds is (bucket + rate·T) / 10 points per call × 250 items per call / T.
 *
 * The SKU → inventory item crosswalk is loaded before the measured run, as it is after a
 * shop's first sync (resolving 100,000 SKUs through productVariants costs ~200,000 points,
 * ~200 s at this rate, once); that one-off is reported separately when --cold is given.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../config/load';
import { builtInConnectors } from '../connectors/registry';
import { createLogger } from '../observability/logger';
import { seedDemoErp } from '../sandbox/erp/seed';
import { demoHubConfigYaml } from '../sandbox/demo-hub-config';
import { openStateStore } from '../state/kysely-store';
import { startTemporalDevServer } from '../temporal/dev-server';
import { stockSyncStartOptions } from '../temporal/stock-sync-starts';
import { INVENTORY_ITEM_CROSSWALK } from '../connectors/shopify/stock-target';
import { createHubWorkers, installTemporalRuntime } from '../worker';
import { stockSync, type StockSyncProgress } from '../workflows/stock-sync';

const REPO = resolve(__dirname, '..');
const TOKEN = 'shpat_bench';
const RESTORE_RATE = 1000;
const BUCKET = 1000;
const WRITE_COST = 10;
const ITEMS_PER_CALL = 250;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '100000' },
      'page-size': { type: 'string', default: '2500' },
      cold: { type: 'boolean', default: false },
      /** file: the dev server persists to SQLite (as `npm start`); memory: no fsync per event. */
      'temporal-db': { type: 'string', default: 'memory' },
    },
  });
  const products = Number(values.products);
  const pageSize = Number(values['page-size']);
  const logger = createLogger({ level: 'warn' });
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-bench-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const say = (line: string) => process.stdout.write(`${line}\n`);
    say(`omnisync bench:stock — ${products} SKUs, restore ${RESTORE_RATE} points/s, bucket ${BUCKET}, page ${pageSize} SKUs, Temporal dev server db: ${values['temporal-db']}`);

    const seedStart = Date.now();
    await seedDemoErp({ driver: 'sqlite', file: join(dir, 'erp.sqlite') }, { productCount: products, seed: 3 });
    say(`  seeded ERP in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const server = await startTemporalDevServer({ dataDir: values['temporal-db'] === 'file' ? join(dir, 'temporal') : null, port: 0, uiPort: 0, logger });
    cleanups.push(() => server.stop());
    const simulatorUrl = await startSimulatorProcess(products, cleanups);

    mkdirSync(join(dir, 'mappings'));
    copyFileSync(join(REPO, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
    const configFile = join(dir, 'omnisync.yaml');
    writeFileSync(
      configFile,
      demoHubConfigYaml({ temporalAddress: server.address, taskQueue: 'bench', shopifyUrl: simulatorUrl, restoreRate: RESTORE_RATE, bucketSize: BUCKET, pageSize, syncName: 'bench' }),
    );
    const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TOKEN } });

    if (!values.cold) await preloadCrosswalk(config.stateStore, simulatorUrl);

    installTemporalRuntime(logger);
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    // Bundled by another process, as a production worker loads a prebuilt bundle.
    const bundleFile = join(dir, 'workflow-bundle.js');
    await runToCompletion(['--import', 'tsx', 'temporal/workflow-bundle.ts', bundleFile]);
    const workers = await createHubWorkers({ config, logger, connection: nativeConnection, workflowBundle: { codePath: bundleFile } });
    const running = workers.run();
    cleanups.push(async () => {
      workers.shutdown();
      await running;
      await nativeConnection.close();
    });
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    const sync = config.syncs.get('bench')!;

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    cleanups.push(() => clearInterval(sampler));

    const runOnce = async (label: string): Promise<{ result: StockSyncProgress; seconds: number; events: number; activities: number }> => {
      const workflowId = `bench:${label}`;
      const started = Date.now();
      const handle = await client.workflow.start(stockSync, { ...stockSyncStartOptions(config, sync, 'full'), workflowId });
      const result = await handle.result();
      const seconds = (Date.now() - started) / 1000;
      const { events, activities } = await countHistory(client, workflowId);
      return { result, seconds, events, activities };
    };

    const first = await runOnce('first-full');
    const items = first.result.itemsPushed;
    const ceiling = ((BUCKET + RESTORE_RATE * first.seconds) / WRITE_COST) * ITEMS_PER_CALL / first.seconds;
    const sustainedCeiling = (RESTORE_RATE / WRITE_COST) * ITEMS_PER_CALL;
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

    const second = await runOnce('steady-state');
    say('');
    say(`second full sync (nothing changed):`);
    say(`  items pushed           ${second.result.itemsPushed}, SKUs compared ${second.result.itemsRead} in ${second.seconds.toFixed(2)} s (${Math.round(second.result.itemsRead / second.seconds)} SKUs/s)`);
    say(`  history events         ${second.events}`);
    say('');
    say(`peak RSS of the worker process  ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/** Starts the simulator in its own process (as a real shop is elsewhere) and returns its URL. */
async function startSimulatorProcess(products: number, cleanups: Array<() => Promise<void> | void>): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'sandbox/shopify/main.ts', '--port', '0', '--token', TOKEN, '--restore-rate', String(RESTORE_RATE), '--bucket-size', String(BUCKET), '--product-count', String(products)],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(
    () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  );
  return new Promise((resolveUrl, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolveUrl(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with code ${code}: ${output}`)));
  });
}

function runToCompletion(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

/** What a shop's first sync leaves behind: SKU → inventory item for every listed product. */
async function preloadCrosswalk(stateStore: Parameters<typeof openStateStore>[0], simulatorUrl: string): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_sandbox/inventory`, { headers: { 'X-Shopify-Access-Token': TOKEN } });
  const { items } = (await response.json()) as { items: Array<{ sku: string; inventoryItemId: string }> };
  const store = openStateStore(stateStore);
  await store.migrate();
  await store.crosswalk('shopify').put(INVENTORY_ITEM_CROSSWALK, new Map(items.map((i) => [i.sku, i.inventoryItemId])));
  await store.close();
}

/** History events and activity executions over every run of the workflow id (continue-as-new chain). */
async function countHistory(client: Client, workflowId: string): Promise<{ events: number; activities: number }> {
  let events = 0;
  let activities = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    for (const event of history.events ?? []) {
      events++;
      if (event.activityTaskScheduledEventAttributes) activities++;
    }
  }
  return { events, activities };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:stock failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

/**
 * Benchmark: a change of every regular price of N demo products (default 10,000), ERP (SQLite)
 * → Shopify simulator through omnisync's price sync, at a restore rate of 1,000 points/s.
 *
 *   npm run bench:prices                         # 10,000 products
 *   npm run bench:prices -- --products 2000
 *   npm run bench:prices -- --restore-rate 100000  # the throttle never binds: the machine's own limit
 *   npm run bench:prices -- --timeline           # plus mean wait and run time per activity type
 *   npm run bench:prices -- --no-direct          # skip the direct-push baseline
 *
 * What runs: the ERP is seeded (DETAL: every product; PROMO: 25 products, its window moved into
 * the past so no promotion applies), and one price sync gives the shop the regular prices (not
 * measured). Then every DETAL price rises 5 % in SQL (gross half up to the grosz, net from it at
 * the row's VAT rate, so both agree), and the second price sync is measured. A read-back then
 * compares every variant's price in the simulator with the price computed here straight from
 * the ERP tables, and its EU Omnibus metafield with the price before the rise (the lowest of the
 * 30 days before); the benchmark fails (exit 1) unless all of them match.
 *
 * The price mapping is the shipped one with `guard: { maxChangedShare: 100 }`: the default 10 %
 * would hold a change of the whole list for an operator.
 *
 * Baseline: before omnisync's measured run, the same invocation runs bench/direct-price-push.ts
 * (a price push an IT team would write by hand: no Temporal, no state store) against a simulator
 * of its own, and omnisync's throughput and CPU per item are printed as ratios of it.
 *
 * Ceiling: Shopify's `productVariantsBulkUpdate` updates variants of one product per call and
 * costs PRICE_UPDATE_COST (10) points; each demo product has one variant (one SKU). With the
 * simulator's bucket set to one second of restore, the most a run of T seconds can do is
 * (bucket + rate·T) / 10 calls, i.e. items; at 1,000 points/s that is about 100 items/s.
 *
 * Processes: as bench:stock (bench/stock-push.ts): the Temporal dev server, the simulator and
 * the worker (`omnisync worker` with a prebuilt workflow bundle, heap 128 MB) each run as their
 * own process; the worker's CPU and peak RSS (VmHWM) are read from /proc. The SKU → variant and
 * product crosswalk is loaded before the first run, as after a shop's first sync (resolving
 * 10,000 SKUs through productVariants costs about 20,000 points once); the SKUs the shop does not
 * list are looked up by the first run and fail as unknown to the shop in both runs.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DatabaseSync } from '@photostructure/sqlite';
import YAML from 'yaml';
import { connectClient } from '../temporal/connection';
import { parseConfig } from '../config/load';
import { builtInConnectors } from '../connectors/registry';
import { CostPacer } from '../connectors/shopify/cost-pacer';
import { PRICE_UPDATE_COST } from '../connectors/shopify/operations';
import { OMNIBUS_METAFIELD, VARIANT_PRODUCT_CROSSWALK } from '../connectors/shopify/price-target';
import { createLogger } from '../observability/logger';
import { scheduleDemoPromotion, seedDemoErp } from '../sandbox/erp/seed';
import { demoHubConfigYaml } from '../sandbox/demo-hub-config';
import { SimulatorStore } from '../sandbox/shopify/store';
import { openStateStore } from '../state/kysely-store';
import { startTemporalDevServer } from '../temporal/dev-server';
import { syncStartOptions } from '../temporal/sync-starts';
import { priceSync } from '../workflows/price-sync';
import type { SyncProgress } from '../workflows/sync-engine';
import { activityTimeline, commonBenchOptions, countHistory, startBenchWorker, cpuSeconds, REPO, residentMemory, runToCompletion, startSimulatorProcess, waitForPollers } from './support';

const TOKEN = 'shpat_bench';
/** Shopify Plus's restore rate; the bucket is one second of it (see the file comment). */
const DEFAULT_RESTORE_RATE = 1000;
const PRICE_SYNC = 'bench-prices';
const PRICE_MAPPING = 'mappings/prices-bench.yaml';
const DAY_MS = 24 * 60 * 60 * 1000;
/** The price change applied to every DETAL row, in percent. */
const RISE_PERCENT = 5;

type Say = (line: string) => void;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '10000' },
      /** Products per page of the price sync (each page is one staged batch, one push activity). */
      'page-size': { type: 'string', default: '1000' },
      ...commonBenchOptions(DEFAULT_RESTORE_RATE),
    },
  });
  const cpuProfileDir = values['cpu-profile'] === undefined ? undefined : resolve(values['cpu-profile']);
  const products = Number(values.products);
  const pageSize = Number(values['page-size']);
  const restoreRate = Number(values['restore-rate']);
  const bucket = restoreRate;
  const logger = createLogger({ level: 'warn' });
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-bench-prices-'));
  const erpFile = join(dir, 'erp.sqlite');
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  let failed = false;
  try {
    const say: Say = (line) => process.stdout.write(`${line}\n`);
    say(`omnisync bench:prices — ${products} products, restore ${restoreRate} points/s, bucket ${bucket}, page ${pageSize} products, Temporal dev server db: ${values['temporal-db']}, worker heap ${values['worker-heap-mb'] === '0' ? 'Node default' : `${values['worker-heap-mb']} MB`}`);

    const seedStart = Date.now();
    await seedDemoErp({ driver: 'sqlite', file: erpFile }, { productCount: products, seed: 3 });
    // The promotion ended long ago: every SKU's price is its DETAL price, in both runs.
    const now = Date.now();
    await scheduleDemoPromotion({ driver: 'sqlite', file: erpFile }, { startsAt: new Date(now - 30 * DAY_MS), endsAt: new Date(now - 20 * DAY_MS) });
    say(`  seeded ERP in ${((Date.now() - seedStart) / 1000).toFixed(1)} s (PROMO window moved into the past)`);

    const server = await startTemporalDevServer({ dataDir: values['temporal-db'] === 'file' ? join(dir, 'temporal') : null, port: 0, uiPort: 0, logger });
    cleanups.push(() => server.stop());
    const simulator = await startSimulatorProcess({ products, restoreRate, token: TOKEN, cpuProfileDir }, cleanups);

    mkdirSync(join(dir, 'mappings'));
    copyFileSync(join(REPO, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
    const mapping = YAML.parse(readFileSync(join(REPO, 'mappings/prices-erp-to-shopify.yaml'), 'utf8')) as { guard?: Record<string, unknown> };
    // A change of the whole list is what this benchmark measures: the guard must let it pass.
    mapping.guard = { ...mapping.guard, maxChangedShare: 100 };
    writeFileSync(join(dir, PRICE_MAPPING), YAML.stringify(mapping));
    const configFile = join(dir, 'omnisync.yaml');
    writeFileSync(
      configFile,
      demoHubConfigYaml({
        temporalAddress: server.address,
        taskQueue: 'bench',
        shopifyUrl: simulator.url,
        restoreRate,
        bucketSize: bucket,
        pageSize,
        syncName: 'bench',
        priceSync: { name: PRICE_SYNC, mapping: PRICE_MAPPING, pageSize },
      }),
    );
    const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TOKEN } });
    const sync = config.syncs.get(PRICE_SYNC)!;

    // The ready SKU → variant and product map: the simulator's catalogue, built by its own code
    // for the same product count (the ids are deterministic; the read-back checks them).
    const refs = variantRefs(products);
    const refsFile = join(dir, 'variants.json');
    writeFileSync(refsFile, JSON.stringify(Object.fromEntries(refs)));
    await preloadCrosswalk(config.stateStore, refs);

    const heapMb = Number(values['worker-heap-mb']);
    const bundleFile = join(dir, 'workflow-bundle.js');
    await runToCompletion(['--import', 'tsx', 'temporal/workflow-bundle.ts', bundleFile]);
    const worker = startBenchWorker({ configFile, bundleFile, token: TOKEN, heapMb, cpuProfileDir, profileName: 'worker' }, cleanups);
    const workerPid = worker.pid;
    const { connection, client } = await connectClient({ address: server.address, namespace: 'default' });
    cleanups.push(() => connection.close());
    for (const taskQueue of ['bench', 'bench.connector.erp', 'bench.connector.shopify']) await waitForPollers(client, taskQueue);
    const rssAtStart = residentMemory(workerPid).current;

    const runOnce = async (label: string): Promise<{ result: SyncProgress; seconds: number; events: number; activities: number; workerCpu: number; simulatorCpu: number }> => {
      const cpuBefore = { worker: cpuSeconds(workerPid), simulator: cpuSeconds(simulator.pid) };
      const workflowId = `bench:${label}`;
      const started = Date.now();
      const handle = await client.workflow.start(priceSync, { ...syncStartOptions(config, sync, 'full'), workflowId });
      const result = await handle.result();
      const seconds = (Date.now() - started) / 1000;
      const workerCpu = cpuSeconds(workerPid) - cpuBefore.worker;
      const simulatorCpu = cpuSeconds(simulator.pid) - cpuBefore.simulator;
      const { events, activities } = await countHistory(client, workflowId);
      return { result, seconds, events, activities, workerCpu, simulatorCpu };
    };

    const first = await runOnce('first-prices');
    say('');
    say(`first price sync (the shop gets the ERP's regular prices; not measured):`);
    say(`  items pushed           ${first.result.itemsPushed}, failed ${first.result.itemsFailed}, held ${first.result.itemsHeld ?? 0}, in ${first.seconds.toFixed(2)} s (${Math.round(first.result.itemsPushed / first.seconds)} items/s)`);
    if ((first.result.itemsHeld ?? 0) > 0) throw new Error(`the first run held ${first.result.itemsHeld} changes: the guard should hold none`);

    // The prices the shop shows now: the lowest of the last 30 days once they rise (EU Omnibus).
    const before = expectedPrices(erpFile, Date.now());
    const repriced = raiseRegularPrices(erpFile, RISE_PERCENT);
    say(`  every DETAL price +${RISE_PERCENT} % in the ERP: ${repriced} rows`);

    const workerCpuBeforeDirect = cpuSeconds(workerPid);
    const direct = values['no-direct'] ? undefined : await runDirectPush(erpFile, refsFile, products, restoreRate, say);
    if (direct !== undefined) say(`  omnisync's worker      ${(cpuSeconds(workerPid) - workerCpuBeforeDirect).toFixed(2)} s of CPU meanwhile, idle (polling, timers)`);

    await fetch(`${simulator.url}/_sandbox/reset-stats`, { method: 'POST', headers: { 'X-Shopify-Access-Token': TOKEN } });
    const second = await runOnce('second-prices');
    const items = second.result.itemsPushed;
    const ceiling = (bucket + restoreRate * second.seconds) / PRICE_UPDATE_COST / second.seconds;
    const sustainedCeiling = restoreRate / PRICE_UPDATE_COST;
    const rate = items / second.seconds;
    const stats = (await (await fetch(`${simulator.url}/_sandbox/stats`, { headers: { 'X-Shopify-Access-Token': TOKEN } })).json()) as { throttled: number; requests: number };
    say('');
    say(`second price sync (every DETAL price +${RISE_PERCENT} %; measured):`);
    say(`  SKUs read              ${second.result.itemsRead}`);
    say(`  items pushed           ${items} (one SKU per product call), failed ${second.result.itemsFailed}, held ${second.result.itemsHeld ?? 0}, pages ${second.result.pagesRead}, executions ${second.result.executions}`);
    say(`  wall time              ${second.seconds.toFixed(2)} s`);
    say(`  throughput             ${rate.toFixed(1)} items/s`);
    say(`  theoretical ceiling    ${ceiling.toFixed(1)} items/s over this run (sustained: ${sustainedCeiling} items/s)`);
    say(`  ratio to ceiling       ${((rate / ceiling) * 100).toFixed(1)} %`);
    say(`  THROTTLED answers      ${stats.throttled} of ${stats.requests} requests`);
    say(`  history events         ${second.events} (${((second.events / items) * 1000).toFixed(2)} per 1,000 items)`);
    say(`  activity executions    ${second.activities} (${((second.activities / items) * 1000).toFixed(2)} per 1,000 items)`);
    say(`  CPU used               worker ${second.workerCpu.toFixed(2)} s (${((second.workerCpu / items) * 1e6).toFixed(1)} µs per item), simulator ${second.simulatorCpu.toFixed(2)} s, over ${second.seconds.toFixed(2)} s on ${availableParallelism()} cores`);
    if (direct !== undefined) {
      const directRate = direct.items / direct.seconds;
      const omnisyncCpuPerItem = second.workerCpu / items;
      const directCpuPerItem = direct.cpuSeconds / direct.items;
      say(`  vs direct push         ${(rate / directRate).toFixed(2)} × its throughput, ${(omnisyncCpuPerItem / directCpuPerItem).toFixed(1)} × its CPU per item (worker ${(omnisyncCpuPerItem * 1e6).toFixed(1)} µs vs ${(directCpuPerItem * 1e6).toFixed(1)} µs)`);
    }
    if (values.timeline) for (const line of await activityTimeline(client, 'bench:second-prices')) say(line);

    say('');
    const readBack = await readBackPrices(simulator.url, restoreRate, erpFile, refs, before);
    say(`read-back: ${readBack.matching}/${readBack.listed} prices as expected (${readBack.notListed} ERP SKUs the shop does not list; omnisync failed ${second.result.itemsFailed})`);
    say(`read-back: ${readBack.omnibusMatching}/${readBack.listed} EU Omnibus lowest prior prices as expected (the price before the rise)`);
    for (const line of readBack.examples) say(`  ${line}`);
    if (readBack.matching < readBack.listed || readBack.omnibusMatching < readBack.listed || readBack.listed === 0) failed = true;
    say('');
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    say(`peak RSS of the worker process  ${mb(residentMemory(workerPid).peak)} MB (${mb(rssAtStart)} MB when it was ready, before any sync)`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  if (failed) {
    process.stderr.write('bench:prices failed: the read-back found prices (or Omnibus prices) other than expected\n');
    process.exit(1);
  }
}

/** SKU → the variant and product of each product the simulator lists (its own catalogue code). */
function variantRefs(products: number): Map<string, { variant: string; product: string }> {
  const refs = new Map<string, { variant: string; product: string }>();
  for (const item of new SimulatorStore({ productCount: products }).priceSnapshot()) {
    if (item.sku !== null) refs.set(item.sku, { variant: item.variantId, product: item.productId });
  }
  return refs;
}

/** What a shop's first sync leaves behind: SKU → variant and product for every listed product. */
async function preloadCrosswalk(stateStore: Parameters<typeof openStateStore>[0], refs: ReadonlyMap<string, { variant: string; product: string }>): Promise<void> {
  const store = openStateStore(stateStore);
  await store.migrate();
  // The crosswalk's encoding of a VariantRef (connectors/shopify/price-target.ts).
  await store.crosswalk('shopify').put(VARIANT_PRODUCT_CROSSWALK, new Map([...refs].map(([sku, ref]) => [sku, JSON.stringify({ variant: ref.variant, product: ref.product })])));
  await store.close();
}

/**
 * Raises every DETAL price by `percent` in one UPDATE, in whole grosze: gross half up, net from
 * the new gross at the row's VAT rate, half up (as the seed computes them), so both agree.
 */
function raiseRegularPrices(erpFile: string, percent: number): number {
  const db = new DatabaseSync(erpFile, { timeout: 5000 });
  try {
    const result = db
      .prepare(
        `with n as (
           select id, (cast(round(brutto * 100) as integer) * (100 + ${percent}) + 50) / 100 as g, cast(round(stawka_vat) as integer) as v
           from ceny where cennik_id = (select id from cenniki where symbol = 'DETAL')
         ), m as (select id, g, (2 * g * 100 + 100 + v) / (2 * (100 + v)) as net from n)
         update ceny set brutto = printf('%d.%02d', m.g / 100, m.g % 100), netto = printf('%d.%02d', m.net / 100, m.net % 100), zmodyfikowano = ?
         from m where ceny.id = m.id`,
      )
      .run(new Date().toISOString());
    return result.changes;
  } finally {
    db.close();
  }
}

interface DirectPushResult {
  items: number;
  seconds: number;
  requests: number;
  throttled: number;
  cpuSeconds: number;
}

/** The baseline: bench/direct-price-push.ts against a fresh simulator of its own. Prints its figures. */
async function runDirectPush(erpFile: string, refsFile: string, products: number, restoreRate: number, say: Say): Promise<DirectPushResult> {
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const simulator = await startSimulatorProcess({ products, restoreRate, token: TOKEN }, cleanups);
    const simulatorCpuBefore = cpuSeconds(simulator.pid);
    const output = await runToCompletion(
      ['--import', 'tsx', 'bench/direct-price-push.ts', '--erp', erpFile, '--url', simulator.url, '--token', TOKEN, '--restore-rate', String(restoreRate), '--bucket', String(restoreRate), '--variants', refsFile],
      { captureStdout: true },
    );
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as DirectPushResult;
    const simulatorCpu = cpuSeconds(simulator.pid) - simulatorCpuBefore;
    const rate = result.items / result.seconds;
    const ceiling = (restoreRate + restoreRate * result.seconds) / PRICE_UPDATE_COST / result.seconds;
    say('');
    say('direct push (baseline: no Temporal, no state store; same machine, same throttle):');
    say(`  items pushed           ${result.items} in ${result.requests} requests, ${result.throttled} THROTTLED`);
    say(`  wall time              ${result.seconds.toFixed(2)} s`);
    say(`  throughput             ${rate.toFixed(1)} items/s, ${((rate / ceiling) * 100).toFixed(1)} % of the ceiling`);
    say(`  CPU used               ${result.cpuSeconds.toFixed(2)} s (${((result.cpuSeconds / result.items) * 1e6).toFixed(1)} µs per item), simulator ${simulatorCpu.toFixed(2)} s`);
    return result;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

const READ_BACK_QUERY = /* GraphQL */ `
  query BenchPrices($first: Int!, $after: String) {
    productVariants(first: $first, after: $after) {
      nodes { id sku price compareAtPrice lowest: metafield(namespace: "${OMNIBUS_METAFIELD.namespace}", key: "${OMNIBUS_METAFIELD.key}") { value } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const READ_BACK_PAGE = 250;
/** productVariants: 2 + per variant 1, and 1 for its metafield (scalars are free). */
const READ_BACK_COST = 2 + READ_BACK_PAGE * 2;

/** The price each ERP SKU should show now, in grosze, straight from the ERP tables (DETAL, or a lower PROMO entry valid now). */
function expectedPrices(erpFile: string, at: number): Map<string, { price: number; compareAt: number | null }> {
  const db = new DatabaseSync(erpFile, { readOnly: true, timeout: 5000 });
  try {
    const rows = db
      .prepare(`select t.indeks as sku, l.symbol as list, c.brutto as gross, c.data_od as validFrom, c.data_do as validTo from ceny c join towary t on t.id = c.towar_id join cenniki l on l.id = c.cennik_id`)
      .all() as Array<{ sku: string; list: string; gross: number | string; validFrom: string | null; validTo: string | null }>;
    const regular = new Map<string, number>();
    const promotion = new Map<string, number>();
    for (const row of rows) {
      const valid = (row.validFrom === null || Date.parse(row.validFrom) <= at) && (row.validTo === null || at < Date.parse(row.validTo));
      if (!valid) continue;
      (row.list === 'DETAL' ? regular : promotion).set(row.sku, Math.round(Number(row.gross) * 100));
    }
    const expected = new Map<string, { price: number; compareAt: number | null }>();
    for (const [sku, price] of regular) {
      const promo = promotion.get(sku);
      expected.set(sku, promo !== undefined && promo < price ? { price: promo, compareAt: price } : { price, compareAt: null });
    }
    return expected;
  } finally {
    db.close();
  }
}

/**
 * Every variant's price in the simulator (productVariants through GraphQL, paced), against the
 * expected price of its SKU from the ERP; also checks the variant is the one the ready map named,
 * and that its EU Omnibus metafield holds `lowest`'s price (the price before the rise, in PLN).
 */
async function readBackPrices(
  simulatorUrl: string,
  restoreRate: number,
  erpFile: string,
  refs: ReadonlyMap<string, { variant: string; product: string }>,
  lowest: ReadonlyMap<string, { price: number }>,
): Promise<{ listed: number; matching: number; omnibusMatching: number; notListed: number; examples: string[] }> {
  const expected = expectedPrices(erpFile, Date.now());
  const pacer = new CostPacer({ restoreRate, bucketSize: restoreRate });
  const shop = new Map<string, ShopVariant>();
  let after: string | null = null;
  for (;;) {
    await pacer.acquire(READ_BACK_COST);
    const response = await fetch(`${simulatorUrl}/admin/api/2026-04/graphql.json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': TOKEN },
      body: JSON.stringify({ query: READ_BACK_QUERY, variables: { first: READ_BACK_PAGE, after } }),
    });
    const body = (await response.json()) as {
      data?: { productVariants: { nodes: Array<ShopVariant & { sku: string | null }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
      extensions?: { cost?: { actualQueryCost?: number; throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } } };
    };
    const cost = body.extensions?.cost;
    if (cost) {
      pacer.refund(READ_BACK_COST - (cost.actualQueryCost ?? 0));
      pacer.observe(cost.throttleStatus);
    }
    if (body.errors?.some((error) => error.extensions?.code === 'THROTTLED')) {
      await new Promise((r) => setTimeout(r, pacer.waitFor(READ_BACK_COST, cost?.throttleStatus.currentlyAvailable ?? 0)));
      continue;
    }
    if (!response.ok || body.errors || !body.data) throw new Error(`read-back failed: HTTP ${response.status} ${JSON.stringify(body.errors)}`);
    for (const node of body.data.productVariants.nodes) if (node.sku !== null) shop.set(node.sku, node);
    if (!body.data.productVariants.pageInfo.hasNextPage) break;
    after = body.data.productVariants.pageInfo.endCursor;
  }
  const cents = (amount: string | null) => (amount === null ? null : Math.round(Number(amount) * 100));
  const examples: string[] = [];
  let matching = 0;
  let omnibusMatching = 0;
  for (const [sku, got] of shop) {
    const want = expected.get(sku);
    const ok = want !== undefined && refs.get(sku)?.variant === got.id && cents(got.price) === want.price && cents(got.compareAtPrice) === want.compareAt;
    if (ok) matching++;
    else if (examples.length < 5) examples.push(`${sku}: expected ${JSON.stringify(want)} (grosze), shop has ${JSON.stringify(got)}`);
    const omnibus = omnibusAmount(got.lowest?.value);
    const wantLowest = lowest.get(sku)?.price;
    if (wantLowest !== undefined && omnibus?.currency === 'PLN' && cents(omnibus.amount) === wantLowest) omnibusMatching++;
    else if (examples.length < 5) examples.push(`${sku}: expected an Omnibus lowest price of ${wantLowest} grosze, shop has ${JSON.stringify(got.lowest)}`);
  }
  const notListed = [...expected.keys()].filter((sku) => !shop.has(sku)).length;
  return { listed: shop.size, matching, omnibusMatching, notListed, examples };
}

interface ShopVariant {
  id: string;
  price: string;
  compareAtPrice: string | null;
  lowest: { value: string } | null;
}

/** A `money` metafield's value, `{"amount": "19.99", "currency_code": "PLN"}`; undefined when it is none. */
function omnibusAmount(value: string | undefined): { amount: string; currency: string } | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as { amount?: unknown; currency_code?: unknown };
    return typeof parsed.amount === 'string' && typeof parsed.currency_code === 'string' ? { amount: parsed.amount, currency: parsed.currency_code } : undefined;
  } catch {
    return undefined;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:prices failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

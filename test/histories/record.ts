/**
 * Records the stockSync and priceSync histories that test/replay/ replays.
 *
 *   npx tsx test/histories/record.ts            # both
 *   npx tsx test/histories/record.ts price      # only the price histories (or: stock)
 *
 * Starts a Temporal dev server (as `createTestEnvironment()` does for the tests), hub fixtures
 * (sandbox ERP + Shopify simulator) and in-process workers, and writes every execution of each
 * recorded run's continue-as-new chain to `test/histories/<entity>-sync-<run>-<n>.json` (n from
 * 1, in chain order) in the SDK's JSON history form (`historyToJSON`), which
 * `Worker.runReplayHistory` reads back:
 *
 * - stock: one full and one delta stockSync (`stock-sync-full-<n>`, `stock-sync-delta-<n>`);
 * - price: a priceSync whose guard holds a 90 %-down mistake on a few SKUs, approved through the
 *   `decideHeldChanges` update (`price-sync-held-<n>`), and one started as a schedule starts it
 *   (`followValidity: true`) while a promotion starts a few seconds later and ends a few seconds
 *   after that: it waits on durable timers and continues as new at each (`price-sync-promotion-<n>`).
 *
 * Files of the entities recorded are removed first; the other entity's files are left alone.
 * Re-record only when a workflow change is meant to break old histories; see README.md here.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { History } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatabaseSync } from '@photostructure/sqlite';
import YAML from 'yaml';
import { createHubFixture } from '../support/hub-fixture';
import { WORKFLOWS_PATH, createHubWorkers, installTemporalRuntime } from '../../worker';
import { temporalDevServerExecutable } from '../../temporal/cli-binary';
import { OMNISYNC_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions } from '../../temporal/sync-starts';
import { stockSync } from '../../workflows/stock-sync';
import { decideHeldChangesUpdate, heldChangesQuery, priceSync } from '../../workflows/price-sync';
import { scheduleDemoPromotion, simulateErpSales } from '../../sandbox/erp/seed';
import type { StockReadMode } from '../../connectors/contract';
import type { Logger } from 'pino';

const HISTORIES_DIR = __dirname;
const SYNC = 'erp-stock-to-shopify';
/** 3 pages of 100 SKUs and 2 pages per execution: every run continues as new at least once. */
const PRODUCTS = 300;
const PAGE_SIZE = 100;
const PAGES_PER_EXECUTION = 2;
/** SKUs sold in the ERP between the full and the delta run, so the delta history has pushes. */
const SALES = 12;
/** Replaces worker and client identities (pid@hostname) and sticky queue names built from them. */
const RECORDED_IDENTITY = 'omnisync-history-recorder';

const PRICE_SYNC = 'erp-prices-to-shopify';
/** The price hub: 2 pages of 150 SKUs (and the empty page that ends a run), all staged in one execution. */
const PRICE_PRODUCTS = 300;
const PRICE_PAGE_SIZE = 150;
const PRICE_TASK_QUEUE = 'omnisync-history-prices';
/** The shipped price mapping without its margin floor, which would lift a 90 % drop to cost + 5 %. */
const PRICE_MAPPING = 'mappings/prices-recorded.yaml';
/** Products whose regular price is set to a tenth (a decimal point one place too far left). */
const MISTAKEN_PRODUCT_IDS = [11, 12, 13, 14, 15];
/** A product with a legitimate change (+2 %) in the same run: pushed at once, not held. */
const CHANGED_PRODUCT_ID = 21;
/** The promotion starts this long after the run is started, and lasts this long. */
const PROMOTION_STARTS_IN_MS = 6_000;
const PROMOTION_LASTS_MS = 5_000;
/** Longest wait for a run to finish or to hold its changes. */
const RUN_TIMEOUT_MS = 120_000;

const ENTITIES = ['stock', 'price'] as const;
type Entity = (typeof ENTITIES)[number];
/** What record.ts writes, per entity: `<entity>-sync-<run>-<n>.json`. */
const HISTORY_FILE_PATTERNS: Record<Entity, RegExp> = {
  stock: /^stock-sync-(full|delta)-(\d+)\.json$/,
  price: /^price-sync-(held|promotion)-(\d+)\.json$/,
};
type PriceRun = 'held' | 'promotion';
type RecordedRun = StockReadMode | PriceRun;

/** The workflow id a recorded run had; the replay tests pass the same one (test/replay/recorded-histories.ts). */
function recordedWorkflowId(entity: Entity, run: RecordedRun): string {
  return `${entity}-sync:${entity === 'stock' ? SYNC : PRICE_SYNC}:${run}:recorded`;
}

function historyFileName(entity: Entity, run: RecordedRun, n: number): string {
  return `${entity}-sync-${run}-${n}.json`;
}

interface Recording {
  entity: Entity;
  run: RecordedRun;
  /** Every execution of the run's chain, first first. */
  histories: History[];
}

/**
 * Identities and sticky task queue names carry the recording machine's pid and host name. Replay
 * reads neither (the replay worker uses its own queue), so they are replaced by fixed strings.
 */
function scrubIdentities(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubIdentities);
  if (value !== null && typeof value === 'object') {
    const sticky = (value as { kind?: unknown }).kind === 'TASK_QUEUE_KIND_STICKY';
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => {
        if (typeof inner === 'string' && key === 'identity') return [key, RECORDED_IDENTITY];
        if (typeof inner === 'string' && key === 'name' && sticky) return [key, `${RECORDED_IDENTITY}-sticky`];
        return [key, scrubIdentities(inner)];
      }),
    );
  }
  return value;
}

/**
 * `historyToJSON` from '@temporalio/common/lib/proto-utils', done with the protobufjs copy that
 * built the proto root. In this install npm nests one protobufjs 8 under @temporalio/common and
 * another under @temporalio/proto (the top level holds grpc's protobufjs 7), and protojson's
 * `instanceof Type` check fails across copies ("type must be a Type"). Same output format.
 */
function historyToJson(history: History): unknown {
  const fromProto = createRequire(createRequire(__filename).resolve('@temporalio/proto'));
  const protojson = fromProto('protobufjs/ext/protojson') as { toJson(type: unknown, message: unknown): unknown };
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

function toHistoryJson(history: History): string {
  return `${JSON.stringify(scrubIdentities(historyToJson(history)), null, 2)}\n`;
}

/**
 * The histories of every execution of a run, first first: from the run the start returned, each
 * execution that continued as new names the next one in its last event. Needs no visibility
 * (eventually consistent), and every execution is closed once the handle's result is in.
 */
async function chainHistories(client: Client, workflowId: string, firstRunId: string): Promise<History[]> {
  const chain: History[] = [];
  for (let runId: string | undefined = firstRunId; runId; ) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    if (!history.events?.[0]?.workflowExecutionStartedEventAttributes) throw new Error(`${workflowId}/${runId}: first event is not WorkflowExecutionStarted`);
    chain.push(history);
    runId = history.events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (chain.length > 20) throw new Error(`${workflowId}: more than 20 executions; not a run to record`);
  }
  return chain;
}

/** Events of a history that carry attributes `key` (e.g. 'timerStartedEventAttributes'). */
function eventsWith(history: History, key: string): number {
  return (history.events ?? []).filter((event) => (event as Record<string, unknown>)[key] != null).length;
}

function must(condition: boolean, what: string): void {
  if (!condition) throw new Error(`recorded history is not what the replay tests expect: ${what}`);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The dev server as `createTestEnvironment()` in test/support/temporal.ts starts it (same CLI
 * lookup, search attributes and address). That helper cannot be imported here: it imports
 * `vitest`, which refuses to load outside the test runner.
 */
async function startTestEnvironment(): Promise<TestWorkflowEnvironment> {
  const fromEnv = process.env.TEMPORAL_CLI;
  const executable = fromEnv ? { type: 'existing-path' as const, path: fromEnv } : await temporalDevServerExecutable({ build: true });
  return TestWorkflowEnvironment.createLocal({
    server: { executable, searchAttributes: [...OMNISYNC_SEARCH_ATTRIBUTES], ip: '127.0.0.1' },
  });
}

interface RecorderContext {
  env: TestWorkflowEnvironment;
  logger: Logger;
  workflowBundle: WorkflowBundle;
}

/** One full and one delta stockSync, 2 pages per execution: each continues as new. */
async function recordStock({ env, logger, workflowBundle }: RecorderContext): Promise<Recording[]> {
  const hub = await createHubFixture({ temporalAddress: env.address, products: PRODUCTS, pageSize: PAGE_SIZE, pagesPerExecution: PAGES_PER_EXECUTION });
  const workers = await createHubWorkers({ config: hub.config, logger, connection: env.nativeConnection, workflowBundle });
  const running = workers.run();
  try {
    const sync = hub.config.syncs.get(SYNC)!;
    const recorded: Recording[] = [];
    for (const mode of ['full', 'delta'] as const) {
      if (mode === 'delta') {
        await simulateErpSales({ driver: 'sqlite', file: hub.erpFile }, { count: SALES, now: new Date(Date.now() + 60_000) });
      }
      const workflowId = recordedWorkflowId('stock', mode);
      const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(hub.config, sync, mode), workflowId });
      const result = await handle.result();
      process.stdout.write(`stock ${mode}: ${JSON.stringify(result)}\n`);
      const histories = await chainHistories(env.client, workflowId, handle.firstExecutionRunId);
      must(histories.length === result.executions, `${workflowId}: ${histories.length} executions in the chain, the run reported ${result.executions}`);
      recorded.push({ entity: 'stock', run: mode, histories });
    }
    return recorded;
  } finally {
    workers.shutdown();
    await running;
    await hub.close();
  }
}

/** The shipped demo price mapping without margin floors (see PRICE_MAPPING). */
function priceMappingWithoutFloors(): string {
  const mapping = YAML.parse(readFileSync(join(HISTORIES_DIR, '../../mappings/prices-erp-to-shopify.yaml'), 'utf8')) as { channels: Record<string, Record<string, unknown>> };
  for (const channel of Object.values(mapping.channels)) delete channel.minimumMarginPercent;
  return YAML.stringify(mapping);
}

/** Sets the regular (DETAL) gross and net prices of some products to `factor` × their price. */
function repriceRegular(erpFile: string, factor: number, productIds: readonly number[]): number {
  const db = new DatabaseSync(erpFile, { timeout: 5000 });
  try {
    const result = db
      .prepare(
        `update ceny set brutto = printf('%.2f', round(cast(brutto as real) * ${factor}, 2)),
                         netto = printf('%.2f', round(round(cast(brutto as real) * ${factor}, 2) / (1 + cast(stawka_vat as real) / 100), 2)),
                         zmodyfikowano = ?
         where cennik_id in (select id from cenniki where symbol = 'DETAL') and towar_id in (${productIds.map(Number).join(', ')})`,
      )
      .run(new Date().toISOString());
    return result.changes;
  } finally {
    db.close();
  }
}

/**
 * Price runs on a hub of their own: a first run (not recorded) pushes every price with no
 * promotion running; then a held run and a promotion run, each recorded.
 */
async function recordPrices({ env, logger, workflowBundle }: RecorderContext): Promise<Recording[]> {
  const hub = await createHubFixture({
    temporalAddress: env.address,
    products: PRICE_PRODUCTS,
    pageSize: PRICE_PAGE_SIZE,
    restoreRate: 50_000,
    taskQueue: PRICE_TASK_QUEUE,
    files: { [PRICE_MAPPING]: priceMappingWithoutFloors() },
    priceSync: { name: PRICE_SYNC, pageSize: PRICE_PAGE_SIZE, mapping: PRICE_MAPPING },
  });
  const workers = await createHubWorkers({ config: hub.config, logger, connection: env.nativeConnection, workflowBundle });
  const running = workers.run();
  const erp = { driver: 'sqlite' as const, file: hub.erpFile };
  try {
    const sync = hub.config.syncs.get(PRICE_SYNC)!;
    const recorded: Recording[] = [];

    // The shop gets every regular price; the promotion ended an hour ago.
    await scheduleDemoPromotion(erp, { startsAt: new Date(Date.now() - 2 * 3600_000), endsAt: new Date(Date.now() - 3600_000) });
    const first = await env.client.workflow.start(priceSync, { ...syncStartOptions(hub.config, sync, 'full'), workflowId: `price-sync:${PRICE_SYNC}:full:first` });
    await first.result();

    {
      must(repriceRegular(hub.erpFile, 0.1, MISTAKEN_PRODUCT_IDS) === MISTAKEN_PRODUCT_IDS.length, 'the mistaken prices were written');
      must(repriceRegular(hub.erpFile, 1.02, [CHANGED_PRODUCT_ID]) === 1, 'the legitimate change was written');
      const workflowId = recordedWorkflowId('price', 'held');
      const handle = await env.client.workflow.start(priceSync, { ...syncStartOptions(hub.config, sync, 'full'), workflowId });
      const held = await waitFor(
        'the held run to wait for a decision',
        async () => {
          const state = await handle.query(heldChangesQuery).catch(() => undefined);
          return state?.waiting === true ? state : undefined;
        },
        RUN_TIMEOUT_MS,
      );
      must(held.heldByTarget.shopify === MISTAKEN_PRODUCT_IDS.length, `the guard holds the ${MISTAKEN_PRODUCT_IDS.length} mistaken prices (holds ${JSON.stringify(held)})`);
      await handle.executeUpdate(decideHeldChangesUpdate, { args: [{ approve: true, by: RECORDED_IDENTITY }] });
      const result = await handle.result();
      process.stdout.write(`price held: ${JSON.stringify(result)}\n`);
      const histories = await chainHistories(env.client, workflowId, handle.firstExecutionRunId);
      must(histories.length === 1, `${workflowId} ran in one execution`);
      must(eventsWith(histories[0]!, 'workflowExecutionUpdateAcceptedEventAttributes') === 1, `${workflowId} accepted one decideHeldChanges update`);
      recorded.push({ entity: 'price', run: 'held', histories });
    }

    {
      const startsAt = new Date(Date.now() + PROMOTION_STARTS_IN_MS);
      await scheduleDemoPromotion(erp, { startsAt, endsAt: new Date(startsAt.getTime() + PROMOTION_LASTS_MS) });
      const workflowId = recordedWorkflowId('price', 'promotion');
      const handle = await env.client.workflow.start(priceSync, { ...syncStartOptions(hub.config, sync, 'full', true), workflowId });
      const result = await handle.result();
      process.stdout.write(`price promotion (last execution): ${JSON.stringify(result)}\n`);
      const histories = await chainHistories(env.client, workflowId, handle.firstExecutionRunId);
      // Waits for the start, then for the end, then ends: three executions.
      must(histories.length === 3, `${workflowId} ran in 3 executions (ran in ${histories.length})`);
      for (const history of histories.slice(0, -1)) {
        must(eventsWith(history, 'timerStartedEventAttributes') === 1 && eventsWith(history, 'workflowExecutionContinuedAsNewEventAttributes') === 1, `${workflowId}: every execution but the last waits on a timer and continues as new`);
      }
      recorded.push({ entity: 'price', run: 'promotion', histories });
    }
    return recorded;
  } finally {
    workers.shutdown();
    await running;
    await hub.close();
  }
}

function entitiesToRecord(args: readonly string[]): Entity[] {
  if (args.length === 0) return [...ENTITIES];
  for (const arg of args) {
    if (!(ENTITIES as readonly string[]).includes(arg)) throw new Error(`unknown entity "${arg}": record.ts [${ENTITIES.join('|')}]...`);
  }
  return ENTITIES.filter((entity) => args.includes(entity));
}

async function main(): Promise<void> {
  const entities = entitiesToRecord(process.argv.slice(2));
  const logger = createLogger({ level: 'warn' });
  installTemporalRuntime(logger);
  const env = await startTestEnvironment();
  try {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });
    const recorded: Recording[] = [];
    if (entities.includes('stock')) recorded.push(...(await recordStock({ env, logger, workflowBundle })));
    if (entities.includes('price')) recorded.push(...(await recordPrices({ env, logger, workflowBundle })));

    for (const file of readdirSync(HISTORIES_DIR)) {
      if (entities.some((entity) => HISTORY_FILE_PATTERNS[entity].test(file))) rmSync(join(HISTORIES_DIR, file));
    }
    for (const { entity, run, histories } of recorded) {
      histories.forEach((history, i) => {
        const file = historyFileName(entity, run, i + 1);
        const json = toHistoryJson(history);
        writeFileSync(join(HISTORIES_DIR, file), json);
        process.stdout.write(`wrote test/histories/${file} (${history.events?.length ?? 0} events, ${json.length} bytes)\n`);
      });
    }
  } finally {
    await env.teardown();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`recording failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

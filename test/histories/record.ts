/**
 * Records the stockSync histories that test/replay/stock-sync-replay.test.ts replays.
 *
 *   npx tsx test/histories/record.ts
 *
 * Starts a Temporal dev server (as `createTestEnvironment()` does for the tests), a hub fixture (sandbox ERP + Shopify
 * simulator) and an in-process worker, runs one full and one delta stock sync, and writes every
 * execution of each continue-as-new chain to `test/histories/stock-sync-<mode>-<n>.json` (n from
 * 1, in chain order) in the SDK's JSON history form (`historyToJSON`), which
 * `Worker.runReplayHistory` reads back. Files from an earlier recording are removed first.
 *
 * Re-record only when a workflow change is meant to break old histories; see README.md here.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { History } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHubFixture } from '../support/hub-fixture';
import { WORKFLOWS_PATH, createHubWorkers, installTemporalRuntime } from '../../worker';
import { temporalDevServerExecutable } from '../../temporal/cli-binary';
import { OMNISYNC_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions } from '../../temporal/sync-starts';
import { stockSync } from '../../workflows/stock-sync';
import { simulateErpSales } from '../../sandbox/erp/seed';
import type { StockReadMode } from '../../connectors/contract';

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

const HISTORY_FILE_PATTERN = /^stock-sync-(full|delta)-(\d+)\.json$/;

/** The workflow id a recorded run had; the replay test passes the same one. */
function recordedWorkflowId(mode: StockReadMode): string {
  return `stock-sync:${SYNC}:${mode}:recorded`;
}

function historyFileName(mode: StockReadMode, n: number): string {
  return `stock-sync-${mode}-${n}.json`;
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
 * The histories of every execution of a workflow id, first run first. Visibility is eventually
 * consistent, so this waits until the list shows as many runs as the workflow reported.
 */
async function chainHistories(client: Client, workflowId: string, executions: number): Promise<History[]> {
  let runIds: string[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    runIds = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runIds.push(wf.runId);
    if (runIds.length >= executions) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (runIds.length !== executions) throw new Error(`${workflowId}: expected ${executions} executions, visibility lists ${runIds.length}`);

  // Order by the chain itself: each run's start event names the run it continues.
  const byPrevious = new Map<string, { runId: string; history: History }>();
  for (const runId of runIds) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) throw new Error(`${workflowId}/${runId}: first event is not WorkflowExecutionStarted`);
    byPrevious.set(started.continuedExecutionRunId || '', { runId, history });
  }
  const chain: History[] = [];
  let previous = '';
  for (let next = byPrevious.get(previous); next; next = byPrevious.get(previous)) {
    chain.push(next.history);
    previous = next.runId;
  }
  if (chain.length !== executions) throw new Error(`${workflowId}: could not order the ${executions} runs into one chain`);
  return chain;
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

async function main(): Promise<void> {
  const logger = createLogger({ level: 'warn' });
  installTemporalRuntime(logger);
  const env = await startTestEnvironment();
  const hub = await createHubFixture({ temporalAddress: env.address, products: PRODUCTS, pageSize: PAGE_SIZE, pagesPerExecution: PAGES_PER_EXECUTION });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });
  const workers = await createHubWorkers({ config: hub.config, logger, connection: env.nativeConnection, workflowBundle });
  const running = workers.run();
  try {
    const sync = hub.config.syncs.get(SYNC)!;
    const recorded = new Map<StockReadMode, History[]>();
    for (const mode of ['full', 'delta'] as const) {
      if (mode === 'delta') {
        await simulateErpSales({ driver: 'sqlite', file: hub.erpFile }, { count: SALES, now: new Date(Date.now() + 60_000) });
      }
      const workflowId = recordedWorkflowId(mode);
      const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(hub.config, sync, mode), workflowId });
      const result = await handle.result();
      process.stdout.write(`${mode}: ${JSON.stringify(result)}\n`);
      recorded.set(mode, await chainHistories(env.client, workflowId, result.executions));
    }

    for (const file of readdirSync(HISTORIES_DIR)) {
      if (HISTORY_FILE_PATTERN.test(file)) rmSync(join(HISTORIES_DIR, file));
    }
    for (const [mode, histories] of recorded) {
      histories.forEach((history, i) => {
        const file = historyFileName(mode, i + 1);
        const json = toHistoryJson(history);
        writeFileSync(join(HISTORIES_DIR, file), json);
        process.stdout.write(`wrote test/histories/${file} (${history.events?.length ?? 0} events, ${json.length} bytes)\n`);
      });
    }
  } finally {
    workers.shutdown();
    await running;
    await hub.close();
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

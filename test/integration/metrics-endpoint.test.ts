/**
 * The worker's metrics endpoint against a real sync: the Temporal runtime installed with the
 * SDK's Prometheus exporter (as `omnisync worker` does with `metrics:`), the hub's workers given
 * the worker's metrics, a stock sync from the demo ERP to the Shopify simulator, and /metrics
 * scraped over HTTP. Its item counters must equal the run's own counts, its cost metrics the
 * simulator's bucket, and the SDK's temporal_ metrics must be in the same answer; a run a
 * schedule starts adds a schedule lag sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createTestEnvironment } from '../support/temporal';
import { createHubFixture, type HubFixture } from '../support/hub-fixture';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { METRIC_NAMES } from '../../observability/metrics';
import { SDK_METRICS_UP } from '../../observability/metrics-server';
import { syncStartOptions, syncWorkflowId, syncWorkflowType } from '../../temporal/sync-starts';
import { WORKFLOWS_PATH, createHubWorkers, startWorkerMetrics, type HubWorkers, type WorkerMetrics } from '../../worker';
import { stockSync } from '../../workflows/stock-sync';
import { DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';
import type { SyncProgress } from '../../workflows/sync-engine';

const SYNC = 'erp-stock-to-shopify';
const PRODUCTS = 520;
const RESTORE_RATE = 1000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus text exposition (enough of the format for these assertions). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]!] = label[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)).reduce((sum, sample) => sum + sample.value, 0);
}

describe('metrics endpoint of a worker running a stock sync', () => {
  let env: TestWorkflowEnvironment;
  let hub: HubFixture;
  let observed: WorkerMetrics;
  let workers: HubWorkers;
  let running: Promise<void>;
  let runs = 0;

  const scrape = async (): Promise<Sample[]> => {
    const response = await fetch(observed.endpoint.url);
    expect(response.status).toBe(200);
    return parseExposition(await response.text());
  };
  const runSync = async (mode: 'full' | 'delta'): Promise<SyncProgress> => {
    const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(hub.config, hub.config.syncs.get(SYNC)!, mode), workflowId: `stock-sync:${SYNC}:${mode}:metrics-${++runs}` });
    return handle.result();
  };

  beforeAll(async () => {
    const logger = createLogger({ level: 'warn' });
    // Before the test server: the runtime is installed once per process, here with the exporter.
    observed = await startWorkerMetrics({ host: '127.0.0.1', port: 0 }, logger);
    env = await createTestEnvironment();
    hub = await createHubFixture({ temporalAddress: env.address, products: PRODUCTS, pageSize: 50, restoreRate: RESTORE_RATE, taskQueue: 'omnisync-metrics' });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });
    workers = await createHubWorkers({ config: hub.config, logger, connection: env.nativeConnection, workflowBundle, metrics: observed.metrics });
    running = workers.run();
  });

  afterAll(async () => {
    workers?.shutdown();
    await running;
    await observed?.endpoint.close();
    await hub?.close();
    await env?.teardown();
  });

  it("counts what the run counted: read, staged, pushed, quarantined; cost and budget as the shop reports them; the SDK's metrics beside them", async () => {
    const result = await runSync('full');
    expect(result.itemsPushed).toBeGreaterThan(0);
    const samples = await scrape();
    const stock = { sync: SYNC, entity: 'stock' };

    expect(total(samples, METRIC_NAMES.itemsRead, { ...stock, connector: 'erp' })).toBe(result.itemsRead);
    expect(total(samples, METRIC_NAMES.itemsStaged, { ...stock, connector: 'shopify' })).toBe(result.itemsChanged);
    expect(total(samples, METRIC_NAMES.itemsPushed, { ...stock, connector: 'shopify' })).toBe(result.itemsPushed);
    // Refused at the target (the demo shop leaves every 250th SKU unlisted) and quarantined while staging.
    expect(result.itemsFailed).toBeGreaterThan(0);
    expect(total(samples, METRIC_NAMES.itemsQuarantined, { ...stock, connector: 'shopify' })).toBe(result.itemsFailed);
    expect(total(samples, METRIC_NAMES.itemsQuarantined, { ...stock, connector: 'shopify', category: 'unknown to target' })).toBe(result.itemsFailed);
    const stagingQuarantined = Object.values(result.quarantinedByCategory ?? {}).reduce((sum, count) => sum + count, 0);
    expect(total(samples, METRIC_NAMES.itemsQuarantined, { ...stock, connector: 'erp' })).toBe(stagingQuarantined);
    // The run's itemsQuarantined counts both.
    expect(total(samples, METRIC_NAMES.itemsQuarantined, stock)).toBe(result.itemsQuarantined);
    // A first run has no last-pushed values: nothing is unchanged yet.
    expect(total(samples, METRIC_NAMES.itemsUnchanged, { ...stock, connector: 'shopify' })).toBe(0);

    const shop = { connector: 'shopify' };
    const calls = total(samples, METRIC_NAMES.apiCalls, shop);
    const spent = total(samples, METRIC_NAMES.apiPointsSpent, shop);
    expect(calls).toBeGreaterThan(0);
    // Every call costs something, and no call more than the whole bucket.
    expect(spent).toBeGreaterThanOrEqual(calls);
    expect(spent).toBeLessThanOrEqual(calls * RESTORE_RATE * 10);
    expect(total(samples, METRIC_NAMES.apiPointsCapacity, shop)).toBe(RESTORE_RATE * 10);
    expect(total(samples, METRIC_NAMES.apiRestoreRate, shop)).toBe(RESTORE_RATE);
    const available = total(samples, METRIC_NAMES.apiPointsAvailable, shop);
    expect(available).toBeGreaterThan(0);
    expect(available).toBeLessThanOrEqual(RESTORE_RATE * 10);
    expect(total(samples, METRIC_NAMES.apiBudget, { connector: 'shopify', unit: 'points' })).toBe(RESTORE_RATE);
    expect(total(samples, METRIC_NAMES.activityFailures)).toBe(0);

    expect(total(samples, SDK_METRICS_UP)).toBe(1);
    const temporal = samples.filter((sample) => sample.name.startsWith('temporal_'));
    expect(temporal.length).toBeGreaterThan(0);
    expect(temporal.some((sample) => sample.name.startsWith('temporal_activity_execution') || sample.name.startsWith('temporal_workflow_completed'))).toBe(true);
  });

  it('a second full run finds every record it pushed unchanged and pushes nothing', async () => {
    const before = await scrape();
    const result = await runSync('full');
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
    const shopify = { sync: SYNC, entity: 'stock', connector: 'shopify' };
    expect(result.itemsPushed).toBe(0);
    expect(delta(METRIC_NAMES.itemsPushed, shopify)).toBe(0);
    expect(delta(METRIC_NAMES.itemsRead, { sync: SYNC, entity: 'stock', connector: 'erp' })).toBe(result.itemsRead);
    // Every record read is unchanged but the ones the shop does not list (parked in the quarantine).
    expect(delta(METRIC_NAMES.itemsUnchanged, shopify)).toBe(result.itemsRead - Math.floor(PRODUCTS / DEMO_UNLISTED_EVERY));
  });

  it('a run a schedule starts adds a schedule lag sample of a few seconds at most', async () => {
    const sync = hub.config.syncs.get(SYNC)!;
    const schedule = await env.client.schedule.create({
      scheduleId: `metrics-test:${SYNC}`,
      // Far from now: the run below is the trigger's.
      spec: { cronExpressions: ['0 0 1 1 *'] },
      action: { type: 'startWorkflow', workflowType: syncWorkflowType(sync), workflowId: syncWorkflowId(sync, 'delta'), ...syncStartOptions(hub.config, sync, 'delta', true) },
      state: { paused: true },
    });
    try {
      await schedule.trigger();
      let started: { workflowId: string; firstExecutionRunId: string } | undefined;
      for (let attempt = 0; attempt < 100 && started === undefined; attempt++) {
        const action = (await schedule.describe()).info.recentActions[0]?.action;
        if (action?.type === 'startWorkflow') started = action.workflow;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(started).toBeDefined();
      await env.client.workflow.getHandle(started!.workflowId, started!.firstExecutionRunId).result();
      const samples = await scrape();
      const lag = { sync: SYNC, entity: 'stock', mode: 'delta' };
      expect(total(samples, `${METRIC_NAMES.scheduleLag}_count`, lag)).toBe(1);
      const seconds = total(samples, `${METRIC_NAMES.scheduleLag}_sum`, lag);
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(10);
    } finally {
      await schedule.delete();
    }
  });
});

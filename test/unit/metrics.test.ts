/**
 * The metrics module (observability/metrics.ts) and its endpoint (observability/metrics-server.ts):
 * what each recording adds to which series, that registries are per worker, and that /metrics
 * serves omnisync's registry followed by the Temporal SDK exporter's text.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { METRIC_NAMES, NO_METRICS, createMetrics, errorClassOf } from '../../observability/metrics';
import { SDK_METRICS_UP, startMetricsEndpoint, type MetricsEndpoint } from '../../observability/metrics-server';
import { CostPacer, clockReportingWaits, type PacerClock } from '../../connectors/shopify/cost-pacer';
import { OmnisyncError, rateLimitedError, toApplicationFailure, transientError } from '../../core/errors';
import { QUARANTINE_CATEGORY } from '../../core/quarantine-categories';

type Metrics = ReturnType<typeof createMetrics>;

/** The value of one series, 0 when it was never recorded. */
async function valueOf(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted) && Object.keys(value.labels).length === Object.keys(labels).length);
  return match?.value ?? 0;
}

const STOCK = { sync: 'erp-stock', entity: 'stock' };

describe('createMetrics', () => {
  it('counts a staged page: read per source, staged and unchanged per target, quarantined per source and category', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.pageStaged({ ...STOCK, source: 'erp' }, { recordsRead: 50, changedByTarget: { shop: 7, other: 0 }, unchangedByTarget: { shop: 40, other: 48 }, quarantinedByCategory: { [QUARANTINE_CATEGORY.invalidSourceRow]: 2 } });
    metrics.pageStaged({ ...STOCK, source: 'erp' }, { recordsRead: 10, changedByTarget: { shop: 1 } });
    expect(await valueOf(metrics, METRIC_NAMES.itemsRead, { ...STOCK, connector: 'erp' })).toBe(60);
    expect(await valueOf(metrics, METRIC_NAMES.itemsStaged, { ...STOCK, connector: 'shop' })).toBe(8);
    expect(await valueOf(metrics, METRIC_NAMES.itemsUnchanged, { ...STOCK, connector: 'shop' })).toBe(40);
    expect(await valueOf(metrics, METRIC_NAMES.itemsUnchanged, { ...STOCK, connector: 'other' })).toBe(48);
    expect(await valueOf(metrics, METRIC_NAMES.itemsQuarantined, { ...STOCK, connector: 'erp', category: QUARANTINE_CATEGORY.invalidSourceRow })).toBe(2);
  });

  it('counts push attempts, failed ones too, with refusals by category (refused by target when the attempt did not say)', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.pushAttempted({ ...STOCK, target: 'shop' }, { pushed: 200, failed: 3, failedByCategory: { [QUARANTINE_CATEGORY.unknownToTarget]: 3 } });
    metrics.pushAttempted({ ...STOCK, target: 'shop' }, { pushed: 50, failed: 1 });
    expect(await valueOf(metrics, METRIC_NAMES.itemsPushed, { ...STOCK, connector: 'shop' })).toBe(250);
    expect(await valueOf(metrics, METRIC_NAMES.itemsQuarantined, { ...STOCK, connector: 'shop', category: QUARANTINE_CATEGORY.unknownToTarget })).toBe(3);
    expect(await valueOf(metrics, METRIC_NAMES.itemsQuarantined, { ...STOCK, connector: 'shop', category: QUARANTINE_CATEGORY.refusedByTarget })).toBe(1);
  });

  it("keeps a connector's cost, bucket, budget and rate-limit waits", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.connectorBudget('shop', { kind: 'cost', pointsPerSecond: 100, bucketSize: 1000 });
    metrics.connectorBudget('erp', { kind: 'unlimited' });
    metrics.connectorBudget('partner', { kind: 'requests', perSecond: 5 });
    const shop = metrics.connector('shop');
    expect(metrics.connector('shop')).toBe(shop);
    shop.costCharged(12, { available: 988, capacity: 1000, restorePerSecond: 100 });
    shop.costCharged(30, { available: 950, capacity: 1000, restorePerSecond: 100 });
    shop.rateLimitWait('pacer', 250);
    shop.rateLimitWait('pacer', 750);
    shop.rateLimitWait('http_429', 2000);
    expect(await valueOf(metrics, METRIC_NAMES.apiPointsSpent, { connector: 'shop' })).toBe(42);
    expect(await valueOf(metrics, METRIC_NAMES.apiCalls, { connector: 'shop' })).toBe(2);
    expect(await valueOf(metrics, METRIC_NAMES.apiPointsAvailable, { connector: 'shop' })).toBe(950);
    expect(await valueOf(metrics, METRIC_NAMES.apiPointsCapacity, { connector: 'shop' })).toBe(1000);
    expect(await valueOf(metrics, METRIC_NAMES.apiRestoreRate, { connector: 'shop' })).toBe(100);
    expect(await valueOf(metrics, METRIC_NAMES.apiBudget, { connector: 'shop', unit: 'points' })).toBe(100);
    expect(await valueOf(metrics, METRIC_NAMES.apiBudget, { connector: 'partner', unit: 'requests' })).toBe(5);
    expect((await metrics.registry.getSingleMetric(METRIC_NAMES.apiBudget)!.get()).values).toHaveLength(2);
    expect(await valueOf(metrics, METRIC_NAMES.rateLimitWaits, { connector: 'shop', reason: 'pacer' })).toBe(2);
    expect(await valueOf(metrics, METRIC_NAMES.rateLimitWaitSeconds, { connector: 'shop', reason: 'pacer' })).toBe(1);
    expect(await valueOf(metrics, METRIC_NAMES.rateLimitWaitSeconds, { connector: 'shop', reason: 'http_429' })).toBe(2);
  });

  it('observes schedule lag in a histogram and counts activity failures by error class', async () => {
    const metrics = createMetrics({ processMetrics: false });
    expect(metrics.recordsScheduleLag).toBe(true);
    metrics.scheduleLag({ ...STOCK, mode: 'delta' }, 3);
    metrics.scheduleLag({ ...STOCK, mode: 'delta' }, -1);
    metrics.activityFailed({ ...STOCK, activity: 'push', connector: 'shop' }, rateLimitedError('slow down', 1000));
    metrics.activityFailed({ ...STOCK, activity: 'push', connector: 'shop' }, rateLimitedError('slow down', 1000));
    metrics.activityFailed({ ...STOCK, activity: 'stage', connector: 'erp' }, new TypeError('boom'));
    const text = await metrics.registry.metrics();
    expect(text).toContain(`${METRIC_NAMES.scheduleLag}_count{sync="erp-stock",entity="stock",mode="delta"} 2`);
    expect(text).toContain(`${METRIC_NAMES.scheduleLag}_sum{sync="erp-stock",entity="stock",mode="delta"} 3`);
    expect(await valueOf(metrics, METRIC_NAMES.activityFailures, { ...STOCK, activity: 'push', connector: 'shop', error_class: 'rate-limited' })).toBe(2);
    expect(await valueOf(metrics, METRIC_NAMES.activityFailures, { ...STOCK, activity: 'stage', connector: 'erp', error_class: 'TypeError' })).toBe(1);
  });

  it('gives every worker a registry of its own, with the Node process metrics under omnisync_', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.pageStaged({ ...STOCK, source: 'erp' }, { recordsRead: 5, changedByTarget: {} });
    expect(await valueOf(second, METRIC_NAMES.itemsRead, { ...STOCK, connector: 'erp' })).toBe(0);
    expect(await first.registry.metrics()).toMatch(/^omnisync_process_cpu_seconds_total /m);
    for (const name of Object.values(METRIC_NAMES)) expect(name).toMatch(/^omnisync_[a-z_]+$/);
  });

  it('NO_METRICS records nothing and never fails', () => {
    NO_METRICS.pageStaged({ ...STOCK, source: 'erp' }, { recordsRead: 1, changedByTarget: {} });
    NO_METRICS.connector('shop').rateLimitWait('pacer', 1);
    expect(NO_METRICS.recordsScheduleLag).toBe(false);
  });
});

describe('errorClassOf', () => {
  it("names the taxonomy's kind, also through an ApplicationFailure, else the error's name", () => {
    expect(errorClassOf(transientError('down'))).toBe('transient');
    expect(errorClassOf(new OmnisyncError('not-found', 'gone'))).toBe('not-found');
    expect(errorClassOf(toApplicationFailure(rateLimitedError('slow', 5)))).toBe('rate-limited');
    expect(errorClassOf(toApplicationFailure(new OmnisyncError('not-found', 'gone')))).toBe('not-found');
    expect(errorClassOf(ApplicationFailure.create({ message: 'x', type: 'SomethingElse' }))).toBe('ApplicationFailure');
    expect(errorClassOf('a string')).toBe('unknown');
  });
});

describe('clockReportingWaits', () => {
  it("reports each of the pacer's waits for points", async () => {
    let now = 0;
    const clock: PacerClock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    const waits: number[] = [];
    const pacer = new CostPacer({ restoreRate: 100, bucketSize: 30 }, clockReportingWaits(clock, (ms) => waits.push(ms)));
    for (let call = 0; call < 4; call++) await pacer.acquire(10);
    expect(waits).toEqual([100]);
  });
});

describe('metrics endpoint', () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  const fakeSdkExporter = async (text: string): Promise<string> => {
    const server = http.createServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/plain' }).end(text));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closing.push(() => new Promise((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  };
  const start = async (sdkMetricsUrl?: string): Promise<{ endpoint: MetricsEndpoint; warnings: unknown[] }> => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.pageStaged({ ...STOCK, source: 'erp' }, { recordsRead: 9, changedByTarget: {} });
    const warnings: unknown[] = [];
    const endpoint = await startMetricsEndpoint({ host: '127.0.0.1', port: 0, registry: metrics.registry, ...(sdkMetricsUrl === undefined ? {} : { sdkMetricsUrl }), logger: { warn: (...args: unknown[]) => warnings.push(args) } });
    closing.push(() => endpoint.close());
    return { endpoint, warnings };
  };

  it("serves omnisync's registry followed by the SDK exporter's text, as one exposition", async () => {
    const sdk = await fakeSdkExporter('# HELP temporal_worker_start Workers started\n# TYPE temporal_worker_start counter\ntemporal_worker_start{service_name="temporal-core-sdk"} 3');
    const { endpoint } = await start(sdk);
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}/metrics`);
    const response = await fetch(endpoint.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('omnisync_items_read_total{sync="erp-stock",entity="stock",connector="erp"} 9');
    expect(text).toContain(`${SDK_METRICS_UP} 1`);
    expect(text.endsWith('temporal_worker_start{service_name="temporal-core-sdk"} 3\n')).toBe(true);
    // Every family once: the two parts never name the same metric.
    const families = [...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]);
    expect(new Set(families).size).toBe(families.length);
  });

  it("still serves omnisync's metrics when the SDK's exporter does not answer, saying so once in the log", async () => {
    const { endpoint, warnings } = await start('http://127.0.0.1:1/metrics');
    for (let scrape = 0; scrape < 2; scrape++) {
      const text = await (await fetch(endpoint.url)).text();
      expect(text).toContain('omnisync_items_read_total');
      expect(text).toContain(`${SDK_METRICS_UP} 0`);
      expect(text).toMatch(/^# Temporal SDK metrics unavailable: /m);
    }
    expect(warnings).toHaveLength(1);
  });

  it('answers 404 elsewhere and 405 to anything but GET', async () => {
    const { endpoint } = await start();
    expect((await fetch(endpoint.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(endpoint.url, { method: 'POST' })).status).toBe(405);
    expect(await (await fetch(endpoint.url)).text()).toContain(`${SDK_METRICS_UP} 0`);
  });
});

/**
 * The worker's Prometheus metrics (docs/operations.md, "Metrics"): what its syncs read, push,
 * find unchanged and quarantine, what the connectors' remote systems allow and how much of it is
 * spent, how long calls waited for a rate limit, how late scheduled runs start, and which
 * activities fail with what class of error.
 *
 * One registry per worker, built by `createMetrics` and handed to what records (activities, the
 * connector pool): no global registry, so tests and several workers in one process never count
 * into each other. Code that runs without metrics gets `NO_METRICS`.
 *
 * Labels are names from the config (sync, connector), entities, activity roles, quarantine
 * categories and error classes: bounded sets. Never a SKU, a value or a message.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OmnisyncError } from '../core/errors';
import { QUARANTINE_CATEGORY } from '../core/quarantine-categories';

/** Where a connector's numbers come from: what the Shopify cost pacer and client report. */
export interface ConnectorMetrics {
  /** A call was answered with its cost: the points the remote system charged, and its bucket now. */
  costCharged(points: number, bucket: { available: number; capacity: number; restorePerSecond: number }): void;
  /**
   * A call waited for the rate limit, `ms` long: `pacer` (our own model of the bucket held it
   * back), `throttled` (the remote system refused it as over the limit and we waited before
   * asking again), `http_429` (an HTTP 429; `ms` is the wait it asked for).
   */
  rateLimitWait(reason: RateLimitWaitReason, ms: number): void;
}

export type RateLimitWaitReason = 'pacer' | 'throttled' | 'http_429';

/** A connector's configured budget (connectors/contract.ts RateBudget), as far as metrics need it. */
export type BudgetForMetrics = { kind: 'unlimited' } | { kind: 'requests'; perSecond: number } | { kind: 'cost'; pointsPerSecond: number; bucketSize: number };

/** The part of a staged page's result the metrics count (engine/stage.ts StagePageResult). */
export interface StagedPageCounts {
  recordsRead: number;
  changedByTarget: Record<string, number>;
  unchangedByTarget?: Record<string, number>;
  quarantinedByCategory?: Record<string, number>;
}

/** What one push attempt did (engine/push.ts), counted whether the attempt ended well or not. */
export interface PushAttemptCounts {
  pushed: number;
  failed: number;
  failedByCategory?: Record<string, number>;
}

export interface SyncScope {
  sync: string;
  entity: string;
}

export interface OmnisyncMetrics {
  /** A page was read from `source` and staged. */
  pageStaged(scope: SyncScope & { source: string }, counts: StagedPageCounts): void;
  /** A push attempt to `target` ended (also a failed or cancelled one: what it confirmed was written). */
  pushAttempted(scope: SyncScope & { target: string }, counts: PushAttemptCounts): void;
  /** An activity attempt failed; `connector` is the connector it worked on ('' for hub bookkeeping). */
  activityFailed(scope: SyncScope & { activity: string; connector: string }, error: unknown): void;
  /** A run a schedule started took its first step `seconds` after the time it was scheduled for. */
  scheduleLag(scope: SyncScope & { mode: string }, seconds: number): void;
  /** Whether scheduleLag is recorded (the plan activity skips looking it up otherwise). */
  readonly recordsScheduleLag: boolean;
  /** The configured budget of a connector (set once at start). */
  connectorBudget(connector: string, budget: BudgetForMetrics): void;
  /** What a connector instance's client reports into. */
  connector(connector: string): ConnectorMetrics;
  /** The webhook receiver answered an event from `source` (a configured source id, or '(unknown)'). */
  webhookAnswered(source: string, outcome: string): void;
}

const NO_CONNECTOR_METRICS: ConnectorMetrics = { costCharged: () => undefined, rateLimitWait: () => undefined };

/** Records nothing: for code run without a metrics endpoint (CLI commands, tests). */
export const NO_METRICS: OmnisyncMetrics = {
  webhookAnswered: () => undefined,
  pageStaged: () => undefined,
  pushAttempted: () => undefined,
  activityFailed: () => undefined,
  scheduleLag: () => undefined,
  recordsScheduleLag: false,
  connectorBudget: () => undefined,
  connector: () => NO_CONNECTOR_METRICS,
};

/** Every metric name this module registers, with what it means (docs, the dashboard's test). */
export const METRIC_NAMES = {
  itemsRead: 'omnisync_items_read_total',
  itemsStaged: 'omnisync_items_staged_total',
  itemsUnchanged: 'omnisync_items_unchanged_total',
  itemsPushed: 'omnisync_items_pushed_total',
  itemsQuarantined: 'omnisync_items_quarantined_total',
  apiPointsSpent: 'omnisync_api_points_spent_total',
  apiCalls: 'omnisync_api_calls_total',
  apiPointsAvailable: 'omnisync_api_points_available',
  apiPointsCapacity: 'omnisync_api_points_capacity',
  apiRestoreRate: 'omnisync_api_restore_rate',
  apiBudget: 'omnisync_api_budget_per_second',
  rateLimitWaits: 'omnisync_rate_limit_waits_total',
  rateLimitWaitSeconds: 'omnisync_rate_limit_wait_seconds_total',
  scheduleLag: 'omnisync_schedule_lag_seconds',
  activityFailures: 'omnisync_activity_failures_total',
  webhookEvents: 'omnisync_webhook_events_total',
} as const;

/** Prefix of the Node process metrics (prom-client's defaults) on the same registry. */
export const PROCESS_METRICS_PREFIX = 'omnisync_';

/**
 * Schedule lag buckets (seconds): a healthy start is within seconds; minutes mean a worker was
 * missing or busy; the top buckets catch runs that waited through an outage.
 */
const SCHEDULE_LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The error class of a failure: the taxonomy's kind (core/errors.ts), else the error's name. */
export function errorClassOf(error: unknown): string {
  if (error instanceof OmnisyncError) return error.kind;
  if (error instanceof Error) {
    // An ApplicationFailure built from an OmnisyncError carries its type (OmnisyncTransientError…).
    const type = (error as { type?: unknown }).type;
    if (typeof type === 'string' && type.startsWith('Omnisync') && type.endsWith('Error')) return kebab(type.slice('Omnisync'.length, -'Error'.length));
    return error.name || 'Error';
  }
  return 'unknown';
}

function kebab(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

export interface CreateMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag) as omnisync_process_…, omnisync_nodejs_…. Default true. */
  processMetrics?: boolean;
}

/** A registry of its own with every omnisync metric, and the recorder that fills it. */
export function createMetrics(options: CreateMetricsOptions = {}): OmnisyncMetrics & { readonly registry: Registry } {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: PROCESS_METRICS_PREFIX });
  const registers = [registry];
  const syncLabels = ['sync', 'entity', 'connector'] as const;

  const itemsRead = new Counter({ name: METRIC_NAMES.itemsRead, help: 'Records (SKUs) read from the source connector', labelNames: syncLabels, registers });
  const itemsStaged = new Counter({ name: METRIC_NAMES.itemsStaged, help: 'Changes staged for the target connector (held ones included)', labelNames: syncLabels, registers });
  const itemsUnchanged = new Counter({
    name: METRIC_NAMES.itemsUnchanged,
    help: 'Records read whose values at the target connector equal the last pushed ones (nothing to push)',
    labelNames: syncLabels,
    registers,
  });
  const itemsPushed = new Counter({ name: METRIC_NAMES.itemsPushed, help: 'Items the target connector confirmed', labelNames: syncLabels, registers });
  const itemsQuarantined = new Counter({
    name: METRIC_NAMES.itemsQuarantined,
    help: 'Records quarantined: while staging (connector = the source) or refused by the target (connector = the target), by category',
    labelNames: [...syncLabels, 'category'],
    registers,
  });
  const apiPointsSpent = new Counter({ name: METRIC_NAMES.apiPointsSpent, help: 'API cost points the remote system charged', labelNames: ['connector'], registers });
  const apiCalls = new Counter({ name: METRIC_NAMES.apiCalls, help: 'API calls answered with their cost', labelNames: ['connector'], registers });
  const apiPointsAvailable = new Gauge({ name: METRIC_NAMES.apiPointsAvailable, help: 'API cost points available, as the remote system last reported', labelNames: ['connector'], registers });
  const apiPointsCapacity = new Gauge({ name: METRIC_NAMES.apiPointsCapacity, help: 'Size of the API cost bucket, as the remote system last reported', labelNames: ['connector'], registers });
  const apiRestoreRate = new Gauge({ name: METRIC_NAMES.apiRestoreRate, help: 'API cost points restored per second, as the remote system last reported', labelNames: ['connector'], registers });
  const apiBudget = new Gauge({
    name: METRIC_NAMES.apiBudget,
    help: 'The configured rate budget of a connector per second (unit: points or requests)',
    labelNames: ['connector', 'unit'],
    registers,
  });
  const rateLimitWaits = new Counter({ name: METRIC_NAMES.rateLimitWaits, help: 'Calls that waited for a rate limit, by reason (pacer, throttled, http_429)', labelNames: ['connector', 'reason'], registers });
  const rateLimitWaitSeconds = new Counter({
    name: METRIC_NAMES.rateLimitWaitSeconds,
    help: 'Seconds calls waited for a rate limit, by reason (http_429: the wait the remote system asked for)',
    labelNames: ['connector', 'reason'],
    registers,
  });
  const scheduleLag = new Histogram({
    name: METRIC_NAMES.scheduleLag,
    help: "Seconds from a scheduled run's scheduled time to its first step (the plan activity scheduled)",
    labelNames: ['sync', 'entity', 'mode'],
    buckets: SCHEDULE_LAG_BUCKETS,
    registers,
  });
  const activityFailures = new Counter({
    name: METRIC_NAMES.activityFailures,
    help: 'Failed activity attempts, by activity role and error class',
    labelNames: ['sync', 'entity', 'activity', 'connector', 'error_class'],
    registers,
  });

  const webhookEvents = new Counter({
    name: METRIC_NAMES.webhookEvents,
    help: 'Events the webhook receiver answered, by source and outcome (accepted, duplicate, or why it was refused)',
    labelNames: ['source', 'outcome'],
    registers,
  });

  const connectors = new Map<string, ConnectorMetrics>();
  const add = (counter: Counter<string>, labels: Record<string, string>, value: number) => {
    if (value > 0) counter.inc(labels, value);
  };

  return {
    registry,
    recordsScheduleLag: true,
    webhookAnswered(source, outcome) {
      webhookEvents.inc({ source, outcome });
    },
    pageStaged({ sync, entity, source }, counts) {
      add(itemsRead, { sync, entity, connector: source }, counts.recordsRead);
      for (const [target, changed] of Object.entries(counts.changedByTarget)) add(itemsStaged, { sync, entity, connector: target }, changed);
      for (const [target, unchanged] of Object.entries(counts.unchangedByTarget ?? {})) add(itemsUnchanged, { sync, entity, connector: target }, unchanged);
      for (const [category, count] of Object.entries(counts.quarantinedByCategory ?? {})) add(itemsQuarantined, { sync, entity, connector: source, category }, count);
    },
    pushAttempted({ sync, entity, target }, counts) {
      add(itemsPushed, { sync, entity, connector: target }, counts.pushed);
      const byCategory = counts.failedByCategory ?? (counts.failed > 0 ? { [QUARANTINE_CATEGORY.refusedByTarget]: counts.failed } : {});
      for (const [category, count] of Object.entries(byCategory)) add(itemsQuarantined, { sync, entity, connector: target, category }, count);
    },
    activityFailed({ sync, entity, activity, connector }, error) {
      activityFailures.inc({ sync, entity, activity, connector, error_class: errorClassOf(error) });
    },
    scheduleLag({ sync, entity, mode }, seconds) {
      scheduleLag.observe({ sync, entity, mode }, Math.max(0, seconds));
    },
    connectorBudget(connector, budget) {
      if (budget.kind === 'cost') apiBudget.set({ connector, unit: 'points' }, budget.pointsPerSecond);
      else if (budget.kind === 'requests') apiBudget.set({ connector, unit: 'requests' }, budget.perSecond);
    },
    connector(connector) {
      let recorder = connectors.get(connector);
      if (recorder === undefined) {
        recorder = {
          costCharged(points, bucket) {
            apiCalls.inc({ connector });
            add(apiPointsSpent, { connector }, points);
            apiPointsAvailable.set({ connector }, bucket.available);
            apiPointsCapacity.set({ connector }, bucket.capacity);
            apiRestoreRate.set({ connector }, bucket.restorePerSecond);
          },
          rateLimitWait(reason, ms) {
            rateLimitWaits.inc({ connector, reason });
            add(rateLimitWaitSeconds, { connector, reason }, ms / 1000);
          },
        };
        connectors.set(connector, recorder);
      }
      return recorder;
    },
  };
}

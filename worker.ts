/**
 * The omnisync worker: one hub worker (workflows and hub activities) plus one activity worker per
 * connector instance, each on the instance's own task queue with the activity rate the Temporal
 * server enforces across all workers (derived from the connector's rate budget).
 *
 * Run with `omnisync worker` (or `omnisync dev`, which embeds it).
 */
import { bundleWorkflowCode, Runtime, Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createSyncActivities } from './activities/sync';
import { entitySpec } from './core/entities';
import { ConnectorPool } from './connectors/pool';
import { taskQueueActivityRate, writeBatchSize, type Capability } from './connectors/contract';
import { connectorTaskQueue } from './core/task-queues';
import type { LoadedConfig } from './config/load';
import { openStateStore } from './state/kysely-store';
import type { StateStore } from './state/store';
import { temporalLoggerFor } from './observability/logger';
import { createMetrics, NO_METRICS, type OmnisyncMetrics } from './observability/metrics';
import { freeLoopbackPort, startMetricsEndpoint, type MetricsEndpoint } from './observability/metrics-server';
import { dataConverterOf } from './temporal/payload-codec';

export interface HubWorkerOptions {
  config: LoadedConfig;
  logger: Logger;
  connection: NativeConnection;
  /** A prebuilt workflow bundle (tests, benchmarks); default: bundle workflows/ at start. */
  workflowBundle?: WorkflowBundleOption;
  /** An open state store to share; default: opened (and closed) by the worker. */
  store?: StateStore;
  /**
   * What this process serves (see servedTaskQueues): `hub` (workflows and hub activities) and
   * connector ids. Default: everything the config uses.
   */
  serve?: readonly string[];
  /** Where activities and connectors record metrics (see startWorkerMetrics). Default: nowhere. */
  metrics?: OmnisyncMetrics;
}

/** What `--serve` calls the hub's own task queue (workflows and hub activities). */
export const HUB_QUEUE_NAME = 'hub';

/**
 * Which workers a process runs, from `--serve`: the hub, and the connectors whose task queues
 * it polls. Splitting them lets the work of one connector run elsewhere, e.g. the ERP reader on
 * a machine next to the ERP, or a target's pushes on cores of their own.
 *
 * @throws Error naming what may be served when an entry is neither `hub` nor a connector a
 *   sync uses, or when nothing is left to serve.
 */
export function servedTaskQueues(config: Pick<LoadedConfig, 'syncs'>, serve?: readonly string[]): { hub: boolean; connectors: string[] } {
  const used = new Set<string>();
  for (const sync of config.syncs.values()) [sync.source, ...sync.targets].forEach((id) => used.add(id));
  if (serve === undefined) return { hub: true, connectors: [...used] };
  const unknown = serve.filter((entry) => entry !== HUB_QUEUE_NAME && !used.has(entry));
  if (unknown.length > 0 || serve.length === 0) {
    const what = unknown.length > 0 ? `cannot serve ${unknown.map((entry) => `"${entry}"`).join(', ')}` : 'nothing to serve';
    throw new Error(`${what}: --serve takes "${HUB_QUEUE_NAME}" and ids of connectors a sync uses (${[...used].join(', ') || 'none'})`);
  }
  return { hub: serve.includes(HUB_QUEUE_NAME), connectors: [...used].filter((id) => serve.includes(id)) };
}

export interface HubWorkers {
  /** Task queue → its worker. */
  readonly workers: ReadonlyMap<string, Worker>;
  /** Resolves when every worker stopped (after shutdown()). */
  run(): Promise<void>;
  shutdown(): void;
}

/** The workflow bundle's entry point (bundled by the worker with Temporal's webpack setup). */
export const WORKFLOWS_PATH = join(__dirname, 'workflows', 'index.ts');

/** Headroom of the server-enforced activity rate over the rate computed for full-size activities. */
const SERVER_RATE_HEADROOM = 1.5;

let runtimeInstalled = false;

/**
 * Routes the Temporal SDK's logs (runtime, workflow, activity) into our logger. Once per process.
 * With `sdkMetricsAddress` (host:port), the SDK's native core also exports its metrics there in
 * Prometheus format. Returns whether this call installed the runtime (and so the exporter).
 */
export function installTemporalRuntime(logger: Logger, sdkMetricsAddress?: string): boolean {
  if (runtimeInstalled) return false;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: temporalLoggerFor(logger),
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
        ...(sdkMetricsAddress === undefined ? {} : { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } }),
      },
    });
    return true;
  } catch (err) {
    // A test harness may have installed the runtime already; its logger then stays in place.
    logger.debug({ err: (err as Error).message }, 'temporal runtime already installed');
    return false;
  }
}

/** The worker's metrics and the endpoint serving them (config `metrics:`). */
export interface WorkerMetrics {
  metrics: OmnisyncMetrics;
  endpoint: MetricsEndpoint;
}

/**
 * Installs the Temporal runtime with its Prometheus exporter on a free loopback port, and starts
 * omnisync's endpoint, whose /metrics serves a registry of this worker's own followed by the
 * SDK's. Call instead of installTemporalRuntime, before the first connection. A runtime that was
 * installed already (a test harness) has no exporter: the endpoint then serves omnisync's alone.
 */
export async function startWorkerMetrics(settings: { host: string; port: number; anyPortIfTaken?: boolean }, logger: Logger): Promise<WorkerMetrics> {
  const sdkAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  const sdkExporting = installTemporalRuntime(logger, sdkAddress);
  const metrics = createMetrics();
  const start = (port: number) =>
    startMetricsEndpoint({ host: settings.host, port, registry: metrics.registry, ...(sdkExporting ? { sdkMetricsUrl: `http://${sdkAddress}/metrics` } : {}), logger });
  let endpoint: MetricsEndpoint;
  try {
    endpoint = await start(settings.port);
  } catch (err) {
    // `omnisync dev`'s default port may be taken (a second checkout, another exporter): any port then.
    if (settings.anyPortIfTaken !== true || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    endpoint = await start(0);
  }
  logger.info({ url: endpoint.url, temporalSdkMetrics: sdkExporting }, 'metrics endpoint');
  return { metrics, endpoint };
}

/** Remote calls one activity of this connector makes at most, over every sync that uses it. */
function callsPerActivity(config: LoadedConfig, connectorId: string): number {
  let calls = 1;
  for (const sync of config.syncs.values()) {
    if (sync.targets.includes(connectorId)) {
      const spec = entitySpec(sync.entity);
      const maxBatch = writeBatchSize(config.connectors.get(connectorId)?.manifest, spec.writeCapability as Capability);
      const itemsPerRecord = spec.itemsPerRecord(sync.entity === 'stock' ? sync.stockMapping : sync.priceMapping);
      if (itemsPerRecord > 0) calls = Math.max(calls, Math.ceil((sync.pageSize * itemsPerRecord) / maxBatch));
    }
    // A source page is two queries (the page and its stock rows).
    if (sync.source === connectorId) calls = Math.max(calls, 2);
  }
  return calls;
}

export async function createHubWorkers(options: HubWorkerOptions): Promise<HubWorkers> {
  const { config, logger, connection } = options;
  const store = options.store ?? openStateStore(config.stateStore);
  const ownsStore = options.store === undefined;
  await store.migrate();
  const metrics = options.metrics ?? NO_METRICS;
  const pool = new ConnectorPool(config, store, logger, metrics);
  const activities = createSyncActivities({ config, store, connectors: pool, logger, metrics });
  const namespace = config.temporal.namespace;
  // Payload encryption (temporal.encryption): every payload of every queue, workflows and activities.
  const dataConverter = dataConverterOf(config.temporal);
  const encryption = dataConverter === undefined ? {} : { dataConverter };

  const served = servedTaskQueues(config, options.serve);
  const workers = new Map<string, Worker>();
  if (served.hub) {
    workers.set(
      config.temporal.taskQueue,
      await Worker.create({
        connection,
        namespace,
        ...encryption,
        taskQueue: config.temporal.taskQueue,
        // Bundled here rather than by Worker.create, whose webpack statistics would fill the log.
        workflowBundle: options.workflowBundle ?? (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger((line) => logger.warn(line)) })),
        activities,
        shutdownGraceTime: '10 seconds',
        // A workflow task that comes due while its worker is gone (stopped, crashed, being
        // deployed) waits on that worker's sticky queue this long before any worker may take it.
        // A promotion must start within seconds of a restart, and a workflow's history here is
        // short (runs continue as new), so replaying it on another worker is cheap: 2 s, not 10.
        stickyQueueScheduleToStartTimeout: '2 seconds',
      }),
    );
  }

  for (const id of served.connectors) {
    const entry = config.connectors.get(id)!;
    const exact = taskQueueActivityRate(entry.manifest.rateBudget(entry.config), callsPerActivity(config, id));
    // The server's limit assumes every activity is as big as the biggest page; real pages are
    // often smaller, so it gets headroom and the client's pacer (exact, in points, corrected by
    // the remote system's own status) governs the actual rate.
    const rate = exact === undefined ? undefined : exact * SERVER_RATE_HEADROOM;
    const taskQueue = connectorTaskQueue(config.temporal.taskQueue, id);
    metrics.connectorBudget(id, entry.manifest.rateBudget(entry.config));
    logger.info({ connector: id, taskQueue, maxTaskQueueActivitiesPerSecond: rate ?? 'unlimited' }, 'connector worker');
    workers.set(
      taskQueue,
      await Worker.create({
        connection,
        namespace,
        ...encryption,
        taskQueue,
        activities,
        maxConcurrentActivityTaskExecutions: 8,
        ...(rate === undefined ? {} : { maxTaskQueueActivitiesPerSecond: rate }),
        shutdownGraceTime: '10 seconds',
      }),
    );
  }

  return {
    workers,
    async run() {
      try {
        await Promise.all([...workers.values()].map((worker) => worker.run()));
      } finally {
        await pool.closeAll();
        if (ownsStore) await store.close();
      }
    },
    shutdown() {
      for (const worker of workers.values()) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
    },
  };
}

/**
 * A logger for webpack while it bundles the workflows: its statistics (dozens of lines of
 * modules and sizes) are dropped, its warnings and errors go to `warn`.
 */
export function quietBundlerLogger(warn: (line: string) => void) {
  return {
    log: (level: string, message: string) => (level === 'WARN' || level === 'ERROR' ? warn(message) : undefined),
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => warn(message),
    error: (message: string) => warn(message),
  };
}

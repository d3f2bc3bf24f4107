/**
 * `omnisync dev` (`npm start`): everything on this machine. Temporal dev server with its Web UI
 * (persistent under the data directory), the sandbox ERP and Shopify store, the sandbox SFTP
 * server with a partner warehouse dropping stock files on it, the worker, and the schedules from
 * config; each sync is triggered once at start (delta where it has one) so stock and prices flow
 * at once, and the sandbox ERP schedules a promotion a few minutes ahead. Without sshd the SFTP
 * part is skipped with one line saying how to enable it, and its syncs are left out; the rest
 * runs. Ctrl-C stops it all in order (worker drains, sandbox saves, servers stop); pressing it
 * again, or tsx/npm relaying it, does not cut the stop short (see {@link createDevStopper}).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import YAML from 'yaml';
import { connectClient, connectWorkerConnection } from '../temporal/connection';
import { startTemporalDevServer } from '../temporal/dev-server';
import { startDevCodecServer } from '../temporal/codec-server';
import { dataConverterOf } from '../temporal/payload-codec';
import { applySchedules, scheduleId, SYNC_MODES } from '../temporal/sync-starts';
import { createHubWorkers, startWorkerMetrics } from '../worker';
import { SANDBOX_SHOPIFY_TOKEN, sandboxSftpConnector, startSandbox } from '../sandbox';
import { prepareSandboxSftpIdentity } from '../sandbox/sftp/server';
import type { LoadedConfig } from '../config/load';
import type { Logger } from '../observability/logger';
import { cliLogger, loadCliConfig } from './context';
import { settingsInUse } from './dev-banner';
import { startConfiguredWebhookReceiver } from '../webhooks/receiver';

export async function runDev(configFile: string): Promise<void> {
  // The sandbox store accepts a fixed token; a real shop's token comes from the environment.
  const shopifyToken = (process.env.SHOPIFY_ACCESS_TOKEN ??= SANDBOX_SHOPIFY_TOKEN);
  // The demo config references the sandbox SFTP server's keys by ${file:…}: they must exist
  // before it can be loaded (made once, without OpenSSH, and kept).
  const sftpDataDir = sandboxSftpDataDir(configFile);
  if (sftpDataDir !== undefined) await prepareSandboxSftpIdentity(sftpDataDir);
  const loaded = loadCliConfig(configFile);
  let config = loaded;
  const logger = cliLogger();
  if (!loaded.sandbox) {
    process.stderr.write(`${config.file}: sandbox: required by "omnisync dev" (or run "omnisync worker" against your own Temporal)\n`);
    process.exit(2);
  }
  const sandboxSettings = loaded.sandbox;
  mkdirSync(config.dataDir, { recursive: true });

  // The stop: each part that started registers how it stops; they stop in reverse order.
  const stopping: StopStep[] = [];
  const stopper = createDevStopper({ steps: stopping, deadlineMs: DEV_STOP_DEADLINE_MS, logger });
  for (const signal of STOP_SIGNALS) process.on(signal, () => stopper.requestStop(0, signal));
  const startStep = (name: string) => {
    // A stop asked for during the start lets the part being started finish starting, registers
    // its stop, and then ends the start: what started is stopped like after a full start.
    if (stopper.stopRequested) throw new StartInterrupted();
    stopper.waitingFor(`the start to get past the ${name}`);
  };

  const starting = (async () => {
    try {
      // Encrypted payloads: the Web UI decodes them through this endpoint (docs/operations.md).
      const codecServer = await startDevCodecServer(config.temporal, { uiPort: config.temporal.devServer.uiPort, logger: logger.child({ component: 'codec-server' }) });
      if (codecServer !== undefined) stopping.push({ name: 'the codec endpoint to close', stop: () => codecServer.close() });

      startStep('Temporal dev server');
      const server = await startTemporalDevServer({
        ...(codecServer === undefined ? {} : { uiCodecEndpoint: codecServer.uiEndpoint }),
        dataDir: config.dataDir,
        port: config.temporal.devServer.port,
        uiPort: config.temporal.devServer.uiPort,
        namespace: config.temporal.namespace,
        logger: logger.child({ component: 'temporal-server' }),
      });
      stopping.push({ name: 'the Temporal dev server to stop', stop: () => server.stop() });

      startStep('sandbox');
      const sftpConnector = sandboxSftpConnector(config);
      const sandbox = await startSandbox(sandboxSettings, {
        dataDir: config.dataDir,
        shopifyToken,
        logger,
        ...(sftpConnector === undefined ? {} : { sftp: sftpConnector }),
      });
      stopping.push({ name: 'the sandbox to save its state and stop (Shopify simulator, ERP, SFTP server)', stop: () => sandbox.stop() });
      if (sandbox.sftp?.running === false) {
        process.stderr.write(`${sandbox.sftp.skipped}\n`);
        // Its syncs would only fail to connect: left out of the worker and the schedules (an
        // earlier run's schedules of them are removed) until the next start finds sshd.
        config = withoutSyncsReading(config, sandbox.sftp.connectorId);
      }

      startStep('worker');
      // Metrics are on in dev: the config's endpoint, else DEV_METRICS_PORT (any port if taken).
      const observed = await startWorkerMetrics(config.metrics ?? { host: '127.0.0.1', port: DEV_METRICS_PORT, anyPortIfTaken: true }, logger);
      stopping.push({ name: 'the metrics endpoint to close', stop: () => observed.endpoint.close() });
      const dataConverter = dataConverterOf(config.temporal);
      const target = { address: server.address, namespace: config.temporal.namespace, ...(dataConverter === undefined ? {} : { dataConverter }) };
      const nativeConnection = await connectWorkerConnection(target);
      stopping.push({ name: 'the worker connection to close', stop: () => nativeConnection.close() });
      const workers = await createHubWorkers({ config, logger, connection: nativeConnection, metrics: observed.metrics });
      const running = workers.run();
      stopping.push({
        name: 'the worker to drain (activities in flight finish)',
        stop: async () => {
          workers.shutdown();
          await running;
        },
      });
      running.catch((err: unknown) => {
        logger.error({ err }, 'worker failed');
        stopper.requestStop(1);
      });
      const webhooks = await startConfiguredWebhookReceiver(config, logger, observed.metrics);
      if (webhooks !== undefined) stopping.push({ name: 'the webhook receiver to close', stop: () => webhooks.close() });

      startStep('schedules');
      const { connection, client } = await connectClient(target);
      stopping.push({ name: 'the Temporal client to close', stop: () => connection.close() });
      await applySchedules(client, config, logger);
      for (const sync of config.syncs.values()) {
        // A first run at once, in the mode that runs most often: delta where the sync has it.
        const mode = sync.schedule.delta && !sync.schedule.delta.paused ? 'delta' : sync.schedule.full && !sync.schedule.full.paused ? 'full' : undefined;
        // SKIP: trigger() defaults to ALLOW_ALL, which would let this run overlap a running one.
        if (mode !== undefined) await client.schedule.getHandle(scheduleId(sync, mode)).trigger(ScheduleOverlapPolicy.SKIP);
      }

      const syncs = [...config.syncs.values()];
      process.stdout.write(
        [
          '',
          'omnisync dev is running',
          `  Temporal Web UI   ${server.uiUrl}  (Schedules: ${syncs.flatMap((s) => SYNC_MODES.filter((mode) => s.schedule[mode] !== undefined).map((mode) => scheduleId(s, mode))).join(', ')})`,
          `  find runs         ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows?query=${encodeURIComponent(`OmnisyncSyncName="${syncs[0]?.name ?? ''}"`)}`,
          `  Temporal address  ${server.address}`,
          ...(codecServer === undefined ? [] : [`  codec endpoint    ${codecServer.url}  (payloads are encrypted; the Web UI decodes them through it)`]),
          `  metrics           ${observed.endpoint.url}  (Prometheus; Grafana dashboard: docs/grafana/omnisync-dashboard.json)`,
          `  sandbox Shopify   ${sandbox.shopifyUrl}/_sandbox/inventory  (header X-Shopify-Access-Token: ${SANDBOX_SHOPIFY_TOKEN})`,
          ...(sandbox.sftp?.running
            ? [
                `  partner SFTP drop sftp://${sandbox.sftp.server.username}@127.0.0.1:${sandbox.sftp.server.port}  (connector ${sandbox.sftp.connectorId}; files on this machine: ${sandbox.sftp.server.dropRoot}; host key ${sandbox.sftp.server.hostKeyFingerprint})`,
              ]
            : []),
          ...(sandbox.promotion.skus.length > 0 && syncs.some((s) => s.entity === 'price')
            ? [
                `  demo promotion    ${sandbox.promotion.skus.length} products 20 % off from ${sandbox.promotion.startsAt.toISOString()} to ${sandbox.promotion.endsAt.toISOString()}` +
                  ` (e.g. ${sandbox.promotion.skus[0]}; the price run waits for it in the UI; omnisync prices history ${sandbox.promotion.skus[0]})`,
              ]
            : []),
          `  data              ${config.dataDir}`,
          ...settingsInUse(config),
          '  Ctrl-C stops everything; npm start again resumes.',
          '',
        ].join('\n'),
      );
      stopper.waitingFor(undefined);
    } catch (err) {
      if (err instanceof StartInterrupted) return;
      // A part that was starting when the stop was asked for may fail because of it: the stop says why.
      if (stopper.stopRequested) return;
      logger.error({ err }, `omnisync dev could not start: ${(err as Error).message}`);
      stopper.requestStop(1);
    }
  })();
  stopper.afterStart(starting);
  await starting;
}

/** The metrics endpoint of `omnisync dev` when the config has no `metrics:` (Prometheus exporters' customary port). */
export const DEV_METRICS_PORT = 9464;

/** What stops `omnisync dev`: Ctrl-C, a service manager's (or kill's) TERM, the terminal closing. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * How long a stop may take before `omnisync dev` gives up and exits with code 1 (then the
 * `exit` hooks SIGKILL the Temporal dev server and sshd). Default 60 s: the parts' own grace
 * periods fit in it (worker drain 10 s, sshd 5 s, Temporal dev server 10 s before its SIGKILL).
 */
export const DEV_STOP_DEADLINE_MS = 60_000;

/** One part's stop; `name` completes "waiting for …" in what the operator reads. */
export interface StopStep {
  name: string;
  stop(): Promise<void>;
}

/** Thrown in the start when a stop was asked for meanwhile: what started is stopped, nothing more starts. */
class StartInterrupted extends Error {}

export interface DevStopper {
  /** True once a stop was asked for (a signal, a failed start, the worker failing). */
  readonly stopRequested: boolean;
  /**
   * Asks for the stop; the first request's code is the exit code (1 instead of 0 when a step
   * fails). Later requests (Ctrl-C pressed again, tsx or npm relaying it) never cut the stop
   * short: they print what it is waiting for.
   */
  requestStop(code: number, signal?: string): void;
  /** What the stop would wait for now (shown on a second signal); undefined once started. */
  waitingFor(what: string | undefined): void;
  /** The start: a stop asked for during it begins once the part starting then is up (or failed). */
  afterStart(starting: Promise<void>): void;
}

/**
 * The stop of `omnisync dev`: runs the steps last-registered first, each awaited, however many
 * signals arrive, and exits with one line saying it stopped. Only `deadlineMs` forces the exit,
 * with a line saying what it was still waiting for and code 1.
 */
export function createDevStopper(options: {
  steps: StopStep[];
  deadlineMs: number;
  logger: Pick<Logger, 'warn'>;
  exit?: (code: number) => void;
  out?: (line: string) => void;
  err?: (line: string) => void;
}): DevStopper {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  let requested = false;
  let current: string | undefined;
  let starting: Promise<void> = Promise.resolve();

  const run = async (code: number): Promise<void> => {
    const deadline = setTimeout(() => {
      err(`omnisync dev did not stop within ${options.deadlineMs / 1000} s (still waiting for ${current ?? 'nothing'}); exiting with code 1, the Temporal dev server and sshd are killed`);
      exit(1);
    }, options.deadlineMs);
    let failed = 0;
    const runSteps = async () => {
      for (let step = options.steps.pop(); step !== undefined; step = options.steps.pop()) {
        current = step.name;
        try {
          await step.stop();
        } catch (error) {
          failed++;
          options.logger.warn({ err: error }, `error while waiting for ${step.name}`);
        }
      }
    };
    await starting;
    await runSteps();
    clearTimeout(deadline);
    out(failed === 0 ? 'omnisync dev stopped' : `omnisync dev stopped; ${failed} part(s) did not stop cleanly (see above)`);
    exit(failed === 0 ? code : 1);
  };

  return {
    get stopRequested() {
      return requested;
    },
    requestStop(code, signal) {
      if (requested) {
        if (signal !== undefined) err(`omnisync dev already stopping; waiting for ${current ?? 'the exit'} (forced exit ${options.deadlineMs / 1000} s after the first signal)`);
        return;
      }
      requested = true;
      if (signal !== undefined) err(`omnisync dev stopping (${signal}): the worker drains, the sandbox saves, the servers stop`);
      void run(code);
    },
    waitingFor(what) {
      current = what;
    },
    afterStart(promise) {
      starting = promise.catch(() => undefined);
    },
  };
}

/**
 * Where the sandbox SFTP server keeps its keys (the config's data directory), read from the
 * config text before it is loaded; undefined when the config has no sandbox or no
 * `legacy-files` connector, or cannot be read (loading it then reports why).
 */
function sandboxSftpDataDir(configFile: string): string | undefined {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(configFile, 'utf8'));
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const { sandbox, dataDir, connectors } = raw as Record<string, unknown>;
  const hasFileConnector = connectors !== null && typeof connectors === 'object' && Object.values(connectors).some((entry) => (entry as { kind?: unknown } | null)?.kind === 'legacy-files');
  if (sandbox === undefined || !hasFileConnector) return undefined;
  // As the loader resolves it: relative to the config file's folder, default ./data.
  return resolve(dirname(resolve(configFile)), typeof dataDir === 'string' ? dataDir : './data');
}

/** The config without the syncs that read `connectorId`. */
function withoutSyncsReading(config: LoadedConfig, connectorId: string): LoadedConfig {
  return { ...config, syncs: new Map([...config.syncs].filter(([, sync]) => sync.source !== connectorId)) };
}

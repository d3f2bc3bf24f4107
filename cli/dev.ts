/**
 * `omnisync dev` (`npm start`): everything on this machine. Temporal dev server with its Web UI
 * (persistent under the data directory), the sandbox ERP and Shopify store, the worker, and the
 * schedules from config; each sync is triggered once at start (delta where it has one) so
 * stock and prices flow at once, and the sandbox ERP schedules a promotion a few minutes ahead.
 * Ctrl-C stops it all in order (worker drains, sandbox saves, server stops).
 */
import { mkdirSync } from 'node:fs';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { connectClient, connectWorkerConnection } from '../temporal/connection';
import { startTemporalDevServer } from '../temporal/dev-server';
import { applySchedules, scheduleId, SYNC_MODES } from '../temporal/sync-starts';
import { createHubWorkers, installTemporalRuntime } from '../worker';
import { SANDBOX_SHOPIFY_TOKEN, startSandbox } from '../sandbox';
import { cliLogger, loadCliConfig } from './context';

export async function runDev(configFile: string): Promise<void> {
  // The sandbox store accepts a fixed token; a real shop's token comes from the environment.
  process.env.SHOPIFY_ACCESS_TOKEN ??= SANDBOX_SHOPIFY_TOKEN;
  const config = loadCliConfig(configFile);
  const logger = cliLogger();
  if (!config.sandbox) {
    process.stderr.write(`${config.file}: sandbox: required by "omnisync dev" (or run "omnisync worker" against your own Temporal)\n`);
    process.exit(2);
  }
  mkdirSync(config.dataDir, { recursive: true });

  const stopping: Array<() => Promise<void>> = [];
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('stopping omnisync dev');
    for (const stop of stopping.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
    logger.info('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => {
    if (shuttingDown) process.exit(130);
    void shutdown(0);
  });
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const server = await startTemporalDevServer({
      dataDir: config.dataDir,
      port: config.temporal.devServer.port,
      uiPort: config.temporal.devServer.uiPort,
      namespace: config.temporal.namespace,
      logger: logger.child({ component: 'temporal-server' }),
    });
    stopping.push(() => server.stop());

    const sandbox = await startSandbox(config.sandbox, { dataDir: config.dataDir, shopifyToken: process.env.SHOPIFY_ACCESS_TOKEN, logger });
    stopping.push(() => sandbox.stop());

    installTemporalRuntime(logger);
    const target = { address: server.address, namespace: config.temporal.namespace };
    const nativeConnection = await connectWorkerConnection(target);
    const workers = await createHubWorkers({ config, logger, connection: nativeConnection });
    const running = workers.run();
    stopping.push(async () => {
      workers.shutdown();
      await running;
      await nativeConnection.close();
    });
    running.catch((err: unknown) => {
      logger.error({ err }, 'worker failed');
      void shutdown(1);
    });

    const { connection, client } = await connectClient(target);
    stopping.push(() => connection.close());
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
        `  sandbox Shopify   ${sandbox.shopifyUrl}/_sandbox/inventory  (header X-Shopify-Access-Token: ${SANDBOX_SHOPIFY_TOKEN})`,
        ...(sandbox.promotion.skus.length > 0 && syncs.some((s) => s.entity === 'price')
          ? [
              `  demo promotion    ${sandbox.promotion.skus.length} products 20 % off from ${sandbox.promotion.startsAt.toISOString()} to ${sandbox.promotion.endsAt.toISOString()}` +
                ` (e.g. ${sandbox.promotion.skus[0]}; the price run waits for it in the UI; omnisync prices history ${sandbox.promotion.skus[0]})`,
            ]
          : []),
        `  data              ${config.dataDir}`,
        '  Ctrl-C stops everything; npm start again resumes.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    logger.error({ err }, `omnisync dev could not start: ${(err as Error).message}`);
    await shutdown(1);
  }
}

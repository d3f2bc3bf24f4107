/**
 * `omnisync dev` (`npm start`): everything on this machine. Temporal dev server with its Web UI
 * (persistent under the data directory), the sandbox ERP and Shopify store, the sandbox SFTP
 * server with a partner warehouse dropping stock files on it, the worker, and the schedules from
 * config; each sync is triggered once at start (delta where it has one) so stock and prices flow
 * at once, and the sandbox ERP schedules a promotion a few minutes ahead. Without sshd the SFTP
 * part is skipped with one line saying how to enable it, and its syncs are left out; the rest
 * runs. Ctrl-C stops it all in order (worker drains, sandbox saves, servers stop).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import YAML from 'yaml';
import { connectClient, connectWorkerConnection } from '../temporal/connection';
import { startTemporalDevServer } from '../temporal/dev-server';
import { applySchedules, scheduleId, SYNC_MODES } from '../temporal/sync-starts';
import { createHubWorkers, installTemporalRuntime } from '../worker';
import { SANDBOX_SHOPIFY_TOKEN, sandboxSftpConnector, startSandbox } from '../sandbox';
import { prepareSandboxSftpIdentity } from '../sandbox/sftp/server';
import type { LoadedConfig } from '../config/load';
import { cliLogger, loadCliConfig } from './context';

export async function runDev(configFile: string): Promise<void> {
  // The sandbox store accepts a fixed token; a real shop's token comes from the environment.
  process.env.SHOPIFY_ACCESS_TOKEN ??= SANDBOX_SHOPIFY_TOKEN;
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

    const sftpConnector = sandboxSftpConnector(config);
    const sandbox = await startSandbox(sandboxSettings, {
      dataDir: config.dataDir,
      shopifyToken: process.env.SHOPIFY_ACCESS_TOKEN,
      logger,
      ...(sftpConnector === undefined ? {} : { sftp: sftpConnector }),
    });
    stopping.push(() => sandbox.stop());
    if (sandbox.sftp?.running === false) {
      process.stderr.write(`${sandbox.sftp.skipped}\n`);
      // Its syncs would only fail to connect: left out of the worker and the schedules (an
      // earlier run's schedules of them are removed) until the next start finds sshd.
      config = withoutSyncsReading(config, sandbox.sftp.connectorId);
    }

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
        '  Ctrl-C stops everything; npm start again resumes.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    logger.error({ err }, `omnisync dev could not start: ${(err as Error).message}`);
    await shutdown(1);
  }
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

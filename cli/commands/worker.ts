/** `omnisync worker`: runs the worker until SIGINT/SIGTERM, then drains and exits. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHubWorkers, installTemporalRuntime, servedTaskQueues, startWorkerMetrics } from '../../worker';
import { connectWorkerConnection } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { startConfiguredWebhookReceiver } from '../../webhooks/receiver';
import { cliLogger, loadCliConfig } from '../context';

/**
 * The workflow bundle `npm run build` prebuilds next to the compiled code (dist/workflow-bundle.js
 * beside dist/cli/), which the compiled worker loads instead of running webpack at start.
 */
export const PREBUILT_WORKFLOW_BUNDLE = join(__dirname, '..', '..', 'workflow-bundle.js');

/**
 * The bundle the worker loads: `--workflow-bundle`, else the prebuilt one next to the compiled
 * code; undefined from the TypeScript sources (tsx), which bundle workflows/ at start.
 *
 * @throws Error when compiled code has no prebuilt bundle: it has no workflows/*.ts to bundle.
 */
export function workflowBundleFile(option: string | undefined, prebuilt: string = PREBUILT_WORKFLOW_BUNDLE): string | undefined {
  if (option) return option;
  if (existsSync(prebuilt)) return prebuilt;
  if (__filename.endsWith('.js')) throw new Error(`no workflow bundle at ${prebuilt}: build with \`npm run build\`, or give --workflow-bundle <file>`);
  return undefined;
}

export async function runWorkerCommand(configFile: string, options: { workflowBundle?: string; serve?: string }): Promise<void> {
  const config = loadCliConfig(configFile);
  const logger = cliLogger();
  const serve = options.serve?.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  let workflowBundle: string | undefined;
  try {
    // Only the hub runs workflows; a worker serving connectors alone needs no bundle.
    if (servedTaskQueues(config, serve).hub) workflowBundle = workflowBundleFile(options.workflowBundle);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  // The metrics endpoint installs the runtime itself, with the SDK's metrics exporter.
  const observed = config.metrics === undefined ? undefined : await startWorkerMetrics(config.metrics, logger);
  if (observed === undefined) installTemporalRuntime(logger);
  const connection = await connectWorkerConnection(temporalTargetFromConfig(config.temporal));
  const workers = await createHubWorkers({
    config,
    logger,
    connection,
    ...(serve ? { serve } : {}),
    ...(observed === undefined ? {} : { metrics: observed.metrics }),
    ...(workflowBundle ? { workflowBundle: { codePath: workflowBundle } } : {}),
  });
  // Events are taken once the worker stands; the receiver stops first, so nothing is accepted
  // that the draining worker would not see (the store keeps what was accepted).
  const webhooks = await startConfiguredWebhookReceiver(config, logger, observed?.metrics);
  const stop = () => {
    logger.info('shutting down worker (draining running activities)');
    webhooks?.close().catch((err: unknown) => logger.warn({ err }, 'webhook receiver did not close cleanly'));
    workers.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info({ taskQueues: [...workers.workers.keys()], temporal: config.temporal.address, workflowBundle: workflowBundle ?? 'bundled at start' }, 'worker running');
  await workers.run();
  // Also when the worker ended without a signal; after one, the close already under way.
  await webhooks?.close().catch(() => undefined);
  await connection.close();
  await observed?.endpoint.close();
  logger.info('worker stopped');
}

/** `omnisync worker`: runs the worker until SIGINT/SIGTERM, then drains and exits. */
import { createHubWorkers, installTemporalRuntime, servedTaskQueues } from '../../worker';
import { connectWorkerConnection } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { cliLogger, loadCliConfig } from '../context';

export async function runWorkerCommand(configFile: string, options: { workflowBundle?: string; serve?: string }): Promise<void> {
  const config = loadCliConfig(configFile);
  const logger = cliLogger();
  const serve = options.serve?.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  try {
    servedTaskQueues(config, serve);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  installTemporalRuntime(logger);
  const connection = await connectWorkerConnection(temporalTargetFromConfig(config.temporal));
  const workers = await createHubWorkers({
    config,
    logger,
    connection,
    ...(serve ? { serve } : {}),
    ...(options.workflowBundle ? { workflowBundle: { codePath: options.workflowBundle } } : {}),
  });
  const stop = () => {
    logger.info('shutting down worker (draining running activities)');
    workers.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info({ taskQueues: [...workers.workers.keys()], temporal: config.temporal.address }, 'worker running');
  await workers.run();
  await connection.close();
  logger.info('worker stopped');
}

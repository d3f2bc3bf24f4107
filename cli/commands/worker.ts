/** `omnisync worker`: runs the worker until SIGINT/SIGTERM, then drains and exits. */
import { createHubWorkers, installTemporalRuntime } from '../../worker';
import { connectWorkerConnection } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { cliLogger, loadCliConfig } from '../context';

export async function runWorkerCommand(configFile: string, workflowBundlePath?: string): Promise<void> {
  const config = loadCliConfig(configFile);
  const logger = cliLogger();
  installTemporalRuntime(logger);
  const connection = await connectWorkerConnection(temporalTargetFromConfig(config.temporal));
  const workers = await createHubWorkers({ config, logger, connection, ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : {}) });
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

/**
 * A hub's workers in the test process, on a test Temporal server, for a config a test wrote
 * itself: the workflow bundle built once, every task queue served, stock syncs started the way
 * schedules start them (with a workflow id of their own per run).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { LoadedConfig } from '../../config/load';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { syncStartOptions } from '../../temporal/sync-starts';
import { WORKFLOWS_PATH, createHubWorkers } from '../../worker';
import { stockSync } from '../../workflows/stock-sync';

export interface TestHub {
  /** Runs one stock sync of the config to its end and returns its result. */
  runStockSync(syncName: string, mode: 'full' | 'delta'): ReturnType<typeof runOnce>;
  stop(): Promise<void>;
}

let runs = 0;

async function runOnce(env: TestWorkflowEnvironment, config: LoadedConfig, syncName: string, mode: 'full' | 'delta') {
  const sync = config.syncs.get(syncName);
  if (sync === undefined) throw new Error(`test hub: no sync "${syncName}" in the config`);
  const handle = await env.client.workflow.start(stockSync, { ...syncStartOptions(config, sync, mode), workflowId: `stock-sync:${syncName}:${mode}:test-run-${++runs}` });
  return handle.result();
}

export async function startTestHub(env: TestWorkflowEnvironment, config: LoadedConfig): Promise<TestHub> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(createLogger({ level: 'warn' })) });
  const workers = await createHubWorkers({ config, logger: createLogger({ level: 'warn' }), connection: env.nativeConnection, workflowBundle });
  const running = workers.run();
  return {
    runStockSync: (syncName, mode) => runOnce(env, config, syncName, mode),
    async stop() {
      workers.shutdown();
      await running;
    },
  };
}

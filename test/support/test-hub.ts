/**
 * A hub's workers in the test process, on a test Temporal server, for a config a test wrote
 * itself: the workflow bundle built once, every task queue served, stock syncs started the way
 * schedules start them (with a workflow id of their own per run).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
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

/**
 * A hub config in a folder of its own, as an operator writes one: omnisync.yaml with the test's
 * connectors and syncs (temporal and state store filled in), beside the files it names (e.g.
 * mappings), loaded with `env` as the environment its references read. `remove` deletes the folder.
 */
export function writeTestHubConfig(options: {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  connectors: Record<string, unknown>;
  syncs: Record<string, unknown>;
  files?: Record<string, string>;
  secrets?: Record<string, string>;
}): { config: LoadedConfig; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-test-hub-'));
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);
  const configFile = join(dir, 'omnisync.yaml');
  writeFileSync(
    configFile,
    YAML.stringify({
      temporal: { address: options.env.address, taskQueue: options.taskQueue },
      stateStore: { driver: 'sqlite', file: './state.sqlite' },
      logging: { level: 'warn' },
      connectors: options.connectors,
      syncs: options.syncs,
    }),
  );
  const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, { registry: builtInConnectors(), env: options.secrets ?? {} });
  return { config, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

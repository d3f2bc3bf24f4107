/**
 * Temporal test environments backed by the real dev server (the Temporal CLI), with omnisync's
 * search attributes registered, on a random free port, in memory, without the UI.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import {
  TEMPORAL_CLI_NOT_FOUND_MESSAGE,
  temporalDevServerExecutable,
  type DevServerExecutable,
} from '../../temporal/cli-binary';
import { OMNISYNC_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

/**
 * The server executable: the CLI the global setup found (`TEMPORAL_CLI` or `inject`), else a
 * fresh search (test files outside the `integration` project get no global setup).
 */
export async function testServerExecutable(): Promise<DevServerExecutable> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) return { type: 'existing-path', path: fromEnv };
  let injected = '';
  try {
    injected = inject('temporalCli') ?? '';
  } catch {
    // Not running under vitest's runner.
  }
  if (injected !== '') return { type: 'existing-path', path: injected };
  return temporalDevServerExecutable({ build: true });
}

/**
 * Installs the SDK runtime with a `WARN` logger (or `TEMPORAL_TEST_LOG_LEVEL`) so worker
 * lifecycle and bundler chatter don't drown test output. Call before the first connection or
 * worker of a test file; a no-op when a runtime already exists in this process.
 */
export function installQuietRuntime(): void {
  const level = (process.env.TEMPORAL_TEST_LOG_LEVEL ?? 'WARN') as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level } } } });
  } catch {
    // Already installed or instantiated (another helper or test got there first): keep it.
  }
}

/**
 * Starts a dev server for one test file; call `env.teardown()` in `afterAll`.
 *
 * @throws Error starting with the "Temporal CLI not found" message when no CLI is available and
 *   the fallback download failed (no internet).
 */
export async function createTestEnvironment(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const executable = await testServerExecutable();
  try {
    return await TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        searchAttributes: [...OMNISYNC_SEARCH_ATTRIBUTES],
        ip: '127.0.0.1',
      },
    });
  } catch (err) {
    if (executable.type === 'cached-download') {
      throw new Error(`${TEMPORAL_CLI_NOT_FOUND_MESSAGE} (The download failed: ${(err as Error).message})`, {
        cause: err,
      });
    }
    throw err;
  }
}

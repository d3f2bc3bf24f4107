/**
 * A hub worker as its own process (`node --import tsx cli/main.ts worker`), so a test can kill
 * it with SIGKILL like a crashed machine, and a poll helper for waiting on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { TEST_SHOPIFY_TOKEN } from './hub-fixture';

const REPO = resolve(__dirname, '../..');

export function startWorkerProcess(configFile: string): ChildProcess {
  // `node --import tsx` keeps the worker in one process, so SIGKILL really kills the worker.
  return spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', '--config', configFile, 'worker'], {
    cwd: REPO,
    env: { ...process.env, SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Polls `probe` every 100 ms until it returns a value (a throw counts as not yet). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

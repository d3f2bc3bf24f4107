/**
 * Determinism guard (docs/architecture.md, "Temporal"): the current workflow code must replay every recorded
 * stockSync history in test/histories/ (full and delta runs, each execution of their
 * continue-as-new chains; the priceSync ones: price-sync-replay.test.ts). A failure here means
 * a change would break running executions: put it behind patched(), or, if breaking old
 * histories is intended, re-record (test/histories/README.md).
 *
 * Two controls prove the guard can fail and show the way out: the same added activity call
 * breaks replay of every stock history without patched() and replays cleanly behind it.
 *
 * Replay needs no Temporal server: the replay worker feeds the histories to the workflow code.
 */
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOWS_PATH } from '../../worker';
import { installQuietRuntime } from '../support/temporal';
import { loadHistories } from './recorded-histories';

const FIXTURES_DIR = resolve(__dirname, 'fixtures');

/** test/histories/stock-sync-<mode>-<n>.json (the price histories: price-sync-replay.test.ts). */
const histories = loadHistories('stock');
const quiet = new DefaultLogger('WARN');

async function bundle(workflowsPath: string): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: quiet });
}

describe('stockSync replay', () => {
  beforeAll(() => installQuietRuntime());

  it('has recorded histories of a full and a delta run, each across continue-as-new', () => {
    const files = histories.map((h) => h.file);
    expect(files).toEqual(expect.arrayContaining(['stock-sync-full-1.json', 'stock-sync-full-2.json', 'stock-sync-delta-1.json', 'stock-sync-delta-2.json']));
  });

  describe('the current workflow code', () => {
    let current: WorkflowBundle;
    beforeAll(async () => {
      current = await bundle(WORKFLOWS_PATH);
    });

    it.each(histories.map((h) => [h.file, h] as const))('replays %s', async (_file, { history, workflowId }) => {
      await expect(Worker.runReplayHistory({ workflowBundle: current, replayName: 'stock-sync-replay' }, history, workflowId)).resolves.toBeUndefined();
    });
  });

  describe('a changed workflow', () => {
    it('without patched(), fails every history with a DeterminismViolationError (the test can fail)', async () => {
      const unpatched = await bundle(join(FIXTURES_DIR, 'stock-sync-unpatched.ts'));
      for (const { file, history, workflowId } of histories) {
        const replay = Worker.runReplayHistory({ workflowBundle: unpatched, replayName: 'stock-sync-unpatched' }, history, workflowId);
        await expect(replay, file).rejects.toBeInstanceOf(DeterminismViolationError);
        await expect(replay, file).rejects.toThrow(/announceStockSync/);
      }
    });

    it('behind patched(), replays every history', async () => {
      const patched = await bundle(join(FIXTURES_DIR, 'stock-sync-patched.ts'));
      for (const { file, history, workflowId } of histories) {
        await expect(Worker.runReplayHistory({ workflowBundle: patched, replayName: 'stock-sync-patched' }, history, workflowId), file).resolves.toBeUndefined();
      }
    });
  });
});

/**
 * Determinism guard (DESIGN.md §8): the current workflow code must replay every recorded
 * stockSync history in test/histories/ (full and delta runs, each execution of their
 * continue-as-new chains). A failure here means a change would break running executions: put it
 * behind patched(), or, if breaking old histories is intended, re-record (test/histories/README.md).
 *
 * Two controls prove the guard can fail and show the way out: the same added activity call
 * breaks replay without patched() and replays cleanly behind it.
 *
 * Replay needs no Temporal server: the replay worker feeds the histories to the workflow code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { WORKFLOWS_PATH } from '../../worker';
import { installQuietRuntime } from '../support/temporal';

const HISTORIES_DIR = resolve(__dirname, '../histories');
const FIXTURES_DIR = resolve(__dirname, 'fixtures');
/** Files written by test/histories/record.ts: stock-sync-<mode>-<n>.json, n-th execution of the run. */
const HISTORY_FILE = /^stock-sync-(full|delta)-(\d+)\.json$/;
const SYNC = 'erp-stock-to-shopify';

interface RecordedHistory {
  file: string;
  workflowId: string;
  history: History;
}

/**
 * `historyFromJSON` from '@temporalio/common/lib/proto-utils', done with the protobufjs copy that
 * built the proto root. In this install npm nests one protobufjs 8 under @temporalio/common and
 * another under @temporalio/proto (the top level holds grpc's protobufjs 7), and protojson's
 * `instanceof Type` check fails across copies ("type must be a Type"). For the same reason the
 * histories are handed to the replay worker decoded: given JSON it would call historyFromJSON.
 */
function historyFromJson(json: unknown): History {
  // Loaded with require, as the SDK does: vitest's ESM view of the CJS module hides the root.
  const require = createRequire(__filename);
  const proto: unknown = require('@temporalio/proto');
  const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): unknown } };
  const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
    fromJson(type: unknown, json: unknown, options?: object): History | null;
  };
  const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (history === null) throw new TypeError('not a history');
  return history;
}

function loadHistories(): RecordedHistory[] {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const mode = HISTORY_FILE.exec(file)?.[1];
      if (!mode) throw new Error(`test/histories/${file}: not a name record.ts writes (stock-sync-<mode>-<n>.json)`);
      // The id the run was recorded under; stockSync does not read it.
      const workflowId = `stock-sync:${SYNC}:${mode}:recorded`;
      return { file, workflowId, history: historyFromJson(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'))) };
    });
}

const histories = loadHistories();
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

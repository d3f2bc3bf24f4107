/**
 * Determinism guard (docs/architecture.md, "Temporal") for priceSync: the current workflow code must replay every
 * recorded priceSync history in test/histories/ (see test/histories/README.md):
 *
 * - `price-sync-held-<n>.json`: the guarded path with a hold: every page staged, guardPriceRun,
 *   the push of what passed, the OmnisyncWaitingFor search attribute, the `decideHeldChanges`
 *   update that approves a 90 %-down mistake, the push of what was held;
 * - `price-sync-promotion-<n>.json`: a run that follows validity (`followValidity: true`) across
 *   a promotion's start and end, each a durable timer and a continue-as-new.
 *
 * A failure means a change to workflows/ would break running price executions: put it behind
 * patched(), or, if breaking old histories is intended, re-record. The controls that show the
 * guard can fail are in stock-sync-replay.test.ts (the same replay, on the stock histories).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils';
import { WORKFLOWS_PATH } from '../../worker';
import { syncActivityNames } from '../../core/entities/spec';
import { installQuietRuntime } from '../support/temporal';
import { eventsWith, loadHistories } from './recorded-histories';

const histories = loadHistories('price');
const held = histories.filter((h) => h.run === 'held');
const promotion = histories.filter((h) => h.run === 'promotion');

function activityTypes(history: History): string[] {
  return (history.events ?? []).flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

describe('priceSync replay', () => {
  beforeAll(() => installQuietRuntime());

  describe('the recorded histories', () => {
    it('are a held run in one execution and a promotion chain of several, numbered from 1', () => {
      expect(held.map((h) => h.execution)).toEqual([1]);
      expect(promotion.length).toBeGreaterThanOrEqual(2);
      expect(promotion.map((h) => h.execution)).toEqual(promotion.map((_, i) => i + 1));
    });

    it('the held run stages, guards, pushes, waits for the decideHeldChanges update and pushes what was held', () => {
      const [{ history }] = held as [(typeof held)[number]];
      const names = syncActivityNames('price');
      const types = activityTypes(history);
      expect(new Set(types)).toEqual(new Set([names.plan, names.stage, names.guardRun, names.push]));
      // What passed, then what was held (after the approval).
      expect(types.filter((type) => type === names.push).length).toBeGreaterThanOrEqual(2);
      expect(eventsWith(history, 'workflowExecutionUpdateAcceptedEventAttributes')).toBe(1);
      expect(eventsWith(history, 'workflowExecutionUpdateCompletedEventAttributes')).toBe(1);
      // OmnisyncWaitingFor set while waiting, cleared after the decision.
      expect(eventsWith(history, 'upsertWorkflowSearchAttributesEventAttributes')).toBe(2);
      expect(eventsWith(history, 'workflowExecutionCompletedEventAttributes')).toBe(1);
    });

    it('the promotion run follows validity, and every execution but the last waits on a timer and continues as new', () => {
      for (const { file, history } of promotion) {
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        expect(started?.input?.payloads?.length, file).toBe(1);
        const input = JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString('utf8')) as { followValidity?: boolean };
        expect(input.followValidity, file).toBe(true);
      }
      for (const { file, history } of promotion.slice(0, -1)) {
        expect(eventsWith(history, 'timerFiredEventAttributes'), file).toBe(1);
        expect(history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, file).toBeTruthy();
      }
      const last = promotion.at(-1)!;
      expect(eventsWith(last.history, 'workflowExecutionCompletedEventAttributes'), last.file).toBe(1);
    });
  });

  describe('the current workflow code', () => {
    let current: WorkflowBundle;
    beforeAll(async () => {
      current = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    });

    it.each(histories.map((h) => [h.file, h] as const))('replays %s', async (_file, { history, workflowId }) => {
      await expect(Worker.runReplayHistory({ workflowBundle: current, replayName: 'price-sync-replay' }, history, workflowId)).resolves.toBeUndefined();
    });
  });
});

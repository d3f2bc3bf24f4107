/**
 * The run-level check of the price guard, once every page of a run is staged: how many prices of
 * the channel's catalogue would change at once (core/price-guard.ts `maxChangedShare`,
 * `maxChangedCount`). Per-change checks were applied when each page was staged (engine/price.ts).
 */
import { parsePriceValueText } from '../core/entities/price';
import { guardPriceChanges, type PriceChange } from '../core/price-guard';
import type { LoadedPriceSync } from '../config/load';
import type { EngineDeps } from './entity-engine';

export interface RunGuardInput {
  syncName: string;
  /** The run's staged batches that hold changes for each target. */
  batchesByTarget: Record<string, string[]>;
}

/** Per target: why the whole run is held, when it is. */
export type RunGuardResult = Record<string, string>;

export async function guardPriceRun(deps: EngineDeps, sync: LoadedPriceSync, input: RunGuardInput): Promise<RunGuardResult> {
  const held: RunGuardResult = {};
  for (const [target, batchIds] of Object.entries(input.batchesByTarget)) {
    const changes: PriceChange[] = [];
    for (const batchId of batchIds) {
      for (const item of await deps.store.loadPendingItems(batchId, target)) {
        const next = parsePriceValueText(item.value);
        const previous = item.previous === null ? undefined : parsePriceValueText(item.previous);
        if (next === undefined) continue;
        // Only the run's size is checked here: each change passed or was held on its own already.
        changes.push({ sku: item.key, channel: target, next: next.price, ...(previous === undefined ? {} : { previous: previous.price }) });
      }
    }
    const catalogueSize = await deps.store.countSnapshot({ syncName: sync.name, target, entity: 'price' });
    const rules = { ...sync.priceMapping.guard, maxDropPercent: 100, maxRisePercent: Number.MAX_SAFE_INTEGER, belowCost: 'allow' as const };
    const verdict = guardPriceChanges(changes, rules, { catalogueSize });
    if (verdict.runHeld !== undefined) held[target] = `${target}: ${verdict.runHeld}`;
  }
  return held;
}

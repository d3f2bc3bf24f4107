/**
 * Staging one page, for any entity: the entity engine plans it (read, compute, diff), and the
 * plan is written to the state store: quarantined records first, resolutions of records that
 * synced cleanly, then the changes per target as one staged batch each.
 */
import type { LoadedSync } from '../config/load';
import type { EngineDeps, EntityEngine, PlanPageInput } from './entity-engine';

export interface StagePageResult {
  /** Source records (SKUs) the page covered. */
  recordsRead: number;
  /** Changes staged, per target id (held ones included). */
  changedByTarget: Record<string, number>;
  /**
   * Records whose values at each target equal the last pushed ones, per target id (metrics).
   * Absent in results recorded before it.
   */
  unchangedByTarget?: Record<string, number>;
  /** Changes staged but held by the entity's guard, per target id. Absent when none. */
  heldByTarget?: Record<string, number>;
  quarantined: number;
  /** The quarantined records by category (e.g. "invalid source row"); absent when none. */
  quarantinedByCategory?: Record<string, number>;
  adjusted: number;
  /** Records the source marks not for sale (their channel values became 0); absent when none. */
  notForSale?: number;
  nextCursor: unknown;
  resumeCursor: unknown;
  nextChangeAt?: string;
}

export async function stagePage(deps: EngineDeps, engine: EntityEngine, sync: LoadedSync, input: PlanPageInput & { batchId: string }): Promise<StagePageResult> {
  const { store } = deps;
  const plan = await engine.planPage(deps, sync, input);
  const entity = engine.spec.entity;
  if (plan.quarantine.length > 0) await store.quarantine(plan.quarantine);
  for (const [target, subjects] of plan.cleanSubjects) await store.resolveQuarantined(sync.name, entity, target, subjects);
  if (plan.adjusted > 0) {
    deps.logger.warn(
      { syncName: sync.name, batchId: input.batchId, adjusted: plan.adjusted, examples: plan.adjustedExamples },
      `${entity} values counted as zero under the mapping's policy`,
    );
  }
  if (plan.notForSale !== undefined) {
    deps.logger.info({ syncName: sync.name, batchId: input.batchId, notForSale: plan.notForSale, examples: plan.notForSaleExamples }, `${entity} records not for sale in the source: 0 in every channel`);
  }
  const changedByTarget: Record<string, number> = {};
  const heldByTarget: Record<string, number> = {};
  for (const [target, items] of plan.changesByTarget) {
    // Staging is an upsert of pending rows: a retried page stages the same rows again.
    if (items.length > 0) await store.stageItems(input.batchId, target, items);
    changedByTarget[target] = items.length;
    const held = items.filter((item) => item.held !== undefined).length;
    if (held > 0) heldByTarget[target] = held;
  }
  const unchangedByTarget: Record<string, number> = {};
  for (const target of plan.changesByTarget.keys()) unchangedByTarget[target] = plan.cleanSubjects.get(target)?.length ?? 0;
  return {
    recordsRead: plan.recordsRead,
    changedByTarget,
    unchangedByTarget,
    ...(Object.keys(heldByTarget).length > 0 ? { heldByTarget } : {}),
    quarantined: plan.quarantine.length,
    ...(plan.quarantine.length > 0 ? { quarantinedByCategory: countByCategory(plan.quarantine) } : {}),
    adjusted: plan.adjusted,
    ...(plan.notForSale === undefined ? {} : { notForSale: plan.notForSale }),
    nextCursor: plan.nextCursor,
    resumeCursor: plan.resumeCursor,
    ...(plan.nextChangeAt === undefined ? {} : { nextChangeAt: plan.nextChangeAt }),
  };
}

function countByCategory(records: ReadonlyArray<{ category: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) counts[record.category || 'uncategorised'] = (counts[record.category || 'uncategorised'] ?? 0) + 1;
  return counts;
}

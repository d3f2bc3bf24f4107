/** The entity engines, by entity: the one place the engine learns which entities exist. */
import type { EntityName } from '../core/entities';
import type { EntityEngine } from './entity-engine';
import { priceEngine } from './price';
import { stockEngine } from './stock';

export const ENGINES: Record<EntityName, EntityEngine> = {
  stock: stockEngine,
  price: priceEngine,
};

export function engineOf(entity: EntityName): EntityEngine {
  return ENGINES[entity];
}

export type { EngineDeps, EntityEngine, PagePlan, PlanPageInput } from './entity-engine';
export { findSync, findSyncOf } from './syncs';

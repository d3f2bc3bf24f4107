/**
 * Every entity the hub syncs, by name. The one list of entities: config, workflows' search
 * attributes, schedules and the worker take them from here.
 */
import { priceEntity } from './price';
import type { EntitySpec } from './spec';
import { stockEntity } from './stock';

export const ENTITIES = {
  stock: stockEntity,
  price: priceEntity,
} as const;

export type EntityName = keyof typeof ENTITIES;
export const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

export function entitySpec(entity: EntityName): EntitySpec<unknown> {
  return ENTITIES[entity] as unknown as EntitySpec<unknown>;
}

export { syncActivityNames, type EntitySpec, type SyncMode } from './spec';

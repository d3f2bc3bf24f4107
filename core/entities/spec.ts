/**
 * What an entity declares once, so the engine (config loading, workflows, activities,
 * schedules, the worker's rate arithmetic) handles it without naming it: its capabilities, its
 * workflow type, the run modes it supports, and its mapping file's schema and checks.
 *
 * Adding an entity: a spec here (core/entities/<entity>.ts) with its pure logic, an entity engine
 * (engine/<entity>.ts) that reads, computes, diffs and writes through connector operations, and
 * those operations in the connectors that offer it (docs/connector-authoring.md).
 */
import type { z } from 'zod';

export type SyncMode = 'full' | 'delta';

export interface EntitySpec<Mapping = unknown> {
  /** The entity's name in config (`entity: price`), state and search attributes. */
  readonly entity: string;
  /** The connector capability a source needs, `<entity>.read`. */
  readonly readCapability: `${string}.read`;
  /** The connector capability a target needs, `<entity>.write`. */
  readonly writeCapability: `${string}.write`;
  /** The workflow type of its runs (`stockSync`, `priceSync`). */
  readonly workflowType: string;
  /** Run modes its syncs may schedule. */
  readonly modes: readonly SyncMode[];
  /** Why a mode it does not support is refused, for config messages. */
  readonly modesNote?: string;
  /** Strict schema of the mapping file. */
  readonly mappingSchema: z.ZodType<Mapping>;
  /** Problems of a parsed mapping with the sync it belongs to (paths relative to the file). */
  checkMapping(mapping: Mapping, sync: { targets: readonly string[] }): string[];
  /**
   * Items one source record of a page gives a target at most (stock: a quantity per target
   * location), for the server-enforced activity rate of a target's task queue (worker.ts). 0:
   * the entity's pushes do not count there, because they are few per run and large, and the
   * client's pacer alone governs their calls (prices: one call per product).
   */
  itemsPerRecord(mapping: Mapping): number;
}

/** Declares an entity spec with its mapping type checked. */
export function defineEntity<Mapping>(spec: EntitySpec<Mapping>): EntitySpec<Mapping> {
  return spec;
}

/**
 * The activity types of an entity's runs. Named per entity (stageStockPage, pushPriceBatch) so
 * the Temporal UI says what an activity does; the stock names are those of recorded histories.
 */
export function syncActivityNames(entity: string) {
  const name = entity.charAt(0).toUpperCase() + entity.slice(1);
  return {
    plan: `plan${name}Sync`,
    stage: `stage${name}Page`,
    push: `push${name}Batch`,
    commit: `commit${name}Cursor`,
    guardRun: `guard${name}Run`,
    rejectHeld: `rejectHeld${name}Items`,
  } as const;
}

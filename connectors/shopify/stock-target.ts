/**
 * Stock writes to Shopify: SKU → inventory item resolution (cached in the hub's crosswalk),
 * then `inventorySetQuantities` with an idempotency key, one call per ≤ 250 quantities.
 *
 * `inventorySetQuantities` is atomic: one invalid item fails the call. Items the answer points
 * at are reported as failed and the rest are sent again once, so one bad SKU never fails the
 * other 249.
 */
import { z } from 'zod';
import type { ItemResult } from '../../core/errors';
import { validationError } from '../../core/errors';
import type { StockWriteLimits } from '../../core/stock-limits';
import type { StockTarget, StockUpdate, StockUpdateKey, StockWriter } from '../contract';
import type { CrosswalkStore } from '../../core/model';
import type { ShopifyGraphqlClient } from './client';
import {
  SET_QUANTITIES_COST,
  SET_QUANTITIES_MUTATION,
  VARIANTS_BY_SKU_QUERY,
  VARIANT_LOOKUP_PAGE,
} from './operations';
import { lookupSkuPages, resolveSkus } from './sku-resolution';
import { quantityIndexOf, toQuantityInputs, type UserError } from './mapper';

/** Shopify's input array limit for one mutation. */
export const SHOPIFY_MAX_INPUT_ITEMS = 250;

/**
 * What `inventorySetQuantities` accepts per quantity. Quantities are GraphQL `Int` (32-bit) and
 * Shopify bounds inventory quantities to ±1,000,000,000 (INVALID_QUANTITY_TOO_HIGH/LOW); the hub
 * only sets available quantities, which are never negative. A variant's SKU holds at most 255
 * characters. Shopify's SKU search matches case-insensitively, so SKUs that differ only by case
 * cannot be told apart by the lookup: sources report them as duplicates.
 */
export const SHOPIFY_STOCK_WRITE_LIMITS: StockWriteLimits = {
  minQuantity: 0,
  maxQuantity: 1_000_000_000,
  maxSkuLength: 255,
  maxLocationLength: 255,
  caseInsensitiveSkus: true,
  describe: 'Shopify inventory quantities are at most 1,000,000,000',
};
/** Crosswalk kind: channel SKU → inventory item GID. */
export const INVENTORY_ITEM_CROSSWALK = 'sku->inventory-item';

const VariantsPage = z.object({
  productVariants: z.object({
    nodes: z.array(z.object({ id: z.string(), sku: z.string().nullable(), inventoryItem: z.object({ id: z.string() }) })),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  }),
});

const SetQuantitiesData = z.object({
  inventorySetQuantities: z
    .object({
      inventoryAdjustmentGroup: z.object({ id: z.string() }).nullable(),
      userErrors: z.array(z.object({ code: z.string().nullable().optional(), field: z.array(z.string()).nullable().optional(), message: z.string() })),
    })
    .nullable(),
});

export class ShopifyStockTarget implements StockTarget {
  constructor(
    private readonly connectorId: string,
    private readonly client: ShopifyGraphqlClient,
    private readonly crosswalk: CrosswalkStore,
    /** How long a SKU Shopify did not know is not looked up again. */
    private readonly missingSkuRecheckMs: number,
    readonly maxConcurrentCalls: number,
    /** Variants per lookup query; see variantLookupPageFor. */
    private readonly lookupPage: number = VARIANT_LOOKUP_PAGE,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Resolves every SKU of a push up front: SKUs Shopify has are learned into the crosswalk and
   * SKUs it lacks are remembered as missing, so the write calls that follow need no lookup. A
   * lookup request costs 2 points plus 2 per SKU asked for, whatever it finds; asked per write
   * call, the few new SKUs of each call cost a request and its base points every time. The
   * returned writer keeps the resolutions for the push's write calls.
   */
  async preparePush(skus: readonly string[], signal?: AbortSignal): Promise<StockWriter> {
    const resolved = await this.resolveInventoryItems([...new Set(skus)], signal);
    return {
      setStock: async (updates, idempotencyKey) => {
        this.checkCallSize(updates);
        // A SKU the push did not announce is resolved now, as setStock would.
        const unannounced = [...new Set(updates.map((u) => u.sku).filter((sku) => !resolved.has(sku)))];
        if (unannounced.length > 0) for (const [sku, resolution] of await this.resolveInventoryItems(unannounced, signal)) resolved.set(sku, resolution);
        return this.writeResolved(updates, idempotencyKey, resolved, signal);
      },
    };
  }

  async setStock(updates: StockUpdate[], idempotencyKey: string): Promise<ItemResult<StockUpdateKey>[]> {
    this.checkCallSize(updates);
    return this.writeResolved(updates, idempotencyKey, await this.resolveInventoryItems([...new Set(updates.map((u) => u.sku))]));
  }

  private checkCallSize(updates: readonly StockUpdate[]): void {
    if (updates.length > SHOPIFY_MAX_INPUT_ITEMS) {
      throw validationError(`shopify ${this.connectorId}: ${updates.length} updates in one call, at most ${SHOPIFY_MAX_INPUT_ITEMS}`);
    }
  }

  /** One write call with every SKU of `updates` already resolved; `signal` ends its waits for the bucket. */
  private async writeResolved(
    updates: StockUpdate[],
    idempotencyKey: string,
    itemIds: ReadonlyMap<string, Resolution>,
    signal?: AbortSignal,
  ): Promise<ItemResult<StockUpdateKey>[]> {
    const results = new Map<number, ItemResult<StockUpdateKey>>();
    const sendable: number[] = [];
    updates.forEach((update, index) => {
      const resolution = itemIds.get(update.sku);
      if (resolution === undefined || resolution.kind === 'missing') {
        results.set(index, fail(update, 'unmappable', `SKU ${update.sku} has no variant in Shopify (${this.connectorId})`));
      } else if (resolution.kind === 'ambiguous') {
        results.set(index, fail(update, 'unmappable', `SKU ${update.sku} matches ${resolution.count} variants in Shopify (${this.connectorId}); SKUs must be unique`));
      } else {
        sendable.push(index);
      }
    });

    let attempt = sendable;
    for (let round = 0; attempt.length > 0 && round < 2; round++) {
      const key = round === 0 ? idempotencyKey : `${idempotencyKey}:r${round}`;
      const userErrors = await this.sendQuantities(attempt.map((i) => updates[i]!), itemIds, key, signal);
      if (userErrors.length === 0) {
        for (const index of attempt) results.set(index, { key: keyOf(updates[index]!), ok: true });
        attempt = [];
        break;
      }
      const badPositions = new Set<number>();
      for (const error of userErrors) {
        const position = quantityIndexOf(error);
        if (position === undefined || position >= attempt.length) {
          // An error about the whole call is not an item's fault: the operator must see it.
          throw validationError(`shopify ${this.connectorId}: inventorySetQuantities failed: ${describe(userErrors)}`);
        }
        badPositions.add(position);
        const index = attempt[position]!;
        results.set(index, fail(updates[index]!, 'validation', `${error.code ?? 'INVALID'}: ${error.message}`));
      }
      attempt = attempt.filter((_, position) => !badPositions.has(position));
    }
    if (attempt.length > 0) {
      throw validationError(`shopify ${this.connectorId}: inventorySetQuantities kept failing after removing invalid items`);
    }
    return updates.map((update, index) => results.get(index) ?? fail(update, 'validation', 'not sent'));
  }

  private async sendQuantities(
    updates: StockUpdate[],
    itemIds: ReadonlyMap<string, Resolution>,
    idempotencyKey: string,
    signal: AbortSignal | undefined,
  ): Promise<UserError[]> {
    const ids = new Map<string, string>();
    for (const { sku } of updates) {
      const resolution = itemIds.get(sku);
      if (resolution?.kind === 'found') ids.set(sku, resolution.inventoryItemId);
    }
    const data = await this.client.request(
      'inventorySetQuantities',
      SET_QUANTITIES_MUTATION,
      {
        input: { name: 'available', reason: 'correction', referenceDocumentUri: 'omnisync://stock-sync', quantities: toQuantityInputs(updates, ids) },
        idempotencyKey,
      },
      SET_QUANTITIES_COST,
      SetQuantitiesData,
      signal,
    );
    if (data.inventorySetQuantities === null) {
      throw validationError(`shopify ${this.connectorId}: inventorySetQuantities returned null`);
    }
    return data.inventorySetQuantities.userErrors;
  }

  /** SKU → inventory item, from the crosswalk first, then from Shopify for the rest (sku-resolution.ts). */
  async resolveInventoryItems(skus: string[], signal?: AbortSignal): Promise<Map<string, Resolution>> {
    const resolutions = await resolveSkus(skus, {
      ...(signal === undefined ? {} : { signal }),
      crosswalk: this.crosswalk,
      kind: INVENTORY_ITEM_CROSSWALK,
      encode: (id: string) => id,
      decode: (text) => text,
      missingSkuRecheckMs: this.missingSkuRecheckMs,
      lookupPage: this.lookupPage,
      now: this.now,
      lookup: (chunk, signal) =>
        lookupSkuPages(this.client, this.connectorId, chunk, this.lookupPage, VARIANTS_BY_SKU_QUERY, VariantsPage, (node) => ({ key: node.inventoryItem.id, value: node.inventoryItem.id }), signal),
    });
    const resolved = new Map<string, Resolution>();
    for (const [sku, resolution] of resolutions) {
      resolved.set(sku, resolution.kind === 'found' ? { kind: 'found', inventoryItemId: resolution.value } : resolution);
    }
    return resolved;
  }
}

type Resolution = { kind: 'found'; inventoryItemId: string } | { kind: 'missing' } | { kind: 'ambiguous'; count: number };

function keyOf(update: StockUpdate): StockUpdateKey {
  return { sku: update.sku, location: update.location };
}

function fail(update: StockUpdate, kind: 'unmappable' | 'validation', message: string): ItemResult<StockUpdateKey> {
  return { key: keyOf(update), ok: false, kind, message };
}

function describe(errors: UserError[]): string {
  return errors.map((e) => `${e.code ?? 'ERROR'} at ${(e.field ?? []).join('.') || 'input'}: ${e.message}`).join('; ');
}

/**
 * Price writes to Shopify: SKU → variant and product resolution (cached in the hub's crosswalk),
 * then `productVariantsBulkUpdate`, one call per product (Shopify requires every variant of a
 * call to belong to its `productId`), paced by cost through the shared client.
 *
 * `productVariantsBulkUpdate` is atomic: one invalid variant fails the call. Items the answer
 * points at are reported as failed and the rest of that product's variants are sent again once,
 * so one bad price never fails the others. Amounts are sent as the hub's decimal strings
 * (`Money.amount`), never as numbers.
 *
 * EU Omnibus: an update's `lowestPrior30Days` goes into the variant's `money` metafield
 * OMNIBUS_METAFIELD (`omnisync.lowest_price_30d`), in the same variant input as its price, so the
 * price and its lowest prior price are written together or not at all. Shopify refuses a money
 * value in another currency than the store's; that refusal fails the item, as a bad price does.
 *
 * A reference from the crosswalk can be stale (the merchant deleted and re-created a product): a
 * variant Shopify says does not exist or is not of the product is looked up again, and written
 * once more when Shopify now names another variant for its SKU.
 */
import { z } from 'zod';
import type { ItemResult } from '../../core/errors';
import { validationError } from '../../core/errors';
import type { CrosswalkStore } from '../../core/model';
import type { Money } from '../../core/money';
import type { PriceTarget, PriceUpdate } from '../contract';
import type { ShopifyGraphqlClient } from './client';
import type { UserError } from './mapper';
import { PRICE_UPDATE_COST, PRICE_UPDATE_MUTATION, VARIANT_LOOKUP_PAGE, VARIANT_PRODUCTS_BY_SKU_QUERY } from './operations';
import { lookupSkuPages, resolveSkus, type SkuResolution } from './sku-resolution';
import { SHOPIFY_MAX_INPUT_ITEMS } from './stock-target';

/**
 * Crosswalk kind: channel SKU → its variant and product, as JSON `{"variant": gid, "product": gid}`.
 * SKUs Shopify lacks share MISSING_SKU_CROSSWALK with stock writes: a SKU with no variant has
 * neither stock nor a price in Shopify.
 */
export const VARIANT_PRODUCT_CROSSWALK = 'sku->variant+product';
/**
 * The variant metafield holding the lowest price of the 30 days before the current one (EU
 * Omnibus), a `money` metafield: value `{"amount": "<decimal>", "currency_code": "<ISO 4217>"}`.
 */
export const OMNIBUS_METAFIELD = { namespace: 'omnisync', key: 'lowest_price_30d', type: 'money' } as const;

/** Where a SKU's price lives in Shopify. */
export interface VariantRef {
  variantId: string;
  productId: string;
}

const StoredVariantRef = z.object({ variant: z.string().min(1), product: z.string().min(1) });

function encodeVariantRef(ref: VariantRef): string {
  return JSON.stringify({ variant: ref.variantId, product: ref.productId });
}

function decodeVariantRef(text: string): VariantRef | undefined {
  try {
    const parsed = StoredVariantRef.safeParse(JSON.parse(text));
    return parsed.success ? { variantId: parsed.data.variant, productId: parsed.data.product } : undefined;
  } catch {
    return undefined;
  }
}

const VariantProductsPage = z.object({
  productVariants: z.object({
    nodes: z.array(z.object({ id: z.string(), sku: z.string().nullable(), product: z.object({ id: z.string() }) })),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  }),
});

const PriceUpdateData = z.object({
  productVariantsBulkUpdate: z
    .object({
      userErrors: z.array(z.object({ code: z.string().nullable().optional(), field: z.array(z.string()).nullable().optional(), message: z.string() })),
    })
    .nullable(),
});

/** User error codes that mean the variant or product reference itself is wrong (stale when cached). */
const STALE_REFERENCE_CODES: ReadonlySet<string> = new Set(['PRODUCT_VARIANT_DOES_NOT_EXIST', 'MUST_BE_FOR_THIS_PRODUCT', 'PRODUCT_DOES_NOT_EXIST']);

/** `MetafieldInput` as the connector sends it. */
export interface MetafieldInput {
  namespace: string;
  key: string;
  type: string;
  /** Always a string; for `money`, JSON. */
  value: string;
}

/** `ProductVariantsBulkInput` as the connector sends it. */
interface VariantPriceInput {
  id: string;
  price: string;
  compareAtPrice?: string | null;
  metafields?: MetafieldInput[];
}

type PriceResult = ItemResult<{ sku: string }>;

export class ShopifyPriceTarget implements PriceTarget {
  constructor(
    private readonly connectorId: string,
    private readonly client: ShopifyGraphqlClient,
    private readonly crosswalk: CrosswalkStore,
    /** How long a SKU Shopify did not know is not looked up again. */
    private readonly missingSkuRecheckMs: number,
    /** Product calls kept in flight at once (the client's pacer still governs the rate). */
    private readonly maxConcurrentCalls: number,
    /** Variants per lookup query; see variantLookupPageFor. */
    private readonly lookupPage: number = VARIANT_LOOKUP_PAGE,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Sets the prices of up to 250 SKUs: one `productVariantsBulkUpdate` per product. Prices are
   * absolute, so sending one again is harmless: the idempotency key is not needed.
   * When `signal` aborts, no further product call starts, calls in flight finish, and the call
   * throws the signal's reason: the retry sends the batch again.
   */
  async setPrices(updates: readonly PriceUpdate[], _idempotencyKey: string, signal?: AbortSignal): Promise<PriceResult[]> {
    if (updates.length > SHOPIFY_MAX_INPUT_ITEMS) {
      throw validationError(`shopify ${this.connectorId}: ${updates.length} price updates in one call, at most ${SHOPIFY_MAX_INPUT_ITEMS}`);
    }
    const resolved = await this.resolveVariants([...new Set(updates.map((update) => update.sku))], false, signal);
    const results = new Map<number, PriceResult>();
    /** Per product, the indexes of its updates, in input order. */
    const byProduct = new Map<string, number[]>();
    const seenVariants = new Set<string>();
    updates.forEach((update, index) => {
      const resolution = resolved.get(update.sku);
      if (resolution === undefined || resolution.kind === 'missing') {
        results.set(index, fail(update, 'unmappable', `SKU ${update.sku} has no variant in Shopify (${this.connectorId})`));
      } else if (resolution.kind === 'ambiguous') {
        results.set(index, fail(update, 'unmappable', `SKU ${update.sku} matches ${resolution.count} variants in Shopify (${this.connectorId}); SKUs must be unique`));
      } else if (seenVariants.has(resolution.value.variantId)) {
        results.set(index, fail(update, 'validation', `SKU ${update.sku} appears more than once in one price call (${this.connectorId})`));
      } else {
        seenVariants.add(resolution.value.variantId);
        const indexes = byProduct.get(resolution.value.productId) ?? [];
        indexes.push(index);
        byProduct.set(resolution.value.productId, indexes);
      }
    });

    /** Updates whose cached reference Shopify refused: looked up again below. */
    const stale = new Set<number>();
    await this.writeProducts(byProduct, updates, resolved, results, stale, signal);

    const staleSkus = [...new Set([...stale].filter((index) => isCached(resolved.get(updates[index]!.sku))).map((index) => updates[index]!.sku))];
    if (staleSkus.length > 0) {
      const fresh = await this.resolveVariants(staleSkus, true, signal);
      const again = new Map<string, number[]>();
      for (const index of stale) {
        const update = updates[index]!;
        const before = resolved.get(update.sku);
        const now = fresh.get(update.sku);
        if (!isCached(before) || now === undefined) continue;
        if (now.kind === 'missing') results.set(index, fail(update, 'unmappable', `SKU ${update.sku} has no variant in Shopify (${this.connectorId})`));
        else if (now.kind === 'ambiguous') results.set(index, fail(update, 'unmappable', `SKU ${update.sku} matches ${now.count} variants in Shopify (${this.connectorId}); SKUs must be unique`));
        else if (now.value.variantId !== before.value.variantId || now.value.productId !== before.value.productId) {
          const indexes = again.get(now.value.productId) ?? [];
          indexes.push(index);
          again.set(now.value.productId, indexes);
        }
      }
      await this.writeProducts(again, updates, fresh, results, new Set(), signal);
    }
    return updates.map((update, index) => results.get(index) ?? fail(update, 'validation', 'not sent'));
  }

  /** Writes every product's updates, at most maxConcurrentCalls products at a time. */
  private async writeProducts(
    byProduct: ReadonlyMap<string, number[]>,
    updates: readonly PriceUpdate[],
    resolved: ReadonlyMap<string, SkuResolution<VariantRef>>,
    results: Map<number, PriceResult>,
    stale: Set<number>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const products = [...byProduct];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (signal?.aborted !== true && next < products.length) {
        const [productId, indexes] = products[next++]!;
        for (const [index, result] of await this.writeProduct(productId, indexes, updates, resolved, stale, signal)) results.set(index, result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrentCalls, products.length) }, worker));
    signal?.throwIfAborted();
  }

  /** One product's updates: sent, and once more without the variants Shopify refused. */
  private async writeProduct(
    productId: string,
    indexes: readonly number[],
    updates: readonly PriceUpdate[],
    resolved: ReadonlyMap<string, SkuResolution<VariantRef>>,
    /** Collects the updates refused for a wrong variant or product reference. */
    stale: Set<number>,
    signal: AbortSignal | undefined,
  ): Promise<Map<number, PriceResult>> {
    const results = new Map<number, PriceResult>();
    let attempt = [...indexes];
    for (let round = 0; attempt.length > 0 && round < 2; round++) {
      const userErrors = await this.sendPrices(productId, attempt.map((index) => variantInput(updates[index]!, resolved)), signal);
      if (userErrors.length === 0) {
        for (const index of attempt) results.set(index, { key: { sku: updates[index]!.sku }, ok: true });
        return results;
      }
      const badPositions = new Set<number>();
      for (const error of userErrors) {
        const position = variantIndexOf(error);
        if (position === undefined || position >= attempt.length) {
          if ((error.field ?? [])[0] === 'productId') {
            // The product itself is gone (or the cached reference is stale): its items fail, not the call.
            for (const index of attempt) {
              results.set(index, fail(updates[index]!, 'validation', `${error.code ?? 'INVALID'}: ${error.message} (product ${productId})`));
              if (STALE_REFERENCE_CODES.has(error.code ?? '')) stale.add(index);
            }
            return results;
          }
          // An error about the whole call is not an item's fault: the operator must see it.
          throw validationError(`shopify ${this.connectorId}: productVariantsBulkUpdate failed: ${describe(userErrors)}`);
        }
        badPositions.add(position);
        const index = attempt[position]!;
        if (STALE_REFERENCE_CODES.has(error.code ?? '')) stale.add(index);
        const field = (error.field ?? []).slice(2);
        // The only metafield sent is the Omnibus one: the message names it, not just its index.
        const where = field[0] === 'metafields' ? `${field.join('.')} (${OMNIBUS_METAFIELD.namespace}.${OMNIBUS_METAFIELD.key})` : field.join('.');
        results.set(index, fail(updates[index]!, 'validation', `${error.code ?? 'INVALID'}${where === '' ? '' : ` at ${where}`}: ${error.message}`));
      }
      attempt = attempt.filter((_, position) => !badPositions.has(position));
    }
    for (const index of attempt) {
      results.set(index, fail(updates[index]!, 'validation', `productVariantsBulkUpdate kept failing for product ${productId} after removing invalid variants`));
    }
    return results;
  }

  private async sendPrices(productId: string, variants: VariantPriceInput[], signal: AbortSignal | undefined): Promise<UserError[]> {
    const data = await this.client.request('productVariantsBulkUpdate', PRICE_UPDATE_MUTATION, { productId, variants }, PRICE_UPDATE_COST, PriceUpdateData, signal);
    if (data.productVariantsBulkUpdate === null) {
      throw validationError(`shopify ${this.connectorId}: productVariantsBulkUpdate returned null`);
    }
    return data.productVariantsBulkUpdate.userErrors;
  }

  /** SKU → variant and product, from the crosswalk first, then from Shopify for the rest. */
  resolveVariants(skus: string[], skipCache = false, signal?: AbortSignal): Promise<Map<string, SkuResolution<VariantRef>>> {
    return resolveSkus(skus, {
      skipCache,
      ...(signal === undefined ? {} : { signal }),
      crosswalk: this.crosswalk,
      kind: VARIANT_PRODUCT_CROSSWALK,
      encode: encodeVariantRef,
      decode: decodeVariantRef,
      missingSkuRecheckMs: this.missingSkuRecheckMs,
      lookupPage: this.lookupPage,
      now: this.now,
      lookup: (chunk, lookupSignal) => this.lookupVariants(chunk, lookupSignal),
    });
  }

  private lookupVariants(skus: string[], signal?: AbortSignal): Promise<Map<string, VariantRef[]>> {
    return lookupSkuPages(this.client, this.connectorId, skus, this.lookupPage, VARIANT_PRODUCTS_BY_SKU_QUERY, VariantProductsPage, (node) => ({
      key: node.id,
      value: { variantId: node.id, productId: node.product.id },
    }), signal);
  }

}

function isCached<T>(resolution: SkuResolution<T> | undefined): resolution is { kind: 'found'; value: T; cached: true } {
  return resolution?.kind === 'found' && resolution.cached === true;
}

/**
 * The variant input of one update: decimal strings as the hub holds them; compare-at only when
 * given; the Omnibus metafield only when the update carries a lowest prior price.
 */
function variantInput(update: PriceUpdate, resolved: ReadonlyMap<string, SkuResolution<VariantRef>>): VariantPriceInput {
  const resolution = resolved.get(update.sku);
  // Only resolved updates are grouped for sending.
  if (resolution?.kind !== 'found') throw new Error(`SKU ${update.sku} sent without a variant`);
  const input: VariantPriceInput = { id: resolution.value.variantId, price: update.price.amount };
  if (update.compareAt !== undefined) input.compareAtPrice = update.compareAt === null ? null : update.compareAt.amount;
  if (update.lowestPrior30Days !== undefined) input.metafields = [omnibusMetafield(update.lowestPrior30Days)];
  return input;
}

/** The Omnibus metafield input: Shopify's `money` value, the amount as a decimal string. */
export function omnibusMetafield(lowest: Money): MetafieldInput {
  return { ...OMNIBUS_METAFIELD, value: JSON.stringify({ amount: lowest.amount, currency_code: lowest.currency }) };
}

/** The index of the input variant a user error points at (`["variants","3",...]`), if any. */
export function variantIndexOf(error: UserError): number | undefined {
  const field = error.field ?? [];
  if (field[0] !== 'variants') return undefined;
  const index = Number(field[1]);
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}

function fail(update: PriceUpdate, kind: 'unmappable' | 'validation', message: string): PriceResult {
  return { key: { sku: update.sku }, ok: false, kind, message };
}

function describe(errors: UserError[]): string {
  return errors.map((e) => `${e.code ?? 'ERROR'} at ${(e.field ?? []).join('.') || 'input'}: ${e.message}`).join('; ');
}

/**
 * SKU → Shopify reference resolution, shared by the stock and the price writers: the hub's
 * crosswalk first, SKUs recently found missing not asked again, the rest looked up through
 * `productVariants` search in pages, and what was learned (found or missing) stored.
 */
import type { z } from 'zod';
import { validationError } from '../../core/errors';
import type { CrosswalkStore } from '../../core/model';
import type { ShopifyGraphqlClient } from './client';
import { skuSearchQuery, variantLookupCost } from './operations';

/**
 * Crosswalk kind: channel SKU → when Shopify last had no variant for it. Many ERP products are
 * never listed online; looking each of them up on every run would spend ~2 points per SKU. A SKU
 * with no variant has neither stock nor a price in Shopify, so every writer shares this kind.
 */
export const MISSING_SKU_CROSSWALK = 'sku->missing-since';

/** Guards a lookup that keeps returning pages (e.g. thousands of variants sharing a SKU). */
const MAX_LOOKUP_PAGES = 20;


/**
 * What a SKU resolves to: one variant, none, or several (SKUs must be unique to be written).
 * `cached`: the reference came from the crosswalk, not from Shopify in this call.
 */
export type SkuResolution<T> = { kind: 'found'; value: T; cached?: boolean } | { kind: 'missing' } | { kind: 'ambiguous'; count: number };

/** How `resolveSkus` caches and looks up one kind of remote reference. */
export interface SkuResolverOptions<T> {
  crosswalk: CrosswalkStore;
  /** Crosswalk kind of the found references. */
  kind: string;
  encode(value: T): string;
  /** Undefined for a stored value that cannot be read: the SKU is looked up again. */
  decode(text: string): T | undefined;
  /** How long a SKU Shopify did not know is not looked up again. */
  missingSkuRecheckMs: number;
  /** SKUs per lookup request. */
  lookupPage: number;
  now: () => number;
  /** Every distinct reference Shopify has for each SKU asked for (exact matches only); `signal` ends its waits for the bucket. */
  lookup(skus: string[], signal?: AbortSignal): Promise<Map<string, T[]>>;
  /** Looks every SKU up in Shopify, ignoring what the crosswalk holds (stale references). Default false. */
  skipCache?: boolean;
  /** When it aborts, no further lookup starts; what was learned is stored, then the abort's reason is thrown. */
  signal?: AbortSignal;
}

/**
 * SKU → remote reference: from the crosswalk first, SKUs recently found missing are not asked
 * again, the rest are looked up in pages; what was learned (found or missing) is stored.
 */
export async function resolveSkus<T>(skus: readonly string[], options: SkuResolverOptions<T>): Promise<Map<string, SkuResolution<T>>> {
  const resolved = new Map<string, SkuResolution<T>>();
  const skipCache = options.skipCache === true;
  const cached = skipCache ? new Map<string, string>() : await options.crosswalk.get(options.kind, skus);
  for (const [sku, text] of cached) {
    const value = options.decode(text);
    if (value !== undefined) resolved.set(sku, { kind: 'found', value, cached: true });
  }
  const unknown = skus.filter((sku) => !resolved.has(sku));
  const missingSince = skipCache ? new Map<string, string>() : await options.crosswalk.get(MISSING_SKU_CROSSWALK, unknown);
  const recheckAfter = options.now() - options.missingSkuRecheckMs;
  const toLookUp: string[] = [];
  for (const sku of unknown) {
    const since = Date.parse(missingSince.get(sku) ?? '');
    if (Number.isFinite(since) && since > recheckAfter) resolved.set(sku, { kind: 'missing' });
    else toLookUp.push(sku);
  }
  const learned = new Map<string, string>();
  const stillMissing = new Map<string, string>();
  for (let start = 0; start < toLookUp.length && options.signal?.aborted !== true; start += options.lookupPage) {
    const chunk = toLookUp.slice(start, start + options.lookupPage);
    let found: Map<string, T[]>;
    try {
      found = await options.lookup(chunk, options.signal);
    } catch (err) {
      // Aborted while waiting for the bucket: what earlier pages learned is still stored below.
      if (wasAborted(options.signal)) break;
      throw err;
    }
    for (const sku of chunk) {
      const matches = found.get(sku) ?? [];
      if (matches.length === 1) {
        resolved.set(sku, { kind: 'found', value: matches[0]! });
        learned.set(sku, options.encode(matches[0]!));
      } else if (matches.length > 1) {
        resolved.set(sku, { kind: 'ambiguous', count: matches.length });
      } else {
        resolved.set(sku, { kind: 'missing' });
        stillMissing.set(sku, new Date(options.now()).toISOString());
      }
    }
  }
  if (learned.size > 0) await options.crosswalk.put(options.kind, learned);
  if (stillMissing.size > 0) await options.crosswalk.put(MISSING_SKU_CROSSWALK, stillMissing);
  options.signal?.throwIfAborted();
  return resolved;
}


/** A function, not an inline test, so the compiler does not assume the loop condition's narrowing still holds after an await. */
function wasAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** A page of `productVariants` as the lookup queries return it. */
interface VariantNodes<N> {
  productVariants: { nodes: N[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/**
 * Every distinct reference Shopify has for each of `skus`, exact SKU matches only (Shopify's
 * search is prefix/tokenised). `toRef` gives a node's reference and the key that makes two
 * nodes the same reference. Shopify charges the requested page up front (2 points a variant),
 * so a lookup asks for as many variants as SKUs, not a full page.
 */
export async function lookupSkuPages<N extends { sku: string | null }, T>(
  client: ShopifyGraphqlClient,
  connectorId: string,
  skus: string[],
  lookupPage: number,
  query: string,
  schema: z.ZodType<VariantNodes<N>>,
  toRef: (node: N) => { key: string; value: T },
  signal?: AbortSignal,
): Promise<Map<string, T[]>> {
  const bySku = new Map<string, { keys: Set<string>; values: T[] }>();
  const wanted = new Set(skus);
  const first = Math.min(lookupPage, skus.length);
  let after: string | null = null;
  for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
    const data: VariantNodes<N> = await client.request('productVariants', query, { query: skuSearchQuery(skus), first, after }, variantLookupCost(first), schema, signal);
    for (const node of data.productVariants.nodes) {
      if (node.sku === null || !wanted.has(node.sku)) continue;
      const ref = toRef(node);
      const entry = bySku.get(node.sku) ?? { keys: new Set<string>(), values: [] };
      if (!entry.keys.has(ref.key)) {
        entry.keys.add(ref.key);
        entry.values.push(ref.value);
      }
      bySku.set(node.sku, entry);
    }
    if (!data.productVariants.pageInfo.hasNextPage) return new Map([...bySku].map(([sku, entry]) => [sku, entry.values]));
    after = data.productVariants.pageInfo.endCursor;
  }
  throw validationError(`shopify ${connectorId}: SKU lookup returned more than ${MAX_LOOKUP_PAGES} pages for ${skus.length} SKUs`);
}

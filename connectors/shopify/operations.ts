/**
 * GraphQL documents the connector sends, with the cost each one requests under Shopify's
 * documented model (object 1, connection 2 + first × node cost, mutation 10). The pacer charges
 * the requested cost up front, as Shopify does.
 */

export const SHOP_QUERY = /* GraphQL */ `
  query OmnisyncCheck {
    shop { name myshopifyDomain }
    locations(first: 50) { nodes { id name isActive } }
  }
`;
/** shop 1 + locations (2 + 50 × 1). */
export const SHOP_QUERY_COST = 1 + 2 + 50;

/** Page size of SKU lookups: Shopify's maximum `first`. */
export const VARIANT_LOOKUP_PAGE = 250;

/**
 * The largest lookup page whose cost fits the shop's bucket: a query costing more than the
 * bucket holds is THROTTLED for ever (a 250-variant lookup costs 502 points).
 */
export function variantLookupPageFor(bucketSize: number): number {
  return Math.max(1, Math.min(VARIANT_LOOKUP_PAGE, Math.floor((bucketSize - 2) / 2)));
}

export const VARIANTS_BY_SKU_QUERY = /* GraphQL */ `
  query OmnisyncVariantsBySku($query: String!, $first: Int!, $after: String) {
    productVariants(first: $first, after: $after, query: $query) {
      nodes { id sku inventoryItem { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
/** Connection of variants, each variant 1 + its inventory item 1. */
export const variantLookupCost = (first: number) => 2 + first * 2;

/**
 * SKU lookup for price writes: each variant with its product, which `productVariantsBulkUpdate`
 * needs (it updates variants of one product per call). A sibling of VARIANTS_BY_SKU_QUERY rather
 * than an extension of it, so stock lookups do not pay for a product they never use; both cost
 * the same, `variantLookupCost` (variant 1 + one object 1), so `variantLookupPageFor` fits both.
 */
export const VARIANT_PRODUCTS_BY_SKU_QUERY = /* GraphQL */ `
  query OmnisyncVariantProductsBySku($query: String!, $first: Int!, $after: String) {
    productVariants(first: $first, after: $after, query: $query) {
      nodes { id sku product { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

/**
 * Sets `price` (and `compareAtPrice`) of variants of one product. Amounts are Shopify's Money
 * scalar, sent as decimal strings ("19.99"), never as numbers.
 */
export const PRICE_UPDATE_MUTATION = /* GraphQL */ `
  mutation OmnisyncSetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
    productVariantsBulkUpdate(productId: $productId, variants: $variants) {
      productVariants { id }
      userErrors { code field message }
    }
  }
`;
/** A mutation costs 10 points whatever the number of variants (the payload's objects included). */
export const PRICE_UPDATE_COST = 10;

export const SET_QUANTITIES_MUTATION = /* GraphQL */ `
  mutation OmnisyncSetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
    inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
      inventoryAdjustmentGroup { id }
      userErrors { code field message }
    }
  }
`;
/** A mutation costs 10 points whatever the input size: that is why batches of 250 pay off. */
export const SET_QUANTITIES_COST = 10;

/** Builds a Shopify search query matching any of the SKUs exactly (quoted, escaped). */
export function skuSearchQuery(skus: readonly string[]): string {
  return skus.map((sku) => `sku:"${sku.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' OR ');
}

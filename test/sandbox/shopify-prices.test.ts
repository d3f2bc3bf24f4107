/**
 * Prices in the Shopify simulator: deterministic demo prices, and `productVariantsBulkUpdate`
 * with per-variant validation, atomicity, its counters and the read-back (`priceSnapshot`) in the
 * store; over GraphQL the fields, the mutation's cost, the 250-item input limit and id checks.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoProducts, demoShopifyPrice } from '../../sandbox/demo-catalog';
import { startShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from '../../sandbox/shopify/server';
import { loadStateFile, StateFileError, StateSaver } from '../../sandbox/shopify/persistence';
import { SimulatorStore, type VariantBulkInput } from '../../sandbox/shopify/store';

const TOKEN = 'shpat_test_token';
const running: ShopifySimulator[] = [];

async function start(options: Partial<ShopifySimulatorOptions> = {}): Promise<ShopifySimulator> {
  const simulator = await startShopifySimulator({ accessToken: TOKEN, productCount: 40, ...options });
  running.push(simulator);
  return simulator;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((simulator) => simulator.close()));
});

// Response bodies are checked field by field, so `any` keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function graphql(simulator: ShopifySimulator, query: string, variables?: Record<string, unknown>): Promise<Json> {
  const response = await fetch(`${simulator.url}/admin/api/2026-04/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).toBe(200);
  return response.json();
}

const BULK_UPDATE = /* GraphQL */ `
  mutation Prices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
    productVariantsBulkUpdate(productId: $productId, variants: $variants) {
      product { id }
      productVariants { id sku price compareAtPrice }
      userErrors { code field message }
    }
  }
`;

function variantIn(simulator: ShopifySimulator, sku: string): { id: string; productId: string } {
  const variant = simulator.store.variantBySku(sku);
  if (!variant) throw new Error(`no variant ${sku}`);
  return { id: variant.id, productId: variant.productId };
}

function store(): SimulatorStore {
  return new SimulatorStore({ productCount: 40 });
}

function variantOf(shop: SimulatorStore, sku: string): { id: string; productId: string } {
  const variant = shop.variantBySku(sku);
  if (!variant) throw new Error(`no variant ${sku}`);
  return { id: variant.id, productId: variant.productId };
}

describe('store prices', () => {
  it('start at deterministic demo prices with no compare-at price', () => {
    const [first, second] = demoProducts(2);
    expect([demoShopifyPrice(first!), demoShopifyPrice(second!)]).toEqual(['46.99', '83.99']);
    const shop = store();
    expect(shop.pricesOf('PL-000001')).toEqual({ price: '46.99', compareAtPrice: null });
    expect(shop.priceSnapshot()).toEqual(store().priceSnapshot());
    expect(shop.priceSnapshot()).toHaveLength(40);
  });

  it('sets price and compare-at price, reads them back in canonical form, and clears compare-at with null', () => {
    const shop = store();
    const { id, productId } = variantOf(shop, 'PL-000003');
    const payload = shop.updateVariantPrices(productId, [{ id, price: '19.99', compareAtPrice: '25' }]);
    expect(payload.userErrors).toEqual([]);
    expect(payload.productVariants?.map((variant) => [variant.id, variant.price, variant.compareAtPrice])).toEqual([[id, '19.99', '25.00']]);
    expect(shop.priceSnapshot().find((item) => item.sku === 'PL-000003')).toEqual({ sku: 'PL-000003', variantId: id, productId, price: '19.99', compareAtPrice: '25.00' });
    shop.updateVariantPrices(productId, [{ id, price: '018.5' }]);
    expect(shop.pricesOf('PL-000003')).toEqual({ price: '18.50', compareAtPrice: '25.00' });
    shop.updateVariantPrices(productId, [{ id, price: '18.50', compareAtPrice: null }]);
    expect(shop.pricesOf('PL-000003')).toEqual({ price: '18.50', compareAtPrice: null });
    expect(shop.stats()).toMatchObject({ mutationsApplied: 3, priceWritesBySku: { 'PL-000003': 3 } });
  });

  it('accepts a compare-at price not above the price, as Shopify does', () => {
    const shop = store();
    const { id, productId } = variantOf(shop, 'PL-000004');
    expect(shop.updateVariantPrices(productId, [{ id, price: '30.00', compareAtPrice: '20.00' }]).userErrors).toEqual([]);
    expect(shop.pricesOf('PL-000004')).toEqual({ price: '30.00', compareAtPrice: '20.00' });
  });

  it('validates every variant and applies nothing when one is invalid, pointing at each bad field', () => {
    const shop = store();
    const a = variantOf(shop, 'PL-000005');
    const other = variantOf(shop, 'PL-000006');
    const before = shop.priceSnapshot();
    const cases: [VariantBulkInput, { code: string; field: string[] }][] = [
      [{ id: other.id, price: '10.00' }, { code: 'MUST_BE_FOR_THIS_PRODUCT', field: ['variants', '0', 'id'] }],
      [{ id: 'gid://shopify/ProductVariant/1', price: '10.00' }, { code: 'PRODUCT_VARIANT_DOES_NOT_EXIST', field: ['variants', '0', 'id'] }],
      [{ price: '10.00' }, { code: 'PRODUCT_VARIANT_ID_MISSING', field: ['variants', '0', 'id'] }],
      [{ id: a.id, price: '-1.00' }, { code: 'GREATER_THAN_OR_EQUAL_TO', field: ['variants', '0', 'price'] }],
      [{ id: a.id, price: 'abc' }, { code: 'INVALID_INPUT', field: ['variants', '0', 'price'] }],
      [{ id: a.id, price: 19.99 }, { code: 'INVALID_INPUT', field: ['variants', '0', 'price'] }],
      [{ id: a.id, price: '1.999' }, { code: 'INVALID_INPUT', field: ['variants', '0', 'price'] }],
      [{ id: a.id, price: null }, { code: 'INVALID_INPUT', field: ['variants', '0', 'price'] }],
      [{ id: a.id, price: '10.00', compareAtPrice: '-5' }, { code: 'GREATER_THAN_OR_EQUAL_TO', field: ['variants', '0', 'compareAtPrice'] }],
    ];
    for (const [variant, expected] of cases) {
      const payload = shop.updateVariantPrices(a.productId, [variant]);
      expect(payload.productVariants).toBeNull();
      expect(payload.userErrors).toEqual([{ ...expected, message: expect.any(String) }]);
    }
    // A valid variant next to an invalid one is not written either.
    const mixed = shop.updateVariantPrices(a.productId, [
      { id: a.id, price: '11.00' },
      { id: a.id, price: '-2' },
    ]);
    expect(mixed.userErrors.map((error) => [error.code, error.field])).toEqual([
      ['INVALID_INPUT', ['variants', '1', 'id']],
      ['GREATER_THAN_OR_EQUAL_TO', ['variants', '1', 'price']],
    ]);
    const unknownProduct = shop.updateVariantPrices('gid://shopify/Product/1', [{ id: a.id, price: '1.00' }]);
    expect(unknownProduct.userErrors).toEqual([{ code: 'PRODUCT_DOES_NOT_EXIST', field: ['productId'], message: expect.any(String) }]);
    expect(shop.priceSnapshot()).toEqual(before);
    expect(shop.stats()).toMatchObject({ mutationsApplied: 0, priceWritesBySku: {} });
  });
});

describe('store prices in the state file', () => {
  async function withDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'omnisync-shopify-prices-state-'));
    try {
      return await run(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('keeps written prices across a restart', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'state.json');
      const shop = store();
      const saver = new StateSaver(file, shop, 40);
      const { id, productId } = variantOf(shop, 'PL-000011');
      shop.updateVariantPrices(productId, [{ id, price: '19.99', compareAtPrice: '24.99' }]);
      await saver.close();
      const restarted = store();
      expect(await loadStateFile(file, restarted, 40)).toBe(true);
      expect(restarted.pricesOf('PL-000011')).toEqual({ price: '19.99', compareAtPrice: '24.99' });
      expect(restarted.priceSnapshot()).toEqual(shop.priceSnapshot());
    });
  });

  it('loads a state file written before prices were kept, with the demo prices', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'state.json');
      const shop = store();
      const saver = new StateSaver(file, shop, 40);
      const { id, productId } = variantOf(shop, 'PL-000012');
      shop.updateVariantPrices(productId, [{ id, price: '1.00' }]);
      await saver.close();
      const { prices, ...older } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      expect(prices).toHaveLength(40);
      await writeFile(file, JSON.stringify(older));
      const restarted = store();
      expect(await loadStateFile(file, restarted, 40)).toBe(true);
      expect(restarted.priceSnapshot()).toEqual(store().priceSnapshot());
    });
  });

  it('refuses a price that is not a two-decimal string, naming the entry', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'state.json');
      const shop = store();
      const saver = new StateSaver(file, shop, 40);
      const { id, productId } = variantOf(shop, 'PL-000013');
      shop.updateVariantPrices(productId, [{ id, price: '2.00' }]);
      await saver.close();
      const saved = JSON.parse(await readFile(file, 'utf8')) as { prices: { price: unknown }[] };
      saved.prices[3]!.price = 19.99;
      await writeFile(file, JSON.stringify(saved));
      const error = await loadStateFile(file, store(), 40).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StateFileError);
      expect((error as Error).message).toContain('prices.3.price');
    });
  });
});

describe('variant prices over GraphQL', () => {
  it('start at deterministic demo prices, readable with the variant and its product', async () => {
    const simulator = await start();
    const [first] = demoProducts(1);
    expect(demoShopifyPrice(first!)).toBe('46.99');
    const body = await graphql(simulator, '{ productVariants(first: 2, query: "sku:PL-000001 OR sku:PL-000002") { nodes { sku price compareAtPrice product { id } } } }');
    expect(body.errors).toBeUndefined();
    expect(body.data.productVariants.nodes).toEqual([
      { sku: 'PL-000001', price: '46.99', compareAtPrice: null, product: { id: variantIn(simulator, 'PL-000001').productId } },
      { sku: 'PL-000002', price: '83.99', compareAtPrice: null, product: { id: variantIn(simulator, 'PL-000002').productId } },
    ]);
    // Two stores built alike agree on every price.
    expect(new SimulatorStore({ productCount: 40 }).priceSnapshot()).toEqual(simulator.store.priceSnapshot());
  });
});

describe('productVariantsBulkUpdate over GraphQL', () => {
  it('sets price and compare-at price as decimal strings, reads them back, and clears compare-at with null', async () => {
    const simulator = await start();
    const { id, productId } = variantIn(simulator, 'PL-000003');
    const set = await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, price: '19.99', compareAtPrice: '25' }] });
    expect(set.errors).toBeUndefined();
    expect(set.data.productVariantsBulkUpdate).toEqual({
      product: { id: productId },
      productVariants: [{ id, sku: 'PL-000003', price: '19.99', compareAtPrice: '25.00' }],
      userErrors: [],
    });
    expect(simulator.store.pricesOf('PL-000003')).toEqual({ price: '19.99', compareAtPrice: '25.00' });
    expect(simulator.store.priceSnapshot().find((item) => item.sku === 'PL-000003')).toEqual({
      sku: 'PL-000003',
      variantId: id,
      productId,
      price: '19.99',
      compareAtPrice: '25.00',
    });

    // compareAtPrice absent: left as it is.
    await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, price: '18.5' }] });
    expect(simulator.store.pricesOf('PL-000003')).toEqual({ price: '18.50', compareAtPrice: '25.00' });
    // Explicit null: cleared.
    await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, price: '18.50', compareAtPrice: null }] });
    expect(simulator.store.pricesOf('PL-000003')).toEqual({ price: '18.50', compareAtPrice: null });
    expect(simulator.store.stats()).toMatchObject({ mutationsApplied: 3, priceWritesBySku: { 'PL-000003': 3 } });
  });

  it('refuses an unknown product with PRODUCT_DOES_NOT_EXIST and a malformed id with a top-level error', async () => {
    const simulator = await start();
    const a = variantIn(simulator, 'PL-000007');
    const unknown = await graphql(simulator, BULK_UPDATE, { productId: 'gid://shopify/Product/1', variants: [{ id: a.id, price: '1.00' }] });
    expect(unknown.data.productVariantsBulkUpdate.userErrors).toEqual([{ code: 'PRODUCT_DOES_NOT_EXIST', field: ['productId'], message: expect.any(String) }]);
    const malformed = await graphql(simulator, BULK_UPDATE, { productId: 'nope', variants: [{ id: a.id, price: '1.00' }] });
    expect(malformed.errors[0].message).toBe("Invalid global id 'nope'");
    expect(simulator.store.stats().mutationsApplied).toBe(0);
  });

  it('charges 10 points, whatever the number of variants', async () => {
    const simulator = await start({ restoreRate: 0.001, bucketSize: 1000 });
    const { id, productId } = variantIn(simulator, 'PL-000008');
    const body = await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, price: '5.00' }] });
    expect(body.extensions.cost).toEqual({
      requestedQueryCost: 10,
      actualQueryCost: 10,
      throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 990, restoreRate: 0.001 },
    });
  });

  it('refuses more than 250 variants with MAX_INPUT_SIZE_EXCEEDED and applies nothing', async () => {
    const simulator = await start();
    const { id, productId } = variantIn(simulator, 'PL-000009');
    const body = await graphql(simulator, BULK_UPDATE, { productId, variants: Array.from({ length: 251 }, () => ({ id, price: '1.00' })) });
    expect(body.data).toBeUndefined();
    expect(body.errors[0].message).toBe('The input array size of 251 is greater than the maximum allowed of 250.');
    expect(body.errors[0].extensions).toEqual({ code: 'MAX_INPUT_SIZE_EXCEEDED' });
    expect(simulator.store.pricesOf('PL-000009')?.price).not.toBe('1.00');
    expect(simulator.store.stats().mutationsApplied).toBe(0);
  });
});

/**
 * Prices in the Shopify simulator: deterministic demo prices, and `productVariantsBulkUpdate`
 * with per-variant validation, atomicity, its counters and the read-back (`priceSnapshot`) in the
 * store; variant metafields (validation by type, read-back, the state file); the price-change
 * log; over GraphQL the fields, `ProductVariant.metafield`, the mutation's cost, the 250-item
 * input limit and id checks.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoProducts, demoShopifyPrice } from '../../sandbox/demo-catalog';
import type { ShopifySimulator } from '../../sandbox/shopify/server';
import { simulatorGraphql, simulatorsClosedAfterEach } from '../support/shopify-simulator';
import { loadStateFile, StateFileError, StateSaver } from '../../sandbox/shopify/persistence';
import { METAFIELD_TYPES, PRICE_CHANGE_LOG_LIMIT, SimulatorStore, type MetafieldInput, type VariantBulkInput } from '../../sandbox/shopify/store';

const start = simulatorsClosedAfterEach();
const graphql = (simulator: ShopifySimulator, query: string, variables?: Record<string, unknown>) => simulatorGraphql(simulator, query, variables);

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

function store(options: { now?: () => number; priceChangeLogLimit?: number } = {}): SimulatorStore {
  return new SimulatorStore({ productCount: 40, ...options });
}

/** The Omnibus metafield as the connector sends it (a `money` value in the store currency, PLN). */
function lowestPrice(amount: string, currency = 'PLN'): MetafieldInput {
  return { namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: JSON.stringify({ amount, currency_code: currency }) };
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

describe('store metafields', () => {
  it('sets metafields with the prices, reads them back, replaces one by namespace and key and leaves the others', () => {
    const shop = store();
    const { id, productId } = variantOf(shop, 'PL-000014');
    expect(shop.shop.currencyCode).toBe('PLN');
    expect(shop.priceSnapshot().find((item) => item.sku === 'PL-000014')).not.toHaveProperty('metafields');
    const note: MetafieldInput = { namespace: 'custom', key: 'note', type: 'single_line_text_field', value: 'winter sale' };
    const payload = shop.updateVariantPrices(productId, [{ id, price: '39.99', metafields: [lowestPrice('35.50'), note] }]);
    expect(payload.userErrors).toEqual([]);
    const omnibus = { namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: '{"amount":"35.50","currency_code":"PLN"}' };
    expect(shop.metafieldOf('pl-000014', 'omnisync', 'lowest_price_30d')).toEqual(omnibus);
    expect(shop.metafield(id, 'custom', 'note')).toEqual(note);
    expect(shop.priceSnapshot().find((item) => item.sku === 'PL-000014')).toEqual({
      sku: 'PL-000014',
      variantId: id,
      productId,
      price: '39.99',
      compareAtPrice: null,
      metafields: [note, omnibus],
    });

    // A write without metafields leaves them; one naming a metafield replaces only that one.
    shop.updateVariantPrices(productId, [{ id, price: '38.00' }]);
    expect(shop.metafields(id)).toEqual([note, omnibus]);
    shop.updateVariantPrices(productId, [{ id, price: '37.00', metafields: [lowestPrice('34.00')] }]);
    expect(shop.metafieldOf('PL-000014', 'omnisync', 'lowest_price_30d')?.value).toBe('{"amount":"34.00","currency_code":"PLN"}');
    expect(shop.metafieldOf('PL-000014', 'custom', 'note')).toEqual(note);
    expect(shop.metafieldOf('PL-000014', 'omnisync', 'other')).toBeUndefined();
    // Other variants have none.
    expect(shop.priceSnapshot().filter((item) => item.metafields !== undefined).map((item) => item.sku)).toEqual(['PL-000014']);
  });

  it('accepts the types it knows, each with a value of its form', () => {
    expect(METAFIELD_TYPES).toEqual(expect.arrayContaining(['money', 'single_line_text_field', 'number_decimal']));
    const shop = store();
    const { id, productId } = variantOf(shop, 'PL-000015');
    const metafields: MetafieldInput[] = [
      { namespace: 'custom', key: 'text', type: 'single_line_text_field', value: 'one line' },
      { namespace: 'custom', key: 'lines', type: 'multi_line_text_field', value: 'two\nlines' },
      { namespace: 'custom', key: 'decimal', type: 'number_decimal', value: '-12.125' },
      { namespace: 'custom', key: 'integer', type: 'number_integer', value: '42' },
      { namespace: 'custom', key: 'flag', type: 'boolean', value: 'true' },
      { namespace: 'custom', key: 'data', type: 'json', value: '{"a":[1,2]}' },
      { namespace: 'custom', key: 'money', type: 'money', value: '{"amount":"5","currency_code":"PLN"}' },
    ];
    expect(shop.updateVariantPrices(productId, [{ id, metafields }]).userErrors).toEqual([]);
    expect(shop.metafields(id)).toHaveLength(metafields.length);
  });

  it('refuses a bad metafield with a userError at its field and writes nothing of the call', () => {
    const shop = store();
    const { id, productId } = variantOf(shop, 'PL-000016');
    const before = shop.priceSnapshot();
    const at = (field: string) => ['variants', '0', 'metafields', '1', field];
    const cases: [MetafieldInput, { code: string; field: string[] }][] = [
      [lowestPrice('35.50', 'EUR'), { code: 'INVALID_INPUT', field: at('value') }],
      [{ ...lowestPrice('0'), value: '{"amount":35.5,"currency_code":"PLN"}' }, { code: 'INVALID_INPUT', field: at('value') }],
      [{ ...lowestPrice('0'), value: '{"currency_code":"PLN"}' }, { code: 'INVALID_INPUT', field: at('value') }],
      [{ ...lowestPrice('0'), value: '35.50 PLN' }, { code: 'INVALID_INPUT', field: at('value') }],
      [lowestPrice('35.505'), { code: 'INVALID_INPUT', field: at('value') }],
      [lowestPrice('3e1'), { code: 'INVALID_INPUT', field: at('value') }],
      [{ ...lowestPrice('1.00'), type: 'currency' }, { code: 'INVALID_INPUT', field: at('type') }],
      [{ ...lowestPrice('1.00'), type: null }, { code: 'BLANK', field: at('type') }],
      [{ ...lowestPrice('1.00'), value: '' }, { code: 'BLANK', field: at('value') }],
      [{ ...lowestPrice('1.00'), namespace: undefined }, { code: 'BLANK', field: at('namespace') }],
      [{ ...lowestPrice('1.00'), namespace: 'om' }, { code: 'INVALID_INPUT', field: at('namespace') }],
      [{ ...lowestPrice('1.00'), key: 'lowest price' }, { code: 'INVALID_INPUT', field: at('key') }],
      [{ namespace: 'custom', key: 'n', type: 'number_decimal', value: '1' }, { code: 'INVALID_INPUT', field: at('key') }],
      [{ namespace: 'custom', key: 'decimal', type: 'number_decimal', value: 'abc' }, { code: 'INVALID_INPUT', field: at('value') }],
      [{ namespace: 'custom', key: 'text', type: 'single_line_text_field', value: 'two\nlines' }, { code: 'INVALID_INPUT', field: at('value') }],
      // The same metafield twice in one variant.
      [{ ...lowestPrice('1.00'), namespace: 'custom', key: 'note' }, { code: 'INVALID_INPUT', field: at('key') }],
    ];
    const good: MetafieldInput = { namespace: 'custom', key: 'note', type: 'single_line_text_field', value: 'ok' };
    for (const [metafield, expected] of cases) {
      const payload = shop.updateVariantPrices(productId, [{ id, price: '1.00', metafields: [good, metafield] }]);
      expect(payload.productVariants, JSON.stringify(metafield)).toBeNull();
      expect(payload.userErrors, JSON.stringify(metafield)).toEqual([{ ...expected, message: expect.any(String) }]);
    }
    expect(shop.updateVariantPrices(productId, [{ id, metafields: [lowestPrice('1.00', 'EUR')] }]).userErrors[0]?.message).toBe(
      'Currency code "EUR" must match the store currency PLN',
    );
    expect(shop.priceSnapshot()).toEqual(before);
    expect(shop.metafields(id)).toEqual([]);
    expect(shop.stats().mutationsApplied).toBe(0);
  });

  it('checks money against the store currency and its minor units', () => {
    const shop = new SimulatorStore({ productCount: 40, currencyCode: 'JPY' });
    const { id, productId } = variantOf(shop, 'PL-000017');
    expect(shop.updateVariantPrices(productId, [{ id, metafields: [lowestPrice('1200', 'PLN')] }]).userErrors).toMatchObject([{ code: 'INVALID_INPUT' }]);
    expect(shop.updateVariantPrices(productId, [{ id, metafields: [lowestPrice('1200.50', 'JPY')] }]).userErrors).toMatchObject([{ code: 'INVALID_INPUT' }]);
    expect(shop.updateVariantPrices(productId, [{ id, metafields: [lowestPrice('1200', 'JPY')] }]).userErrors).toEqual([]);
  });
});

describe('store price-change log', () => {
  it('records each change of price or compare-at price with the store clock, not unchanged writes or refused calls', () => {
    let clock = Date.UTC(2026, 0, 10);
    const shop = store({ now: () => clock });
    const a = variantOf(shop, 'PL-000018');
    const b = variantOf(shop, 'PL-000019');
    const demoPrice = shop.pricesOf('PL-000018')!.price;
    expect(shop.priceChanges()).toEqual([]);

    shop.updateVariantPrices(a.productId, [{ id: a.id, price: demoPrice }]); // unchanged
    clock += 1_000;
    shop.updateVariantPrices(a.productId, [{ id: a.id, price: '20.00' }]);
    clock += 1_000;
    shop.updateVariantPrices(b.productId, [{ id: b.id, price: '30', compareAtPrice: '35' }]);
    clock += 1_000;
    shop.updateVariantPrices(a.productId, [{ id: a.id, price: '20.00', compareAtPrice: null }]); // unchanged: none to clear
    shop.updateVariantPrices(a.productId, [{ id: a.id, price: '20.00', metafields: [lowestPrice('19.00')] }]); // a metafield is no price change
    shop.updateVariantPrices(a.productId, [{ id: a.id, price: '-1' }]); // refused
    clock += 1_000;
    shop.updateVariantPrices(a.productId, [{ id: a.id, price: '20.00', compareAtPrice: '25.00' }]); // compare-at only
    clock += 1_000;
    shop.updateVariantPrices(b.productId, [{ id: b.id, compareAtPrice: null }]);

    const t0 = Date.UTC(2026, 0, 10);
    expect(shop.priceChanges()).toEqual([
      { sku: 'PL-000018', variantId: a.id, price: '20.00', compareAtPrice: null, at: t0 + 1_000 },
      { sku: 'PL-000019', variantId: b.id, price: '30.00', compareAtPrice: '35.00', at: t0 + 2_000 },
      { sku: 'PL-000018', variantId: a.id, price: '20.00', compareAtPrice: '25.00', at: t0 + 4_000 },
      { sku: 'PL-000019', variantId: b.id, price: '30.00', compareAtPrice: null, at: t0 + 5_000 },
    ]);
    expect(shop.priceChanges('pl-000018').map((change) => change.at)).toEqual([t0 + 1_000, t0 + 4_000]);
    expect(shop.priceChanges('PL-000001')).toEqual([]);
    // The log is not a stat.
    shop.resetStats();
    expect(shop.priceChanges()).toHaveLength(4);
  });

  it('keeps only the newest entries', () => {
    expect(PRICE_CHANGE_LOG_LIMIT).toBe(100_000);
    let clock = 0;
    const shop = store({ now: () => ++clock, priceChangeLogLimit: 3 });
    const { id, productId } = variantOf(shop, 'PL-000020');
    for (const price of ['1.00', '2.00', '3.00', '4.00', '5.00']) shop.updateVariantPrices(productId, [{ id, price }]);
    expect(shop.priceChanges().map((change) => [change.price, change.at])).toEqual([
      ['3.00', 3],
      ['4.00', 4],
      ['5.00', 5],
    ]);
    shop.updateVariantPrices(productId, [{ id, price: '6.00' }]);
    expect(shop.priceChanges('PL-000020').map((change) => change.price)).toEqual(['4.00', '5.00', '6.00']);
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

  it('keeps metafields across a restart, one per line, but not the price-change log', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'state.json');
      const shop = store();
      const saver = new StateSaver(file, shop, 40);
      const { id, productId } = variantOf(shop, 'PL-000021');
      shop.updateVariantPrices(productId, [{ id, price: '9.00', metafields: [lowestPrice('8.50'), { namespace: 'custom', key: 'note', type: 'single_line_text_field', value: 'x' }] }]);
      await saver.close();
      const text = await readFile(file, 'utf8');
      expect(text).toContain(`    {"variantId":"${id}","sku":"PL-000021","namespace":"omnisync","key":"lowest_price_30d","type":"money","value":"{\\"amount\\":\\"8.50\\",\\"currency_code\\":\\"PLN\\"}"}`);
      const restarted = store();
      expect(await loadStateFile(file, restarted, 40)).toBe(true);
      expect(restarted.metafieldOf('PL-000021', 'omnisync', 'lowest_price_30d')).toEqual({ namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: '{"amount":"8.50","currency_code":"PLN"}' });
      expect(restarted.priceSnapshot()).toEqual(shop.priceSnapshot());
      expect(shop.priceChanges()).toHaveLength(1);
      expect(restarted.priceChanges()).toEqual([]);
    });
  });

  it('loads a state file written before metafields were kept, with none', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'state.json');
      const shop = store();
      const saver = new StateSaver(file, shop, 40);
      const { id, productId } = variantOf(shop, 'PL-000022');
      shop.updateVariantPrices(productId, [{ id, price: '3.00', metafields: [lowestPrice('2.50')] }]);
      await saver.close();
      const { metafields, ...older } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      expect(metafields).toHaveLength(1);
      await writeFile(file, JSON.stringify(older));
      const restarted = store();
      expect(await loadStateFile(file, restarted, 40)).toBe(true);
      expect(restarted.pricesOf('PL-000022')?.price).toBe('3.00');
      expect(restarted.metafields(id)).toEqual([]);
    });
  });

  it('refuses a stored metafield the store would not accept, naming the entry', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'state.json');
      const shop = store();
      const saver = new StateSaver(file, shop, 40);
      const { id, productId } = variantOf(shop, 'PL-000023');
      shop.updateVariantPrices(productId, [{ id, metafields: [lowestPrice('2.50')] }]);
      await saver.close();
      const saved = JSON.parse(await readFile(file, 'utf8')) as { metafields: { value: string }[] };
      saved.metafields[0]!.value = '{"amount":"2.50","currency_code":"EUR"}';
      await writeFile(file, JSON.stringify(saved));
      const error = await loadStateFile(file, store(), 40).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StateFileError);
      expect((error as Error).message).toContain(`metafields[0] (variantId ${id}, omnisync.lowest_price_30d): value: Currency code "EUR" must match the store currency PLN`);
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

describe('variant metafields over GraphQL', () => {
  const READ_METAFIELD = /* GraphQL */ `
    query Read($query: String!) {
      shop { currencyCode }
      productVariants(first: 2, query: $query) {
        nodes { sku lowest: metafield(namespace: "omnisync", key: "lowest_price_30d") { namespace key type value } other: metafield(namespace: "omnisync", key: "other") { value } }
      }
    }
  `;

  it('writes a money metafield with the prices and reads it back with ProductVariant.metafield', async () => {
    const simulator = await start();
    const { id, productId } = variantIn(simulator, 'PL-000024');
    const set = await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, price: '39.99', metafields: [lowestPrice('35.50')] }] });
    expect(set.errors).toBeUndefined();
    expect(set.data.productVariantsBulkUpdate.userErrors).toEqual([]);
    expect(set.extensions.cost.requestedQueryCost).toBe(10);

    const read = await graphql(simulator, READ_METAFIELD, { query: 'sku:PL-000024 OR sku:PL-000025' });
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({
      shop: { currencyCode: 'PLN' },
      productVariants: {
        nodes: [
          { sku: 'PL-000024', lowest: { namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: '{"amount":"35.50","currency_code":"PLN"}' }, other: null },
          { sku: 'PL-000025', lowest: null, other: null },
        ],
      },
    });
    // shop 1 + a connection of 2 variants, each 1 + two metafield objects.
    expect(read.extensions.cost.requestedQueryCost).toBe(1 + 2 + 2 * 3);
    // An omitted namespace is the app's own, where nothing is kept.
    const appNamespace = await graphql(simulator, '{ productVariants(first: 1, query: "sku:PL-000024") { nodes { metafield(key: "lowest_price_30d") { value } } } }');
    expect(appNamespace.data.productVariants.nodes).toEqual([{ metafield: null }]);
  });

  it('refuses a metafield in another currency with a userError at its value; nothing is written', async () => {
    const simulator = await start();
    const { id, productId } = variantIn(simulator, 'PL-000026');
    const before = simulator.store.pricesOf('PL-000026');
    const body = await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, price: '1.00', metafields: [lowestPrice('1.00', 'EUR')] }] });
    expect(body.data.productVariantsBulkUpdate).toEqual({
      product: { id: productId },
      productVariants: null,
      userErrors: [{ code: 'INVALID_INPUT', field: ['variants', '0', 'metafields', '0', 'value'], message: 'Currency code "EUR" must match the store currency PLN' }],
    });
    expect(simulator.store.pricesOf('PL-000026')).toEqual(before);
    expect(simulator.store.metafieldOf('PL-000026', 'omnisync', 'lowest_price_30d')).toBeUndefined();
    expect(simulator.store.priceChanges()).toEqual([]);
  });

  it('refuses a metafield input field Shopify has and the simulator does not serve (id) while coercing', async () => {
    const simulator = await start();
    const { id, productId } = variantIn(simulator, 'PL-000027');
    const body = await graphql(simulator, BULK_UPDATE, { productId, variants: [{ id, metafields: [{ id: 'gid://shopify/Metafield/1', value: 'x' }] }] });
    expect(body.data).toBeUndefined();
    expect(body.errors[0].message).toContain('"id" is not defined by type "MetafieldInput"');
  });
});

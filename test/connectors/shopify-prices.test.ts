/**
 * Shopify price writes (`price.write`): against the sandbox simulator over real HTTP with a real
 * SQLite crosswalk (prices written and read back exactly, compare-at set and cleared, the EU
 * Omnibus metafield written and read back, unknown SKUs, per-item failures, caching, pacing, the
 * simulator's price-change log), and against a recording client for what the simulator's
 * one-variant products cannot show (one call per product, the resend without the refused
 * variants).
 */
import { describe, expect, it } from 'vitest';
import { useShopifyConnectorHarness } from '../support/shopify-connector-harness';
import { writeBatchSize, type ConnectorInstance, type PriceTarget, type PriceUpdate } from '../../connectors/contract';
import { shopifyManifest } from '../../connectors/shopify';
import type { ShopifyGraphqlClient } from '../../connectors/shopify/client';
import { OMNIBUS_METAFIELD, ShopifyPriceTarget, VARIANT_PRODUCT_CROSSWALK } from '../../connectors/shopify/price-target';
import { MISSING_SKU_CROSSWALK } from '../../connectors/shopify/sku-resolution';
import type { CrosswalkStore } from '../../core/model';

const TOKEN = 'shpat_omnisync_test_token';
/** Demo products in the simulator; PL-000250 is not listed in Shopify. */
const PRODUCT_COUNT = 300;
const UNLISTED_SKU = 'PL-000250';

const sku = (n: number): string => `PL-${String(n).padStart(6, '0')}`;
const pln = (amount: string) => ({ amount, currency: 'PLN' });
const eur = (amount: string) => ({ amount, currency: 'EUR' });

const harness = useShopifyConnectorHarness({ token: TOKEN, productCount: PRODUCT_COUNT, idPrefix: 'prices' });
const { simulator, connector } = harness;

function target(instance: ConnectorInstance): PriceTarget {
  expect(instance.operations['price.write']).toBeDefined();
  return instance.operations['price.write']!;
}

const ok = (update: PriceUpdate) => ({ key: { sku: update.sku }, ok: true });

describe('shopify manifest', () => {
  it('offers price.write with 250 items per call, stock.write unchanged', () => {
    expect(shopifyManifest.capabilities).toEqual(['stock.write', 'price.write']);
    expect(writeBatchSize(shopifyManifest, 'price.write')).toBe(250);
    expect(writeBatchSize(shopifyManifest, 'stock.write')).toBe(250);
  });
});

describe('shopify price writes against the simulator', () => {
  it('writes prices as decimal strings and they read back exactly; resolutions are cached in the crosswalk', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const updates: PriceUpdate[] = [
      { sku: sku(1), price: pln('19.99') },
      { sku: sku(2), price: pln('0.10') },
      { sku: sku(3), price: pln('1234567.89') },
    ];
    expect(await target(shop).setPrices(updates, 'p1')).toEqual(updates.map(ok));
    expect(updates.map((update) => sim.store.pricesOf(update.sku))).toEqual([
      { price: '19.99', compareAtPrice: null },
      { price: '0.10', compareAtPrice: null },
      { price: '1234567.89', compareAtPrice: null },
    ]);
    // One lookup, then one call per product.
    expect(sim.store.stats()).toMatchObject({ requests: 4, mutationsApplied: 3, priceWritesBySku: { [sku(1)]: 1, [sku(2)]: 1, [sku(3)]: 1 } });
    const cached = await harness.state.crosswalk(shop.id).get(VARIANT_PRODUCT_CROSSWALK, [sku(1)]);
    const variant = sim.store.variantBySku(sku(1))!;
    expect(JSON.parse(cached.get(sku(1))!)).toEqual({ variant: variant.id, product: variant.productId });

    // A second write needs no lookup.
    sim.store.resetStats();
    expect(await target(shop).setPrices([{ sku: sku(1), price: pln('21.00') }], 'p2')).toEqual([{ key: { sku: sku(1) }, ok: true }]);
    expect(sim.store.stats()).toMatchObject({ requests: 1, mutationsApplied: 1 });
    expect(sim.store.pricesOf(sku(1))?.price).toBe('21.00');
  });

  it('sets the compare-at price, leaves it when absent and clears it with null', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    await target(shop).setPrices([{ sku: sku(5), price: pln('79.00'), compareAt: pln('99.99') }], 'c1');
    expect(sim.store.pricesOf(sku(5))).toEqual({ price: '79.00', compareAtPrice: '99.99' });
    await target(shop).setPrices([{ sku: sku(5), price: pln('75.00') }], 'c2');
    expect(sim.store.pricesOf(sku(5))).toEqual({ price: '75.00', compareAtPrice: '99.99' });
    await target(shop).setPrices([{ sku: sku(5), price: pln('99.99'), compareAt: null }], 'c3');
    expect(sim.store.pricesOf(sku(5))).toEqual({ price: '99.99', compareAtPrice: null });
  });

  it('fails a SKU unknown to the shop as unmappable and remembers it as missing', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const results = await target(shop).setPrices(
      [
        { sku: UNLISTED_SKU, price: pln('10.00') },
        { sku: sku(6), price: pln('11.00') },
      ],
      'u1',
    );
    expect(results).toEqual([
      { key: { sku: UNLISTED_SKU }, ok: false, kind: 'unmappable', message: `SKU ${UNLISTED_SKU} has no variant in Shopify (${shop.id})` },
      { key: { sku: sku(6) }, ok: true },
    ]);
    expect((await harness.state.crosswalk(shop.id).get(MISSING_SKU_CROSSWALK, [UNLISTED_SKU])).has(UNLISTED_SKU)).toBe(true);
    // Not looked up again within the recheck window.
    sim.store.resetStats();
    const again = await target(shop).setPrices([{ sku: UNLISTED_SKU, price: pln('10.00') }], 'u2');
    expect(again[0]).toMatchObject({ ok: false, kind: 'unmappable' });
    expect(sim.store.stats().requests).toBe(0);
  });

  it('fails only the item Shopify refuses; the others are written', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const results = await target(shop).setPrices(
      [
        { sku: sku(7), price: pln('12.00') },
        { sku: sku(8), price: pln('-1.00') },
        { sku: sku(9), price: pln('14.00'), compareAt: pln('-3.00') },
        { sku: sku(10), price: pln('15.00') },
      ],
      'b1',
    );
    expect(results).toEqual([
      { key: { sku: sku(7) }, ok: true },
      { key: { sku: sku(8) }, ok: false, kind: 'validation', message: expect.stringMatching(/^GREATER_THAN_OR_EQUAL_TO at price: /) },
      { key: { sku: sku(9) }, ok: false, kind: 'validation', message: expect.stringMatching(/^GREATER_THAN_OR_EQUAL_TO at compareAtPrice: /) },
      { key: { sku: sku(10) }, ok: true },
    ]);
    expect(sim.store.pricesOf(sku(7))?.price).toBe('12.00');
    expect(sim.store.pricesOf(sku(10))?.price).toBe('15.00');
    expect(sim.store.stats().priceWritesBySku).toEqual({ [sku(7)]: 1, [sku(10)]: 1 });
  });

  it('writes the lowest prior price into the Omnibus money metafield, readable over GraphQL; absent leaves it', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const updates: PriceUpdate[] = [
      { sku: sku(31), price: pln('39.99'), compareAt: pln('49.99'), lowestPrior30Days: pln('35.50') },
      { sku: sku(32), price: pln('12.00') },
    ];
    expect(await target(shop).setPrices(updates, 'o1')).toEqual(updates.map(ok));

    const query = `query { productVariants(first: 2, query: "sku:${sku(31)} OR sku:${sku(32)}") {
      nodes { sku price compareAtPrice metafield(namespace: "${OMNIBUS_METAFIELD.namespace}", key: "${OMNIBUS_METAFIELD.key}") { namespace key type value } } } }`;
    const read = async (): Promise<{ sku: string; price: string; compareAtPrice: string | null; metafield: Record<string, string> | null }[]> => {
      const response = await fetch(`${sim.url}/admin/api/2026-04/graphql.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as { data: { productVariants: { nodes: Awaited<ReturnType<typeof read>> } } };
      return body.data.productVariants.nodes;
    };
    const nodes = await read();
    expect(nodes).toEqual([
      { sku: sku(31), price: '39.99', compareAtPrice: '49.99', metafield: { namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: expect.any(String) } },
      { sku: sku(32), price: '12.00', compareAtPrice: null, metafield: null },
    ]);
    expect(JSON.parse(nodes[0]!.metafield!['value']!)).toEqual({ amount: '35.50', currency_code: 'PLN' });

    // A later update without a lowest prior price leaves the metafield as it is; one with it replaces it.
    await target(shop).setPrices([{ sku: sku(31), price: pln('38.00') }], 'o2');
    expect(JSON.parse(sim.store.metafieldOf(sku(31), OMNIBUS_METAFIELD.namespace, OMNIBUS_METAFIELD.key)!.value)).toEqual({ amount: '35.50', currency_code: 'PLN' });
    await target(shop).setPrices([{ sku: sku(31), price: pln('37.00'), lowestPrior30Days: pln('35.00') }], 'o3');
    expect((await read())[0]!.metafield!['value']).toBe('{"amount":"35.00","currency_code":"PLN"}');
  });

  it('fails only the item whose Omnibus metafield Shopify refuses, price and all; the others are written', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const before = sim.store.pricesOf(sku(34));
    const results = await target(shop).setPrices(
      [
        { sku: sku(33), price: pln('20.00'), lowestPrior30Days: pln('18.00') },
        // The store's currency is PLN: Shopify refuses a money metafield in another one.
        { sku: sku(34), price: pln('21.00'), lowestPrior30Days: eur('5.00') },
        { sku: sku(35), price: pln('22.00'), lowestPrior30Days: pln('22.00') },
      ],
      'o4',
    );
    expect(results).toEqual([
      { key: { sku: sku(33) }, ok: true },
      {
        key: { sku: sku(34) },
        ok: false,
        kind: 'validation',
        message: 'INVALID_INPUT at metafields.0.value (omnisync.lowest_price_30d): Currency code "EUR" must match the store currency PLN',
      },
      { key: { sku: sku(35) }, ok: true },
    ]);
    // The refused variant's price is not written either: its input is one.
    expect(sim.store.pricesOf(sku(34))).toEqual(before);
    expect(sim.store.metafieldOf(sku(34), OMNIBUS_METAFIELD.namespace, OMNIBUS_METAFIELD.key)).toBeUndefined();
    expect(sim.store.metafieldOf(sku(33), OMNIBUS_METAFIELD.namespace, OMNIBUS_METAFIELD.key)?.value).toBe('{"amount":"18.00","currency_code":"PLN"}');
    expect(sim.store.stats().priceWritesBySku).toEqual({ [sku(33)]: 1, [sku(35)]: 1 });
  });

  it("leaves the simulator's price-change log one entry per real change, with its time", async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const demoPrice = sim.store.pricesOf(sku(36))!.price;
    const started = Date.now();
    await target(shop).setPrices([{ sku: sku(36), price: pln(demoPrice) }], 'l1'); // unchanged
    await target(shop).setPrices([{ sku: sku(36), price: pln('50.00') }], 'l2');
    await target(shop).setPrices([{ sku: sku(36), price: pln('50.00'), lowestPrior30Days: pln('45.00') }], 'l3'); // price unchanged
    await target(shop).setPrices([{ sku: sku(36), price: pln('45.00'), compareAt: pln('50.00') }], 'l4');
    const finished = Date.now();
    const changes = sim.store.priceChanges(sku(36));
    expect(changes.map(({ price, compareAtPrice }) => [price, compareAtPrice])).toEqual([
      ['50.00', null],
      ['45.00', '50.00'],
    ]);
    expect(changes[0]!.at).toBeGreaterThanOrEqual(started);
    expect(changes[1]!.at).toBeGreaterThanOrEqual(changes[0]!.at);
    expect(changes[1]!.at).toBeLessThanOrEqual(finished);
    expect(sim.store.stats().priceWritesBySku[sku(36)]).toBe(4);
  });

  it('refuses more than 250 updates in one call before sending anything', async () => {
    const sim = await simulator();
    const shop = connector(sim);
    const updates = Array.from({ length: 251 }, (_, i) => ({ sku: sku(i + 1), price: pln('1.00') }));
    await expect(target(shop).setPrices(updates, 'big')).rejects.toMatchObject({ kind: 'validation' });
    expect(sim.store.stats().requests).toBe(0);
  });

  it('paces by cost: 30 products on a 100-point bucket restoring 100/s, never THROTTLED', async () => {
    const sim = await simulator({ restoreRate: 100, bucketSize: 100 });
    const shop = connector(sim, { restoreRate: 100, bucketSize: 100 });
    const updates = Array.from({ length: 30 }, (_, i) => ({ sku: sku(i + 11), price: pln(`${i + 1}.25`) }));
    const started = performance.now();
    expect(await target(shop).setPrices(updates, 'paced')).toEqual(updates.map(ok));
    const elapsedMs = performance.now() - started;
    const stats = sim.store.stats();
    expect(stats.throttled).toBe(0);
    expect(stats.mutationsApplied).toBe(30);
    expect(updates.map((update) => sim.store.pricesOf(update.sku)?.price)).toEqual(updates.map((update) => update.price.amount));
    // 300 mutation points and a lookup (2 + 2 × 30 in pages the bucket fits) through a
    // 100-point bucket at 100/s: well over a second.
    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('stops at once when its push is cancelled: calls waiting for the bucket are not sent, and it throws', async () => {
    const sim = await simulator({ restoreRate: 10, bucketSize: 100 });
    const shop = connector(sim, { restoreRate: 10, bucketSize: 100 });
    const updates = Array.from({ length: 30 }, (_, i) => ({ sku: sku(i + 101), price: pln(`${i + 1}.75`) }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('worker shutting down')), 1_500);
    const started = performance.now();
    // 300 mutation points through a 100-point bucket at 10/s would take about 30 s.
    await expect(target(shop).setPrices(updates, 'cancelled', controller.signal)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(4_000);
    const written = sim.store.stats().mutationsApplied;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(30);
  });
});

describe('shopify price writes: calls per product', () => {
  /** A crosswalk that knows every SKU up front, so no lookup is made. */
  function knownCrosswalk(refs: Record<string, { variant: string; product: string }>): CrosswalkStore {
    const entries = new Map(Object.entries(refs).map(([key, ref]) => [key, JSON.stringify(ref)]));
    return {
      get: async (kind, keys) => new Map(kind === VARIANT_PRODUCT_CROSSWALK ? keys.flatMap((key) => (entries.has(key) ? [[key, entries.get(key)!] as const] : [])) : []),
      put: async () => undefined,
    };
  }

  interface Call {
    productId: string;
    variants: { id: string; price: unknown; compareAtPrice?: unknown; metafields?: { namespace: string; key: string; type: string; value: string }[] }[];
  }

  /** A client recording the mutation calls; `answer` gives each call's userErrors. */
  function recordingClient(answer: (call: Call) => { code: string; field: string[]; message: string }[]): { client: ShopifyGraphqlClient; calls: Call[] } {
    const calls: Call[] = [];
    const client = {
      request: async (operation: string, _query: string, variables: Record<string, unknown>) => {
        expect(operation).toBe('productVariantsBulkUpdate');
        const call = structuredClone(variables) as unknown as Call;
        calls.push(call);
        return { productVariantsBulkUpdate: { userErrors: answer(call) } };
      },
    } as unknown as ShopifyGraphqlClient;
    return { client, calls };
  }

  const refs = {
    A1: { variant: 'gid://shopify/ProductVariant/11', product: 'gid://shopify/Product/1' },
    B1: { variant: 'gid://shopify/ProductVariant/21', product: 'gid://shopify/Product/2' },
    A2: { variant: 'gid://shopify/ProductVariant/12', product: 'gid://shopify/Product/1' },
    A3: { variant: 'gid://shopify/ProductVariant/13', product: 'gid://shopify/Product/1' },
  };

  it('sends one productVariantsBulkUpdate per product with the amounts as strings', async () => {
    const { client, calls } = recordingClient(() => []);
    const priceTarget = new ShopifyPriceTarget('shop', client, knownCrosswalk(refs), 0, 1);
    const updates: PriceUpdate[] = [
      { sku: 'A1', price: pln('10.00') },
      { sku: 'B1', price: pln('20.00'), compareAt: null },
      { sku: 'A2', price: pln('11.50'), compareAt: pln('13.00') },
    ];
    expect(await priceTarget.setPrices(updates, 'k')).toEqual(updates.map(ok));
    expect(calls).toEqual([
      {
        productId: 'gid://shopify/Product/1',
        variants: [
          { id: 'gid://shopify/ProductVariant/11', price: '10.00' },
          { id: 'gid://shopify/ProductVariant/12', price: '11.50', compareAtPrice: '13.00' },
        ],
      },
      { productId: 'gid://shopify/Product/2', variants: [{ id: 'gid://shopify/ProductVariant/21', price: '20.00', compareAtPrice: null }] },
    ]);
  });

  it('fails the variant a userError points at and sends the rest of its product once more', async () => {
    const { client, calls } = recordingClient((call) => {
      const bad = call.variants.findIndex((variant) => variant.price === '-1.00');
      return bad < 0 ? [] : [{ code: 'GREATER_THAN_OR_EQUAL_TO', field: ['variants', String(bad), 'price'], message: 'Price must be greater than or equal to 0' }];
    });
    const priceTarget = new ShopifyPriceTarget('shop', client, knownCrosswalk(refs), 0, 2);
    const updates: PriceUpdate[] = [
      { sku: 'A1', price: pln('10.00') },
      { sku: 'A2', price: pln('-1.00') },
      { sku: 'B1', price: pln('20.00') },
      { sku: 'A3', price: pln('12.00') },
    ];
    expect(await priceTarget.setPrices(updates, 'k')).toEqual([
      { key: { sku: 'A1' }, ok: true },
      { key: { sku: 'A2' }, ok: false, kind: 'validation', message: 'GREATER_THAN_OR_EQUAL_TO at price: Price must be greater than or equal to 0' },
      { key: { sku: 'B1' }, ok: true },
      { key: { sku: 'A3' }, ok: true },
    ]);
    const productOne = calls.filter((call) => call.productId === 'gid://shopify/Product/1').map((call) => call.variants.map((variant) => variant.id));
    expect(productOne).toEqual([
      ['gid://shopify/ProductVariant/11', 'gid://shopify/ProductVariant/12', 'gid://shopify/ProductVariant/13'],
      ['gid://shopify/ProductVariant/11', 'gid://shopify/ProductVariant/13'],
    ]);
    expect(calls).toHaveLength(3);
  });

  it('sends the Omnibus metafield in the variant input, as Shopify takes a money metafield', async () => {
    const { client, calls } = recordingClient(() => []);
    const priceTarget = new ShopifyPriceTarget('shop', client, knownCrosswalk(refs), 0, 1);
    const updates: PriceUpdate[] = [
      { sku: 'A1', price: pln('10.00'), lowestPrior30Days: pln('9.50') },
      { sku: 'A2', price: pln('11.00') },
    ];
    expect(await priceTarget.setPrices(updates, 'k')).toEqual(updates.map(ok));
    expect(calls).toEqual([
      {
        productId: 'gid://shopify/Product/1',
        variants: [
          {
            id: 'gid://shopify/ProductVariant/11',
            price: '10.00',
            metafields: [{ namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: '{"amount":"9.50","currency_code":"PLN"}' }],
          },
          { id: 'gid://shopify/ProductVariant/12', price: '11.00' },
        ],
      },
    ]);
    expect(OMNIBUS_METAFIELD).toEqual({ namespace: 'omnisync', key: 'lowest_price_30d', type: 'money' });
  });

  it('fails the variant whose metafield Shopify refuses and sends the other variants of its product once more', async () => {
    const { client, calls } = recordingClient((call) => {
      const bad = call.variants.findIndex((variant) => variant.metafields?.some((metafield) => metafield.value.includes('"EUR"')));
      return bad < 0 ? [] : [{ code: 'INVALID_INPUT', field: ['variants', String(bad), 'metafields', '0', 'value'], message: 'Currency code "EUR" must match the store currency PLN' }];
    });
    const priceTarget = new ShopifyPriceTarget('shop', client, knownCrosswalk(refs), 0, 1);
    const results = await priceTarget.setPrices(
      [
        { sku: 'A1', price: pln('10.00'), lowestPrior30Days: pln('9.00') },
        { sku: 'A2', price: pln('11.00'), lowestPrior30Days: eur('2.00') },
        { sku: 'A3', price: pln('12.00') },
      ],
      'k',
    );
    expect(results).toEqual([
      { key: { sku: 'A1' }, ok: true },
      {
        key: { sku: 'A2' },
        ok: false,
        kind: 'validation',
        message: 'INVALID_INPUT at metafields.0.value (omnisync.lowest_price_30d): Currency code "EUR" must match the store currency PLN',
      },
      { key: { sku: 'A3' }, ok: true },
    ]);
    expect(calls.map((call) => call.variants.map((variant) => variant.id))).toEqual([
      ['gid://shopify/ProductVariant/11', 'gid://shopify/ProductVariant/12', 'gid://shopify/ProductVariant/13'],
      ['gid://shopify/ProductVariant/11', 'gid://shopify/ProductVariant/13'],
    ]);
    // The resend keeps the others' metafields.
    expect(calls[1]!.variants[0]!.metafields).toEqual([{ namespace: 'omnisync', key: 'lowest_price_30d', type: 'money', value: '{"amount":"9.00","currency_code":"PLN"}' }]);
  });

  it('looks a SKU up again when Shopify refuses its cached variant, and writes it to the variant Shopify names now', async () => {
    const puts: [string, Map<string, string>][] = [];
    const crosswalk: CrosswalkStore = {
      get: async (kind, keys) =>
        new Map(kind === VARIANT_PRODUCT_CROSSWALK ? keys.filter((key) => key === 'A1' || key === 'B1').map((key) => [key, JSON.stringify(refs[key as 'A1' | 'B1'])] as const) : []),
      put: async (kind, entries) => {
        puts.push([kind, new Map(entries)]);
      },
    };
    const calls: { operation: string; variables: Record<string, unknown> }[] = [];
    const client = {
      request: async (operation: string, _query: string, variables: Record<string, unknown>) => {
        calls.push({ operation, variables: structuredClone(variables) });
        if (operation === 'productVariants') {
          // A1 was re-created as variant 91 of product 9; B1 is gone.
          return { productVariants: { nodes: [{ id: 'gid://shopify/ProductVariant/91', sku: 'A1', product: { id: 'gid://shopify/Product/9' } }], pageInfo: { hasNextPage: false, endCursor: null } } };
        }
        const productId = variables['productId'];
        if (productId === 'gid://shopify/Product/9') return { productVariantsBulkUpdate: { userErrors: [] } };
        const code = productId === 'gid://shopify/Product/1' ? 'PRODUCT_VARIANT_DOES_NOT_EXIST' : 'MUST_BE_FOR_THIS_PRODUCT';
        return { productVariantsBulkUpdate: { userErrors: [{ code, field: ['variants', '0', 'id'], message: 'stale' }] } };
      },
    } as unknown as ShopifyGraphqlClient;
    const priceTarget = new ShopifyPriceTarget('shop', client, crosswalk, 0, 1);
    const results = await priceTarget.setPrices(
      [
        { sku: 'A1', price: pln('10.00') },
        { sku: 'B1', price: pln('20.00') },
      ],
      'k',
    );
    expect(results).toEqual([
      { key: { sku: 'A1' }, ok: true },
      { key: { sku: 'B1' }, ok: false, kind: 'unmappable', message: 'SKU B1 has no variant in Shopify (shop)' },
    ]);
    expect(calls.map((call) => [call.operation, call.variables['productId'] ?? null])).toEqual([
      ['productVariantsBulkUpdate', 'gid://shopify/Product/1'],
      ['productVariantsBulkUpdate', 'gid://shopify/Product/2'],
      ['productVariants', null],
      ['productVariantsBulkUpdate', 'gid://shopify/Product/9'],
    ]);
    expect(calls[3]!.variables['variants']).toEqual([{ id: 'gid://shopify/ProductVariant/91', price: '10.00' }]);
    expect(puts.find(([kind]) => kind === VARIANT_PRODUCT_CROSSWALK)?.[1].get('A1')).toBe(JSON.stringify({ variant: 'gid://shopify/ProductVariant/91', product: 'gid://shopify/Product/9' }));
  });

  it('fails a SKU given twice in one call instead of sending its variant twice', async () => {
    const { client, calls } = recordingClient(() => []);
    const priceTarget = new ShopifyPriceTarget('shop', client, knownCrosswalk(refs), 0, 1);
    const results = await priceTarget.setPrices(
      [
        { sku: 'A1', price: pln('10.00') },
        { sku: 'A1', price: pln('11.00') },
      ],
      'k',
    );
    expect(results[0]).toEqual({ key: { sku: 'A1' }, ok: true });
    expect(results[1]).toMatchObject({ ok: false, kind: 'validation' });
    expect(calls).toHaveLength(1);
  });
});

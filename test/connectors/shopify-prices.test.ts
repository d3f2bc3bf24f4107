/**
 * Shopify price writes (`price.write`): the manifest, and the price target against a recording
 * client (one call per product, amounts as strings, the resend without the refused variants,
 * stale cached references looked up again).
 */
import { describe, expect, it } from 'vitest';
import { writeBatchSize, type PriceUpdate } from '../../connectors/contract';
import { shopifyManifest } from '../../connectors/shopify';
import type { ShopifyGraphqlClient } from '../../connectors/shopify/client';
import { ShopifyPriceTarget, VARIANT_PRODUCT_CROSSWALK } from '../../connectors/shopify/price-target';
import type { CrosswalkStore } from '../../core/model';

const pln = (amount: string) => ({ amount, currency: 'PLN' });

const ok = (update: PriceUpdate) => ({ key: { sku: update.sku }, ok: true });

describe('shopify manifest', () => {
  it('offers price.write with 250 items per call, stock.write unchanged', () => {
    expect(shopifyManifest.capabilities).toEqual(['stock.write', 'price.write']);
    expect(writeBatchSize(shopifyManifest, 'price.write')).toBe(250);
    expect(writeBatchSize(shopifyManifest, 'stock.write')).toBe(250);
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
    variants: { id: string; price: unknown; compareAtPrice?: unknown }[];
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

/**
 * Connector kind `shopify`: Shopify Admin GraphQL API.
 */
import { z } from 'zod';
import { refuseInsecureHttp } from '../../config/url-policy';
import { defineConnector } from '../contract';
import { ShopifyGraphqlClient } from './client';
import { SHOP_QUERY, SHOP_QUERY_COST, SET_QUANTITIES_COST, variantLookupPageFor } from './operations';
import { ShopifyPriceTarget } from './price-target';
import { SHOPIFY_MAX_INPUT_ITEMS, SHOPIFY_STOCK_WRITE_LIMITS, ShopifyStockTarget } from './stock-target';

/** Restore rate in points/s per Shopify plan (bucket = 10 × restore rate). */
export const SHOPIFY_PLAN_RESTORE_RATE = { standard: 100, advanced: 200, plus: 1000, enterprise: 2000 } as const;

export const ShopifyConfig = z.strictObject({
  /**
   * Base URL of the shop, e.g. https://my-shop.myshopify.com. Plain http:// only to this machine
   * (the sandbox: http://127.0.0.1:8601), unless allowInsecureHttp is true.
   */
  shopUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://my-shop.myshopify.com' }),
  /**
   * Allows a plain http:// shopUrl to a host other than localhost or a loopback address (e.g. a
   * simulator on another machine of a private network). The access token then travels
   * unencrypted. Default false.
   */
  allowInsecureHttp: z.boolean().default(false),
  /** Admin API version. Default 2026-04 (idempotency keys required on inventory mutations). */
  apiVersion: z.string().regex(/^\d{4}-(01|04|07|10)$/, 'expected an API version such as "2026-04"').default('2026-04'),
  /** Admin API access token (secret: by reference). */
  accessToken: z.string().min(1),
  /** The shop's plan, which sets the GraphQL rate limit. Default standard (100 points/s). */
  plan: z.enum(['standard', 'advanced', 'plus', 'enterprise']).default('standard'),
  /** Overrides the plan's restore rate (points/s), e.g. for a shop with a negotiated limit. */
  restoreRate: z.number().positive().optional(),
  /**
   * Overrides the bucket size (points). Default 10 × restore rate. At least 60: the connector's
   * check query costs 53 points, and a query costing more than the bucket can never run.
   */
  bucketSize: z.number().min(60).optional(),
  /** Per-request timeout. Default 30 s. */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  /**
   * Minutes before a SKU Shopify did not list is looked up again (a product listed in the
   * meantime is found after at most this long). Default 60.
   */
  missingSkuRecheckMinutes: z.number().min(0).max(7 * 24 * 60).default(60),
  /** Write calls one push activity keeps in flight for this shop. Default 4. */
  maxConcurrentCalls: z.number().int().min(1).max(32).default(4),
}).check(refuseInsecureHttp(['shopUrl']));
export type ShopifyConfig = z.infer<typeof ShopifyConfig>;

export function restoreRateOf(config: ShopifyConfig): number {
  return config.restoreRate ?? SHOPIFY_PLAN_RESTORE_RATE[config.plan];
}

/** The bucket of the shop's plan: its own size, or 10 seconds of its restore rate. */
export function bucketSizeOf(config: ShopifyConfig): number {
  return config.bucketSize ?? restoreRateOf(config) * 10;
}

const CheckData = z.object({
  shop: z.object({ name: z.string(), myshopifyDomain: z.string() }),
  locations: z.object({ nodes: z.array(z.object({ id: z.string(), name: z.string(), isActive: z.boolean() })) }),
});

export const shopifyManifest = defineConnector({
  kind: 'shopify',
  title: 'Shopify (Admin GraphQL API)',
  configSchema: ShopifyConfig,
  secretFields: ['accessToken'],
  secretHeaders: ['x-shopify-access-token'],
  maxBatchSize: { 'stock.write': SHOPIFY_MAX_INPUT_ITEMS, 'price.write': SHOPIFY_MAX_INPUT_ITEMS },
  writeLimits: { stock: SHOPIFY_STOCK_WRITE_LIMITS },
  rateBudget: (config) => ({ kind: 'cost', pointsPerSecond: restoreRateOf(config), bucketSize: bucketSizeOf(config), writeCost: SET_QUANTITIES_COST }),
  connect: (id, config, deps) =>
    new ShopifyGraphqlClient({
      connectorId: id,
      shopUrl: config.shopUrl,
      apiVersion: config.apiVersion,
      accessToken: config.accessToken,
      restoreRate: restoreRateOf(config),
      bucketSize: bucketSizeOf(config),
      timeoutMs: config.timeoutMs,
      logger: deps.logger,
      ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    }),
  async check(client) {
    const data = await client.request('check', SHOP_QUERY, {}, SHOP_QUERY_COST, CheckData);
    const active = data.locations.nodes.filter((l) => l.isActive);
    return {
      ok: true,
      detail: `connected to shop "${data.shop.name}" (${data.shop.myshopifyDomain}), ${active.length} active location(s): ${active.map((l) => `${l.name} ${l.id}`).join(', ')}`,
    };
  },
  close: async (client) => client.close(),
  operations: {
    'stock.write': ({ id, config, client, deps }) =>
      new ShopifyStockTarget(id, client, deps.crosswalk, config.missingSkuRecheckMinutes * 60_000, config.maxConcurrentCalls, variantLookupPageFor(bucketSizeOf(config))),
    'price.write': ({ id, config, client, deps }) =>
      new ShopifyPriceTarget(id, client, deps.crosswalk, config.missingSkuRecheckMinutes * 60_000, config.maxConcurrentCalls, variantLookupPageFor(bucketSizeOf(config))),
  },
});

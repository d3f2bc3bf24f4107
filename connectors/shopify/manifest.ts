/**
 * Connector kind `shopify`: Shopify Admin GraphQL API.
 */
import { z } from 'zod';
import { refuseInsecureHttp } from '../../config/url-policy';
import type { ConnectorInstance, ConnectorManifest } from '../contract';
import { ShopifyGraphqlClient } from './client';
import { SHOP_QUERY, SHOP_QUERY_COST, SET_QUANTITIES_COST, variantLookupPageFor } from './operations';
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

export const shopifyManifest: ConnectorManifest<typeof ShopifyConfig> = {
  kind: 'shopify',
  title: 'Shopify (Admin GraphQL API)',
  capabilities: ['stock.write'],
  configSchema: ShopifyConfig,
  secretFields: ['accessToken'],
  maxBatchSize: { 'stock.write': SHOPIFY_MAX_INPUT_ITEMS },
  writeLimits: { stock: SHOPIFY_STOCK_WRITE_LIMITS },
  rateBudget: (config) => {
    const restoreRate = restoreRateOf(config);
    return { kind: 'cost', pointsPerSecond: restoreRate, bucketSize: config.bucketSize ?? restoreRate * 10, writeCost: SET_QUANTITIES_COST };
  },
  create(id, config, deps): ConnectorInstance {
    const restoreRate = restoreRateOf(config);
    const client = new ShopifyGraphqlClient({
      connectorId: id,
      shopUrl: config.shopUrl,
      apiVersion: config.apiVersion,
      accessToken: config.accessToken,
      restoreRate,
      bucketSize: config.bucketSize ?? restoreRate * 10,
      timeoutMs: config.timeoutMs,
      logger: deps.logger,
    });
    const CheckData = z.object({
      shop: z.object({ name: z.string(), myshopifyDomain: z.string() }),
      locations: z.object({ nodes: z.array(z.object({ id: z.string(), name: z.string(), isActive: z.boolean() })) }),
    });
    return {
      id,
      kind: 'shopify',
      stockTarget: new ShopifyStockTarget(id, client, deps.crosswalk, config.missingSkuRecheckMinutes * 60_000, config.maxConcurrentCalls, variantLookupPageFor(config.bucketSize ?? restoreRate * 10)),
      async check() {
        const data = await client.request('check', SHOP_QUERY, {}, SHOP_QUERY_COST, CheckData);
        const active = data.locations.nodes.filter((l) => l.isActive);
        return {
          ok: true,
          detail: `connected to shop "${data.shop.name}" (${data.shop.myshopifyDomain}), ${active.length} active location(s): ${active.map((l) => `${l.name} ${l.id}`).join(', ')}`,
        };
      },
      async close() {
        client.close();
      },
    };
  },
};

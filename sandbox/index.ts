/**
 * The sandbox systems of `omnisync dev`: the demo ERP (SQLite, Polish tables) that keeps
 * selling, and the Shopify simulator listing the same catalog. Both keep their state under the
 * data directory, so a restart continues where the last run stopped.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { scheduleDemoPromotion, seedDemoErp, simulateErpSales } from './erp/seed';
import { startShopifySimulator } from './shopify/server';
import type { LoadedConfig } from '../config/load';

/** The token the Shopify simulator accepts when SHOPIFY_ACCESS_TOKEN is not set (sandbox only). */
export const SANDBOX_SHOPIFY_TOKEN = 'shpat_omnisync_sandbox';
/** How often the demo ERP books a handful of sales. */
const SALES_TICK_MS = 10_000;
/**
 * The demo promotion starts this long after the sandbox does and runs this long: long enough to
 * open the Temporal UI and watch the price run wait for it, start it and end it.
 */
const DEMO_PROMOTION_STARTS_IN_MS = 3 * 60_000;
const DEMO_PROMOTION_LASTS_MS = 30 * 60_000;

export interface RunningSandbox {
  shopifyUrl: string;
  /** The demo promotion of this start: its window and SKUs (empty when the ERP has none). */
  promotion: { startsAt: Date; endsAt: Date; skus: string[] };
  stop(): Promise<void>;
}

export async function startSandbox(
  settings: NonNullable<LoadedConfig['sandbox']>,
  options: { dataDir: string; shopifyToken: string; logger: Logger },
): Promise<RunningSandbox> {
  const logger = options.logger.child({ component: 'sandbox' });
  const sandboxDir = join(options.dataDir, 'sandbox');
  mkdirSync(sandboxDir, { recursive: true });

  const erp = { driver: 'sqlite' as const, file: settings.erpFile };
  await seedDemoErp(erp, { productCount: settings.products });
  logger.info({ file: settings.erpFile, products: settings.products }, 'sandbox ERP ready');
  // The ERP file outlives a run, and a promotion seeded once would soon be over: each start
  // moves the demo promotion's window to begin a little later, so one is always ahead to watch.
  const startsAt = new Date(Date.now() + DEMO_PROMOTION_STARTS_IN_MS);
  const endsAt = new Date(startsAt.getTime() + DEMO_PROMOTION_LASTS_MS);
  const promotionSkus = await scheduleDemoPromotion(erp, { startsAt, endsAt });
  logger.info({ startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), products: promotionSkus.length }, 'sandbox ERP promotion scheduled');

  const shopify = await startShopifySimulator({
    port: settings.shopifyPort,
    accessToken: options.shopifyToken,
    restoreRate: settings.shopifyRestoreRate,
    productCount: settings.products,
    stateFile: join(sandboxDir, 'shopify-state.json'),
  });
  logger.info({ url: shopify.url, restoreRate: settings.shopifyRestoreRate }, 'sandbox Shopify store ready');

  // The ERP keeps selling so that delta syncs have work, as a shop does during the day.
  const perTick = Math.round((settings.salesPerMinute * SALES_TICK_MS) / 60_000);
  let selling = Promise.resolve();
  const ticker =
    perTick > 0
      ? setInterval(() => {
          selling = simulateErpSales(erp, { count: perTick }).then(
            (skus) => logger.debug({ skus }, 'sandbox ERP booked sales'),
            (err: unknown) => logger.warn({ err }, 'sandbox ERP could not book sales'),
          );
        }, SALES_TICK_MS)
      : undefined;
  ticker?.unref();

  return {
    shopifyUrl: shopify.url,
    promotion: { startsAt, endsAt, skus: promotionSkus },
    async stop() {
      if (ticker) clearInterval(ticker);
      await selling;
      await shopify.close();
    },
  };
}

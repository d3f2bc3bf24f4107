/**
 * The sandbox systems of `omnisync dev`: the demo ERP (SQLite, Polish tables) that keeps
 * selling, the Shopify simulator listing the same catalog (with a third location, the partner
 * warehouse's), and the SFTP server a partner warehouse drops its stock files on. All keep their
 * state under the data directory, so a restart continues where the last run stopped.
 */
import { readShopCatalog } from './shopify/catalog-file';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEMO_PARTNER_SHOPIFY_LOCATION } from './demo-catalog';
import { scheduleDemoPromotion, seedDemoErp, simulateErpSales } from './erp/seed';
import { PARTNER_SKU_COUNT, startPartnerStockFeed, type PartnerStockFeed } from './sftp/partner-stock-feed';
import { startSandboxSftpServer, type RunningSandboxSftp } from './sftp/server';
import { startShopifySimulator } from './shopify/server';
import type { LoadedConfig } from '../config/load';
import { LegacyFilesConfig } from '../connectors/legacy-files';

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
/** How often the partner warehouse drops a file of changed quantities: more often than the nightly full, less than the file sync's delta. */
const PARTNER_DELIVERY_INTERVAL_MS = 3 * 60_000;

/** The connector the sandbox SFTP server serves: its port and its folders under the drop root. */
export interface SandboxSftpConnector {
  id: string;
  port: number;
  folders: LegacyFilesConfig['folders'];
}

/**
 * The `legacy-files` connector of the config that points at this machine (127.0.0.1 or
 * localhost): the demo's partner drop, which the sandbox serves on the connector's port. The
 * first such connector when there are several; undefined when there is none.
 */
export function sandboxSftpConnector(config: Pick<LoadedConfig, 'connectors'>): SandboxSftpConnector | undefined {
  for (const connector of config.connectors.values()) {
    if (connector.kind !== 'legacy-files') continue;
    const parsed = LegacyFilesConfig.safeParse(connector.config);
    if (parsed.success && ['127.0.0.1', 'localhost'].includes(parsed.data.sftp.host)) return { id: connector.id, port: parsed.data.sftp.port, folders: parsed.data.folders };
  }
  return undefined;
}

export interface RunningSandbox {
  shopifyUrl: string;
  /** The demo promotion of this start: its window and SKUs (empty when the ERP has none). */
  promotion: { startsAt: Date; endsAt: Date; skus: string[] };
  /**
   * The partner drop: the SFTP server and the partner delivering files to it, or why it is not
   * running (one line for the operator: no sshd, port taken); undefined when not asked for.
   */
  sftp: { running: true; server: RunningSandboxSftp; connectorId: string } | { running: false; skipped: string; connectorId: string } | undefined;
  stop(): Promise<void>;
}

export async function startSandbox(
  settings: NonNullable<LoadedConfig['sandbox']>,
  options: { dataDir: string; shopifyToken: string; logger: Logger; sftp?: SandboxSftpConnector },
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
    ...(settings.shopCatalog === undefined ? {} : { catalog: readShopCatalog(settings.shopCatalog) }),
    stateFile: join(sandboxDir, 'shopify-state.json'),
    // Only the demo has the partner warehouse's location; tests see the two of DEMO_SHOPIFY_LOCATIONS.
    extraLocations: [DEMO_PARTNER_SHOPIFY_LOCATION],
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

  let sftp: RunningSandbox['sftp'];
  let partnerFeed: PartnerStockFeed | undefined;
  if (options.sftp !== undefined) {
    const connector = options.sftp;
    const started = await startSandboxSftpServer({ dataDir: options.dataDir, port: connector.port, folders: Object.values(connector.folders) });
    if (started.ok) {
      sftp = { running: true, server: started.server, connectorId: connector.id };
      logger.info({ port: started.server.port, user: started.server.username, hostKey: started.server.hostKeyFingerprint, dropRoot: started.server.dropRoot }, 'sandbox SFTP server ready');
      try {
        partnerFeed = await startPartnerStockFeed({
          inbox: join(started.server.dropRoot, connector.folders.inbox),
          stateFile: join(sandboxDir, 'partner-stock.json'),
          skuCount: Math.min(PARTNER_SKU_COUNT, settings.products),
          intervalMs: PARTNER_DELIVERY_INTERVAL_MS,
          logger,
        });
      } catch (err) {
        await started.server.stop();
        throw err;
      }
    } else {
      sftp = { running: false, skipped: started.skipped, connectorId: connector.id };
    }
  }

  return {
    shopifyUrl: shopify.url,
    promotion: { startsAt, endsAt, skus: promotionSkus },
    sftp,
    async stop() {
      if (ticker) clearInterval(ticker);
      await partnerFeed?.stop();
      if (sftp?.running) await sftp.server.stop();
      await selling;
      await shopify.close();
    },
  };
}

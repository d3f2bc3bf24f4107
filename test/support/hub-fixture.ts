/**
 * A complete hub around a test: a sandbox ERP (SQLite) seeded with demo products, the Shopify
 * simulator, a state store and a config file pointing at them and at a Temporal server.
 *
 * The expected Shopify stock is computed here straight from the ERP tables with SQL and the
 * demo mapping's rules, independently of the hub's own mapping code, so the tests check the
 * hub against the source rather than against itself.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { seedDemoErp } from '../../sandbox/erp/seed';
import { startShopifySimulator, type FaultConfig, type ShopifySimulator } from '../../sandbox/shopify/server';
import { DEMO_SHOPIFY_LOCATIONS, DEMO_UNLISTED_EVERY } from '../../sandbox/demo-catalog';
import { demoHubConfigYaml } from '../../sandbox/demo-hub-config';

const REPO = resolve(__dirname, '../..');
export const TEST_SHOPIFY_TOKEN = 'shpat_test_fixture_token';

export interface HubFixtureOptions {
  temporalAddress: string;
  products: number;
  pageSize: number;
  pagesPerExecution?: number;
  restoreRate?: number;
  faults?: Partial<FaultConfig>;
  /** Shopify client timeout, short when the timeout fault is on. Default 30 s. */
  shopifyTimeoutMs?: number;
  /** A task queue of its own, so several fixtures can share one Temporal server. */
  taskQueue?: string;
  /** Also a price sync (see demoHubConfigYaml). */
  priceSync?: { name: string; mapping?: string; pageSize?: number; fullCron?: string };
  /** Files written into the hub's folder before its config is read (path relative to it → content), e.g. a mapping. */
  files?: Record<string, string>;
}

export interface HubFixture {
  dir: string;
  configFile: string;
  config: LoadedConfig;
  erpFile: string;
  shopify: ShopifySimulator;
  /** `${sku}|${locationId}` → available, as the ERP says it should be. */
  expectedShopifyStock(): Map<string, number>;
  /** `${sku}|${locationId}` → available, as the simulator holds it. */
  actualShopifyStock(): Map<string, number>;
  close(): Promise<void>;
}

export async function createHubFixture(options: HubFixtureOptions): Promise<HubFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-hub-'));
  mkdirSync(join(dir, 'mappings'));
  copyFileSync(join(REPO, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
  copyFileSync(join(REPO, 'mappings/prices-erp-to-shopify.yaml'), join(dir, 'mappings/prices-erp-to-shopify.yaml'));
  for (const [file, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, file), content);
  const erpFile = join(dir, 'erp.sqlite');
  await seedDemoErp({ driver: 'sqlite', file: erpFile }, { productCount: options.products, seed: 7 });
  const shopify = await startShopifySimulator({
    accessToken: TEST_SHOPIFY_TOKEN,
    productCount: options.products,
    restoreRate: options.restoreRate ?? 1000,
    faults: options.faults,
    seed: 42,
  });
  const configFile = join(dir, 'omnisync.yaml');
  writeFileSync(
    configFile,
    demoHubConfigYaml({
      temporalAddress: options.temporalAddress,
      taskQueue: options.taskQueue ?? 'omnisync-test',
      shopifyUrl: shopify.url,
      restoreRate: options.restoreRate ?? 1000,
      shopifyTimeoutMs: options.shopifyTimeoutMs ?? 30_000,
      pageSize: options.pageSize,
      pagesPerExecution: options.pagesPerExecution ?? 400,
      syncName: 'erp-stock-to-shopify',
      ...(options.priceSync === undefined ? {} : { priceSync: options.priceSync }),
    }),
  );
  const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, {
    registry: builtInConnectors(),
    env: { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN },
  });

  return {
    dir,
    configFile,
    config,
    erpFile,
    shopify,
    expectedShopifyStock: () => expectedFromErp(erpFile),
    actualShopifyStock: () => {
      const actual = new Map<string, number>();
      for (const item of shopify.store.inventorySnapshot()) actual.set(`${item.sku}|${item.locationId}`, item.available);
      return actual;
    },
    async close() {
      await shopify.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The demo mapping, restated: MAG-WAW → Location 71001 (no buffer), SKLEP-KRK → 71002 (buffer 1),
 * MAG-ZW never sold; available = max(0, floor(on hand) − ceil(reserved) − buffer).
 * Only SKUs the Shopify store lists are expected there.
 */
function expectedFromErp(erpFile: string): Map<string, number> {
  const rules: Record<string, { location: string; buffer: number }> = {
    'MAG-WAW': { location: DEMO_SHOPIFY_LOCATIONS[0]!.id, buffer: 0 },
    'SKLEP-KRK': { location: DEMO_SHOPIFY_LOCATIONS[1]!.id, buffer: 1 },
  };
  const db = new DatabaseSync(erpFile, { readOnly: true, timeout: 5000 });
  try {
    const expected = new Map<string, number>();
    const products = db.prepare('SELECT indeks FROM towary').all() as Array<{ indeks: string }>;
    for (const { indeks } of products) for (const rule of Object.values(rules)) expected.set(`${indeks}|${rule.location}`, 0);
    const rows = db
      .prepare('SELECT t.indeks AS sku, m.symbol AS code, s.ilosc AS onHand, s.zarezerwowano AS reserved FROM stany s JOIN towary t ON t.id = s.towar_id JOIN magazyny m ON m.id = s.magazyn_id')
      .all() as Array<{ sku: string; code: string; onHand: number; reserved: number }>;
    for (const row of rows) {
      const rule = rules[row.code];
      if (!rule) continue;
      expected.set(`${row.sku}|${rule.location}`, Math.max(0, Math.floor(Number(row.onHand)) - Math.ceil(Number(row.reserved)) - rule.buffer));
    }
    return expected;
  } finally {
    db.close();
  }
}

/** Keys whose expected quantity differs between two ERP readings, by SKU: what a delta must push. */
export function changedKeys(before: Map<string, number>, after: Map<string, number>, listed: (sku: string) => boolean): Map<string, number> {
  const bySku = new Map<string, number>();
  for (const [key, quantity] of after) {
    const sku = key.slice(0, key.indexOf('|'));
    if (before.get(key) !== quantity && listed(sku)) bySku.set(sku, (bySku.get(sku) ?? 0) + 1);
  }
  return bySku;
}

/** Entries of `expected` whose SKU the store lists, compared with `actual`: the mismatches. */
export function stockMismatches(expected: Map<string, number>, actual: Map<string, number>): string[] {
  const mismatches: string[] = [];
  for (const [key, quantity] of expected) {
    const found = actual.get(key);
    if (found === undefined) continue; // not listed in the store (quarantined instead)
    if (found !== quantity) mismatches.push(`${key}: expected ${quantity}, Shopify has ${found}`);
  }
  return mismatches;
}

/** SKU → the price and compare-at price a shop shows. */
export type ShopPrices = Map<string, { price: string; compareAt: string | null }>;

/**
 * The price each SKU the demo shop lists should show at `at`, straight from the demo ERP's
 * tables: the regular (DETAL) price, or a lower promotion (PROMO) price valid then with the
 * regular one as compare-at.
 */
export function expectedDemoPrices(erpFile: string, at: Date): ShopPrices {
  const db = new DatabaseSync(erpFile, { readOnly: true, timeout: 5000 });
  try {
    const rows = db
      .prepare(
        `select t.id as id, t.indeks as sku, l.symbol as list, c.brutto as gross, c.data_od as validFrom, c.data_do as validTo
         from ceny c join towary t on t.id = c.towar_id join cenniki l on l.id = c.cennik_id`,
      )
      .all() as Array<{ id: number; sku: string; list: string; gross: string; validFrom: string | null; validTo: string | null }>;
    const regular = new Map<string, string>();
    const promotion = new Map<string, string>();
    const atMs = at.getTime();
    for (const row of rows) {
      if (row.id % DEMO_UNLISTED_EVERY === 0) continue;
      const valid = (row.validFrom === null || Date.parse(row.validFrom) <= atMs) && (row.validTo === null || atMs < Date.parse(row.validTo));
      if (!valid) continue;
      (row.list === 'DETAL' ? regular : promotion).set(row.sku, Number(row.gross).toFixed(2));
    }
    const expected: ShopPrices = new Map();
    for (const [sku, price] of regular) {
      const promo = promotion.get(sku);
      expected.set(sku, promo !== undefined && Number(promo) < Number(price) ? { price: promo, compareAt: price } : { price, compareAt: null });
    }
    return expected;
  } finally {
    db.close();
  }
}

/** What the hub's sandbox shop shows for each SKU now. */
export function shopPrices(hub: Pick<HubFixture, 'shopify'>): ShopPrices {
  const prices: ShopPrices = new Map();
  for (const item of hub.shopify.store.priceSnapshot()) if (item.sku !== null) prices.set(item.sku, { price: item.price, compareAt: item.compareAtPrice });
  return prices;
}

/** Entries of `expected` that `actual` lacks or shows otherwise (amounts compared as numbers): the mismatches. */
export function priceMismatches(expected: ShopPrices, actual: ShopPrices): string[] {
  const amount = (value: string | null) => (value === null ? null : Number(value));
  const wrong: string[] = [];
  for (const [sku, want] of expected) {
    const got = actual.get(sku);
    if (got === undefined || amount(got.price) !== amount(want.price) || amount(got.compareAt) !== amount(want.compareAt)) {
      wrong.push(`${sku}: expected ${JSON.stringify(want)}, shop has ${JSON.stringify(got)}`);
    }
  }
  return wrong;
}

/**
 * The config of a hub wired to the sandbox systems (demo ERP in SQLite → a Shopify simulator),
 * as YAML text: what tests and benchmarks run with. Relative paths are resolved against the
 * folder the text is saved in, and the mapping is the shipped demo mapping copied beside it.
 */
import YAML from 'yaml';
import { DEMO_ERP_PRICE_TABLES, DEMO_ERP_TABLES } from './erp/schema';

export interface DemoHubConfigOptions {
  temporalAddress: string;
  taskQueue: string;
  shopifyUrl: string;
  /** Shopify restore rate (points/s) and bucket; the bucket defaults to 10 × the rate. */
  restoreRate: number;
  bucketSize?: number;
  shopifyTimeoutMs?: number;
  /** SKUs per page, for the sync and for the ERP connector's own cap. */
  pageSize: number;
  pagesPerExecution?: number;
  syncName: string;
  /** Also a price sync of the demo price lists (mappings/prices-erp-to-shopify.yaml unless `mapping`). */
  priceSync?: { name: string; mapping?: string; pageSize?: number; fullCron?: string };
}

export function demoHubConfigYaml(options: DemoHubConfigOptions): string {
  const config = {
    dataDir: './data',
    temporal: { address: options.temporalAddress, taskQueue: options.taskQueue },
    stateStore: { driver: 'sqlite', file: './state.sqlite' },
    logging: { level: 'warn' },
    connectors: {
      erp: {
        kind: 'erp-sql',
        config: {
          database: { driver: 'sqlite', file: './erp.sqlite' },
          pageSize: Math.max(1000, options.pageSize, options.priceSync?.pageSize ?? 0),
          tables: { ...DEMO_ERP_TABLES, ...DEMO_ERP_PRICE_TABLES },
        },
      },
      shopify: {
        kind: 'shopify',
        config: {
          shopUrl: options.shopifyUrl,
          // A config reference, resolved by the loader from the environment.
          accessToken: '${env:SHOPIFY_ACCESS_TOKEN}',
          restoreRate: options.restoreRate,
          ...(options.bucketSize === undefined ? {} : { bucketSize: options.bucketSize }),
          ...(options.shopifyTimeoutMs === undefined ? {} : { timeoutMs: options.shopifyTimeoutMs }),
        },
      },
    },
    syncs: {
      [options.syncName]: {
        entity: 'stock',
        source: 'erp',
        targets: ['shopify'],
        mapping: 'mappings/stock-erp-to-shopify.yaml',
        pageSize: options.pageSize,
        ...(options.pagesPerExecution === undefined ? {} : { pagesPerExecution: options.pagesPerExecution }),
      },
      ...(options.priceSync === undefined
        ? {}
        : {
            [options.priceSync.name]: {
              entity: 'price',
              source: 'erp',
              targets: ['shopify'],
              mapping: options.priceSync.mapping ?? 'mappings/prices-erp-to-shopify.yaml',
              pageSize: options.priceSync.pageSize ?? options.pageSize,
              ...(options.priceSync.fullCron === undefined ? {} : { schedule: { full: { cron: options.priceSync.fullCron } } }),
            },
          }),
    },
  };
  return YAML.stringify(config);
}

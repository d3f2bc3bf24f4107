/**
 * The config of a hub wired to the sandbox systems (demo ERP in SQLite → a Shopify simulator),
 * as YAML text: what tests and benchmarks run with. Relative paths are resolved against the
 * folder the text is saved in, and the mapping is the shipped demo mapping copied beside it.
 */
import YAML from 'yaml';
import { DEMO_ERP_TABLES } from './erp/schema';

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
        config: { database: { driver: 'sqlite', file: './erp.sqlite' }, pageSize: Math.max(1000, options.pageSize), tables: DEMO_ERP_TABLES },
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
    },
  };
  return YAML.stringify(config);
}

/**
 * Connector kind `erp-sql`: a legacy ERP without an API, read through its own database tables
 * (docs/architecture.md). SQLite (the embedded demo) and PostgreSQL, same code.
 */
import { defineConnector } from '../contract';
import { checkErpConnection } from './check';
import { ErpSqlClient } from './client';
import { ErpSqlConfig, stockChangeDetection } from './config';
import { ErpPriceSource } from './price-source';
import { ErpStockSource } from './stock-source';

export const erpSqlManifest = defineConnector({
  kind: 'erp-sql',
  title: 'Legacy ERP (SQL database: SQLite, PostgreSQL)',
  configSchema: ErpSqlConfig,
  secretFields: ['database.connectionString', 'database.password'],
  maxPageSize: (config) => config.pageSize,
  rateBudget: (config) =>
    config.maxQueriesPerSecond === undefined
      ? { kind: 'unlimited' }
      : { kind: 'requests', perSecond: config.maxQueriesPerSecond, burst: Math.max(1, Math.floor(config.maxQueriesPerSecond)) },
  missingFor: (capability, config) =>
    capability === 'price.read' && (config.tables.prices === undefined || config.tables.priceLists === undefined)
      ? 'reading prices needs tables.prices and tables.priceLists (the ERP tables of prices and price lists) in its config'
      : undefined,
  notes: (config) => {
    const stock = config.tables.stock;
    return [
      stockChangeDetection(stock) === 'modifiedAt'
        ? `stock delta runs read the rows of ${stock.table} whose ${stock.modifiedAt} is later than the last run's: the ERP must set it on every change`
        : `stock delta runs read every row of ${stock.table} and push what differs from what each channel last confirmed (${stock.modifiedAt === undefined ? 'the table has no tables.stock.modifiedAt' : 'changeDetection: compare'}); 100,000 SKUs take seconds`,
      ...(config.tables.products.notForSale === undefined
        ? []
        : [`products whose ${config.tables.products.notForSale.column} is ${config.tables.products.notForSale.in.map((v) => JSON.stringify(v)).join(' or ')} are not for sale: 0 in every channel`]),
    ];
  },
  connect: (_id, config, deps) => new ErpSqlClient(config, deps.baseDir),
  check: (client, config) => checkErpConnection(client, config),
  close: (client) => client.close(),
  operations: {
    'stock.read': ({ client, config }) => new ErpStockSource(client, config.pageSize),
    // Offered by the kind; an instance without tables.prices fails config validation (missingFor).
    'price.read': ({ client, config }) => new ErpPriceSource(client, config),
  },
});

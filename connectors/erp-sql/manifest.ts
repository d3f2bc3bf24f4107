/**
 * Connector kind `erp-sql`: a legacy ERP without an API, read through its own database tables
 * (docs/architecture.md). SQLite (the embedded demo), PostgreSQL, MySQL/MariaDB and SQL Server, same code.
 */
import { defineConnector } from '../contract';
import { checkErpConnection } from './check';
import { ErpSqlClient } from './client';
import { ErpSqlConfig, stockChangeDetection, stockQueryTables } from './config';
import { ErpQueryStockSource } from './query-stock-source';
import { ErpPriceSource } from './price-source';
import { ErpStockSource } from './stock-source';

export const erpSqlManifest = defineConnector({
  kind: 'erp-sql',
  title: 'Legacy ERP (SQL database: SQLite, PostgreSQL, MySQL/MariaDB, SQL Server)',
  configSchema: ErpSqlConfig,
  secretFields: ['database.connectionString', 'database.password'],
  maxPageSize: (config) => config.pageSize,
  rateBudget: (config) =>
    config.maxQueriesPerSecond === undefined
      ? { kind: 'unlimited' }
      : { kind: 'requests', perSecond: config.maxQueriesPerSecond, burst: Math.max(1, Math.floor(config.maxQueriesPerSecond)) },
  missingFor: (capability, config) =>
    capability === 'price.read' && (config.tables?.prices === undefined || config.tables.priceLists === undefined)
      ? 'reading prices needs tables.prices and tables.priceLists (the ERP tables of prices and price lists) in its config'
      : undefined,
  notes: (config) => {
    const query = config.queries?.stock;
    const { stock, products } = query === undefined ? config.tables! : stockQueryTables(query);
    const notForSale = query === undefined ? products.notForSale : query.notForSale;
    const missingTime = query === undefined ? 'the table has no tables.stock.modifiedAt' : 'the query has no columns.modifiedAt';
    return [
      ...(query === undefined ? [] : ['stock is read through queries.stock (tables.products, .locations and .stock are not used for stock)']),
      stockChangeDetection(stock) === 'modifiedAt'
        ? `stock delta runs read the rows of ${stock.table} whose ${stock.modifiedAt} is later than the last run's: the ERP must set it on every change`
        : `stock delta runs read every row of ${stock.table} and push what differs from what each channel last confirmed (${stock.modifiedAt === undefined ? missingTime : 'changeDetection: compare'}); 100,000 SKUs take seconds`,
      ...(notForSale === undefined ? [] : [`products whose ${notForSale.column} is ${notForSale.in.map((v) => JSON.stringify(v)).join(' or ')} are not for sale: 0 in every channel`]),
    ];
  },
  connect: (_id, config, deps) => new ErpSqlClient(config, deps.baseDir),
  check: (client, config) => checkErpConnection(client, config),
  close: (client) => client.close(),
  operations: {
    'stock.read': ({ client, config }) =>
      config.queries?.stock === undefined ? new ErpStockSource(client, config.pageSize) : new ErpQueryStockSource(client, config.queries.stock, config.pageSize),
    // Offered by the kind; an instance without tables.prices fails config validation (missingFor).
    'price.read': ({ client, config }) => new ErpPriceSource(client, config),
  },
});
